package ui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/uuid"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
)

func TestAskedPINWrongIsNotPaidAndNotRetried(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{askPIN: true})
	f := r.start(termW, termH)
	f.waitHome()
	mustContain(t, f.view(), "PIN asked at every transfer")
	f.fillTransfer("usdt", "10", "")
	f.review()

	v := f.view()
	checkGolden(t, "confirm", v, termW)
	mustContain(t, v, "PIN: ", "> Cancel <")
	f.confirm("10", r.wrongPIN())
	f.waitFor("Not paid")
	a := f.final()

	v = a.View()
	mustContain(t, v, "✗ Not paid: 10 USDT to "+r.rcpt.FullName, "PIN incorrect", "nothing was sent")
	fitsWidth(t, v, termW)
	mustContain(t, flat(v), "Five wrong PINs in 24 hours lock it.")
	mustNotContain(t, v, r.wrongPIN())
	if n := r.calls.count("POST /transfers"); n != 1 {
		t.Errorf("POST /transfers made %d times, want exactly 1 (a refused PIN is never retried)", n)
	}
	if len(r.srv.Ledger()) != 0 || r.balance(usdtID) != "50000" {
		t.Errorf("money moved: ledger %v, balance %s", r.srv.Ledger(), r.balance(usdtID))
	}
	if a.result().pin != "" || a.confirm().pin.Value() != "" {
		t.Error("the PIN typed for the transfer is still held after it failed")
	}
	if a.result().res == nil || a.result().res.State != journal.StateFailed {
		t.Errorf("result = %+v, want failed", a.result().res)
	}
}

func TestDroppedConnectionIsInDoubtThenSettledPaid(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultCommitThenDrop})
	f := r.start(termW, termH)
	f.waitHome()
	f.fillTransfer("usdt", "10", "")
	trace := traceOnForm(t, f.view())
	f.review()
	f.confirm("10", "")
	f.waitFor("? In doubt", "settles it by its trace")
	// The automatic settlement ticks after a second.
	f.waitFor("✓ Paid")
	a := f.final()

	v := a.View()
	mustContain(t, v, "✓ Paid 10 USDT to "+r.rcpt.FullName, "Trace id        "+trace)
	mustNotContain(t, v, "In doubt", "re-posting")
	if n := len(r.ledgerFor(trace)); n != 1 {
		t.Errorf("ledger holds %d transfers with the trace, want 1", n)
	}
	if len(r.srv.Ledger()) != 1 || r.balance(usdtID) != "49990" {
		t.Errorf("ledger %d entries, balance %s; want 1 and 49990", len(r.srv.Ledger()), r.balance(usdtID))
	}
	if n := r.calls.count("POST /transfers"); n != 1 {
		t.Errorf("POST /transfers made %d times, want 1 (the settlement finds the trace)", n)
	}
	if r.calls.count("GET /transfers/trace/:id") == 0 {
		t.Error("the settlement never looked the trace up")
	}
}

// TestInDoubtSettlementUpdateLevel drives the App without a program, so that
// the in-doubt screen can be looked at before the settlement tick arrives,
// and the tick is delivered by the test.
func TestInDoubtSettlementUpdateLevel(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultCommitThenDrop})
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })

	p.toConfirm(r, "10")
	p.confirmKept("10")
	p.until("the outcome", func(a *App) bool { return a.screen == screenResult && !a.result().busy() })
	trace := a.result().r.TraceID

	v := a.View()
	checkGolden(t, "in_doubt", v, termW)
	mustContain(t, v, "? In doubt: 10 USDT to "+r.rcpt.FullName, "mixdesk settles it by its trace "+trace,
		"Next automatic settlement in 1s (s to settle now).", "s settle now")
	if a.result().res.State != journal.StateInDoubt {
		t.Fatalf("state = %v, want in doubt", a.result().res.State)
	}
	if a.result().pin == "" {
		t.Error("the PIN was dropped while the payout is in doubt; a re-post would need it")
	}
	// The money moved on the server, once; the console does not know yet.
	if n := len(r.ledgerFor(trace)); n != 1 {
		t.Fatalf("ledger holds %d transfers with the trace, want 1", n)
	}

	// While in doubt, keys that could send again do nothing.
	p.typ("e")
	if a.screen != screenResult {
		t.Fatal("e left the in-doubt result")
	}

	tick := p.waitHeld() // the automatic settlement fires after 1 s
	if a.result().busy() {
		t.Fatal("a held tick started a settlement")
	}
	p.send(settleTickMsg{gen: tick.gen - 1}) // a stale tick does nothing
	if a.result().busy() {
		t.Fatal("a stale settlement tick started a settlement")
	}
	p.send(tick)
	if !a.result().busy() {
		t.Fatal("the settlement tick did not start a settlement")
	}
	mustContain(t, a.View(), "Settling by trace: 10 USDT")
	p.until("the settlement", func(a *App) bool { return !a.result().busy() })

	v = a.View()
	mustContain(t, v, "✓ Paid 10 USDT to "+r.rcpt.FullName)
	time.Sleep(50 * time.Millisecond)
	p.drain()
	if a.result().res.State != journal.StateDone || a.result().res.Reposted {
		t.Errorf("result = %+v, want done without a re-post", a.result().res)
	}
	if n := len(r.ledgerFor(trace)); n != 1 || r.balance(usdtID) != "49990" {
		t.Errorf("ledger holds %d transfers with the trace and the balance is %s; want 1 and 49990", n, r.balance(usdtID))
	}
	if n := r.calls.count("POST /transfers"); n != 1 {
		t.Errorf("POST /transfers made %d times, want 1", n)
	}
	if len(p.held) != 0 {
		t.Error("another settlement was scheduled after the payout was settled")
	}
	if a.result().pin != "" {
		t.Error("the PIN is still held after the payout was settled")
	}
}

func TestBalanceChangedAfterReviewIsRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(termW, termH)
	f.waitHome()
	f.fillTransfer("usdt", "1250.5", "")
	f.review()
	// Another tool spends from the account between the review and the send.
	if _, err := r.srv.Transfer(r.op, mixin.TransferInput{AssetID: usdtID, OpponentID: r.world.Users[1].UserID,
		Amount: "49000", TraceID: uuid.NewString()}); err != nil {
		t.Fatal(err)
	}
	f.confirm("1250.5", "")
	f.waitFor("Not paid")
	a := f.final()

	v := a.View()
	checkGolden(t, "failed", v, termW)
	mustContain(t, v, "✗ Not paid: 1,250.5 USDT to "+r.rcpt.FullName,
		"Insufficient balance: nothing was sent. Refresh the balances and review again.", "e edit and review again")
	trace := a.result().r.TraceID
	if n := len(r.ledgerFor(trace)); n != 0 {
		t.Errorf("ledger holds %d transfers with the trace, want 0", n)
	}
	if got := r.balance(usdtID); got != "1000" {
		t.Errorf("balance = %s, want 1000", got)
	}
	if n := r.calls.count("POST /transfers"); n != 1 {
		t.Errorf("POST /transfers made %d times, want 1", n)
	}
}

func TestCtrlCDuringSendWarnsThenQuits(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultDelay, Delay: 2 * time.Second})
	f := r.start(termW, termH)
	f.waitHome()
	f.fillTransfer("usdt", "10", "")
	f.review()
	f.confirm("10", "")
	f.until("the send", func(a *App) bool { return a.sending() })

	f.press(tea.KeyCtrlC)
	var quitting, sending bool
	var trace string
	f.probe(func(a *App) { quitting, sending, trace = a.quitting, a.sending(), a.result().r.TraceID })
	if quitting || !sending {
		t.Fatalf("the first ctrl+c during a send: quitting=%v sending=%v", quitting, sending)
	}
	v := f.view()
	fitsWidth(t, v, termW)
	mustContain(t, flat(v), "Sending 10 USDT", "settled by its trace", "Press ctrl+c again to quit.",
		"this payout is settled by its trace and never paid twice.")

	f.press(tea.KeyCtrlC)
	a := f.finished()
	if !a.quitting {
		t.Error("the second ctrl+c did not quit")
	}

	// The post was on its way; it completes, and the journal settles it.
	deadline := time.Now().Add(waitLong)
	for {
		e, ok := a.acct.Journal().Lookup(trace)
		if ok && e.State != journal.StateInDoubt {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the payout never left the in-doubt state in the journal (found=%v)", ok)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(r.ledgerFor(trace)); n != 1 {
		t.Errorf("ledger holds %d transfers with the trace, want 1", n)
	}
}

func TestCtrlCQuitsAtOnceWhenNothingIsSent(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(termW, termH)
	f.waitHome()
	f.fillTransfer("usdt", "10", "")
	f.press(tea.KeyCtrlC)
	a := f.finished()
	if !a.quitting {
		t.Error("ctrl+c on the form did not quit")
	}
	if strings.Contains(a.status, "being sent") {
		t.Error("ctrl+c with nothing on its way warned about a send")
	}
}
