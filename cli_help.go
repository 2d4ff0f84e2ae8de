package main

import (
	"fmt"
	"io"
	"strings"
)

// runHelp answers `mixdesk help [COMMAND]` as --help does.
func runHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 {
		fmt.Fprintf(stderr, "mixdesk: help takes at most one command, got %q\n", strings.Join(args, " "))
		return 2
	}
	topic := ""
	if len(args) == 1 {
		topic = args[0]
	}
	switch topic {
	case "":
		fmt.Fprint(stdout, usage)
	case "payurl":
		return runPayURL([]string{"--help"}, "", stdout, stderr)
	case "journal":
		return runJournal([]string{"--help"}, journalDefaults{dataDir: defaultDataDir()}, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "mixdesk: no help on %q; the commands are payurl and journal (see mixdesk --help)\n", topic)
		return 2
	}
	return 0
}

// flagProblem is a flag parsing error in the words of this program's
// usage: flags are written with two dashes there, so they are here.
func flagProblem(err error) string {
	msg := err.Error()
	for _, f := range []struct{ prefix, say string }{
		{"flag provided but not defined: -", "unknown flag --%s"},
		{"flag needs an argument: -", "--%s needs a value"},
	} {
		if name, ok := strings.CutPrefix(msg, f.prefix); ok {
			return fmt.Sprintf(f.say, strings.TrimPrefix(name, "-"))
		}
	}
	// "invalid value "x" for flag -name: reason"
	if i := strings.Index(msg, " for flag -"); i >= 0 {
		rest := strings.TrimPrefix(msg[i+len(" for flag -"):], "-")
		return msg[:i] + " for --" + rest
	}
	return msg
}
