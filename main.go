// Command mixdesk is a terminal treasury desk for the Mixin wallet API.
package main

import (
	// Decides the terminal's background before Bubble Tea would ask the
	// terminal for it (see internal/earlyterm).
	_ "earlyterm"

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

	"mixdesk/account"
	"mixdesk/journal"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/policy"
	"mixdesk/ui"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `mixdesk: a terminal treasury desk for the Mixin wallet API

Usage:
  mixdesk [--profile NAME] [--api URL] [--data-dir DIR]
  mixdesk --sandbox[=legacy] [--data-dir DIR]
  mixdesk payurl --asset ID --amount A [--memo M] [--trace UUID]
                 [--recipient ID | --profile NAME] [--safe | --legacy] [--qr]
                   print a payment link (and its QR code) and exit;
                   see mixdesk payurl --help
  mixdesk journal verify [--profile NAME | --file PATH] [--data-dir DIR]
  mixdesk journal export --csv FILE [--profile NAME | --file PATH] [--data-dir DIR]
                   check a profile's journal (the audit trail) or export it
                   as CSV; see mixdesk journal --help
  mixdesk help [payurl | journal]
                   print this help, or a command's

Flags:
  --profile NAME   open this profile of the OS keyring (default: the default profile)
  --api URL        API base URL (default https://api.mixin.one; also $MIXDESK_API)
  --data-dir DIR   where journals and local state live
                   (default $XDG_DATA_HOME/mixdesk, else ~/.local/share/mixdesk)
  --config FILE    the policy file: caps, thresholds, idle lock, address-book-only
                   (default config.toml in the OS config directory)
  --theme NAME     light or dark: the terminal's background (also $MIXDESK_THEME;
                   default: from $COLORFGBG, else colours that read on either)
  --sandbox        run on the embedded sandbox of the Safe API: no real funds, no keyring
  --sandbox=legacy the same on the sandbox of the legacy wallet API (PIN, /transfers)
  --version        print the version and exit
  --help           print this help and exit

The treasury policy (caps per asset, address-book-only, idle lock, large-amount
threshold, duplicate window) is read from the config file in the OS config
directory (on Linux ~/.config/mixdesk/config.toml); a file with a mistake stops
mixdesk with the line and the reason.
`

type options struct {
	profile string
	api     string
	dataDir string
	sandbox string // "" (no sandbox), sandboxSafe or sandboxLegacy
	config  string
	theme   string // --theme: light, dark or auto ("" = $MIXDESK_THEME)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "help" {
		return runHelp(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "payurl" {
		return runPayURL(args[1:], "", stdout, stderr)
	}
	if len(args) > 0 && args[0] == "journal" {
		return runJournal(args[1:], journalDefaults{dataDir: defaultDataDir()}, stdout, stderr)
	}
	fs := flag.NewFlagSet("mixdesk", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, in one line
	var o options
	var showVersion bool
	fs.StringVar(&o.profile, "profile", "", "open the profile `NAME` (default: the default profile)")
	fs.StringVar(&o.api, "api", envOr("MIXDESK_API", mixin.DefaultBaseURL), "API base `URL` (also $MIXDESK_API)")
	fs.StringVar(&o.dataDir, "data-dir", defaultDataDir(), "`DIR` for the journal and local state")
	fs.StringVar(&o.config, "config", "", "the policy `FILE` (default: config.toml in the OS config directory)")
	fs.StringVar(&o.theme, "theme", "", "the terminal's background: light, dark or auto (also $MIXDESK_THEME)")
	fs.Var(sandboxFlag{&o.sandbox}, "sandbox", "run on the embedded sandbox of the Safe API, or with =legacy of the legacy API (no real funds, no keyring)")
	fs.BoolVar(&showVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "mixdesk: %s (see mixdesk --help)\n", flagProblem(err))
		return 2
	}
	if showVersion && fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mixdesk: --version takes no argument, got %q (see mixdesk --help)\n", fs.Arg(0))
		return 2
	}
	if showVersion {
		fmt.Fprintf(stdout, "mixdesk %s (%s/%s, %s)\n", version, runtime.GOOS, runtime.GOARCH, runtime.Version())
		return 0
	}
	if fs.NArg() > 0 && fs.Arg(0) == "payurl" {
		// Global flags before the command: only --profile means anything to it.
		if o.sandbox != "" {
			fmt.Fprintln(stderr, "mixdesk: payurl does not use the sandbox; pass --recipient with the sandbox operator's user id")
			return 2
		}
		return runPayURL(fs.Args()[1:], o.profile, stdout, stderr)
	}
	if fs.NArg() > 0 && fs.Arg(0) == "journal" {
		// Global flags before the command: --profile and --data-dir name the
		// journal; --sandbox names the sandbox's.
		def := journalDefaults{profile: o.profile, dataDir: o.dataDir}
		if o.sandbox != "" {
			def = journalDefaults{profile: sandboxProfile, dataDir: sandboxDir(o.dataDir, o.sandbox), sandbox: true}
		}
		return runJournal(fs.Args()[1:], def, stdout, stderr)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mixdesk: unknown command %q (see mixdesk --help)\n", fs.Arg(0))
		return 2
	}
	if !applyTheme(o.theme, stderr) {
		return 2
	}
	profile := o.profile
	if o.sandbox != "" {
		profile = sandboxProfile
	}
	configPath, ok := checkConfig(o.config, profile, stderr)
	if !ok {
		return 1
	}
	if o.sandbox != "" {
		return runSandbox(o, configPath, stderr)
	}
	return runKeyring(o, configPath, stderr)
}

// configPathFor is where the policy file is looked for; tests put theirs
// in its place.
var configPathFor = policy.DefaultPath

// checkConfig reads the policy file before anything starts, so that a
// mistake in it stops mixdesk with the line and the reason instead of
// running under rules nobody wrote. Every profile's table is checked; the
// console reads the file again for the profile it opens.
func checkConfig(given, profile string, stderr io.Writer) (string, bool) {
	path, err := given, error(nil)
	if path == "" {
		path, err = configPathFor()
	}
	if err != nil {
		fmt.Fprintf(stderr, "mixdesk: the policy file cannot be found: %v; set XDG_CONFIG_HOME or HOME\n", err)
		return "", false
	}
	if _, err := policy.Load(path, profile); err != nil {
		fmt.Fprintf(stderr, "mixdesk: config: %v\nmixdesk: fix the policy file (see mixdesk --help and the README); nothing was started\n", err)
		return "", false
	}
	return path, true
}

// runKeyring opens the console on the OS keyring's profiles.
func runKeyring(o options, configPath string, stderr io.Writer) int {
	store, err := keystore.New(keystore.System(), keystore.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "mixdesk:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = store.Probe(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "mixdesk: %v (profiles live in the OS keyring only; mixdesk --sandbox needs none)\n", err)
		return 1
	}
	return runConsole(ui.Deps{Env: account.Env{Store: store, APIURL: o.api, DataDir: o.dataDir, ConfigPath: configPath}, Profile: o.profile}, stderr)
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

const journalUsage = `mixdesk journal: check or export a profile's payout journal (the audit trail)

Usage:
  mixdesk journal verify [--profile NAME | --file PATH] [--data-dir DIR]
  mixdesk journal export --csv FILE [--profile NAME | --file PATH] [--data-dir DIR]

verify reads the journal and checks its hash chain: every record's seq and
the hash of the line before it, every intent's content hash, and the order
of intents and outcomes. It prints one line: the number of records, the last
seq and the head hash (keep it elsewhere to notice records cut off the end
later), or the first broken line and why.

export writes every readable record as CSV to a new file (mode 0600; an
existing file is never replaced): seq, time, kind, trace_id, asset_id,
recipient_id, amount, memo, operator, host, snapshot_id, closing_balance,
code, description, hash, prev, via, batch_id, row_key. Cells that a
spreadsheet would run as a formula start with an apostrophe.

Both only read the journal: they work while a console has it open, take no
lock and change nothing (a line cut short by a crash is reported, not cut).

Flags:
  --profile NAME   the journal of this keyring profile: DIR/journal-NAME.jsonl
  --data-dir DIR   where the journals live (default as for the console)
  --file PATH      a journal file by its path instead of --profile
  --csv FILE       (export) the CSV file to write
  --help           print this help and exit

Exit status: 0 intact (verify) or exported from an intact journal; 1 the
journal is broken (export still writes what is readable), cannot be read,
or the export cannot be written; 2 bad usage.
`

// journalDefaults are the journal flags' defaults, from the global flags
// given before the command.
type journalDefaults struct {
	profile string
	dataDir string
	sandbox bool // --sandbox: the sandbox's journal
}

// runJournal runs `mixdesk journal verify|export`. It reads the journal
// without locking or changing it and never touches the terminal beyond
// printing lines.
func runJournal(args []string, def journalDefaults, stdout, stderr io.Writer) int {
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mixdesk journal: "+format+" (see mixdesk journal --help)\n", a...)
		return 2
	}
	if len(args) == 0 {
		return usageErr("say verify or export")
	}
	cmd := args[0]
	switch cmd {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, journalUsage)
		return 0
	case "verify", "export":
	default:
		return usageErr("unknown command %q; say verify or export", cmd)
	}
	fs := flag.NewFlagSet("mixdesk journal "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	profile, dataDir, file, csvPath := def.profile, def.dataDir, "", ""
	fs.StringVar(&profile, "profile", profile, "the journal of this keyring profile")
	fs.StringVar(&dataDir, "data-dir", dataDir, "where the journals live")
	fs.StringVar(&file, "file", "", "a journal file by its path")
	if cmd == "export" {
		fs.StringVar(&csvPath, "csv", "", "the CSV file to write")
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, journalUsage)
			return 0
		}
		return usageErr("%s", flagProblem(err))
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	if cmd == "export" && csvPath == "" {
		return usageErr("export needs --csv FILE, the file to write")
	}

	path := file
	switch {
	case file != "" && profile != "" && !def.sandbox:
		return usageErr("give --file or --profile, not both")
	case file != "":
	case profile == "":
		return usageErr("say which journal: --profile NAME (its journal in --data-dir) or --file PATH")
	default:
		if err := keystore.ValidateName(profile); err != nil {
			return usageErr("--profile: %s", strings.TrimPrefix(err.Error(), "keystore: "))
		}
		if dataDir == "" {
			return usageErr("--data-dir is empty")
		}
		path = journal.Path(dataDir, profile)
	}

	// verify needs the verdict only: CheckFile keeps no record.
	check := journal.VerifyFile
	if cmd == "verify" {
		check = journal.CheckFile
	}
	rep, err := check(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(stderr, "mixdesk journal: there is no journal at %s (no payout was recorded there; check --profile and --data-dir)\n", path)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "mixdesk journal: %v\n", err)
		return 1
	}

	if cmd == "verify" {
		fmt.Fprintln(stdout, journalSummary(rep))
		printJournalDetails(stdout, rep)
		if !rep.Intact() {
			return 1
		}
		return 0
	}

	if err := journal.SaveCSV(csvPath, rep.Records); err != nil {
		if errors.Is(err, os.ErrExist) {
			fmt.Fprintf(stderr, "mixdesk journal: %s already exists; an export never replaces a file, so give a new name\n", csvPath)
		} else {
			fmt.Fprintf(stderr, "mixdesk journal: nothing was exported: %v\n", err)
		}
		return 1
	}
	fmt.Fprintf(stdout, "exported %s of journal %s to %s\n", plural(len(rep.Records), "record"), path, csvPath)
	if rep.TornTail {
		fmt.Fprintln(stdout, tornNote(rep))
	}
	if !rep.Intact() {
		unreadable := rep.Count - len(rep.Records)
		fmt.Fprintf(stderr, "mixdesk journal: %s\n", journalSummary(rep))
		fmt.Fprintf(stderr, "mixdesk journal: the export holds every readable record, those after the break included; %s could not be read; run mixdesk journal verify for the list of problems\n",
			plural(unreadable, "line"))
		return 1
	}
	return 0
}

// journalSummary is the one-line verdict on a journal.
func journalSummary(rep *journal.Report) string {
	if rep.Intact() {
		return fmt.Sprintf("journal %s: %s, chain intact (last seq %d, head %s)", rep.Path, plural(rep.Count, "record"), rep.HeadSeq, rep.HeadHash)
	}
	intact := rep.IntactLines()
	verb := "are"
	if intact == 1 {
		verb = "is"
	}
	return fmt.Sprintf("journal %s: BROKEN at line %d: %s (%s); %s before it %s intact",
		rep.Path, rep.FirstBad.Line, rep.FirstBad.Detail, plural(rep.ProblemCount, "problem"), plural(intact, "record"), verb)
}

// printJournalDetails prints what the summary line leaves out: a torn last
// line, and every problem of a broken journal.
func printJournalDetails(w io.Writer, rep *journal.Report) {
	if rep.TornTail {
		fmt.Fprintln(w, tornNote(rep))
	}
	if rep.Intact() {
		return
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  line %d: %s (%s)\n", p.Line, p.Detail, p.Reason)
	}
	if more := rep.ProblemCount - len(rep.Problems); more > 0 {
		fmt.Fprintf(w, "  ... and %s more\n", plural(more, "problem"))
	}
}

func tornNote(rep *journal.Report) string {
	return fmt.Sprintf("note: the last line (%d bytes at byte %d) is cut short, by a crash during an append or by an append in progress; it was never acknowledged and is not counted",
		rep.TornLen, rep.TornOffset)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
