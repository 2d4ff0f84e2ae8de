package ui

import (
	"net/http"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	safesandbox "mixdesk/safe/sandbox"
)

// TestSafeResultSpeaksOfNoPIN: a Safe profile has no PIN, so its result
// screens never blame one: a 429 on verify is rate limiting (not a locked
// PIN), and a payout in doubt holds the others back without a word about
// a second request with the PIN.
func TestSafeResultSpeaksOfNoPIN(t *testing.T) {
	t.Parallel()
	r, srv, _ := safeRig(t)
	r.deps.Env.Payout.PostWindow = time.Minute
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })

	srv.InjectFault(http.MethodPost, "/safe/transaction/requests", safesandbox.Fault{Kind: safesandbox.FaultTooManyRequests})
	p.toConfirm(r, "3")
	p.confirmKept("3")
	p.until("refused", func(a *App) bool { return a.screen == screenResult && a.result().res != nil && !a.result().busy() })
	v := flat(a.View())
	mustContain(t, v, "Too many requests: the API is rate-limiting (429). Nothing was sent")
	mustNotContain(t, v, "PIN")

	p.press(tea.KeyEsc)
	p.until("home", func(a *App) bool { return a.screen == screenHome })
	srv.InjectFault(http.MethodPost, "/safe/transactions", safesandbox.Fault{Kind: safesandbox.FaultServerError})
	srv.InjectFault(http.MethodGet, "/safe/transactions/", safesandbox.Fault{Kind: safesandbox.FaultServerError, Times: 1000})
	p.toConfirm(r, "4")
	p.confirmKept("4")
	p.until("in doubt", func(a *App) bool { return a.screen == screenResult && a.result().res != nil && !a.result().busy() })
	v = flat(a.View())
	mustContain(t, v, "In doubt until", "No other payout is sent before", "nothing more leaves while the outcome of this one is unknown")
	mustNotContain(t, v, "PIN")
}
