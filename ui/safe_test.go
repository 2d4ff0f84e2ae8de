package ui

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
	"mixdesk/journal"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/payout/saferail"
	safesandbox "mixdesk/safe/sandbox"
)

// safeRig is the console on a Safe profile of the Safe sandbox: the rig's
// recipient is the sandbox's first user (on Safe).
func safeRig(t *testing.T) (*rig, *safesandbox.Server, safesandbox.World) {
	t.Helper()
	srv, w, err := safesandbox.NewWorld(safesandbox.Options{Seed: testSeed})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	store, err := keystore.New(keystore.NewMemory(), keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ks := w.Operator
	if err := store.Save(ctx, profileName, keystore.Profile{Safe: &ks}, false); err != nil {
		t.Fatal(err)
	}
	if err := store.SetDefault(ctx, profileName); err != nil {
		t.Fatal(err)
	}
	u := w.Users[0]
	r := &rig{t: t, store: store, op: w.OperatorUser.UserID,
		rcpt: mixin.User{UserID: u.UserID, IdentityNumber: u.IdentityNumber, FullName: u.FullName}}
	r.deps = Deps{Env: account.Env{Store: store, APIURL: hs.URL, DataDir: t.TempDir(),
		SafeOptions: []saferail.Option{saferail.WithTimeout(8 * time.Second),
			saferail.WithRetry(mixin.RetryPolicy{Attempts: 2, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond})},
		Payout: payout.Config{PostWindow: time.Nanosecond}}, Sandbox: true, IdleLock: 5 * time.Minute}
	return r, srv, w
}

// TestSafePayoutWithoutPIN: a Safe profile opens on home with its balances
// and says it has no PIN and no idle lock; its payout's confirmation asks
// no PIN, and the payout is paid as one Safe transaction.
func TestSafePayoutWithoutPIN(t *testing.T) {
	t.Parallel()
	r, srv, w := safeRig(t)
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home != nil && !a.home.loaded.IsZero() })
	mustContain(t, flat(a.View()), w.OperatorUser.FullName, "USDT", "no PIN: signed with the keystore's spend key", "no idle lock")
	p.toConfirm(r, "12.5")
	v := flat(a.View())
	mustContain(t, v, "Confirm payout", r.rcpt.FullName)
	mustNotContain(t, v, "PIN")
	if a.confirm.askPIN {
		t.Fatal("the confirmation asks a PIN")
	}
	p.confirmKept("12.5")
	p.until("paid", func(a *App) bool { return a.screen == screenResult && a.result.res != nil && !a.result.busy() })
	mustContain(t, flat(a.View()), "Paid 12.5 USDT")
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].State != "spent" {
		t.Fatalf("requests %+v", reqs)
	}
	es := a.acct.Journal().Entries()
	if len(es) != 1 || es[0].State != journal.StateDone || es[0].Intent.Amount != "12.5" {
		t.Fatalf("journal %+v", es)
	}
}

// TestSafeProfileNotIdleLocked: a profile with no PIN to type is not
// locked when idle (a lock that a key press lifts would protect nothing).
func TestSafeProfileNotIdleLocked(t *testing.T) {
	t.Parallel()
	r, _, _ := safeRig(t)
	a := New(r.deps)
	clk := &fakeClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	a.now = clk.now
	a.lastInput = clk.now()
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home != nil && !a.home.loaded.IsZero() })
	clk.add(time.Hour)
	p.send(lockTickMsg{})
	if a.lock != nil {
		t.Fatal("a Safe profile locked")
	}
}
