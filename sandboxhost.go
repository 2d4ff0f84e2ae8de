package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"mixdesk/account"
	"mixdesk/internal/sandboxpay"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout"
	"mixdesk/ui"
)

// sandboxHost runs the embedded sandbox on loopback for --sandbox and keeps
// its world in the data directory, so balances and history survive a restart.
// The world file holds the sandbox's own generated session (fake money only)
// and is written with mode 0600.
type sandboxHost struct {
	worldHost
	srv   *sandbox.Server
	world sandbox.World
}

func startSandbox(dir string) (*sandboxHost, error) {
	path, err := worldPath(dir)
	if err != nil {
		return nil, err
	}
	h := &sandboxHost{worldHost: worldHost{path: path}}
	srv, err := sandbox.LoadFile(h.path, sandbox.Options{})
	switch {
	case err == nil:
		w, ok := srv.World()
		if !ok {
			return nil, fmt.Errorf("sandbox: %s holds no world; move it away to start a fresh world", h.path)
		}
		h.srv, h.world = srv, w
	case errors.Is(err, os.ErrNotExist):
		srv, w, nerr := sandbox.NewWorld(sandbox.Options{Operator: sandbox.SessionOptions{Kind: mixin.KeyRSA, RSABits: 2048}})
		if nerr != nil {
			return nil, fmt.Errorf("sandbox: building the world: %w", nerr)
		}
		h.srv, h.world, h.worldHost.world = srv, w, srv
		if err := h.save(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("sandbox: %s is damaged or cannot be read (%v); move it away to start a fresh world", h.path, err)
	}
	if err := h.serve(h.srv); err != nil {
		return nil, err
	}
	return h, nil
}

// payLink has another user of the world pay a payment link through the
// sandbox's transfer path, and saves the world (the transfer entered below
// HTTP, where the host saves).
func (h *sandboxHost) payLink(_ context.Context, link string) (string, error) {
	p, err := sandboxpay.Legacy(h.srv, h.world, link)
	if err != nil {
		return "", err
	}
	if err := h.save(); err != nil {
		return p.String() + " (the world could not be saved: " + err.Error() + ")", nil
	}
	return p.String(), nil
}

// sandboxProfile is the name of the sandbox's profile (and of its journal).
const sandboxProfile = "sandbox"

// runSandbox runs the console on the embedded sandbox of the kind o.sandbox
// names (the Safe API by default, the legacy API with --sandbox=legacy),
// with its generated session or keystore in an in-memory keyring: no
// keyring and no real funds involved. MIXDESK_SANDBOX_FAULTS applies to
// whichever runs.
func runSandbox(o options, configPath string, stderr io.Writer) int {
	faults, err := parseSandboxFaults(os.Getenv(sandboxFaultsEnv))
	if err != nil {
		fmt.Fprintln(stderr, "mixdesk:", err)
		return 1
	}
	store, _ := keystore.New(keystore.NewMemory(), keystore.Options{})
	var (
		prof keystore.Profile
		url  string
		// The embedded sandbox reads this machine's clock, so no clock skew
		// stretches a post's window: a token's 5 minutes and one of margin.
		pay = payout.Config{PostWindow: mixin.TokenTTL + time.Minute}
		dir = sandboxDir(o.dataDir, o.sandbox)
		// payLink: another user of the world pays a payment link (the key p
		// on a payment request).
		payLink func(ctx context.Context, link string) (string, error)
		// people: the world's other users, named on home.
		people []ui.SandboxPerson
	)
	if o.sandbox == sandboxLegacy {
		host, err := startSandbox(dir)
		if err != nil {
			fmt.Fprintln(stderr, "mixdesk:", err)
			return 1
		}
		for _, f := range faults {
			host.srv.InjectFault(f.method, f.path, f.fault)
		}
		defer func() {
			if err := host.Close(); err != nil {
				fmt.Fprintln(stderr, "mixdesk:", err)
			}
		}()
		prof, url = keystore.Profile{Credentials: host.world.Operator, KeepPIN: true}, host.url
		payLink = host.payLink
		for _, u := range host.world.Users {
			people = append(people, ui.SandboxPerson{Name: u.FullName, MixinID: u.IdentityNumber})
		}
	} else {
		host, err := startSafeSandbox(dir)
		if err != nil {
			fmt.Fprintln(stderr, "mixdesk:", err)
			return 1
		}
		host.inject(faults)
		defer func() {
			if err := host.Close(); err != nil {
				fmt.Fprintln(stderr, "mixdesk:", err)
			}
		}()
		ks := host.world.Operator
		prof, url = keystore.Profile{Safe: &ks}, host.url
		payLink = host.payLink
		for _, u := range host.world.Users {
			people = append(people, ui.SandboxPerson{Name: u.FullName, MixinID: u.IdentityNumber, NotOnSafe: !u.HasSafe})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const name = sandboxProfile
	if err := store.Save(ctx, name, prof, false); err != nil {
		fmt.Fprintln(stderr, "mixdesk: sandbox profile:", err)
		return 1
	}
	if err := store.SetDefault(ctx, name); err != nil {
		fmt.Fprintln(stderr, "mixdesk: sandbox profile:", err)
		return 1
	}
	// The sandbox never locks: its generated PIN is not one an operator types.
	env := account.Env{Store: store, APIURL: url, DataDir: dir, ConfigPath: configPath, Payout: pay}
	return runConsole(ui.Deps{Env: env, Sandbox: true, InMemory: true, IdleLock: -1, SandboxPay: payLink, SandboxPeople: people}, stderr)
}
