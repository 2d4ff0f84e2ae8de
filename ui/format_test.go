package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"

	"mixdesk/mixin"
	"mixdesk/payout/rail"
)

// TestTruncateCleansThenCutsByWidth: text is cleaned before it is cut, and
// cut by the cells it takes, so that a cut never falls inside an escape
// sequence (the shortened symbol of the request list once cut one in half,
// and the row vanished) or a wide character.
func TestTruncateCleansThenCutsByWidth(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"\x1b[2J\x1b[HUSDT", 7, "USDT"},
		{"\x1b]52;c;SGVsbG8=\x07USDT-LONGER", 7, "USDT-L…"},
		{"US\u200bDT\u202e", 4, "USDT"},
		{"日本語テキスト", 5, "日本…"},
		{"日本語", 6, "日本語"},
		{"abc", 0, ""},
		{"abcdef", 1, "…"},
	} {
		got := truncate(c.in, c.n)
		if got != c.want || lipgloss.Width(got) > max(c.n, 0) {
			t.Errorf("truncate(%q, %d) = %q (width %d), want %q", c.in, c.n, got, lipgloss.Width(got), c.want)
		}
	}
}

// TestCleanIsDisplayText: the console cleans with the client's one
// function, and names come on one line.
func TestCleanIsDisplayText(t *testing.T) {
	for _, s := range []string{"Bob \u200b(37160001)", "a\u00adb\u2060c\ufeffd", "x\x1b]52;c;SGk=\x07y", "Line\u2028Sep", "bad \xff"} {
		if clean(s) != mixin.DisplayText(s) {
			t.Errorf("clean(%q) = %q, DisplayText gives %q", s, clean(s), mixin.DisplayText(s))
		}
	}
	if got := nameText("  Alice Ng" + strings.Repeat(" ", 150) + "x\u200b\n"); got != "Alice Ng x" {
		t.Errorf("nameText = %q, want %q", got, "Alice Ng x")
	}
}

// TestSafeViewKeepsStylesOnly: the last guard of a screen keeps the
// console's own styles (SGR) and line breaks, and takes out every other
// sequence, control and invisible character.
func TestSafeViewKeepsStylesOnly(t *testing.T) {
	in := "\x1b[1;38;2;95;175;255mTitle\x1b[0m\nMallory\x1b]52;c;SGVsbG8=\x07 \x1b]52;c;SGk=\x1b\\x\x1b[2J\x1b[H\x1bc\u009b31m\u202e\u200b!\n\x1b[7m \x1b[0m"
	want := "\x1b[1;38;2;95;175;255mTitle\x1b[0m\nMallory x!\n\x1b[7m \x1b[0m"
	if got := safeView(in); got != want {
		t.Errorf("safeView =\n%q\nwant\n%q", got, want)
	}
	plain := "plain ASCII\nwith lines"
	if got := safeView(plain); got != plain {
		t.Errorf("safeView changed plain text: %q", got)
	}
}

// TestListWindowHoldsThePick: a picker's visible rows always hold the item
// the keys act on.
func TestListWindowHoldsThePick(t *testing.T) {
	for n := range 12 {
		for pick := range max(n, 1) {
			from, to := listWindow(n, pick, 5)
			if to-from != min(n, 5) || n > 0 && (pick < from || pick >= to) || from < 0 || to > n {
				t.Errorf("listWindow(%d, %d, 5) = %d, %d", n, pick, from, to)
			}
		}
	}
}

// TestAssetTwins: assets that read alike get the start of their id; the
// others nothing.
func TestAssetTwins(t *testing.T) {
	as := []rail.Asset{
		{AssetID: "4d8c508b-91c5-375b-92b0-ee702ed2dac5", Symbol: "USDT"},
		{AssetID: "11111111-0000-4000-8000-000000000001", Symbol: " usdt\u200b"},
		{AssetID: "c6d0c728-2624-429b-8e0d-d9d19b6592fa", Symbol: "BTC"},
	}
	got := assetTwins(as)
	if got[as[0].AssetID] != "id 4d8c508b" || got[as[1].AssetID] != "id 11111111" || got[as[2].AssetID] != "" {
		t.Errorf("assetTwins = %v", got)
	}
}
