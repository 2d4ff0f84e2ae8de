package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func TestTransferReviewConfirmPays(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(termW, termH)
	f.waitHome()

	f.typ("t")
	f.until("the transfer form", func(a *App) bool { return a.screen == screenTransfer })
	f.typ("US")
	v := f.view()
	mustContain(t, v, "▸ USDT", "Tether USD", "50,000")
	mustNotContain(t, v, "Bitcoin", "Ether ")
	f.press(tea.KeyEnter) // picks USDT, on to the recipient
	f.typ(r.rcpt.IdentityNumber)
	f.waitFor("✓ " + r.rcpt.FullName)
	f.press(tea.KeyTab)
	f.typ("1250.5")
	f.press(tea.KeyTab)
	memo := "Invoice 2024-117, March"
	f.typ(memo)
	f.press(tea.KeyTab)

	v = f.view()
	checkGolden(t, "form", v, termW)
	mustContain(t, v, "USDT", "Tether USD · balance 50,000 USDT",
		"✓ "+r.rcpt.FullName+" · Mixin ID "+r.rcpt.IdentityNumber+" · "+r.rcpt.UserID,
		"balance 50,000 → after 48,749.5 USDT · ≈ 1,250.75 USD", memo, "23/140", "> Review <")
	formTrace := traceOnForm(t, v)

	f.review()
	v = f.view()
	checkGolden(t, "confirm", v, termW)
	mustContain(t, v,
		"Pay           1,250.5 USDT  ≈ 1,250.75 USD",
		"To            "+r.rcpt.FullName,
		"Mixin ID      "+r.rcpt.IdentityNumber,
		"User id       "+r.rcpt.UserID,
		"USDT · Tether USD · "+usdtID,
		"50,000 → 48,749.5 USDT",
		"Memo          "+memo,
		"Trace id      "+formTrace,
		"First payout to "+r.rcpt.FullName,
		"Large payout: about 1,250.75 USD",
		"is not in the address book",
		"> Cancel <", "(Confirm and send)")
	var focusOnCancel bool
	f.probe(func(a *App) { focusOnCancel = a.confirm().on(cfCancel) })
	if !focusOnCancel {
		t.Error("the confirmation does not open with the focus on Cancel")
	}

	// Enter on Cancel sends nothing and goes back to the form as it was.
	f.press(tea.KeyEnter)
	f.until("the form again", func(a *App) bool { return a.screen == screenTransfer })
	v = f.view()
	mustContain(t, v, "Not sent.", memo, formTrace)
	if n := r.calls.count("POST /transfers"); n != 0 {
		t.Fatalf("Cancel posted %d transfers", n)
	}

	// Review again: the same trace; Confirm stays disabled until every
	// warning is acknowledged and the amount typed exactly.
	f.review()
	f.press(tea.KeyTab, tea.KeyTab) // Cancel → Confirm → the first warning
	var nWarn int
	f.probe(func(a *App) { nWarn = len(a.confirm().r.Warnings) })
	if nWarn != 3 {
		t.Fatalf("%d warnings, want first payout, large amount and not in the address book", nWarn)
	}
	for range nWarn {
		f.press(tea.KeySpace)
	}
	f.typ("1250.4")
	f.press(tea.KeyTab, tea.KeyTab) // → Confirm
	f.press(tea.KeyEnter)
	v = f.view()
	mustContain(t, v, "✗ does not match", "Warnings — acknowledge each one (3/3)", "Trace id      "+formTrace)
	var still bool
	f.probe(func(a *App) { still = a.screen == screenConfirm })
	if !still || r.calls.count("POST /transfers") != 0 {
		t.Fatal("Confirm worked with an amount that does not match")
	}
	f.press(tea.KeyShiftTab, tea.KeyShiftTab) // → the amount
	for range 6 {
		f.press(tea.KeyBackspace)
	}
	f.typ("1,250.5") // the grouped form, as shown, is accepted too
	f.press(tea.KeyTab, tea.KeyTab)
	v = f.view()
	mustContain(t, v, "> Confirm and send <")
	if l := lineWith(v, "Type the amount"); !strings.Contains(l, "1,250.5") || !strings.Contains(l, "✓") {
		t.Errorf("the typed amount is not marked as matching: %q", l)
	}
	f.press(tea.KeyEnter)
	f.waitFor("✓ Paid")
	a := f.final()

	v = a.View()
	checkGolden(t, "paid", v, termW)
	led := r.ledgerFor(formTrace)
	if len(led) != 1 {
		t.Fatalf("ledger holds %d transfers with the form's trace, want 1: %+v", len(led), r.srv.Ledger())
	}
	e := led[0]
	if e.From != r.op || e.To != r.rcpt.UserID || e.AssetID != usdtID || e.Amount != "1250.5" || e.Memo != memo {
		t.Errorf("ledger entry %+v is not the payout reviewed", e)
	}
	if got := r.srv.Ledger(); len(got) != 1 {
		t.Errorf("ledger holds %d transfers, want 1", len(got))
	}
	if got := r.balance(usdtID); got != "48749.5" {
		t.Errorf("operator USDT balance = %s, want 48749.5", got)
	}
	if got := r.srv.Balance(r.rcpt.UserID, usdtID); got != "3750.5" {
		t.Errorf("recipient USDT balance = %s, want 3750.5", got)
	}
	if p := r.calls.posted(); len(p) != 1 || p[0] != formTrace {
		t.Errorf("posted traces %v, want exactly the form's %s", p, formTrace)
	}
	mustContain(t, v, "✓ Paid 1,250.5 USDT to "+r.rcpt.FullName+" (Mixin ID "+r.rcpt.IdentityNumber+")",
		"Snapshot        "+e.SnapshotID, "Closing balance 48,749.5 USDT", "Trace id        "+formTrace)
	if a.result().pin != "" {
		t.Error("the result screen still holds the PIN after the payout was done")
	}
}

func TestTransferReviewDisabledOverBalance(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(termW, termH)
	f.waitHome()
	f.fillTransfer("btc", "3", "")

	v := f.view()
	mustContain(t, v, "Bitcoin · balance 2.5 BTC", "✗ exceeds the balance of 2.5 BTC", "(Review)")
	mustNotContain(t, v, "> Review <", "enter review")
	f.press(tea.KeyEnter) // on the disabled Review
	v = f.view()
	mustContain(t, v, "Fill in every field first: a valid amount.")

	// Within the balance, Review comes back.
	f.press(tea.KeyShiftTab, tea.KeyShiftTab, tea.KeyBackspace)
	f.typ("2.5")
	f.press(tea.KeyTab, tea.KeyTab)
	mustContain(t, f.view(), "> Review <", "after 0 BTC")
	a := f.final()

	if a.screen != screenTransfer {
		t.Errorf("screen = %v, want the form", a.screen)
	}
	if n := r.calls.count("POST /transfers"); n != 0 {
		t.Errorf("%d transfers posted", n)
	}
	if n := r.calls.count("GET /assets/:id"); n != 0 {
		t.Errorf("a review was asked for (%d asset reads) while the amount was over the balance", n)
	}
	if len(r.srv.Ledger()) != 0 || r.balance(btcID) != "2.5" {
		t.Error("money moved")
	}
}

func TestTransferTraceKeptThroughEdits(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(termW, termH)
	f.waitHome()
	f.fillTransfer("usdt", "10", "")
	trace := traceOnForm(t, f.view())
	f.review()
	mustContain(t, f.view(), "Trace id      "+trace)
	f.press(tea.KeyEsc) // back to the form, edit the amount
	f.until("the form", func(a *App) bool { return a.screen == screenTransfer })
	f.press(tea.KeyShiftTab, tea.KeyShiftTab, tea.KeyBackspace, tea.KeyBackspace)
	f.typ("12")
	f.press(tea.KeyTab, tea.KeyTab)
	f.review()
	v := f.view()
	mustContain(t, v, "Pay           12 USDT", "Trace id      "+trace)
	f.final()
	if strings.Count(v, trace) != 1 {
		t.Errorf("the trace is shown %d times on the confirmation", strings.Count(v, trace))
	}
}

// A warning is acknowledged, so it must be read whole, whatever the
// recipient's name.
func TestConfirmShowsWholeWarningsForLongNames(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	r.rcpt = r.srv.AddUser("Maximilian Alexander Featherstonehaugh-Worthington")
	f := r.start(termW, termH)
	f.waitHome()
	f.fillTransfer("usdt", "1500", "")
	f.review()
	v := f.view()
	fitsWidth(t, v, termW)
	mustContain(t, flat(v),
		"First payout to "+r.rcpt.FullName+" (Mixin ID "+r.rcpt.IdentityNumber+"): check the recipient.",
		"Large payout: about 1,500.30 USD (threshold 1,000 USD).", "> Cancel <")
	f.final()
}
