package ui

import (
	"mixdesk/payout"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/shopspring/decimal"
)

// groupDigits puts thousands separators into a decimal string.
func groupDigits(s string) string { return payout.GroupDigits(s) }

// money shows an exact decimal with grouping.
func money(d decimal.Decimal) string { return groupDigits(d.String()) }

// usd shows a USD value rounded to cents, with grouping.
func usd(d decimal.Decimal) string { return groupDigits(d.StringFixed(2)) }

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
