package ui

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/journal"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout"
)

// keepWrongPIN stores the rig's profile with a kept PIN the server refuses
// (changed elsewhere).
func keepWrongPIN(t *testing.T, r *rig) {
	t.Helper()
	creds := r.world.Operator
	creds.PIN = r.wrongPIN()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.store.Save(ctx, profileName, keystore.Profile{Credentials: creds, KeepPIN: true}, true); err != nil {
		t.Fatal(err)
	}
}

// storedProfile loads the rig's profile from the keyring.
func storedProfile(t *testing.T, r *rig) keystore.Profile {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := r.store.Load(ctx, profileName)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKeptPINRefusedIsNotSentAgain: two payouts are in doubt when the
// console starts, and the PIN kept in the keyring was changed elsewhere.
// The start-up settlement posts the first with it once, the server refuses
// it, and from then on it is never sent again: the profile is saved without
// it, the screen says why, and the next start sends nothing.
func TestKeptPINRefusedIsNotSentAgain(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	keepWrongPIN(t, r)
	j, _, err := journal.Open(journal.Path(r.deps.Env.DataDir, profileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, amount := range []string{"1", "2"} {
		if _, err := j.AppendIntent(journal.Intent{Trace: payout.NewTraceID(), AssetID: usdtID, RecipientID: r.rcpt.UserID, Amount: amount}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	for run := 1; run <= 2; run++ {
		a := New(r.deps)
		p := newPump(t, a)
		p.run(a.Init())
		p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
		p.until("the start-up settlement", func(a *App) bool {
			return a.acct != nil && !a.recovering && strings.Contains(a.status, "ettl") || strings.Contains(a.status, "PIN")
		})
		time.Sleep(50 * time.Millisecond)
		p.drain()
		if n := r.calls.count("POST /transfers"); n != 1 {
			t.Fatalf("run %d: %d posts, want the one refused at the first start", run, n)
		}
		if run == 1 {
			mustContain(t, flat(a.View()), "The server refused the PIN kept for this profile", "type the PIN at each payout")
		}
		if got := storedProfile(t, r); got.KeepPIN || got.PIN != "" {
			t.Fatalf("run %d: the keyring still keeps the refused PIN", run)
		}
		// The first was posted and refused (final); the second was never
		// posted and waits for a PIN the operator types.
		if got := len(a.acct.Journal().InDoubt()); got != 1 {
			t.Fatalf("run %d: %d payouts in doubt, want 1", run, got)
		}
		a.Close()
	}
	if n := r.srv.PINFailures(r.op); n != 1 {
		t.Fatalf("%d PIN tries counted, want 1", n)
	}
}

// TestHeldPostShowsUntilWhen: a post held past the time-out leaves the
// payout in doubt with the time until which it may still arrive; the
// result says so (and does not say that nothing was sent), and a look-up
// meanwhile posts nothing.
func TestHeldPostShowsUntilWhen(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{postWindow: payout.DefaultPostWindow})
	r.deps.Env.ClientOptions = []mixin.Option{mixin.WithTimeout(500 * time.Millisecond)}
	t.Cleanup(r.srv.WaitHeld)
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultHold, Delay: time.Second})
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultTooManyRequests})
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	p.toConfirm(r, "10")
	p.confirmKept("10")
	p.until("the outcome", func(a *App) bool { return a.screen == screenResult && !a.result().busy() })

	v := flat(a.View())
	mustContain(t, v, "? In doubt: 10 USDT", "In doubt until", "may still reach the server", "No other payout or PIN check is sent before")
	mustNotContain(t, v, "Nothing was sent", "nothing was sent", "Not paid")
	p.typ("s") // look the trace up now: nothing is posted
	p.until("the look-up", func(a *App) bool { return !a.result().busy() })
	if n := r.calls.count("POST /transfers"); n != 1 {
		t.Fatalf("%d posts, want only the held one", n)
	}
	if a.result().res.State != journal.StateInDoubt {
		t.Fatalf("state %v after the look-up", a.result().res.State)
	}
}

// TestBatchWithRefusedKeptPINDropsIt: a batch sent with the kept PIN that
// the server refuses stops, and the PIN is dropped from the profile.
func TestBatchWithRefusedKeptPINDropsIt(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	keepWrongPIN(t, r)
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	p.run(a.openBatch())
	p.feed(batchDoneMsg{err: &payout.BatchStopError{Line: 2, Err: &mixin.Error{Code: mixin.CodePINIncorrect}}, pin: r.wrongPIN()})
	time.Sleep(50 * time.Millisecond)
	p.drain()
	if got := storedProfile(t, r); got.KeepPIN || got.PIN != "" {
		t.Fatal("the keyring still keeps the refused PIN")
	}
	if !strings.Contains(a.status, "The server refused the PIN kept for this profile") {
		t.Fatalf("status %q", a.status)
	}
}

// TestHelpShowsTheFullKeyMap: ? on the confirmation shows every key of
// the screen, not only the help line's.
func TestHelpShowsTheFullKeyMap(t *testing.T) {
	t.Parallel()
	a := confirmApp(reviewOf("1.1", alice), termW, termH)
	a.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'?'}})
	mustContain(t, a.View(), "Keys on this screen", "←/→", "between Cancel and Confirm", "space")
}

// TestLooseDataDirWarned: a data directory others may read is said so on
// the balances screen, with the command that fixes it.
func TestLooseDataDirWarned(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	if err := os.Chmod(r.deps.Env.DataDir, 0o777); err != nil {
		t.Fatal(err)
	}
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	mustContain(t, flat(a.View()), "open to other users (mode 0777)", "chmod 700")
}

// TestHomeKeepsTheAppNameWhole: on an 80-column terminal the app's name is
// not cut to a few letters to make room for its ids: they go on the line
// under it.
func TestHomeKeepsTheAppNameWhole(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	v := a.View()
	mustContain(t, v, r.world.OperatorUser.FullName, "Mixin ID "+r.world.OperatorUser.IdentityNumber, r.world.OperatorUser.UserID)
	fitsWidth(t, v, 80)
}
