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
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/ui"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `mixdesk: a terminal treasury desk for the Mixin wallet API

Usage:
  mixdesk [--profile NAME] [--api URL] [--data-dir DIR]
  mixdesk --sandbox [--data-dir DIR]
  mixdesk payurl --asset ID --amount A [--memo M] [--trace UUID]
                 [--recipient ID | --profile NAME] [--qr]
                   print a payment link (and its QR code) and exit;
                   see mixdesk payurl --help

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
	if len(args) > 0 && args[0] == "payurl" {
		return runPayURL(args[1:], "", stdout, stderr)
	}
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
	if fs.NArg() > 0 && fs.Arg(0) == "payurl" {
		// Global flags before the command: only --profile means anything to it.
		if o.sandbox {
			fmt.Fprintln(stderr, "mixdesk: payurl does not use the sandbox; pass --recipient with the sandbox operator's user id")
			return 2
		}
		return runPayURL(fs.Args()[1:], o.profile, stdout, stderr)
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

const payurlUsage = `mixdesk payurl: print a payment link (and its QR code) and exit

Usage:
  mixdesk payurl --asset ID --amount A [--memo M] [--trace UUID]
                 [--recipient ID | --profile NAME] [--qr]

Flags:
  --asset ID       the asset to be paid (its UUID)
  --amount A       the amount: digits with at most 8 after the point
  --memo M         the memo the payment carries (at most 140 characters)
  --trace UUID     the payment's trace id (default: a new one); a link pays once
  --recipient ID   the user id to be paid (default: the client id of the profile)
  --profile NAME   the keyring profile whose client id is paid (default: the
                   default profile); only its client id is read
  --qr             print the QR code under the link
  --help           print this help and exit

The link goes to stdout on one line; nothing is sent to the API. Whether it
was paid shows in the console's payment requests by its trace, or through
GET /transfers/trace/UUID. Bad input: one line on stderr naming the flag,
exit status 2.
`

// payurlKeyring is the keyring payurl reads the profile's client id from;
// tests put an in-memory one in its place.
var payurlKeyring = keystore.System

// runPayURL prints a payment link (MIXIN-API.md §7) and, with --qr, its QR
// code under it. It starts no screen and never waits on the terminal; the
// keyring is read only when no --recipient is given.
func runPayURL(args []string, profile string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mixdesk payurl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var asset, amount, memo, trace, recipient string
	var qr bool
	fs.StringVar(&asset, "asset", "", "the asset to be paid (UUID)")
	fs.StringVar(&amount, "amount", "", "the amount")
	fs.StringVar(&memo, "memo", "", "the memo the payment carries")
	fs.StringVar(&trace, "trace", "", "the payment's trace id (default: a new one)")
	fs.StringVar(&recipient, "recipient", "", "the user id to be paid (default: the profile's client id)")
	fs.StringVar(&profile, "profile", profile, "the keyring profile whose client id is paid")
	fs.BoolVar(&qr, "qr", false, "print the QR code under the link")
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mixdesk payurl: "+format+"\n", a...)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, payurlUsage)
			return 0
		}
		return fail("%v (see mixdesk payurl --help)", err)
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q (see mixdesk payurl --help)", fs.Arg(0))
	}
	switch {
	case asset == "":
		return fail("--asset is required: the UUID of the asset to be paid")
	case amount == "":
		return fail("--amount is required")
	}
	// Every field is checked before the keyring is asked anything.
	fields := []struct {
		flag  string
		check func() error
	}{
		{"--asset", func() error { _, err := mixin.ParseUUID(mixin.FieldAsset, asset); return err }},
		{"--amount", func() error { _, _, err := mixin.ParseAmount(amount); return err }},
		{"--memo", func() error { return mixin.ValidateMemo(memo) }},
		{"--trace", func() error {
			if trace == "" {
				return nil
			}
			_, err := mixin.ParseUUID(mixin.FieldTrace, trace)
			return err
		}},
		{"--recipient", func() error {
			if recipient == "" {
				return nil
			}
			_, err := mixin.ParseUUID(mixin.FieldRecipient, recipient)
			return err
		}},
	}
	for _, f := range fields {
		if err := f.check(); err != nil {
			return fail("%s: %s", f.flag, fieldReason(err))
		}
	}
	if trace == "" {
		trace = payout.NewTraceID()
	}
	if recipient == "" {
		id, err := profileClientID(profile)
		if err != nil {
			return fail("%v", err)
		}
		recipient = id
	}
	link, err := mixin.PayURL(mixin.PayRequest{Recipient: recipient, AssetID: asset, Amount: amount, TraceID: trace, Memo: memo})
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintln(stdout, link)
	if qr {
		text, err := ui.QRText(link)
		if err != nil {
			fmt.Fprintf(stderr, "mixdesk payurl: the link is printed, but its QR code cannot be drawn: %v\n", err)
			return 1
		}
		fmt.Fprint(stdout, "\n"+text)
	}
	return 0
}

// fieldReason is the reason of a *mixin.FieldError, or the error's text.
func fieldReason(err error) string {
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return err.Error()
}

// profileClientID reads the client id of a keyring profile (the default
// one when name is ""). Only the client id leaves this function; the
// errors say to pass --recipient instead.
func profileClientID(name string) (string, error) {
	store, err := keystore.New(payurlKeyring(), keystore.Options{})
	if err != nil {
		return "", fmt.Errorf("%v; pass --recipient USER_ID", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if name == "" {
		def, err := store.Default(ctx)
		switch {
		case errors.Is(err, keystore.ErrUnavailable):
			return "", fmt.Errorf("no keyring to read the recipient from (%s); pass --recipient USER_ID", strings.TrimPrefix(err.Error(), "keystore: "))
		case err != nil && !errors.Is(err, keystore.ErrNotFound):
			return "", fmt.Errorf("%v; pass --recipient USER_ID", err)
		case def == "":
			return "", errors.New("no default profile in the keyring to be paid; pass --recipient USER_ID (or --profile NAME)")
		}
		name = def
	}
	p, err := store.Load(ctx, name)
	switch {
	case errors.Is(err, keystore.ErrUnavailable):
		return "", fmt.Errorf("no keyring to read the recipient from (%s); pass --recipient USER_ID", strings.TrimPrefix(err.Error(), "keystore: "))
	case errors.Is(err, keystore.ErrNotFound):
		return "", fmt.Errorf("no profile named %q in the keyring; pass --recipient USER_ID", name)
	case err != nil:
		return "", fmt.Errorf("%v; pass --recipient USER_ID", err)
	}
	return mixin.ParseUUID(mixin.FieldClientID, p.Credentials.ClientID)
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
