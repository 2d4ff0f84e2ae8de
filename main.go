// Command mixdesk is a terminal treasury desk for the Mixin wallet API.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"mixdesk/mixin"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

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
	fs.SetOutput(stderr)
	var o options
	var showVersion bool
	fs.StringVar(&o.profile, "profile", "", "open the profile `NAME` (default: the default profile)")
	fs.StringVar(&o.api, "api", envOr("MIXDESK_API", mixin.DefaultBaseURL), "API base `URL` (also $MIXDESK_API)")
	fs.StringVar(&o.dataDir, "data-dir", defaultDataDir(), "`DIR` for the journal and local state")
	fs.BoolVar(&o.sandbox, "sandbox", false, "run on the embedded sandbox of the Mixin API (no real funds, no keyring)")
	fs.BoolVar(&showVersion, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "mixdesk: a terminal treasury desk for the Mixin wallet API\n\nUsage:\n  mixdesk [flags]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
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
	if !o.sandbox {
		fmt.Fprintln(stderr, "mixdesk: the console screens are not built yet; try `mixdesk --sandbox` to run the embedded sandbox")
		return 1
	}
	return runSandboxOnly(o, stdout, stderr)
}

// runSandboxOnly serves the embedded sandbox until interrupted.
func runSandboxOnly(o options, stdout, stderr io.Writer) int {
	host, err := startSandbox(filepath.Join(o.dataDir, "sandbox"))
	if err != nil {
		fmt.Fprintln(stderr, "mixdesk:", err)
		return 1
	}
	w := host.world
	fmt.Fprintf(stdout, "SANDBOX: no real funds\n\n")
	fmt.Fprintf(stdout, "The embedded sandbox of the Mixin API is serving on %s\n", host.url)
	fmt.Fprintf(stdout, "Its world is kept in %s (balances and history survive a restart).\n", host.path)
	fmt.Fprintf(stdout, "Operator: %s (Mixin ID %s, client id %s)\n", w.OperatorUser.FullName, w.OperatorUser.IdentityNumber, w.OperatorUser.UserID)
	for _, a := range w.Assets {
		fmt.Fprintf(stdout, "  %-5s %s\n", a.Symbol, host.srv.Balance(w.OperatorUser.UserID, a.AssetID))
	}
	fmt.Fprintf(stdout, "\nThe console screens are not built yet: this process only serves the sandbox. Press Ctrl+C to stop.\n")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	if err := host.Close(); err != nil {
		fmt.Fprintln(stderr, "mixdesk:", err)
		return 1
	}
	fmt.Fprintln(stdout, "sandbox stopped; world saved")
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
