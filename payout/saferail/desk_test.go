package saferail_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"mixdesk/journal"
	"mixdesk/payout"
	"mixdesk/payout/rail"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

// deskOn opens a journal at path and a desk on the world's Safe rail with
// a short post window.
func deskOn(t *testing.T, w *world, path string, window time.Duration) (*payout.Desk, *journal.Journal) {
	t.Helper()
	j, rep, err := journal.Open(path)
	if err != nil || !rep.Intact() {
		t.Fatalf("open: %v %v", err, rep)
	}
	t.Cleanup(func() { j.Close() })
	d, err := payout.NewDeskOn(w.rail, j, payout.Config{Self: w.rail.Self(), PostWindow: window})
	if err != nil {
		t.Fatal(err)
	}
	return d, j
}

// kinds lists the records of trace in the journal file: kinds, and rail
// records by stage.
func kinds(t *testing.T, path, trace string) []string {
	t.Helper()
	rep, err := journal.VerifyFile(path)
	if err != nil || !rep.Intact() {
		t.Fatalf("verify: %v %v", err, rep)
	}
	var out []string
	for _, r := range rep.Records {
		switch {
		case r.Trace() != trace:
		case r.Rail != nil:
			out = append(out, r.Rail.Stage)
		default:
			out = append(out, string(r.Kind))
		}
	}
	return out
}

// TestDeskOnSafe: the desk reviews and pays through the Safe rail with no
// PIN; the journal holds the intent, the unsigned transaction, the signed
// bytes and the outcome, in that order; a refusal is recorded with the
// Safe code; a submit lost is settled after its window by sending the
// same bytes, also after a restart.
func TestDeskOnSafe(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	const window = 300 * time.Millisecond
	d, j := deskOn(t, w, path, window)
	if d.NeedsPIN() {
		t.Fatal("the desk asks for a PIN on Safe")
	}
	rv, err := d.Review(ctx, payout.Draft{AssetID: btcID, Recipient: "7000102", Amount: "0.6", Memo: "March"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rv.Recipient.UserID != aliceID || rv.Asset.Balance != "2.5" || rv.BalanceAfter.String() != "1.9" {
		t.Fatalf("review %+v", rv)
	}
	res, err := d.Send(ctx, rv, "")
	if err != nil || res.State != journal.StateDone || res.Snap.Amount != "-0.6" {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	if got := kinds(t, path, rv.TraceID); !slices.Equal(got, []string{"intent", "unsigned", "signed", "done"}) {
		t.Fatalf("journal: %v", got)
	}

	// A recipient not on Safe: refused before anything was sent, with the
	// Safe code.
	bob, err := d.Review(ctx, payout.Draft{AssetID: btcID, Recipient: bobID, Amount: "0.1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err = d.Send(ctx, bob, "")
	if err != nil || res.State != journal.StateFailed || !safe.IsRecipientNotRegistered(res.Err) {
		t.Fatalf("Send to Bob = %+v, %v", res, err)
	}
	if e, _ := j.Lookup(bob.TraceID); e.Failed.Code != safe.CodeNotRegistered {
		t.Fatalf("recorded %+v", e.Failed)
	}

	// The submit fails before anything: in doubt and in flight; nothing
	// else is paid in its window; after it, the same signed bytes again.
	lost, err := d.Review(ctx, payout.Draft{AssetID: btcID, Recipient: carlID, Amount: "0.25"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.srv.InjectFault("POST", "/safe/transactions", sandbox.Fault{Kind: sandbox.FaultServerError})
	res, err = d.Send(ctx, lost, "")
	if err != nil || res.State != journal.StateInDoubt || res.Until.IsZero() {
		t.Fatalf("lost submit = %+v, %v", res, err)
	}
	next, err := d.Review(ctx, payout.Draft{AssetID: btcID, Recipient: aliceID, Amount: "0.1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Send(ctx, next, ""); !payout.IsPostPending(err) {
		t.Fatalf("a payout inside the window: %v", err)
	}
	j.Close()
	d, j = deskOn(t, w, path, window)
	time.Sleep(time.Until(res.Until) + 10*time.Millisecond)
	out, err := d.Recover(ctx, "")
	if err != nil || len(out) != 1 || out[0].State != journal.StateDone || !out[0].Reposted {
		t.Fatalf("Recover = %+v, %v", out, err)
	}
	if got := kinds(t, path, lost.TraceID); !slices.Equal(got, []string{"intent", "unsigned", "signed", "post", "done"}) {
		t.Fatalf("journal of the lost payout: %v", got)
	}
	if n := len(w.srv.Snapshots(carlID)); n != 1 {
		t.Fatalf("Carl has %d snapshots", n)
	}

	// A key paid with other content, seen from another journal: the
	// review's trace is found taken, recorded failed, nothing paid.
	j.Close()
	d, j = deskOn(t, w, filepath.Join(t.TempDir(), "other.jsonl"), window)
	again, err := d.Review(ctx, payout.Draft{AssetID: btcID, Recipient: aliceID, Amount: "0.7", TraceID: rv.TraceID}, nil)
	if err != nil || again.TraceID != rv.TraceID {
		t.Fatalf("review %+v, %v", again, err)
	}
	res, err = d.Send(ctx, again, "")
	if err != nil || res.State != journal.StateFailed || !rail.IsKeyUsed(res.Err) {
		t.Fatalf("a key paid with other content = %+v, %v", res, err)
	}
	// The same content under the same key is found paid: done, nothing
	// moved.
	j.Close()
	d, _ = deskOn(t, w, filepath.Join(t.TempDir(), "third.jsonl"), window)
	same, err := d.Review(ctx, payout.Draft{AssetID: btcID, Recipient: aliceID, Amount: "0.6", Memo: "March", TraceID: rv.TraceID}, nil)
	if err != nil || same.TraceID != rv.TraceID {
		t.Fatalf("review %+v, %v", same, err)
	}
	res, err = d.Send(ctx, same, "")
	if err != nil || res.State != journal.StateDone || res.Snap.Amount != "-0.6" {
		t.Fatalf("the same payment under its key = %+v, %v", res, err)
	}
	if n := len(w.srv.Snapshots(aliceID)); n != 2 { // the deposit and one payment
		t.Fatalf("Alice has %d snapshots", n)
	}
}
