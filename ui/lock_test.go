package ui

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/mixin/sandbox"
)

// fakeClock is a settable clock for the idle lock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lockedApp opens the console on home with a 5-minute idle lock and a
// clock the test moves.
func lockedApp(t *testing.T, o rigOpts) (*rig, *App, *pump, *fakeClock) {
	t.Helper()
	r := newRig(t, o)
	r.deps.IdleLock = 5 * time.Minute
	a := New(r.deps)
	clk := &fakeClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	a.now = clk.now
	a.lastInput = clk.now()
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	return r, a, p, clk
}

func TestIdleLockHidesTheProfileUntilThePIN(t *testing.T) {
	t.Parallel()
	r, a, p, clk := lockedApp(t, rigOpts{})
	clk.add(4*time.Minute + 59*time.Second)
	p.send(lockTickMsg{})
	if a.lock != nil {
		t.Fatal("locked before the idle time ran out")
	}
	clk.add(2 * time.Second)
	p.send(lockTickMsg{})
	if a.lock == nil {
		t.Fatal("not locked after 5 minutes idle")
	}
	v := a.View()
	checkGolden(t, "locked", v, termW)
	mustContain(t, v, "Locked", "PIN:")
	mustNotContain(t, v, r.world.OperatorUser.FullName, "USDT", "50,000", profileName)

	// Keys go to the lock only: "t" does not open a transfer behind it.
	p.typ("t")
	if a.screen != screenHome || a.transfer() != nil {
		t.Fatal("a key reached the screen behind the lock")
	}

	// Three wrong PINs: counted, shown, still locked.
	for i := 1; i <= 3; i++ {
		for range 6 {
			p.send(tea.KeyMsg{Type: tea.KeyBackspace})
		}
		p.typ(r.wrongPIN())
		p.press(tea.KeyEnter)
		p.until("the answer", func(a *App) bool { return a.lock != nil && a.lock.wrong == i })
	}
	v = a.View()
	mustContain(t, v, "Wrong PIN: still locked.", "3 wrong tries at this lock.")
	mustNotContain(t, v, r.world.OperatorUser.FullName)

	p.typ(r.world.Operator.PIN)
	p.press(tea.KeyEnter)
	p.until("the unlock", func(a *App) bool { return a.lock == nil })
	mustContain(t, a.View(), r.world.OperatorUser.FullName, "USDT")
}

// TestIdleLockAskedPINChecksWithTheServer: a profile that does not keep its
// PIN is unlocked by POST /pin/verify; a wrong PIN there counts too.
func TestIdleLockAskedPINChecksWithTheServer(t *testing.T) {
	t.Parallel()
	r, a, p, clk := lockedApp(t, rigOpts{askPIN: true})
	clk.add(6 * time.Minute)
	p.send(lockTickMsg{})
	if a.lock == nil {
		t.Fatal("not locked")
	}
	p.typ(r.wrongPIN())
	p.press(tea.KeyEnter)
	p.until("the refusal", func(a *App) bool { return a.lock != nil && a.lock.wrong == 1 })
	if n := r.calls.count("POST /pin/verify"); n != 1 {
		t.Fatalf("%d PIN checks, want 1", n)
	}
	p.typ(r.world.Operator.PIN)
	p.press(tea.KeyEnter)
	p.until("the unlock", func(a *App) bool { return a.lock == nil })
}

// TestIdleLockWaitsForASend: the idle time running out during a send does
// not interrupt it; the console locks once the result is in.
func TestIdleLockWaitsForASend(t *testing.T) {
	t.Parallel()
	r, a, p, clk := lockedApp(t, rigOpts{})
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultDelay, Times: 1, Delay: 600 * time.Millisecond})
	p.toConfirm(r, "10")
	p.confirmKept("10")
	if !a.sending() {
		t.Fatal("not sending")
	}
	clk.add(10 * time.Minute)
	p.send(lockTickMsg{})
	if a.lock != nil {
		t.Fatal("the lock interrupted a send in progress")
	}
	if !a.lockPending {
		t.Fatal("the lock was not kept for after the send")
	}
	p.until("the result, then the lock", func(a *App) bool { return !a.sending() && a.lock != nil })
	if a.result().res == nil || a.result().res.State.String() != "done" {
		t.Fatalf("result %+v", a.result().res)
	}
	if n := len(r.ledgerFor(a.result().r.TraceID)); n != 1 {
		t.Fatalf("%d debits", n)
	}
	if strings.Contains(a.View(), "Paid") {
		t.Fatal("the result shows through the lock")
	}
}

func TestIdleLockOff(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a := New(r.deps) // IdleLock 0
	t.Cleanup(a.Close)
	clk := &fakeClock{t: time.Now()}
	a.now = clk.now
	p := newPump(t, a)
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	clk.add(24 * time.Hour)
	p.send(lockTickMsg{})
	if a.lock != nil {
		t.Fatal("locked with the lock turned off")
	}
}

// TestBrokenJournalWarnedOnHome: a journal edited by hand is reported on the
// balances screen, which the operator keeps coming back to, and no payout
// can be reviewed.
func TestBrokenJournalWarnedOnHome(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	// One payout through a desk on the profile's journal, then an edit.
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
	mustContain(t, a2.View(), "JOURNAL BROKEN", "line 1", "mixdesk journal verify")
	p2.typ("t")
	p2.typ("usdt")
	p2.press(tea.KeyEnter)
	p2.typ(r.rcpt.IdentityNumber)
	p2.until("the recipient", func(a *App) bool { return a.transfer().rcpt.user != nil })
	p2.press(tea.KeyTab)
	p2.typ("1")
	p2.press(tea.KeyTab, tea.KeyTab, tea.KeyEnter)
	p2.until("the refusal", func(a *App) bool { return a.transfer().formErr != "" })
	if a2.screen != screenTransfer || !strings.Contains(a2.transfer().formErr, "cannot be trusted") {
		t.Fatalf("review on a broken journal: screen %v, %q", a2.screen, a2.transfer().formErr)
	}
}

// TestIdleLockShowsOverARunningBatch: a batch goes on behind the lock (it
// is not interrupted), the lock does not wait for it, and the batch's PIN
// and total fields are cleared.
func TestIdleLockShowsOverARunningBatch(t *testing.T) {
	t.Parallel()
	r, a, p, clk := lockedApp(t, rigOpts{})
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultDelay, Times: 1, Delay: 500 * time.Millisecond})
	path := writeBatch(t, r, batchBody(r))
	p.typ("f")
	p.typ(path)
	p.press(tea.KeyEnter)
	p.until("the review", func(a *App) bool { return a.batch().mode == bmReview })
	p.press(tea.KeyTab)
	p.typ("1012.5")
	p.press(tea.KeyTab, tea.KeyEnter)
	if !a.batch().busy() {
		t.Fatalf("the batch is not running:\n%s", a.View())
	}
	clk.add(10 * time.Minute)
	p.send(lockTickMsg{})
	if a.lock == nil {
		t.Fatal("no lock over a running batch")
	}
	if a.batch().total.Value() != "" {
		t.Fatal("the typed total stayed behind the lock")
	}
	mustNotContain(t, a.View(), "Sending batch", r.world.Users[0].FullName)
	p.until("the batch to finish behind the lock", func(a *App) bool { return a.batch().mode == bmDone })
	if n := r.calls.count("POST /transfers"); n != 3 {
		t.Fatalf("%d posts, want 3", n)
	}
	p.typ(r.world.Operator.PIN)
	p.press(tea.KeyEnter)
	p.until("the unlock", func(a *App) bool { return a.lock == nil })
	mustContain(t, a.View(), "paid 3")
}
