package saferail_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"mixdesk/journal"
	"mixdesk/payout"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

// TestUnsignedKeptWithoutWaiting: the unsigned transaction is kept
// without an fsync of its own (a payout costs three: intent, signed bytes,
// outcome); it is durable with the signed bytes. Lost in a crash of the
// machine before them (cut off the file here), after its verify ran on the
// server, nothing signed ever left: the payout is closed as not sent, its
// verified request never executes, and paying again pays once.
func TestUnsignedKeptWithoutWaiting(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	s := newSafeDesk(t, w, w.rail, payout.Config{PostWindow: 200 * time.Millisecond})
	review := func(memo string) *payout.Review {
		rv, err := s.d.Review(ctx, payout.Draft{AssetID: btcID, Recipient: aliceID, Amount: "0.3", Memo: memo}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return rv
	}
	before := s.j.Syncs()
	if res, err := s.d.Send(ctx, review("first"), ""); err != nil || res.State != journal.StateDone {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	if n := s.j.Syncs() - before; n != 3 {
		t.Fatalf("%d fsyncs for a payout, want 3", n)
	}

	// The verify runs and its answer is lost: in doubt, only the unsigned
	// transaction kept, and not yet on disk for sure.
	lost := review("lost")
	w.srv.InjectFault("POST", "/safe/transaction/requests", sandbox.Fault{Kind: sandbox.FaultCommitThenDrop})
	res, err := s.d.Send(ctx, lost, "")
	if err != nil || res.State != journal.StateInDoubt {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	if q := w.request(lost.TraceID); q == nil || q.State != safe.StateUnspent {
		t.Fatalf("verified request %+v", q)
	}
	rep, err := journal.VerifyFile(s.path)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rep.Records, func(r journal.Record) bool { return r.Rail != nil && r.Rail.Trace == lost.TraceID })
	if i < 0 || i != len(rep.Records)-1 {
		t.Fatalf("the unsigned transaction is not the last record (%d of %d)", i, len(rep.Records))
	}
	s.j.Close()
	if err := os.Truncate(s.path, rep.Records[i].Offset); err != nil {
		t.Fatal(err)
	}

	s.restart(nil)
	if got := s.stages(lost.TraceID); !slices.Equal(got, []string{"intent"}) {
		t.Fatalf("journal after the crash: %v", got)
	}
	out, err := s.d.Recover(ctx, "")
	if err != nil || len(out) != 1 || out[0].State != journal.StateFailed {
		t.Fatalf("Recover = %+v, %v", out, err)
	}
	if e, _ := s.j.Lookup(lost.TraceID); e.Failed.Code != payout.CodeNotPosted {
		t.Fatalf("closed as %+v", e.Failed)
	}
	again := review("again")
	if res, err := s.d.Send(ctx, again, ""); err != nil || res.State != journal.StateDone {
		t.Fatalf("paying again = %+v, %v", res, err)
	}
	if q := w.request(lost.TraceID); q == nil || q.State != safe.StateUnspent {
		t.Fatalf("the lost payout's request %+v", q)
	}
	if payouts, _ := w.spent(); len(payouts) != 2 {
		t.Fatalf("%d payouts executed, want 2", len(payouts))
	}
	w.wantNoOutputSpentTwice(t)
	s.wantSettled()
}
