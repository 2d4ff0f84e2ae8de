package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout"
)

// writeBatch writes a batch file paying the rig's world and returns its path.
func writeBatch(t *testing.T, r *rig, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "payouts.csv")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func batchBody(r *rig) string {
	return "recipient,asset,amount,memo,key\n" +
		r.world.Users[0].IdentityNumber + ",USDT,12.5,November rewards,nov-1\n" +
		r.world.Users[1].UserID + ",USDT,1000,November bonus,nov-2\n" +
		r.world.Users[2].IdentityNumber + ",ETH,0.25,Gas refund,nov-3\n"
}

// TestBatchConfirmRunAndRerun: the batch is checked and shown, sent after
// the total is typed as shown, reported, and a re-run of the same file pays
// nothing.
func TestBatchConfirmRunAndRerun(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	path := writeBatch(t, r, batchBody(r))
	f := r.start(termW, termH)
	f.waitHome()
	f.typ("f")
	f.until("the batch screen", func(a *App) bool { return a.screen == screenBatch })
	f.typ(path)
	f.press(tea.KeyEnter)
	f.until("the review", func(a *App) bool { return a.batch().mode == bmReview })
	v := f.view()
	checkGolden(t, "review", v, termW)
	mustContain(t, v, "3 rows: 3 to pay", "USDT   pay 1,012.5 of 50,000", r.world.Users[0].FullName, "1,000", "Gas refund",
		"Type the total of USDT to confirm (1,012.5):", "(Send 3 rows)")

	// A wrong total keeps Send disabled.
	f.press(tea.KeyTab)
	f.typ("1012.4")
	f.press(tea.KeyTab, tea.KeyEnter)
	var mode batchMode
	f.probe(func(a *App) { mode = a.batch().mode })
	if mode != bmReview || r.calls.count("POST /transfers") != 0 {
		t.Fatal("a batch was sent with a total that does not match")
	}
	f.press(tea.KeyShiftTab)
	for range 6 {
		f.press(tea.KeyBackspace)
	}
	f.typ("1,012.5")
	f.press(tea.KeyTab, tea.KeyEnter)
	f.until("the end of the run", func(a *App) bool { return a.batch().mode == bmDone })
	v = f.view()
	mustContain(t, v, "paid 3 now · refused 0 · in doubt 0", "✓ Every row was sent.", "Report: ")
	if n := r.calls.count("POST /transfers"); n != 3 {
		t.Fatalf("%d transfers posted, want 3", n)
	}
	report, err := os.ReadFile(strings.TrimSuffix(path, ".csv") + ".report.csv")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(report), ",done,") != 3 {
		t.Fatalf("report:\n%s", report)
	}

	// The same file again: every row is done before; nothing to pay.
	f.typ("r")
	f.until("the review again", func(a *App) bool { return a.batch().mode == bmReview })
	mustContain(t, f.view(), "0 to pay, 3 done before", "Every row is done already: nothing to pay.")
	if n := r.calls.count("POST /transfers"); n != 3 {
		t.Fatalf("the re-run posted: %d transfers", n)
	}
}

// TestBatchInvalidRowsBlockSending: every problem is listed with its line
// and nothing can be sent.
func TestBatchInvalidRowsBlockSending(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	path := writeBatch(t, r, "recipient,asset,amount\n"+r.world.Users[0].IdentityNumber+",USDT,1e3\nno-such-label,USDT,5\n"+r.world.Users[1].IdentityNumber+",DOGE,1\n")
	p, a := pumpHome(t, r)
	p.typ("f")
	p.typ(path)
	p.press(tea.KeyEnter)
	p.until("the review", func(a *App) bool { return a.batch().mode == bmReview })
	v := a.View()
	mustContain(t, v, "3 problems: the batch cannot be sent", "line 2: amount:", "line 3: recipient:", "Fix the file")
	if a.batch().canSend() {
		t.Fatal("an invalid batch can be sent")
	}
	p.press(tea.KeyTab, tea.KeyTab, tea.KeyEnter)
	if a.batch().mode != bmReview || r.calls.count("POST /transfers") != 0 {
		t.Fatal("an invalid batch was sent")
	}
}

// TestBatchWrongPINStops: with the PIN asked for, a wrong one stops the
// batch after the first refusal; nothing is paid and nothing is retried.
func TestBatchWrongPINStops(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{askPIN: true})
	path := writeBatch(t, r, batchBody(r))
	p, a := pumpHome(t, r)
	p.typ("f")
	p.typ(path)
	p.press(tea.KeyEnter)
	p.until("the review", func(a *App) bool { return a.batch().mode == bmReview })
	p.press(tea.KeyTab)
	p.typ("1012.5")
	p.press(tea.KeyTab)
	p.typ(r.wrongPIN())
	p.press(tea.KeyTab)
	if !a.batch().canSend() {
		t.Fatalf("cannot send:\n%s", a.View())
	}
	p.press(tea.KeyEnter)
	p.until("the end", func(a *App) bool { return a.batch().mode == bmDone })
	mustContain(t, a.View(), "The batch stopped", "PIN incorrect")
	if n := r.calls.count("POST /transfers"); n != 1 {
		t.Fatalf("%d posts after a wrong PIN, want 1", n)
	}
	if a.batch().prog.Done != 0 {
		t.Fatalf("progress %+v", a.batch().prog)
	}
	if a.batch().pin.Value() != "" {
		t.Fatal("the PIN stayed in the form")
	}
	_ = payout.ItemDone
}

// TestBatchUnpricedTotalsAcknowledged: beside a priced asset, the total of
// an asset without a USD price is not covered by the typed total; it must
// be acknowledged (U) before the batch can be sent.
func TestBatchUnpricedTotalsAcknowledged(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	const xin = "9b180ab6-6abe-3dc0-a13f-04169eb34bfa"
	if _, err := r.srv.AddAsset(mixin.Asset{AssetID: xin, ChainID: xin, Symbol: "NOPX", Name: "No price", PriceUSD: "0"}); err != nil {
		t.Fatal(err)
	}
	if err := r.srv.Credit(r.op, xin, "100000"); err != nil {
		t.Fatal(err)
	}
	path := writeBatch(t, r, "recipient,asset,amount,key\n"+
		r.world.Users[0].IdentityNumber+",USDT,10,k1\n"+r.world.Users[1].IdentityNumber+","+xin+",90000,k2\n")
	p, a := pumpHome(t, r)
	p.typ("f")
	p.typ(path)
	p.press(tea.KeyEnter)
	p.until("the review", func(a *App) bool { return a.batch().mode == bmReview })
	mustContain(t, a.View(), "No USD price for 90,000 NOPX", "press U", "Check the totals without a USD price above, then U, to send")
	if a.batch().b.Ready() {
		t.Fatal("ready before the unpriced total was acknowledged")
	}
	p.typ("U")
	mustContain(t, a.View(), "Type the total of USDT to confirm (10)")
	p.press(tea.KeyTab)
	p.typ("10")
	if !a.batch().canSend() {
		t.Fatalf("not sendable after U:\n%s", a.View())
	}
}

// reviewBatch opens the batch screen from home, checks the file at path and
// waits for the review.
func reviewBatch(t *testing.T, r *rig, path string) (*pump, *App) {
	t.Helper()
	p, a := pumpHome(t, r)
	p.typ("f")
	p.typ(path)
	p.press(tea.KeyEnter)
	p.until("the review", func(a *App) bool { return a.batch().mode == bmReview })
	return p, a
}

// TestBatchReviewKeysNeverGoToHiddenField: while the review asks for the
// duplicates to be acknowledged, the total field is not drawn, so tab must
// not focus it: A and digits stay with the table, and the help line offers
// only what the keys do.
func TestBatchReviewKeysNeverGoToHiddenField(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	row := r.world.Users[0].IdentityNumber + ",USDT,0.012\n"
	path := writeBatch(t, r, "recipient,asset,amount\n"+row+row)
	p, a := reviewBatch(t, r, path)
	v := a.View()
	mustContain(t, v, "press A to acknowledge them", "A acknowledge duplicates")
	mustNotContain(t, v, "Type the total", "tab next")

	p.press(tea.KeyTab)
	p.typ("0.024")
	if a.batch().focus != bcTable || a.batch().total.Value() != "" {
		t.Fatalf("keys went to the hidden total field: focus %d, total %q", a.batch().focus, a.batch().total.Value())
	}
	p.typ("A")
	if !a.batch().b.Acked() || a.batch().total.Value() != "" {
		t.Fatalf("A did not acknowledge the duplicates (total field %q):\n%s", a.batch().total.Value(), a.View())
	}
	// Now the confirmation is drawn, and tab goes to it.
	v = a.View()
	mustContain(t, v, "Type the total of USDT to confirm (0.024)", "tab next")
	mustNotContain(t, v, "A acknowledge")
	p.press(tea.KeyTab)
	p.typ("0.024")
	if a.batch().focus != bcTotal || !a.batch().canSend() {
		t.Fatalf("focus %d, total %q; want the total typed in its field", a.batch().focus, a.batch().total.Value())
	}
	// ↑/↓ move the table's selection, as the help says, wherever the
	// focus is.
	p.press(tea.KeyDown)
	if a.batch().sel != 1 {
		t.Fatalf("↓ in the total field did not move the selection: row %d", a.batch().sel)
	}
}

// TestBatchReviewShowsMixinID: a long name with spaces cannot push the
// verified Mixin ID out of the review table.
func TestBatchReviewShowsMixinID(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	u := r.srv.AddUser("Alice Ng" + strings.Repeat(" ", 150) + "x")
	path := writeBatch(t, r, "recipient,asset,amount\n"+u.UserID+",USDT,1\n")
	_, a := reviewBatch(t, r, path)
	v := a.View()
	l := lineWith(v, "Alice Ng")
	if !strings.Contains(l, u.IdentityNumber) {
		t.Fatalf("the row does not show the Mixin ID %s: %q\n%s", u.IdentityNumber, l, v)
	}
	mustContain(t, v, "MIXIN ID")
}

// batchEndView is the batch screen's end for a run that ended with p and
// err, on a reviewed batch.
func batchEndView(t *testing.T, a *App, p payout.BatchProgress, err error) string {
	t.Helper()
	a.batch().mode, a.batch().prog, a.batch().runErr, a.batch().report = bmDone, p, err, ""
	return flat(a.View())
}

// TestBatchEndSaysWhatWasPaidNow: "Every row was sent." only when every
// row was paid now; a run that found every row paid before says that
// nothing was paid now; refused and in-doubt rows are never hidden behind a
// tick.
func TestBatchEndSaysWhatWasPaidNow(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	_, a := reviewBatch(t, r, writeBatch(t, r, batchBody(r)))

	v := batchEndView(t, a, payout.BatchProgress{Total: 20, Found: 20}, nil)
	mustContain(t, v, "paid 0 now · already paid, found on the server 20", "✓ Nothing was paid now: every row was paid before (20 found on the server).")
	mustNotContain(t, v, "Every row was sent")

	v = batchEndView(t, a, payout.BatchProgress{Total: 5, Done: 2, Found: 1, Skipped: 2}, nil)
	mustContain(t, v, "✓ Every row is paid: 2 now, 1 found on the server, 2 done before.")
	mustNotContain(t, v, "Every row was sent")

	v = batchEndView(t, a, payout.BatchProgress{Total: 3, Done: 2, Failed: 1}, nil)
	mustContain(t, v, "⚠ Not every row was paid: 1 refused")
	mustNotContain(t, v, "✓", "Every row was sent")

	v = batchEndView(t, a, payout.BatchProgress{Total: 3, Done: 2, InDoubt: 1}, nil)
	mustContain(t, v, "Not every row was paid: 1 in doubt")
	mustNotContain(t, v, "✓", "Every row was sent")

	v = batchEndView(t, a, payout.BatchProgress{Total: 3, Done: 3}, nil)
	mustContain(t, v, "paid 3 now · refused 0", "✓ Every row was sent.")
}

// TestBatchStopMessageIsOneSentence: the reason a batch stopped is said
// once, with its line, and ends with a full stop; advice is not repeated.
func TestBatchStopMessageIsOneSentence(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	_, a := reviewBatch(t, r, writeBatch(t, r, batchBody(r)))
	p := payout.BatchProgress{Total: 20, Done: 8}

	doubt := &payout.BatchStopError{Line: 9, Err: fmt.Errorf("%d transfer(s) are still in doubt (the server could not tell: %v); nothing more is sent until they are settled: run the batch again later", 3, errors.New("HTTP 503"))}
	v := batchEndView(t, a, p, doubt)
	mustContain(t, v, "The batch stopped at line 9: 3 transfer(s) are still in doubt (the server could not tell: HTTP 503); nothing more is sent until they are settled: run the batch again later.")
	if n := strings.Count(strings.ToLower(v), "stopped"); n != 1 {
		t.Errorf("%q is said %d times:\n%s", "stopped", n, v)
	}
	mustNotContain(t, v, "Run the same file again once it is fixed")

	pin := &payout.BatchStopError{Line: 4, Err: &mixin.Error{Code: mixin.CodePINIncorrect, Description: "PIN incorrect"}}
	v = batchEndView(t, a, p, pin)
	mustContain(t, v, "The batch stopped at line 4: PIN incorrect", "Run the same file again once it is fixed: nothing is paid twice.")
	if n := strings.Count(strings.ToLower(v), "stopped"); n != 1 {
		t.Errorf("%q is said %d times:\n%s", "stopped", n, v)
	}

	cap := &payout.BatchStopError{Line: 12, Err: errors.New("payout: over the daily cap of 3000 USDT")}
	v = batchEndView(t, a, p, cap)
	mustContain(t, v, "The batch stopped at line 12: Over the daily cap of 3000 USDT. Run the same file again once it is fixed: nothing is paid twice.")

	stop := &payout.BatchStopError{Line: 9, Err: payout.ErrBatchStopped}
	v = batchEndView(t, a, p, stop)
	mustContain(t, v, "Stopped before line 9 (x). Run the same file again to go on")
	if n := strings.Count(strings.ToLower(v), "stopped"); n != 1 {
		t.Errorf("%q is said %d times:\n%s", "stopped", n, v)
	}
}

// TestBatchShowsPostWindowWait: while the batch waits out a post window,
// the screen says until when, for which line, and that x stops; a paused
// batch shows no time left.
func TestBatchShowsPostWindowWait(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	_, a := reviewBatch(t, r, writeBatch(t, r, batchBody(r)))
	until := time.Date(2026, 3, 2, 12, 4, 31, 0, time.Local)
	a.batch().mode, a.batch().ctl = bmRunning, &payout.BatchControl{}
	a.batch().prog = payout.BatchProgress{Total: 30, Done: 25, InDoubt: 1, WaitUntil: until, WaitLine: 26, Rate: 2, Remaining: 2 * time.Second}
	v := flat(a.View())
	mustContain(t, v, "Waiting until 12:04:31: line 26's post may still reach the server; nothing is sent before then (x stops).")
	mustNotContain(t, v, "time left")

	a.batch().prog.WaitLine = 0
	mustContain(t, flat(a.View()), "Waiting until 12:04:31: a post of an earlier payout may still reach the server")

	// Paused with rows left: no "time left 0s".
	a.batch().prog = payout.BatchProgress{Total: 30, Done: 19, Rate: 120, Remaining: 90 * time.Millisecond, Paused: true}
	v = flat(a.View())
	mustContain(t, v, "Paused (p resumes)", "left 11")
	mustNotContain(t, v, "time left", "Waiting")
	a.batch().prog.Paused = false
	mustContain(t, flat(a.View()), "time left under 1s")
}

// TestBatchRerunOfPaidFileSaysNothingWasPaid: a file paid an hour ago (from
// another data directory: this console's journal knows nothing of it) is
// run again. The server answers every post with the transfer its trace
// paid then, and the screen and the report say that nothing was paid now.
func TestBatchRerunOfPaidFileSaysNothingWasPaid(t *testing.T) {
	t.Parallel()
	// The sandbox's clock is behind the real one by offset: an hour while
	// the file is paid (the sandbox's times never go back), none after.
	var offset atomic.Int64
	offset.Store(int64(-time.Hour))
	r := newRig(t, rigOpts{})
	srv, w, err := sandbox.NewWorld(sandbox.Options{Seed: testSeed + 1, Operator: sandbox.SessionOptions{Kind: mixin.KeyEd25519},
		Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	r.srv, r.world, r.op, r.rcpt = srv, w, w.OperatorUser.UserID, w.Users[0]
	r.calls.next = srv
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.store.Save(ctx, profileName, keystore.Profile{Credentials: w.Operator, KeepPIN: true}, true); err != nil {
		t.Fatal(err)
	}
	body := "recipient,asset,amount,memo\n" +
		w.Users[0].UserID + "," + usdtID + ",12.5,November\n" +
		w.Users[1].UserID + "," + usdtID + ",7,November\n"
	path := writeBatch(t, r, body)

	// Paid an hour ago, under the traces this file gives its rows.
	f, err := payout.ParseBatchFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range f.Rows {
		in := mixin.TransferInput{AssetID: row.Asset, OpponentID: row.Recipient, Amount: row.Amount, Memo: row.Memo,
			TraceID: payout.BatchTrace(f.ID, row.Key, 0)}
		if _, err := srv.Transfer(r.op, in); err != nil {
			t.Fatal(err)
		}
	}
	offset.Store(0)
	ledger := len(srv.Ledger())

	p, a := reviewBatch(t, r, path)
	mustContain(t, a.View(), "2 rows: 2 to pay")
	p.press(tea.KeyTab)
	p.typ("19.5")
	p.press(tea.KeyTab, tea.KeyEnter)
	p.until("the end of the run", func(a *App) bool { return a.batch().mode == bmDone })
	v := flat(a.View())
	mustContain(t, v, "paid 0 now · already paid, found on the server 2", "✓ Nothing was paid now: every row was paid before (2 found on the server).")
	mustNotContain(t, v, "Every row was sent")
	if n := len(srv.Ledger()); n != ledger {
		t.Fatalf("the re-run moved money: %d transfers, %d before", n, ledger)
	}
	report, err := os.ReadFile(a.batch().report)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(report), ",done,"); n != 2 || strings.Count(string(report), payout.ReportPaidFound) != 2 {
		t.Fatalf("report:\n%s", report)
	}
}
