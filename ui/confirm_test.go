package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/payout/rail"
)

// confirmApp is an App showing the confirmation of rv on a w×h terminal,
// without a connection: enough to draw it and type into it.
func confirmApp(rv *payout.Review, w, h int) *App {
	a := New(Deps{})
	a.width, a.height = w, h
	a.pages[screenConfirm] = newConfirmScreen(&a.shared, rv, false)
	a.screen = screenConfirm
	return a
}

func reviewOf(amount string, rcpt rail.User) *payout.Review {
	d, text, err := mixin.ParseAmount(amount)
	if err != nil {
		panic(err)
	}
	return &payout.Review{
		Recipient: rcpt,
		Asset:     rail.Asset{AssetID: usdtID, Symbol: "USDT", Name: "Tether USD", Balance: "50000"},
		Amount:    d, AmountText: text, Balance: decimal.RequireFromString("50000"), BalanceAfter: decimal.RequireFromString("50000").Sub(d),
		TraceID: "6292bbc0-cd80-588f-b7c0-2975234d2aef",
	}
}

var alice = rail.User{UserID: "a742a0cd-a04f-4266-b400-592a6e702fee", IdentityNumber: "37169012", FullName: "Alice Ng"}

// TestConfirmComparesAmountsAsNumbers: the amount typed to confirm is
// compared as a number: 1.10 is 1.1, spaces around it do not count, right
// digit grouping is taken; anything else is refused with a line that says
// why.
func TestConfirmComparesAmountsAsNumbers(t *testing.T) {
	for _, c := range []struct {
		shown, typed string
		ok           bool
		why          string
	}{
		{"1.1", "1.1", true, ""},
		{"1.1", "1.10", true, ""},
		{"1.1", " 1.100 ", true, ""},
		{"1250.5", "1,250.5", true, ""},
		{"1250.5", "1,250.50", true, ""},
		{"1250.5", "1250.500", true, ""},
		{"1.1", "1.2", false, "✗ does not match the amount shown (1.1)"},
		{"1.1", "1.1x", false, "✗ not an amount: "},
		{"1.1", "01.1", false, "✗ not an amount: leading zero"},
		{"1.1", "1.100000000", false, "✗ not an amount: at most 8 digits after the point"},
		{"1250.5", "12,50.5", false, "✗ the digit grouping is wrong; type 1250.5 or 1,250.5"},
		{"1.1", "", false, ""},
	} {
		a := confirmApp(reviewOf(c.shown, alice), termW, termH)
		a.confirm().amount.SetValue(c.typed)
		if got := a.confirm().amountMatches(); got != c.ok {
			t.Errorf("shown %s, typed %q: matches %v, want %v", c.shown, c.typed, got, c.ok)
		}
		if got := a.confirm().canConfirm(); got != c.ok {
			t.Errorf("shown %s, typed %q: Confirm enabled %v, want %v", c.shown, c.typed, got, c.ok)
		}
		lines := strings.Split(a.View(), "\n")
		var line, under string
		for i, l := range lines {
			if strings.Contains(l, "Type the amount to confirm") && i+1 < len(lines) {
				line, under = l, lines[i+1]
			}
		}
		switch {
		case c.ok && !strings.Contains(line, " ✓"):
			t.Errorf("typed %q: no ✓ on %q", c.typed, line)
		case c.why != "" && !strings.Contains(under, c.why):
			t.Errorf("typed %q: the line under the field %q does not say %q", c.typed, under, c.why)
		case c.typed == "" && strings.Contains(line+under, "✗"):
			t.Errorf("nothing typed, yet %q", line)
		}
	}
}

// TestConfirmKeepsVerifiedIDsInView: whatever the recipient's name, the
// To row is one line and the verified Mixin ID and user id stay on the
// screen, in rows of their own, also on the smallest terminal.
func TestConfirmKeepsVerifiedIDsInView(t *testing.T) {
	for _, name := range []string{
		strings.Repeat("Longname ", 666) + "Tail..",
		"Alice Ng" + strings.Repeat(" ", 150) + "x",
		"Bob \u200b(37160001)",
		strings.Repeat("名", 3000),
	} {
		u := alice
		u.FullName = name
		rv := reviewOf("3.4", u)
		rv.Warnings = []payout.Warning{{Kind: payout.WarnFirstTime, Text: "First payout to someone: check the recipient."}}
		for _, sz := range [][2]int{{termW, termH}, {minWidth, minHeight}} {
			a := confirmApp(rv, sz[0], sz[1])
			v := a.View()
			fitsWidth(t, v, sz[0])
			to := lineWith(v, "  To  ")
			if to == "" || lipgloss.Width(strings.TrimRight(to, " ")) > sz[0] {
				t.Errorf("%d×%d: the To row is missing or too wide: %q", sz[0], sz[1], to)
			}
			mustContain(t, v, "Mixin ID      37169012", "User id       "+alice.UserID, "> Cancel <")
			if lipgloss.Height(v) > sz[1] {
				t.Errorf("%d×%d: the view is %d lines", sz[0], sz[1], lipgloss.Height(v))
			}
		}
	}
	u := alice
	u.FullName = "Alice Ng" + strings.Repeat(" ", 150) + "x"
	mustContain(t, confirmApp(reviewOf("1", u), termW, termH).View(), "To            Alice Ng x")
	u.FullName = strings.Repeat("Longname ", 666) + "Tail.."
	mustContain(t, confirmApp(reviewOf("1", u), termW, termH).View(), "(name cut: 6000 characters)")
}

// TestConfirmWarnsOfNamesLikeIDs: a recipient named with someone else's
// Mixin ID is a warning to acknowledge, naming the verified one.
func TestConfirmWarnsOfNamesLikeIDs(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	r.rcpt = r.srv.AddUser("Bob \u200b(37160001)")
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	p.toConfirm(r, "10")
	v := a.View()
	mustContain(t, v, "To            Bob (37160001)", "Mixin ID      "+r.rcpt.IdentityNumber)
	mustContain(t, flat(v), "The name “Bob (37160001)” contains (37160001), which reads as a Mixin ID: anyone may put that in a name. This recipient's Mixin ID is "+r.rcpt.IdentityNumber+".")
	mustNotContain(t, v, "\u200b")
}

// helpKeyNames lists the key column of bindings (enabled ones only).
func helpKeyNames(ks []key.Binding) []string {
	var out []string
	for _, k := range ks {
		if k.Enabled() {
			out = append(out, k.Help().Key)
		}
	}
	return out
}

// TestEveryScreenHasAFullKeyMap: ? lists a screen's whole key map, more than
// its help line: on the confirmation the arrows between the buttons, space
// for a warning, typing the amount; every key of the help line is in it.
func TestEveryScreenHasAFullKeyMap(t *testing.T) {
	rv := reviewOf("1.1", alice)
	rv.Warnings = []payout.Warning{{Kind: payout.WarnFirstTime, Text: "First payout."}}
	a := confirmApp(rv, termW, termH)
	full := strings.Join(helpKeyNames(a.helpKeys()), " | ")
	for _, k := range []string{"tab/↓", "shift+tab/↑", "space", "enter", "←/→", "amount", "Confirm", "esc", "?", "ctrl+c"} {
		if !strings.Contains(" | "+full+" | ", " | "+k+" | ") {
			t.Errorf("the confirmation's full key map lacks %q: %s", k, full)
		}
	}
	if short := helpKeyNames(a.shortHelp()); len(short) >= len(helpKeyNames(a.helpKeys())) {
		t.Errorf("the full key map (%s) is no longer than the help line (%v)", full, short)
	}

	// Each screen of this package: the help line's keys are in the full map.
	h := newHomeScreen(&a.shared)
	h.doubt = 1
	b := newBookScreen(&a.shared)
	for name, m := range map[string]interface {
		keys() []key.Binding
		fullKeys() []key.Binding
	}{
		"home": h, "confirmation": a.confirm(), "book": b, "requests": newRequestScreen(&a.shared, "x"),
		"history": &historyScreen{km: newHistoryKeys()},
	} {
		fullSet := map[string]bool{}
		for _, k := range helpKeyNames(m.fullKeys()) {
			for _, part := range strings.FieldsFunc(k, func(r rune) bool { return r == ' ' || r == '/' }) {
				fullSet[part] = true
			}
			for _, part := range strings.Fields(k) {
				fullSet[part] = true
			}
			fullSet[k] = true
		}
		for _, k := range helpKeyNames(m.keys()) {
			if !fullSet[k] {
				t.Errorf("%s: the help line's %q is not in the full key map %v", name, k, helpKeyNames(m.fullKeys()))
			}
		}
	}
}
