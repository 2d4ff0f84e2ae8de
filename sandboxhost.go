package main

import (
	"context"
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
	h := &sandboxHost{}
	var err error
	h.srv, h.world, err = openWorld(&h.worldHost, dir,
		func(path string) (*sandbox.Server, error) { return sandbox.LoadFile(path, sandbox.Options{}) },
		(*sandbox.Server).World,
		func() (*sandbox.Server, sandbox.World, error) {
			return sandbox.NewWorld(sandbox.Options{Operator: sandbox.SessionOptions{Kind: mixin.KeyRSA, RSABits: 2048}})
		})
	if err != nil {
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
