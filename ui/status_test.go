package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// statusOf is the status line as the App holds it.
func (f *flow) statusOf() string {
	f.t.Helper()
	var s string
	f.probe(func(a *App) { s = a.status })
	return s
}

// TestStatusStaysWhereItWasMade: a status line is shown where it was made
// and cleared as soon as the operator moves on, to another screen or to
// another view of the same one; one made by the very key that moved the
// operator goes with them.
func TestStatusStaysWhereItWasMade(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(termW, termH)
	f.waitHome()

	// The request just created: its status goes with the operator from
	// the form to the request shown, …
	f.newRequest("usdt", "12", "")
	f.press(tea.KeyEnter)
	f.until("the request", func(a *App) bool { return a.request().mode == reqShow })
	mustContain(t, flat(f.view()), "Payment request created: share the link")
	// … and stays behind when the operator goes back to the list, home,
	// and on to a batch.
	f.press(tea.KeyEsc)
	f.until("the list", func(a *App) bool { return a.request().mode == reqList })
	if s := f.statusOf(); s != "" {
		t.Errorf("the list shows the status of the request shown: %q", s)
	}
	f.press(tea.KeyEsc)
	f.until("home", func(a *App) bool { return a.screen == screenHome })
	v := f.view()
	mustNotContain(t, v, "Payment request created")
	checkGolden(t, "home", v, termW)
	f.typ("f")
	f.until("the batch", func(a *App) bool { return a.screen == screenBatch })
	mustNotContain(t, f.view(), "Payment request created")
	f.press(tea.KeyEsc)
	f.until("home", func(a *App) bool { return a.screen == screenHome })

	// The history's answer to s stays on the history.
	f.typ("h")
	f.until("the history", func(a *App) bool { return a.screen == screenHistory && !a.history().loading })
	f.typ("s")
	f.until("the answer", func(a *App) bool { return a.status == "No payout is in doubt." })
	f.press(tea.KeyEsc)
	f.until("home", func(a *App) bool { return a.screen == screenHome })
	f.typ("t")
	f.until("the transfer form", func(a *App) bool { return a.screen == screenTransfer })
	v = f.view()
	mustNotContain(t, v, "No payout is in doubt.")
	// Placeholders are in parentheses: without colours (these views have
	// none, as under NO_COLOR) they never read as values typed.
	mustContain(t, v, "Amount     (0.00)", "Recipient  (user UUID or Mixin ID number)", "Memo       (optional, up to 140 characters)")
	checkGolden(t, "new_payout", v, termW)
	f.press(tea.KeyEsc)
	f.until("home", func(a *App) bool { return a.screen == screenHome })

	// A value typed is drawn as it is.
	f.fillTransfer("usdt", "0.00", "")
	mustContain(t, f.view(), "Amount     0.00 ")
	mustNotContain(t, f.view(), "(0.00)")
	f.press(tea.KeyEsc, tea.KeyEsc) // the second drops the draft
	f.until("home", func(a *App) bool { return a.screen == screenHome })

	// "Not sent." is made by the key that leaves the confirmation: it is
	// shown on the form the operator is taken back to, not further.
	f.fillTransfer("usdt", "3", "")
	f.review()
	f.press(tea.KeyEnter) // Cancel has the focus
	f.until("the form", func(a *App) bool { return a.screen == screenTransfer })
	mustContain(t, f.view(), "Not sent.")
	f.press(tea.KeyEsc, tea.KeyEsc) // the second drops the draft
	f.until("home", func(a *App) bool { return a.screen == screenHome })
	mustNotContain(t, f.view(), "Not sent.")
}

// TestBrokenJournalSaidOnEveryScreen: the status line of a broken journal
// would be cleared on leaving the balances; the footer says it on every
// other screen instead.
func TestBrokenJournalSaidOnEveryScreen(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	p, a := pumpHome(t, r)
	p.toConfirm(r, "7")
	p.confirmKept("7")
	p.until("the result", func(a *App) bool { return a.screen == screenResult && !a.result().busy() })
	a.Close()
	path := filepath.Join(r.deps.Env.DataDir, "journal-"+profileName+".jsonl")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(raw), `"amount":"7"`, `"amount":"70"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	p2, a2 := pumpHome(t, r)
	mustContain(t, a2.View(), "JOURNAL BROKEN")
	for _, k := range []string{"t", "h", "p", "b"} {
		p2.typ(k)
		p2.until("the screen", func(a *App) bool { return a.screen != screenHome })
		v := a2.View()
		mustContain(t, flat(v), "⚠ JOURNAL BROKEN: no payout can be reviewed or sent")
		if k == "t" {
			checkGolden(t, "transfer", v, termW)
		}
		p2.press(tea.KeyEsc)
		p2.until("home", func(a *App) bool { return a.screen == screenHome })
	}
	if n := strings.Count(a2.View(), "JOURNAL BROKEN"); n != 1 {
		t.Errorf("home says JOURNAL BROKEN %d times, want once (in its own words)", n)
	}
}
