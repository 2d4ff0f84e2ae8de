package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/shopspring/decimal"

	"mixdesk/account"
	"mixdesk/payout"
)

// money shows an exact decimal with grouping.
func money(d decimal.Decimal) string { return payout.GroupDigits(d.String()) }

// usd shows a USD value rounded to cents, with grouping.
func usd(d decimal.Decimal) string { return payout.GroupDigits(d.StringFixed(2)) }

// truncate makes s display-safe (clean) and then cuts it to n cells of the
// terminal, by display width, with an ellipsis: the cut never falls inside
// an escape sequence (there is none left) or a wide character.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = clean(s)
	if ansi.StringWidth(s) <= n {
		return s
	}
	return ansi.Truncate(s, n, "…")
}

// shortID shows the first block of a UUID, for tight columns.
func shortID(id string) string {
	if i := strings.IndexByte(id, '-'); i > 0 {
		return id[:i]
	}
	return id
}

// fitWidth wraps the lines of s wider than w cells, at spaces only, so that
// ids such as UUIDs stay whole where they fit. Bubble Tea cuts a line at the
// right edge of the terminal, and the operator would never see its end.
func fitWidth(s string, w int) string {
	if w <= 0 {
		return s
	}
	const keep = "\u2011" // a non-breaking hyphen, one cell wide like "-"
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = strings.ReplaceAll(ansi.Wrap(strings.ReplaceAll(l, "-", keep), w, ""), keep, "-")
		}
	}
	return strings.Join(lines, "\n")
}

// hang wraps text, which follows indent columns already written on its
// first line, to the width w: its next lines start under its first, never
// at the left edge (a long id or hash wrapped by the terminal would).
func hang(text string, indent, w int) string {
	if w-indent < 16 {
		return text
	}
	pad := strings.Repeat(" ", indent)
	return strings.TrimPrefix(para(text, w, pad), pad)
}

// para wraps a paragraph to the width w and indents every line of it.
func para(text string, w int, indent string) string {
	lines := strings.Split(fitWidth(text, w-len(indent)), "\n")
	for i, l := range lines {
		lines[i] = indent + l
	}
	return strings.Join(lines, "\n")
}

// clean makes text that came from the server or a file safe to draw. It is
// account.DisplayText (the legacy client's DisplayText), the one cleaning of the program: escape sequences,
// control characters, bidirectional and other invisible (format)
// characters, line separators and bad UTF-8 are taken out, so that a name
// can neither rewrite what is around it nor hide characters. Server answers
// are cleaned once when decoded; cleaning again changes nothing.
func clean(s string) string { return account.DisplayText(s) }

// nameText is a name as drawn: clean, on one line, every run of spaces made
// one, so that padding cannot push a part of the name out of sight ("Alice
// Ng" and 150 spaces and "x" reads "Alice Ng x").
func nameText(s string) string { return strings.Join(strings.Fields(clean(s)), " ") }

// safeView is the last guard of a screen's text: whatever server text may
// have slipped into it uncleaned loses its escape sequences, controls and
// invisible characters, while the styles the console draws itself (SGR
// sequences, ESC [ digits m) and the line breaks are kept.
func safeView(v string) string {
	if !needsGuard(v) {
		return v
	}
	// Nothing is copied until a piece changes: most frames are clean.
	var b strings.Builder
	done, changed := 0, false
	put := func(from, to int) {
		piece := v[from:to]
		c := clean(piece)
		if c == piece {
			return
		}
		if !changed {
			b.Grow(len(v))
			changed = true
		}
		b.WriteString(v[done:from])
		b.WriteString(c)
		done = to
	}
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j] != '\n' && v[j] != 0x1b {
			j++
		}
		put(i, j)
		switch {
		case j == len(v):
			i = j
		case v[j] == '\n':
			i = j + 1
		case sgrLen(v[j:]) > 0:
			i = j + sgrLen(v[j:])
		default:
			// Another sequence: cleaned up to the next ESC, which may end
			// it (ST) or start one of the console's own, or the line's end.
			k := j + 1
			for k < len(v) && v[k] != '\n' && v[k] != 0x1b {
				k++
			}
			put(j, k)
			i = k
		}
	}
	if !changed {
		return v
	}
	b.WriteString(v[done:])
	return b.String()
}

// needsGuard reports whether safeView may have anything to do: a control
// character other than the line break, or a byte of a character past ASCII.
func needsGuard(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\n' || c >= 0x7f {
			return true
		}
	}
	return false
}

// sgrLen is the length of the SGR sequence (ESC [ parameters m) that s
// starts with, or 0.
func sgrLen(s string) int {
	if len(s) < 3 || s[0] != 0x1b || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9' || c == ';' || c == ':':
		case c == 'm':
			return i + 1
		default:
			return 0
		}
	}
	return 0
}

// step moves a position in a list of n by delta (-1: back, 1: on),
// wrapping at both ends.
func step(pos, n, delta int) int {
	if n <= 0 {
		return 0
	}
	return ((pos+delta)%n + n) % n
}
