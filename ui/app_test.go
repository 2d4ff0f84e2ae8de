package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func TestHomeShowsProfileAndBalances(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(termW, termH)
	f.waitHome()
	a := f.final()

	v := a.View()
	requireGolden(t, v, termW)
	mustContain(t, v, "mixdesk · treasury · Treasury Desk", "SANDBOX: no real funds",
		"Mixin ID "+r.world.OperatorUser.IdentityNumber, "PIN kept in the keyring")
	// Largest value first: BTC 2.5 × 64,250.37 = 160,625.93; USDT 50,000 ×
	// 1.0002 = 50,010.00; ETH 40 × 3,120.85 = 124,834.00.
	btc, eth, usdt := strings.Index(v, "BTC "), strings.Index(v, "ETH "), strings.Index(v, "USDT ")
	if btc < 0 || eth < 0 || usdt < 0 || !(btc < eth && eth < usdt) {
		t.Errorf("assets are not ordered by value (BTC, ETH, USDT):\n%s", v)
	}
	mustContain(t, v, "160,625.93", "124,834.00", "50,010.00", "335,469.93")
}

func TestHelpOpensAndClosesButQuestionMarkTypesIntoFields(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(termW, termH)
	f.waitHome()

	f.typ("?")
	f.waitFor("Keys on this screen")
	v := f.view()
	mustContain(t, v, "Keys on this screen", "transfer", "Everywhere", "ctrl+c")
	mustNotContain(t, v, "Balances as of")
	f.press(tea.KeyEsc)
	v = f.view()
	mustNotContain(t, v, "Keys on this screen")
	mustContain(t, v, "Balances as of")

	// ? toggles too.
	f.typ("?")
	f.until("help", func(a *App) bool { return a.showHelp })
	f.typ("?")
	f.until("help closed", func(a *App) bool { return !a.showHelp })

	// In a text field, ? is text.
	f.typ("t")
	f.until("the transfer form", func(a *App) bool { return a.screen == screenTransfer })
	f.typ("?")
	a := f.final()
	if a.showHelp {
		t.Error("? typed into the asset field opened the help")
	}
	if got := a.transfer().field(tfAsset).Value(); got != "?" {
		t.Errorf("asset field = %q, want %q", got, "?")
	}
	mustContain(t, a.View(), "no asset matches")
}

func TestHelpQuestionMarkTypesIntoSetupField(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{noProfile: true})
	f := r.start(termW, termH)
	f.waitFor("Set up an app session")
	f.typ("a?b")
	a := f.final()
	if a.showHelp {
		t.Error("? typed into the client id field opened the help")
	}
	if got := a.setup().value(sfClient); got != "a?b" {
		t.Errorf("client id field = %q, want %q", got, "a?b")
	}
}

func TestTooSmallTerminalShowsNotice(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(71, 22)
	f.waitFor("Terminal too small")
	v := f.view()
	checkGolden(t, "notice", v, 71)
	mustContain(t, v, "at least 72×22", "This one is 71×22")
	mustNotContain(t, v, "Balances")

	f.tm.Send(tea.WindowSizeMsg{Width: 72, Height: 21})
	mustContain(t, f.view(), "This one is 72×21")

	// Grown to the minimum, the console is back, with what it loaded meanwhile.
	f.tm.Send(tea.WindowSizeMsg{Width: 72, Height: 22})
	f.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	a := f.final()
	v = a.View()
	mustNotContain(t, v, "Terminal too small")
	mustContain(t, v, "Treasury Desk", "BTC")
	fitsWidth(t, v, 72)
	// The client id, cut at the edge before, is whole on the screen.
	mustContain(t, v, r.world.Operator.ClientID)
}

// TestScreensFitMinimumSize walks through the screens at the smallest size
// the console accepts: nothing may run past the right edge, where Bubble Tea
// cuts it off unseen, and the buttons must stay on the screen.
func TestScreensFitMinimumSize(t *testing.T) {
	t.Parallel()
	const w, h = minWidth, minHeight
	r := newRig(t, rigOpts{askPIN: true})
	f := r.start(w, h)
	f.waitHome()
	v := f.view()
	fitsWidth(t, v, w)
	mustContain(t, flat(v), "client id "+r.world.Operator.ClientID)

	f.fillTransfer("US", "10", "Invoice 2024-117, March")
	v = f.view()
	fitsWidth(t, v, w)
	mustContain(t, flat(v), r.rcpt.UserID, "> Review <")

	// The confirmation is too tall to wrap at this size; it must still show
	// the amount, the recipient and the buttons.
	f.review()
	v = f.view()
	mustContain(t, v, "Pay           10 USDT", r.rcpt.FullName, "PIN:", "> Cancel <", "(Confirm and send)")

	f.confirm("10", r.wrongPIN())
	f.waitFor("Not paid")
	var trace string
	f.probe(func(a *App) { v, trace = a.View(), a.result().r.TraceID })
	fitsWidth(t, v, w)
	mustContain(t, flat(v), "Five wrong PINs in 24 hours lock it.", "Trace id "+trace)

	f.press(tea.KeyEnter)
	f.typ("n")
	f.until("setup", func(a *App) bool { return a.screen == screenSetup })
	f.press(tea.KeyShiftTab, tea.KeyShiftTab) // → Check and save
	v = f.view()
	mustContain(t, v, "> Check and save <")
	f.final()
	if got := len(strings.Split(v, "\n")); got != h {
		t.Errorf("the setup screen is %d lines high on a %d-line terminal", got, h)
	}
}

func TestFitWidth(t *testing.T) {
	id := "9cd8e786-8781-4b28-b412-af8c5548f03f"
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"short line\nanother", 20, "short line\nanother"},
		{"exactly ten", 11, "exactly ten"},
		{"client id " + id, 40, "client id\n" + id},           // a UUID is not split at its hyphens
		{"  one two three four", 10, "  one two\nthree four"}, // wrapped at spaces
		{"x", 0, "x"},
	} {
		if got := fitWidth(c.in, c.w); got != c.want {
			t.Errorf("fitWidth(%q, %d) = %q, want %q", c.in, c.w, got, c.want)
		}
	}
}
