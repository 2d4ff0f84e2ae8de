package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"

	"mixdesk/internal/sandboxpay"
	mixsandbox "mixdesk/mixin/sandbox"
	safesandbox "mixdesk/safe/sandbox"
)

// The kinds of sandbox --sandbox runs.
const (
	sandboxSafe   = "safe"   // the Safe (Sequencer) API: the default
	sandboxLegacy = "legacy" // the legacy wallet API (PIN, POST /transfers)
)

// sandboxFlag is --sandbox: off, or the kind of sandbox. It is a boolean
// flag, so that a bare --sandbox (and --sandbox=true) runs the Safe
// sandbox; --sandbox=legacy runs the legacy one, --sandbox=false none.
type sandboxFlag struct{ kind *string }

func (f sandboxFlag) IsBoolFlag() bool { return true }

func (f sandboxFlag) String() string {
	if f.kind == nil {
		return ""
	}
	return *f.kind
}

func (f sandboxFlag) Set(v string) error {
	switch strings.ToLower(v) {
	case "true", "1", sandboxSafe:
		*f.kind = sandboxSafe
	case sandboxLegacy:
		*f.kind = sandboxLegacy
	case "false", "0":
		*f.kind = ""
	default:
		return fmt.Errorf("say --sandbox (the Safe API) or --sandbox=legacy (the legacy API), not %q", v)
	}
	return nil
}

// sandboxDir is where a sandbox of this kind keeps its world, journal and
// books: DATA/sandbox for the legacy one (as before the Safe sandbox), and
// DATA/sandbox-safe for the Safe one, so that the two never share a journal.
func sandboxDir(dataDir, kind string) string {
	if kind == sandboxLegacy {
		return filepath.Join(dataDir, "sandbox")
	}
	return filepath.Join(dataDir, "sandbox-safe")
}

// safeSandboxHost runs the embedded Safe sandbox on loopback and keeps its
// world in its directory, so balances and history survive a restart. The
// world file holds the sandbox's own generated keystore (fake money only)
// and is written with mode 0600.
type safeSandboxHost struct {
	worldHost
	srv   *safesandbox.Server
	world safesandbox.World
}

func startSafeSandbox(dir string) (*safeSandboxHost, error) {
	h := &safeSandboxHost{}
	var err error
	h.srv, h.world, err = openWorld(&h.worldHost, dir,
		func(path string) (*safesandbox.Server, error) {
			return safesandbox.LoadFile(path, safesandbox.Options{})
		},
		(*safesandbox.Server).World,
		func() (*safesandbox.Server, safesandbox.World, error) {
			var seed [8]byte
			if _, err := rand.Read(seed[:]); err != nil {
				return nil, safesandbox.World{}, fmt.Errorf("drawing the world's seed: %w", err)
			}
			return safesandbox.NewWorld(safesandbox.Options{Seed: binary.LittleEndian.Uint64(seed[:])})
		})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// payLink has another user of the world pay a payment link over HTTP
// with that user's keystore, as their wallet would; the host saves the
// world after each post.
func (h *safeSandboxHost) payLink(ctx context.Context, link string) (string, error) {
	p, err := sandboxpay.Safe(ctx, h.url, h.world, link)
	if err != nil {
		return "", err
	}
	return p.String(), nil
}

// inject applies the faults of MIXDESK_SANDBOX_FAULTS to the Safe sandbox.
func (h *safeSandboxHost) inject(specs []sandboxFaultSpec) {
	for _, s := range specs {
		h.srv.InjectFault(s.method, s.path, safeFault(s.fault))
	}
}

// safeFault is a fault of the legacy sandbox as the Safe sandbox's.
func safeFault(f mixsandbox.Fault) safesandbox.Fault {
	out := safesandbox.Fault{Times: f.Times, Delay: f.Delay, Status: f.Status}
	switch f.Kind {
	case mixsandbox.FaultServerError:
		out.Kind = safesandbox.FaultServerError
	case mixsandbox.FaultDelay:
		out.Kind = safesandbox.FaultDelay
	case mixsandbox.FaultTooManyRequests:
		out.Kind = safesandbox.FaultTooManyRequests
	case mixsandbox.FaultCommitThenDrop:
		out.Kind = safesandbox.FaultCommitThenDrop
	case mixsandbox.FaultHold:
		out.Kind = safesandbox.FaultHold
	}
	return out
}
