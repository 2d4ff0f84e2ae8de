package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/mixin"
)

// startHome starts a console on the rig, on a w×h terminal, and waits for
// the balances.
func startHome(t *testing.T, r *rig, w, h int) (*App, *pump) {
	t.Helper()
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: w, Height: h})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	return a, p
}

// TestHomeHelpIsOneLineWithOneQuit: the home screen's help line is one
// line with one quit hint (it once read "q quit" on one line and "ctrl+c
// quit" on the next); q still quits, and ? lists it.
func TestHomeHelpIsOneLineWithOneQuit(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a, p := startHome(t, r, termW, termH)
	lines := strings.Split(strings.TrimRight(a.View(), " \n"), "\n")
	help := strings.TrimSpace(lines[len(lines)-1])
	above := strings.TrimSpace(lines[len(lines)-2])
	if !strings.HasPrefix(help, "t transfer") || !strings.HasSuffix(help, "ctrl+c quit") {
		t.Errorf("the help is not on one line: %q / %q", above, help)
	}
	if n := strings.Count(help+above, "quit"); n != 1 {
		t.Errorf("the help shows %d quit hints: %q / %q", n, above, help)
	}
	full := strings.Join(helpKeyNames(a.helpKeys()), " ")
	if !strings.Contains(" "+full+" ", " q ") {
		t.Errorf("? does not list q: %s", full)
	}
	p.typ("q")
	if !a.quitting {
		t.Error("q no longer quits on the home screen")
	}
}

// TestTwinAssetsToldApart: an asset with the symbol and name of another
// ("USDT / Tether USD") is told apart from it by the start of its id on
// the balances and in the transfer picker, and the request picker marks it.
func TestTwinAssetsToldApart(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	twin, err := r.srv.AddAsset(mixin.Asset{Symbol: "USDT", Name: "Tether USD", PriceUSD: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.srv.Credit(r.op, twin.AssetID, "10"); err != nil {
		t.Fatal(err)
	}
	a, p := startHome(t, r, termW, termH)
	v := a.View()
	mustContain(t, v, "USDT    Tether USD · id "+shortID(usdtID), "USDT    Tether USD · id "+shortID(twin.AssetID))
	mustNotContain(t, v, "Bitcoin · id")

	p.typ("t")
	p.typ("usdt")
	v = a.View()
	mustContain(t, lineWith(v, "50,000"), "id "+shortID(usdtID))
	mustContain(t, lineWith(v, "   10 "), "id "+shortID(twin.AssetID))
	p.press(tea.KeyDown, tea.KeyEnter)
	mustContain(t, a.View(), "Tether USD · balance 10 USDT · id "+shortID(twin.AssetID))

	p.press(tea.KeyEsc, tea.KeyEsc) // a draft asks first: the second esc drops it
	p.typ("p")
	p.until("the book", func(a *App) bool { return a.request() != nil && a.request().book != nil })
	p.typ("n")
	p.typ("usdt")
	v = a.View()
	mustContain(t, lineWith(v, shortID(twin.AssetID)), "same symbol as another asset")
	mustContain(t, lineWith(v, shortID(usdtID)), "same symbol as another asset")
}
