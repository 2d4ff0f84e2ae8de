package ui

import (
	"os"
	"path/filepath"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestCapsShownAndEnforced: with a daily cap on USDT, the confirmation
// shows what is used and left; a draft over the cap is refused at review
// with the numbers, and nothing is sent.
func TestCapsShownAndEnforced(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	cfg := filepath.Join(t.TempDir(), "config.toml")
	conf := "[limits.\"" + usdtID + "\"]\nper_transfer = \"80\"\ndaily = \"100\"\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r.deps.Env.ConfigPath = cfg
	f := r.start(termW, termH)
	f.waitHome()
	f.fillTransfer("usdt", "30", "")
	f.review()
	mustContain(t, f.view(), "Caps          per payout 80 · daily 100: used 0, left after this 70 USDT")
	f.confirm("30", "")
	f.until("paid", func(a *App) bool { return a.screen == screenResult && a.result().res != nil && !a.result().busy() })

	// 30 used: 80 more is within the per-payout cap but over the daily one.
	f.typ("t")
	f.until("the form", func(a *App) bool { return a.screen == screenTransfer })
	f.typ("usdt")
	f.press(tea.KeyEnter)
	f.typ(r.rcpt.IdentityNumber)
	f.waitFor("✓ " + r.rcpt.FullName)
	f.press(tea.KeyTab)
	f.typ("80")
	f.press(tea.KeyTab, tea.KeyTab, tea.KeyEnter)
	f.waitFor("daily cap 100 USDT: used 30, left 70")
	var scr screen
	f.probe(func(a *App) { scr = a.screen })
	if scr != screenTransfer {
		t.Fatal("a draft over the daily cap reached the confirmation")
	}
	if n := r.calls.count("POST /transfers"); n != 1 {
		t.Fatalf("%d transfers posted, want the first only", n)
	}
}

// TestConfirmFitsTheMinimumTerminal: at 72×22, with three warnings, the caps
// row and the PIN field, the buttons are still on the screen.
func TestConfirmFitsTheMinimumTerminal(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{askPIN: true})
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte("[limits.\""+usdtID+"\"]\ndaily = \"10000\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.deps.Env.ConfigPath = cfg
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: minWidth, Height: minHeight})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	p.toConfirm(r, "1500")
	if n := len(a.confirm().r.Warnings); n != 3 {
		t.Fatalf("%d warnings, want 3", n)
	}
	v := a.View()
	mustContain(t, v, "Cancel", "Confirm and send", "PIN:", "Caps", "Trace id")
	// Every line fits: nothing is cut at the edge, least of all a warning,
	// which is acknowledged and so must be read whole.
	fitsWidth(t, a.confirm().view(a.bodyHeight()), minWidth-2)
	for _, w := range a.confirm().r.Warnings {
		mustContain(t, flat(v), clean(w.Text))
	}
}
