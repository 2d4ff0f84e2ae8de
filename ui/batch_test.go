package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/mixin"
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
	f.until("the review", func(a *App) bool { return a.batch.mode == bmReview })
	v := f.view()
	checkGolden(t, "review", v, termW)
	mustContain(t, v, "3 rows: 3 to pay", "USDT   pay 1,012.5 of 50,000", r.world.Users[0].FullName, "1,000", "Gas refund",
		"Type the total of USDT to confirm (1,012.5):", "(Send 3 rows)")

	// A wrong total keeps Send disabled.
	f.press(tea.KeyTab)
	f.typ("1012.4")
	f.press(tea.KeyTab, tea.KeyEnter)
	var mode batchMode
	f.probe(func(a *App) { mode = a.batch.mode })
	if mode != bmReview || r.calls.count("POST /transfers") != 0 {
		t.Fatal("a batch was sent with a total that does not match")
	}
	f.press(tea.KeyShiftTab)
	for range 6 {
		f.press(tea.KeyBackspace)
	}
	f.typ("1,012.5")
	f.press(tea.KeyTab, tea.KeyEnter)
	f.until("the end of the run", func(a *App) bool { return a.batch.mode == bmDone })
	v = f.view()
	mustContain(t, v, "paid 3 · refused 0 · in doubt 0", "✓ Every row was sent.", "Report: ")
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
	f.until("the review again", func(a *App) bool { return a.batch.mode == bmReview })
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
	p.until("the review", func(a *App) bool { return a.batch.mode == bmReview })
	v := a.View()
	mustContain(t, v, "3 problems: the batch cannot be sent", "line 2: amount:", "line 3: recipient:", "Fix the file")
	if a.batch.canSend() {
		t.Fatal("an invalid batch can be sent")
	}
	p.press(tea.KeyTab, tea.KeyTab, tea.KeyEnter)
	if a.batch.mode != bmReview || r.calls.count("POST /transfers") != 0 {
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
	p.until("the review", func(a *App) bool { return a.batch.mode == bmReview })
	p.press(tea.KeyTab)
	p.typ("1012.5")
	p.press(tea.KeyTab)
	p.typ(r.wrongPIN())
	p.press(tea.KeyTab)
	if !a.batch.canSend() {
		t.Fatalf("cannot send:\n%s", a.View())
	}
	p.press(tea.KeyEnter)
	p.until("the end", func(a *App) bool { return a.batch.mode == bmDone })
	mustContain(t, a.View(), "The batch stopped", "PIN incorrect")
	if n := r.calls.count("POST /transfers"); n != 1 {
		t.Fatalf("%d posts after a wrong PIN, want 1", n)
	}
	if a.batch.prog.Done != 0 {
		t.Fatalf("progress %+v", a.batch.prog)
	}
	if a.batch.pin.Value() != "" {
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
	p.until("the review", func(a *App) bool { return a.batch.mode == bmReview })
	mustContain(t, a.View(), "No USD price for 90,000 NOPX", "press U", "acknowledge what is flagged above")
	if a.batch.b.Ready() {
		t.Fatal("ready before the unpriced total was acknowledged")
	}
	p.typ("U")
	mustContain(t, a.View(), "Type the total of USDT to confirm (10)")
	p.press(tea.KeyTab)
	p.typ("10")
	if !a.batch.canSend() {
		t.Fatalf("not sendable after U:\n%s", a.View())
	}
}
