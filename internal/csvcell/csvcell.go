// Package csvcell makes the text cells of mixdesk's CSV exports (history,
// journal, batch report) safe to open: safe to show in a terminal, and
// never taken for a formula by a spreadsheet. Every text cell of every
// export goes through Text; a reader of an export takes the guard off with
// Unguard.
package csvcell

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"mixdesk/mixin"
)

// Text is a text cell of an export: s made display-safe by
// mixin.DisplayText (no escape sequences, control, invisible or
// direction-changing characters; tabs and line breaks become spaces),
// since a terminal may show the file later (cat, less), and then guarded
// against being taken for a spreadsheet formula (Guard).
func Text(s string) string { return Guard(mixin.DisplayText(s)) }

// Guard protects a text cell from being taken for a formula: a cell that
// starts with = + - @ (or their full-width forms, which some spreadsheets
// read alike), an apostrophe, or any space or line break (which a
// spreadsheet may trim before it looks for a formula) gets a leading
// apostrophe, which spreadsheets show as "this is text" and hide. A cell
// that starts with an apostrophe gets one more, so that Unguard gives back
// exactly the text.
func Guard(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n', ' ', '\'':
		return "'" + s
	}
	if s[0] < utf8.RuneSelf {
		return s
	}
	switch r, _ := utf8.DecodeRuneInString(s); {
	case r == '＝' || r == '＋' || r == '－' || r == '＠' || unicode.IsSpace(r):
		return "'" + s
	}
	return s
}

// Unguard takes off the protection Guard put on.
func Unguard(s string) string { return strings.TrimPrefix(s, "'") }
