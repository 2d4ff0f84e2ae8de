package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/addressbook"
)

// TestAddressBookAddPickAndPay: a recipient saved on the address book
// screen is picked in the transfer form by its label and paid; the review
// no longer warns that it is not in the book.
func TestAddressBookAddPickAndPay(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(termW, termH)
	f.waitHome()

	f.typ("b")
	f.until("the address book", func(a *App) bool { return a.screen == screenBook })
	f.typ("n")
	f.typ("payroll-amara")
	f.press(tea.KeyTab)
	f.typ(r.rcpt.IdentityNumber)
	f.waitFor("✓ " + r.rcpt.FullName)
	f.press(tea.KeyTab)
	f.typ("monthly salary")
	f.press(tea.KeyTab, tea.KeyEnter)
	f.until("the list", func(a *App) bool { return a.screen == screenBook && !a.book().editing })
	v := f.view()
	checkGolden(t, "list", v, termW)
	mustContain(t, v, "payroll-amara", r.rcpt.FullName, r.rcpt.IdentityNumber, "monthly salary", "Saved payroll-amara")

	// The book is a file of the profile in the data directory, without secrets.
	raw, err := os.ReadFile(filepath.Join(r.deps.Env.DataDir, "addressbook-"+profileName+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), r.rcpt.UserID) || strings.Contains(string(raw), r.world.Operator.PIN) {
		t.Fatalf("book file: %s", raw)
	}

	// Pick by label in the transfer form.
	f.press(tea.KeyEsc)
	f.until("home", func(a *App) bool { return a.screen == screenHome })
	f.typ("t")
	f.until("the transfer form", func(a *App) bool { return a.screen == screenTransfer })
	f.typ("usdt")
	f.press(tea.KeyEnter)
	f.typ("payr")
	f.waitFor("▸ payroll-amara")
	f.press(tea.KeyEnter)
	f.waitFor("✓ "+r.rcpt.FullName, "from the address book: payroll-amara")
	var picked string
	f.probe(func(a *App) { picked = a.transfer().rcpt.user.UserID })
	if picked != r.rcpt.UserID {
		t.Fatalf("picked %s, want %s", picked, r.rcpt.UserID)
	}
	var focus tField
	f.probe(func(a *App) { focus = a.transfer().focus })
	if focus != tfAmount {
		t.Fatalf("after picking a saved recipient the focus is on field %d, want the amount", focus)
	}
	f.typ("5") // the focus moved on to the amount
	f.press(tea.KeyTab, tea.KeyTab)
	f.review()
	v = f.view()
	mustNotContain(t, v, "not in the address book")
	f.confirm("5", "")
	f.until("paid", func(a *App) bool { return a.screen == screenResult && a.result().res != nil && !a.result().busy() })
	f.probe(func(a *App) {
		if a.result().offerSave {
			t.Error("saving offered for a recipient already in the book")
		}
	})
	if n := len(r.ledgerFor(f.traceOfResult())); n != 1 {
		t.Fatalf("%d debits", n)
	}
}

// TestPayoutToNewRecipientOffersSaving: after paying someone the book does
// not have, b opens the book's form filled in; saving adds them.
func TestPayoutToNewRecipientOffersSaving(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(termW, termH)
	f.waitHome()
	f.fillTransfer("usdt", "3", "")
	f.review()
	f.confirm("3", "")
	f.waitFor("✓ Paid", "b save recipient to the address book")
	f.typ("b")
	f.until("the book form", func(a *App) bool { return a.screen == screenBook && a.book().editing })
	f.press(tea.KeyTab, tea.KeyTab, tea.KeyTab, tea.KeyEnter)
	f.until("saved", func(a *App) bool { return !a.book().editing })
	var e addressbook.Entry
	var ok bool
	f.probe(func(a *App) { e, ok = a.acct.Book.ByUser(r.rcpt.UserID) })
	if !ok || e.FullName != r.rcpt.FullName || e.IdentityNumber != r.rcpt.IdentityNumber || e.Label != labelFor(r.rcpt.FullName) {
		t.Fatalf("entry %+v %v", e, ok)
	}
}

// TestAddressBookOnlyRefusesOthers: with "address book only" in the
// profile's policy, a recipient outside the book is refused at review and
// nothing is sent.
func TestAddressBookOnlyRefusesOthers(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte("address_book_only = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.deps.Env.ConfigPath = cfg
	f := r.start(termW, termH)
	f.waitHome()
	f.fillTransfer("usdt", "3", "")
	f.press(tea.KeyEnter)
	f.waitFor("only saved recipients")
	var screen screen
	f.probe(func(a *App) { screen = a.screen })
	if screen != screenTransfer {
		t.Fatal("the review went on to the confirmation")
	}
	if n := r.calls.count("POST /transfers"); n != 0 {
		t.Fatalf("%d transfers posted", n)
	}
}

// TestAddressBookDelete: D then y removes an entry; any other key keeps it.
func TestAddressBookDelete(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	p, a := pumpHome(t, r)
	if err := a.acct.Book.Save(addressbook.Entry{Label: "keep-me", UserID: r.rcpt.UserID, IdentityNumber: r.rcpt.IdentityNumber, FullName: r.rcpt.FullName}, ""); err != nil {
		t.Fatal(err)
	}
	p.typ("b")
	p.typ("D")
	mustContain(t, a.View(), "Delete keep-me? y deletes")
	p.typ("x")
	if len(a.acct.Book.List()) != 1 {
		t.Fatal("deleted without y")
	}
	p.typ("D")
	p.typ("y")
	// The file is written in a command: the screen waits for its answer.
	p.until("deleted with y", func(a *App) bool { return len(a.acct.Book.List()) == 0 && !a.book().busy })
	mustContain(t, a.View(), "Deleted keep-me from the address book.")
}

// TestAddressBookWritesOffTheUIGoroutine: saving and deleting an entry
// write the book's file in a command, never in Update; the screen takes no
// key until the answer is in, then says what happened.
func TestAddressBookWritesOffTheUIGoroutine(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	_, a := pumpHome(t, r)
	key := func(k string) tea.Cmd {
		t.Helper()
		_, cmd := a.Update(keyPress(k))
		return cmd
	}
	run := func(cmd tea.Cmd) {
		t.Helper()
		if cmd == nil {
			t.Fatal("no command to write the book")
		}
		a.Update(cmd())
	}
	book := a.acct.Book
	key("b")
	u := railUser(r.rcpt)
	a.book().startEdit(nil, &u)
	a.book().setFocus(bfSave)
	save := key("enter")
	if book.Len() != 0 || !a.book().editing || !a.book().busy {
		t.Fatalf("Update saved the entry itself (%d entries, editing %v)", book.Len(), a.book().editing)
	}
	mustContain(t, a.View(), "Saving…")
	key("esc") // no key while the book is written
	if !a.book().editing {
		t.Fatal("the form took a key while it was being saved")
	}
	run(save)
	if _, ok := book.ByUser(r.rcpt.UserID); !ok || a.book().editing || a.book().busy {
		t.Fatalf("after the save: %d entries, editing %v", book.Len(), a.book().editing)
	}
	mustContain(t, a.View(), "Saved "+labelFor(r.rcpt.FullName))

	key("D")
	remove := key("y")
	if book.Len() != 1 || !a.book().busy {
		t.Fatal("Update removed the entry itself")
	}
	run(remove)
	if book.Len() != 0 || a.book().busy {
		t.Fatalf("%d entries after the removal", book.Len())
	}
	mustContain(t, a.View(), "Deleted "+labelFor(r.rcpt.FullName)+" from the address book.")
}

// traceOfResult is the trace of the payout on the result screen.
func (f *flow) traceOfResult() string {
	var tr string
	f.probe(func(a *App) { tr = a.result().r.TraceID })
	return tr
}

// pumpHome opens the console on home with an Update-level pump.
func pumpHome(t *testing.T, r *rig) (*pump, *App) {
	t.Helper()
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	return p, a
}
