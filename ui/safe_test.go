package ui

import (
	"context"
	"encoding/json"
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
	return safeRigWith(t, true)
}

// safeRigWith is safeRig, with the Safe profile in the keyring or none.
func safeRigWith(t *testing.T, withProfile bool) (*rig, *safesandbox.Server, safesandbox.World) {
	t.Helper()
	srv, w, err := safesandbox.NewWorld(safesandbox.Options{Seed: testSeed})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	mem := keystore.NewMemory()
	store, err := keystore.New(mem, keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ks := w.Operator
	if withProfile {
		if err := store.Save(ctx, profileName, keystore.Profile{Safe: &ks}, false); err != nil {
			t.Fatal(err)
		}
		if err := store.SetDefault(ctx, profileName); err != nil {
			t.Fatal(err)
		}
	}
	u := w.Users[0]
	r := &rig{t: t, store: store, mem: mem, op: w.OperatorUser.UserID,
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
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	mustContain(t, flat(a.View()), w.OperatorUser.FullName, "USDT", "no PIN: signed with the keystore's spend key", "no idle lock", "app id "+w.OperatorUser.UserID)
	p.toConfirm(r, "12.5")
	v := flat(a.View())
	mustContain(t, v, "Confirm payout", r.rcpt.FullName)
	mustNotContain(t, v, "PIN")
	if a.confirm().askPIN {
		t.Fatal("the confirmation asks a PIN")
	}
	p.confirmKept("12.5")
	p.until("paid", func(a *App) bool { return a.screen == screenResult && a.result().res != nil && !a.result().busy() })
	mustContain(t, flat(a.View()), "Paid 12.5 USDT")
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].State != "spent" {
		t.Fatalf("requests %+v", reqs)
	}
	// The network transaction's hash beside the snapshot.
	mustContain(t, flat(a.View()), "Transaction "+reqs[0].TransactionHash)
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
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	clk.add(time.Hour)
	p.send(lockTickMsg{})
	if a.lock != nil {
		t.Fatal("a Safe profile locked")
	}
}

// TestSetupSafeKeystore: the keystore JSON pasted into Private key is
// recognised as a Safe keystore, the ids, PIN token and PIN are then not
// asked, and Check and save saves the Safe profile and opens it.
func TestSetupSafeKeystore(t *testing.T) {
	t.Parallel()
	r, _, w := safeRigWith(t, false)
	f := r.start(termW, termH)
	f.waitFor("Set up an app session")
	js, err := json.MarshalIndent(w.Operator, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	f.press(tea.KeyTab, tea.KeyTab) // Client id → Session id → Private key
	f.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(string(js)), Paste: true})
	f.waitFor("recognised: Safe keystore")
	v := f.view()
	mustContain(t, flat(v), "not needed: read from the Safe keystore", "no PIN: a Safe payout is signed with the keystore's spend key")
	mustNotContain(t, v, w.Operator.SpendPrivateKey, w.Operator.SessionPrivateKey)
	f.press(tea.KeyTab) // the fields not needed are skipped: Check and save
	f.probe(func(a *App) {
		if a.setup().focus != sfSubmit {
			t.Errorf("focus on %d after the key, want Check and save", a.setup().focus)
		}
	})
	f.press(tea.KeyEnter)
	f.waitHome()
	a := f.final()
	if a.acct == nil || a.acct.Me.UserID != w.OperatorUser.UserID || a.acct.AsksPIN() {
		t.Fatalf("opened %+v", a.acct)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := r.store.Load(ctx, "treasury")
	if err != nil || p.Kind() != "safe" || p.Safe.AppID != w.Operator.AppID {
		t.Fatalf("saved %v, %v", p, err)
	}
}

// TestSetupNamesALegacyKey: a legacy Ed25519 key pasted is named as one.
func TestSetupNamesALegacyKey(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{noProfile: true})
	f := r.start(termW, termH)
	f.waitFor("Set up an app session")
	f.press(tea.KeyTab, tea.KeyTab)
	f.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(r.world.Operator.PrivateKey), Paste: true})
	f.waitFor("recognised: legacy Ed25519 session")
	mustNotContain(t, f.view(), "read from the Safe keystore")
}

// TestSetupSafeFieldByField: a Safe keystore typed field by field (app id,
// session id, session private key, server public key, spend key) is
// recognised by its spend key, needs no PIN, and is saved as a Safe
// profile.
func TestSetupSafeFieldByField(t *testing.T) {
	t.Parallel()
	r, _, w := safeRigWith(t, false)
	f := r.start(termW, termH)
	f.waitFor("Set up an app session")
	k := w.Operator
	for _, v := range []string{k.AppID, k.SessionID, k.SessionPrivateKey, k.ServerPublicKey, k.SpendPrivateKey} {
		f.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(v), Paste: true})
		f.press(tea.KeyTab)
	}
	f.waitFor("Safe session typed field by field")
	v := f.view()
	mustContain(t, flat(v), "no PIN: a Safe payout is signed with the keystore's spend key")
	mustNotContain(t, v, k.SpendPrivateKey, k.SessionPrivateKey)
	f.probe(func(a *App) {
		if a.setup().focus != sfSubmit {
			t.Errorf("focus on %d after the spend key, want Check and save", a.setup().focus)
		}
	})
	f.press(tea.KeyEnter)
	f.waitHome()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := r.store.Load(ctx, "treasury")
	if err != nil || p.Kind() != "safe" || *p.Safe != k {
		t.Fatalf("saved %v, %v", p, err)
	}
}
