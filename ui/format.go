package ui

import (
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"mixdesk/mixin"
	"mixdesk/payout"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/shopspring/decimal"
)

// money shows an exact decimal with grouping.
func money(d decimal.Decimal) string { return payout.GroupDigits(d.String()) }

// usd shows a USD value rounded to cents, with grouping.
func usd(d decimal.Decimal) string { return payout.GroupDigits(d.StringFixed(2)) }

// truncate cuts s to n runes with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if n <= 0 {
		return ""
	}
	if len(r) <= n {
		return s
	}
	if n == 1 {
		return "…"
	}
	return string(r[:n-1]) + "…"
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

// para wraps a paragraph to the width w and indents every line of it.
func para(text string, w int, indent string) string {
	lines := strings.Split(fitWidth(text, w-len(indent)), "\n")
	for i, l := range lines {
		lines[i] = indent + l
	}
	return strings.Join(lines, "\n")
}

// clean makes text that came from the server or a file safe to draw:
// control characters (escape sequences included) and bidirectional
// overrides are dropped, so a name cannot rewrite what is around it.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			return -1
		case r == 0x061c || r >= 0x200e && r <= 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069:
			return -1
		}
		return r
	}, s)
}

// step moves a position in a list of n by one for the keys "up" (back) and
// "down" (on), wrapping at both ends.
func step(pos, n int, k string) int {
	if n <= 0 {
		return 0
	}
	if k == "up" {
		return (pos + n - 1) % n
	}
	return (pos + 1) % n
}

// focusOnly focuses the input at index at and blurs the others (at out of
// range blurs them all, as when a button has the focus).
func focusOnly(inputs []textinput.Model, at int) tea.Cmd {
	var cmd tea.Cmd
	for i := range inputs {
		if i == at {
			cmd = inputs[i].Focus()
		} else {
			inputs[i].Blur()
		}
	}
	return cmd
}

// assetMatches reports whether an asset answers the picker's lower-cased
// query: by symbol or name, or by the start of its id.
func assetMatches(as mixin.Asset, q string) bool {
	return q == "" || strings.Contains(strings.ToLower(as.Symbol), q) || strings.Contains(strings.ToLower(as.Name), q) || strings.HasPrefix(as.AssetID, q)
}
