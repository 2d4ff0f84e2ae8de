// Command mixdesk is a terminal treasury desk for the Mixin wallet API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/ui"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `mixdesk: a terminal treasury desk for the Mixin wallet API

Usage:
  mixdesk [--profile NAME] [--api URL] [--data-dir DIR]
  mixdesk --sandbox [--data-dir DIR]

Flags:
  --profile NAME   open this profile of the OS keyring (default: the default profile)
  --api URL        API base URL (default https://api.mixin.one; also $MIXDESK_API)
  --data-dir DIR   where journals and local state live
                   (default $XDG_DATA_HOME/mixdesk, else ~/.local/share/mixdesk)
  --sandbox        run on the embedded sandbox of the Mixin API: no real funds, no keyring
  --version        print the version and exit
  --help           print this help and exit
`

type options struct {
	profile string
	api     string
	dataDir string
	sandbox bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mixdesk", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, in one line
	var o options
	var showVersion bool
	fs.StringVar(&o.profile, "profile", "", "open the profile `NAME` (default: the default profile)")
	fs.StringVar(&o.api, "api", envOr("MIXDESK_API", mixin.DefaultBaseURL), "API base `URL` (also $MIXDESK_API)")
	fs.StringVar(&o.dataDir, "data-dir", defaultDataDir(), "`DIR` for the journal and local state")
	fs.BoolVar(&o.sandbox, "sandbox", false, "run on the embedded sandbox of the Mixin API (no real funds, no keyring)")
	fs.BoolVar(&showVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "mixdesk: %v (see mixdesk --help)\n", err)
		return 2
	}
	if showVersion {
		fmt.Fprintf(stdout, "mixdesk %s (%s/%s, %s)\n", version, runtime.GOOS, runtime.GOARCH, runtime.Version())
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mixdesk: unknown command %q (see mixdesk --help)\n", fs.Arg(0))
		return 2
	}
	if o.sandbox {
		return runSandbox(o, stderr)
	}
	return runKeyring(o, stderr)
}

// runKeyring opens the console on the OS keyring's profiles.
func runKeyring(o options, stderr io.Writer) int {
	store, err := keystore.New(keystore.System(), keystore.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "mixdesk:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = store.Probe(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "mixdesk: %v\nmixdesk: profiles live in the OS keyring only; `mixdesk --sandbox` runs without one.\n", err)
		return 1
	}
	return runConsole(ui.Deps{Store: store, APIURL: o.api, DataDir: o.dataDir, Profile: o.profile}, stderr)
}

// runSandbox runs the console on the embedded sandbox, with its generated
// session in an in-memory keyring: no keyring and no real funds involved.
func runSandbox(o options, stderr io.Writer) int {
	host, err := startSandbox(filepath.Join(o.dataDir, "sandbox"))
	if err != nil {
		fmt.Fprintln(stderr, "mixdesk:", err)
		return 1
	}
	defer func() {
		if err := host.Close(); err != nil {
			fmt.Fprintln(stderr, "mixdesk:", err)
		}
	}()
	store, _ := keystore.New(keystore.NewMemory(), keystore.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const name = "sandbox"
	if err := store.Save(ctx, name, keystore.Profile{Credentials: host.world.Operator, KeepPIN: true}, false); err != nil {
		fmt.Fprintln(stderr, "mixdesk: sandbox profile:", err)
		return 1
	}
	if err := store.SetDefault(ctx, name); err != nil {
		fmt.Fprintln(stderr, "mixdesk: sandbox profile:", err)
		return 1
	}
	return runConsole(ui.Deps{Store: store, APIURL: host.url, DataDir: filepath.Join(o.dataDir, "sandbox"), Sandbox: true}, stderr)
}

func runConsole(d ui.Deps, stderr io.Writer) int {
	app := ui.New(d)
	defer app.Close()
	if _, err := tea.NewProgram(app, tea.WithAltScreen()).Run(); err != nil {
		fmt.Fprintln(stderr, "mixdesk:", err)
		return 1
	}
	return 0
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// defaultDataDir is $XDG_DATA_HOME/mixdesk, else the platform's usual place.
func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "mixdesk")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "mixdesk")
	}
	switch runtime.GOOS {
	case "darwin":
		return filepath.Join(home, "Library", "Application Support", "mixdesk")
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "mixdesk")
		}
	}
	return filepath.Join(home, ".local", "share", "mixdesk")
}
