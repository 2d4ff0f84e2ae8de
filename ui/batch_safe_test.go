package ui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/safe"
)

// TestSafeBatchReviewShowsMerges: on a Safe profile whose BTC is 303
// outputs, a row that needs 293 of them (more than the 256 one transaction
// may spend) makes the review say that 256 of them are merged first, in
// one transaction to the account itself; once sent, the merge and then the
// row are paid, each once.
func TestSafeBatchReviewShowsMerges(t *testing.T) {
	t.Parallel()
	r, srv, w := safeRig(t)
	for range 300 {
		if _, err := srv.Deposit(w.OperatorUser.UserID, "c6d0c728-2624-429b-8e0d-d9d19b6592fa", "0.01"); err != nil {
			t.Fatal(err)
		}
	}
	path := writeBatch(t, r, "recipient,asset,amount,memo\n"+w.Users[0].UserID+",BTC,5.4,all of it\n")
	p, a := reviewBatch(t, r, path)
	mustContain(t, flat(a.View()), "BTC merge first: 256 of the account's 303 outputs into one, 1 transaction to itself",
		"(nothing is paid out; one payout spends at most 256 outputs, and line 2 needs more)")

	p.press(tea.KeyTab)
	p.typ("5.4")
	p.press(tea.KeyTab, tea.KeyEnter)
	p.until("the end of the run", func(a *App) bool { return a.batch().mode == bmDone })
	mustContain(t, flat(a.View()), "paid 1 now · refused 0 · in doubt 0", "✓ Every row was sent.")
	var merges, payouts int
	for _, q := range srv.Requests() {
		if q.State != safe.StateSpent || q.UserID != w.OperatorUser.UserID {
			continue
		}
		toSelf := true
		for _, rc := range q.Receivers {
			toSelf = toSelf && rc.Members[0] == w.OperatorUser.UserID
		}
		if toSelf {
			merges++
		} else {
			payouts++
		}
	}
	if merges != 1 || payouts != 1 {
		t.Fatalf("%d merges and %d payouts executed, want 1 and 1", merges, payouts)
	}
}
