package payout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
)

func TestSendPaysOnce(t *testing.T) {
	r := newRig(t, 1)
	rv := r.review(r.draft(0, "12.5", "invoice 7"), nil)
	res := r.send(rv)
	if res.State != journal.StateDone || res.Err != nil || res.Already || res.Reposted {
		t.Fatalf("result %+v, want done on the first post", res)
	}
	e := r.wantOneDebit(rv)
	if res.Snap == nil || res.Snap.SnapshotID != e.SnapshotID || res.TraceID != rv.TraceID {
		t.Fatalf("result snapshot %+v, want the ledger's %s", res.Snap, e.SnapshotID)
	}
	je := r.wantState(rv.TraceID, journal.StateDone)
	if je.Done.SnapshotID != e.SnapshotID || je.Done.Via != journal.ViaSend || je.Done.ClosingBalance != "49987.5" {
		t.Errorf("journal done %+v, want snapshot %s via send closing 49987.5", je.Done, e.SnapshotID)
	}
	if je.Intent.Hash != rv.ContentHash || je.Intent.Amount != "12.5" || je.Intent.Operator != "tester" {
		t.Errorf("journal intent %+v does not record the reviewed payout", je.Intent)
	}
	if got := r.count.Posts(); got != 1 {
		t.Errorf("%d POST /transfers, want 1", got)
	}
	r.wantBal("operator", r.self.UserID, usdtID, "49987.5")
	r.wantBal("recipient", r.users[0].UserID, usdtID, "2512.5")
}

func TestSendRefusesNilReview(t *testing.T) {
	r := newRig(t, 2)
	if _, err := r.desk.Send(context.Background(), nil, r.pin); err == nil {
		t.Fatal("Send(nil) did not fail")
	}
	if r.count.Posts() != 0 || r.j.Len() != 0 {
		t.Fatal("Send(nil) touched the journal or the server")
	}
}

// TestSendCommitThenDrop: the server commits the transfer and the answer is
// lost. The payout is in doubt, and settling it finds the snapshot by trace
// without posting again.
func TestSendCommitThenDrop(t *testing.T) {
	for _, how := range []string{"Settle", "Recover", "next Send", "same Send again"} {
		t.Run(how, func(t *testing.T) {
			r := newRig(t, 3)
			rv := r.review(r.draft(1, "40", "rent"), nil)
			r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultCommitThenDrop})
			res := r.send(rv)
			if res.State != journal.StateInDoubt || !mixin.IsServerOrTransport(res.Err) {
				t.Fatalf("result %+v, want in doubt with a transport error", res)
			}
			r.wantState(rv.TraceID, journal.StateInDoubt)
			r.wantOneDebit(rv) // it did commit
			if got := r.j.InDoubt(); len(got) != 1 || got[0].Trace != rv.TraceID {
				t.Fatalf("InDoubt = %+v, want the dropped transfer", got)
			}

			ctx := context.Background()
			var settled Result
			switch how {
			case "Settle":
				// No PIN is needed to learn that it was executed.
				var err error
				settled, err = r.desk.Settle(ctx, rv.TraceID, "")
				if err != nil {
					t.Fatal(err)
				}
			case "Recover":
				out, err := r.desk.Recover(ctx, "")
				if err != nil || len(out) != 1 {
					t.Fatalf("Recover = %+v, %v", out, err)
				}
				settled = out[0]
			case "next Send":
				next := r.review(r.draft(2, "1", ""), nil)
				if !hasWarning(next, WarnInDoubt) {
					t.Errorf("review while a transfer is in doubt has warnings %v, want %s", warningKinds(next), WarnInDoubt)
				}
				if res := r.send(next); res.State != journal.StateDone {
					t.Fatalf("next payout %+v, want done", res)
				}
				r.wantOneDebit(next)
				settled = Result{TraceID: rv.TraceID, State: r.entry(rv.TraceID).State}
			case "same Send again":
				settled = r.send(rv)
			}
			if settled.State != journal.StateDone || settled.Reposted {
				t.Fatalf("settled %+v, want done without a re-post", settled)
			}
			e := r.wantOneDebit(rv)
			je := r.wantState(rv.TraceID, journal.StateDone)
			if je.Done.SnapshotID != e.SnapshotID || je.Done.Via != journal.ViaRecovery {
				t.Errorf("journal done %+v, want snapshot %s via recovery", je.Done, e.SnapshotID)
			}
			if n := countOf(r.count.Traces(), rv.TraceID); n != 1 {
				t.Errorf("the dropped transfer was posted %d times, want once", n)
			}
			want := "49960"
			if how == "next Send" {
				want = "49959"
			}
			r.wantBal("operator", r.self.UserID, usdtID, want)
			r.wantBal("recipient", r.users[1].UserID, usdtID, "2540")
		})
	}
}

// TestSendServerErrorBeforeCommit: a 500 before anything is done leaves the
// payout in doubt; settling finds no transfer and posts once more with the
// same trace.
func TestSendServerErrorBeforeCommit(t *testing.T) {
	r := newRig(t, 4)
	rv := r.review(r.draft(0, "3.3", "fees"), nil)
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultServerError, Status: 503})
	res := r.send(rv)
	var se *mixin.ServerError
	if res.State != journal.StateInDoubt || !errors.As(res.Err, &se) || se.StatusCode != 503 {
		t.Fatalf("result %+v, want in doubt with HTTP 503", res)
	}
	r.wantNoDebit(rv.TraceID)
	r.wantState(rv.TraceID, journal.StateInDoubt)

	ctx := context.Background()
	// Without the PIN it cannot be posted again: it stays in doubt.
	out, err := r.desk.Settle(ctx, rv.TraceID, "")
	if err != nil || out.State != journal.StateInDoubt || !errors.Is(out.Err, ErrNeedPIN) {
		t.Fatalf("Settle without PIN = %+v, %v; want in doubt with ErrNeedPIN", out, err)
	}
	if r.count.Posts() != 1 {
		t.Fatalf("%d posts after a settle without PIN, want 1", r.count.Posts())
	}

	out, err = r.desk.Settle(ctx, rv.TraceID, r.pin)
	if err != nil || out.State != journal.StateDone || !out.Reposted {
		t.Fatalf("Settle = %+v, %v; want done by a re-post", out, err)
	}
	e := r.wantOneDebit(rv)
	if out.Snap == nil || out.Snap.SnapshotID != e.SnapshotID {
		t.Errorf("settled snapshot %+v, want %s", out.Snap, e.SnapshotID)
	}
	if got := r.count.Traces(); !slices.Equal(got, []string{rv.TraceID, rv.TraceID}) {
		t.Errorf("posted traces %v, want the same trace twice", got)
	}
	if je := r.wantState(rv.TraceID, journal.StateDone); je.Done.SnapshotID != e.SnapshotID {
		t.Errorf("journal done %+v, want snapshot %s", je.Done, e.SnapshotID)
	}
	// Settling a done payout again does nothing.
	again, err := r.desk.Settle(ctx, rv.TraceID, r.pin)
	if err != nil || again.State != journal.StateDone || !again.Already || again.Snap.SnapshotID != e.SnapshotID {
		t.Fatalf("second Settle = %+v, %v", again, err)
	}
	if r.count.Posts() != 2 {
		t.Fatalf("%d posts, want 2", r.count.Posts())
	}
	r.wantBal("operator", r.self.UserID, usdtID, "49996.7")
}

// TestSendDelayBeyondTimeout: the server stalls past the client's timeout;
// the caller gives up, nothing is done, and recovery posts once more.
func TestSendDelayBeyondTimeout(t *testing.T) {
	r := newRig(t, 5, withTimeout(300*time.Millisecond))
	rv := r.review(r.draft(3, "9", ""), nil)
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultDelay, Delay: 5 * time.Second})
	start := time.Now()
	res := r.send(rv)
	if res.State != journal.StateInDoubt || !mixin.IsServerOrTransport(res.Err) {
		t.Fatalf("result %+v, want in doubt after a timeout", res)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Send took %v; the client timeout was not applied", d)
	}
	out, err := r.desk.Recover(context.Background(), r.pin)
	if err != nil || len(out) != 1 || out[0].State != journal.StateDone {
		t.Fatalf("Recover = %+v, %v", out, err)
	}
	r.wantOneDebit(rv)
	r.wantBal("recipient", r.users[3].UserID, usdtID, "2509")
}

// TestSendCrashAfterIntent: the process dies after the intent is on disk and
// before the post. The next open finds it in doubt; Recover posts it once.
func TestSendCrashAfterIntent(t *testing.T) {
	for _, how := range []string{"Recover", "Send of another payout", "Send of the same review"} {
		t.Run(how, func(t *testing.T) {
			r := newRig(t, 6)
			rv := r.review(r.draft(2, "250", "bonus"), nil)
			crashOnce(t)
			res, err := r.desk.Send(context.Background(), rv, r.pin)
			if err != nil || res.State != journal.StateInDoubt || !errors.Is(res.Err, errCrash) {
				t.Fatalf("Send = %+v, %v; want in doubt", res, err)
			}
			if r.count.Posts() != 0 {
				t.Fatal("a post was made after the crash point")
			}

			rep := r.restart()
			if !rep.Intact() || rep.TornTail || len(rep.Records) != 1 {
				t.Fatalf("report after the crash: %s", rep)
			}
			if got := r.j.InDoubt(); len(got) != 1 || got[0].Trace != rv.TraceID || got[0].Amount != "250" {
				t.Fatalf("InDoubt after reopening = %+v", got)
			}
			ctx := context.Background()
			switch how {
			case "Recover":
				// At start-up without the PIN: looked up, not executed, kept.
				out, err := r.desk.Recover(ctx, "")
				if err != nil || len(out) != 1 || out[0].State != journal.StateInDoubt || !errors.Is(out[0].Err, ErrNeedPIN) {
					t.Fatalf("Recover without PIN = %+v, %v", out, err)
				}
				r.wantNoDebit(rv.TraceID)
				out, err = r.desk.Recover(ctx, r.pin)
				if err != nil || len(out) != 1 || out[0].State != journal.StateDone || !out[0].Reposted {
					t.Fatalf("Recover = %+v, %v", out, err)
				}
				if out, err := r.desk.Recover(ctx, r.pin); err != nil || len(out) != 0 {
					t.Fatalf("Recover with nothing in doubt = %+v, %v", out, err)
				}
			case "Send of another payout":
				next := r.review(r.draft(0, "1", ""), nil)
				if !hasWarning(next, WarnInDoubt) {
					t.Errorf("warnings %v, want %s", warningKinds(next), WarnInDoubt)
				}
				if res := r.send(next); res.State != journal.StateDone {
					t.Fatalf("next payout %+v", res)
				}
				r.wantOneDebit(next)
				// The payout in doubt was settled before the new one was posted.
				if got := r.count.Traces(); !slices.Equal(got, []string{rv.TraceID, next.TraceID}) {
					t.Errorf("posted %v, want the payout in doubt first, then the new one", got)
				}
			case "Send of the same review":
				// The operator presses send again on the same screen after
				// a restart: the intent is reused, not duplicated.
				res := r.send(rv)
				if res.State != journal.StateDone || !res.Reposted {
					t.Fatalf("Send again = %+v", res)
				}
				if r.j.Len() != 1 {
					t.Fatalf("journal has %d entries, want 1", r.j.Len())
				}
			}
			r.wantOneDebit(rv)
			r.wantState(rv.TraceID, journal.StateDone)
			if len(r.j.InDoubt()) != 0 {
				t.Fatalf("still in doubt: %+v", r.j.InDoubt())
			}
			r.wantBal("recipient", r.users[2].UserID, usdtID, "2750")
		})
	}
}

// TestSendTwice: sending the same review again, one after the other or at
// the same time, never moves money twice.
func TestSendTwice(t *testing.T) {
	t.Run("sequential", func(t *testing.T) {
		r := newRig(t, 7)
		rv := r.review(r.draft(0, "5", "once"), nil)
		first := r.send(rv)
		second := r.send(rv)
		if first.State != journal.StateDone || second.State != journal.StateDone || !second.Already {
			t.Fatalf("results %+v / %+v, want done then already done", first, second)
		}
		if second.Snap == nil || second.Snap.SnapshotID != first.Snap.SnapshotID {
			t.Fatalf("second result's snapshot %+v, want %s", second.Snap, first.Snap.SnapshotID)
		}
		r.wantOneDebit(rv)
		if r.count.Posts() != 1 {
			t.Fatalf("%d posts, want 1", r.count.Posts())
		}
		r.wantBal("operator", r.self.UserID, usdtID, "49995")
	})
	t.Run("concurrent", func(t *testing.T) {
		r := newRig(t, 8)
		for round := 0; round < 5; round++ {
			rv := r.review(r.draft(round%4, fmt.Sprintf("%d.5", round+1), "race"), nil)
			var wg sync.WaitGroup
			var res [2]Result
			var errs [2]error
			for g := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res[g], errs[g] = r.desk.Send(context.Background(), rv, r.pin)
				}()
			}
			wg.Wait()
			for g := range 2 {
				if errs[g] != nil || res[g].State != journal.StateDone || res[g].Snap == nil {
					t.Fatalf("round %d goroutine %d: %+v, %v", round, g, res[g], errs[g])
				}
			}
			if res[0].Snap.SnapshotID != res[1].Snap.SnapshotID || res[0].Already == res[1].Already {
				t.Fatalf("round %d: results %+v / %+v, want one fresh and one already done with the same snapshot", round, res[0], res[1])
			}
			r.wantOneDebit(rv)
		}
		if r.count.Posts() != 5 {
			t.Fatalf("%d posts, want 5", r.count.Posts())
		}
		r.wantBal("operator", r.self.UserID, usdtID, "49982.5") // 1.5+2.5+3.5+4.5+5.5
	})
	t.Run("after a 500", func(t *testing.T) {
		r := newRig(t, 9)
		rv := r.review(r.draft(1, "2", ""), nil)
		r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultServerError})
		if res := r.send(rv); res.State != journal.StateInDoubt {
			t.Fatalf("first %+v, want in doubt", res)
		}
		second := r.send(rv)
		if second.State != journal.StateDone || !second.Reposted {
			t.Fatalf("second %+v, want done by a re-post with the same trace", second)
		}
		third := r.send(rv)
		if third.State != journal.StateDone || !third.Already || third.Snap.SnapshotID != second.Snap.SnapshotID {
			t.Fatalf("third %+v, want already done", third)
		}
		r.wantOneDebit(rv)
		r.wantBal("operator", r.self.UserID, usdtID, "49998")
	})
}

// TestSendTraceUsedWithOtherValues: a trace already paid with other values
// is answered 20125; the payout is recorded as failed with what was paid,
// and nothing is paid twice.
func TestSendTraceUsedWithOtherValues(t *testing.T) {
	ctx := context.Background()
	t.Run("paid outside the desk", func(t *testing.T) {
		r := newRig(t, 10)
		trace := NewTraceID()
		paid, err := r.srv.Transfer(r.self.UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.users[0].UserID, Amount: "7", TraceID: trace, Memo: "elsewhere"})
		if err != nil {
			t.Fatal(err)
		}
		// A draft reviewed before with that trace (prev), now sent with 5.
		rv := r.review(r.draft(0, "5", "elsewhere"), &Review{TraceID: trace})
		if rv.TraceID != trace {
			t.Fatalf("trace %s not kept", rv.TraceID)
		}
		res := r.send(rv)
		if res.State != journal.StateFailed || !mixin.IsTraceUsed(res.Err) {
			t.Fatalf("result %+v, want failed with 20125", res)
		}
		je := r.wantState(trace, journal.StateFailed)
		for _, want := range []string{"a payout of 7 of asset " + usdtID + " to " + r.users[0].UserID, paid.SnapshotID} {
			if !strings.Contains(je.Failed.Description, want) || !strings.Contains(res.Err.Error(), want) {
				t.Errorf("failure %q / %q does not name %s of what was paid", je.Failed.Description, res.Err, want)
			}
		}
		if je.Failed.Code != mixin.CodeTraceUsed {
			t.Errorf("failed code %d, want 20125", je.Failed.Code)
		}
		if got := r.ledger(trace); len(got) != 1 || got[0].Amount != "7" {
			t.Fatalf("ledger for the trace %+v, want only the 7 paid outside", got)
		}
		// Settling and recovering later never post a failed payout again.
		if out, err := r.desk.Settle(ctx, trace, r.pin); err != nil || out.State != journal.StateFailed || !out.Already {
			t.Fatalf("Settle = %+v, %v", out, err)
		}
		if out, err := r.desk.Recover(ctx, r.pin); err != nil || len(out) != 0 {
			t.Fatalf("Recover = %+v, %v", out, err)
		}
		if again := r.send(rv); again.State != journal.StateFailed || !again.Already {
			t.Fatalf("Send again = %+v", again)
		}
		if r.count.Posts() != 1 {
			t.Fatalf("%d posts, want 1", r.count.Posts())
		}
		r.wantBal("operator", r.self.UserID, usdtID, "49993")
		r.wantBal("recipient", r.users[0].UserID, usdtID, "2507")
	})
	t.Run("journal lost", func(t *testing.T) {
		r := newRig(t, 11)
		rv := r.review(r.draft(1, "3", "march"), nil)
		first := r.send(rv)
		if first.State != journal.StateDone {
			t.Fatalf("first %+v", first)
		}
		// The journal file is lost: the desk starts on a new, empty one.
		r.j.Close()
		r.path = filepath.Join(t.TempDir(), "new", "journal.jsonl")
		r.open()

		// The same trace with another amount: refused, recorded as failed.
		other := r.review(r.draft(1, "4", "march"), &Review{TraceID: rv.TraceID})
		res := r.send(other)
		if res.State != journal.StateFailed || !mixin.IsTraceUsed(res.Err) {
			t.Fatalf("result %+v, want failed 20125", res)
		}
		je := r.wantState(rv.TraceID, journal.StateFailed)
		if !strings.Contains(je.Failed.Description, "a payout of 3 of asset") || !strings.Contains(je.Failed.Description, first.Snap.SnapshotID) {
			t.Errorf("failure %q does not name the 3 paid as snapshot %s", je.Failed.Description, first.Snap.SnapshotID)
		}
		r.wantOneDebit(rv)
		r.wantBal("operator", r.self.UserID, usdtID, "49997")
		r.wantBal("recipient", r.users[1].UserID, usdtID, "2503")
	})
	t.Run("journal lost, same payout sent again", func(t *testing.T) {
		r := newRig(t, 12)
		rv := r.review(r.draft(1, "3", "march"), nil)
		first := r.send(rv)
		r.j.Close()
		r.path = filepath.Join(t.TempDir(), "new", "journal.jsonl")
		r.open()
		// The server answers an identical post with the original transfer.
		res := r.send(rv)
		if res.State != journal.StateDone || res.Snap == nil || res.Snap.SnapshotID != first.Snap.SnapshotID {
			t.Fatalf("result %+v, want done as the original snapshot %s", res, first.Snap.SnapshotID)
		}
		r.wantOneDebit(rv)
		r.wantBal("operator", r.self.UserID, usdtID, "49997")
	})
	t.Run("trace used by a payment to the desk", func(t *testing.T) {
		// The recipient paid the desk the same amount with the same trace
		// (as a payment link would). That is money in, not the payout.
		r := newRig(t, 13)
		trace := NewTraceID()
		if _, err := r.srv.Transfer(r.users[0].UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.self.UserID, Amount: "2", TraceID: trace, Memo: "link"}); err != nil {
			t.Fatal(err)
		}
		rv := r.review(r.draft(0, "2", "link"), &Review{TraceID: trace})
		res := r.send(rv)
		if res.State != journal.StateFailed || !mixin.IsTraceUsed(res.Err) {
			t.Fatalf("result %+v: a payment received under the trace was taken for the payout", res)
		}
		je := r.wantState(trace, journal.StateFailed)
		if want := "a payment of 2 of asset " + usdtID + " received from " + r.users[0].UserID; !strings.Contains(je.Failed.Description, want) {
			t.Errorf("failure %q does not say %q", je.Failed.Description, want)
		}
		if ds := r.debits(trace); len(ds) != 0 {
			t.Fatalf("debits %+v", ds)
		}
		r.wantBal("recipient", r.users[0].UserID, usdtID, "2498")
	})
	t.Run("trace used by a transfer between other users", func(t *testing.T) {
		// The trace lookup answers 403: the trace is taken by a transfer the
		// desk is not part of. The payout is failed, not left in doubt.
		r := newRig(t, 15)
		trace := NewTraceID()
		if _, err := r.srv.Transfer(r.users[0].UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.users[1].UserID, Amount: "2", TraceID: trace}); err != nil {
			t.Fatal(err)
		}
		rv := r.review(r.draft(2, "2", ""), &Review{TraceID: trace})
		res := r.send(rv)
		if res.State != journal.StateFailed || !mixin.IsTraceUsed(res.Err) || !strings.Contains(res.Err.Error(), "not part of") {
			t.Fatalf("result %+v, want failed: trace taken by others", res)
		}
		r.wantState(trace, journal.StateFailed)
		if ds := r.debits(trace); len(ds) != 0 {
			t.Fatalf("debits %+v", ds)
		}
		// Found in doubt by recovery: the same.
		r2 := newRig(t, 16)
		trace2 := NewTraceID()
		rv2 := r2.review(r2.draft(0, "2", ""), &Review{TraceID: trace2})
		crashOnce(t)
		if res := r2.send(rv2); res.State != journal.StateInDoubt {
			t.Fatalf("result %+v", res)
		}
		if _, err := r2.srv.Transfer(r2.users[1].UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r2.users[2].UserID, Amount: "1", TraceID: trace2}); err != nil {
			t.Fatal(err)
		}
		out, err := r2.desk.Recover(ctx, r2.pin)
		if err != nil || len(out) != 1 || out[0].State != journal.StateFailed {
			t.Fatalf("Recover = %+v, %v; want failed", out, err)
		}
	})
	t.Run("trace used by a payment to the desk, found by recovery", func(t *testing.T) {
		r := newRig(t, 14)
		trace := NewTraceID()
		rv := r.review(r.draft(0, "2", "link"), &Review{TraceID: trace})
		crashOnce(t)
		if res := r.send(rv); res.State != journal.StateInDoubt {
			t.Fatalf("result %+v", res)
		}
		if _, err := r.srv.Transfer(r.users[0].UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.self.UserID, Amount: "2", TraceID: trace, Memo: "link"}); err != nil {
			t.Fatal(err)
		}
		out, err := r.desk.Recover(ctx, r.pin)
		if err != nil || len(out) != 1 || out[0].State != journal.StateFailed {
			t.Fatalf("Recover = %+v, %v; want failed", out, err)
		}
		if r.count.Posts() != 0 {
			t.Fatalf("%d posts, want none", r.count.Posts())
		}
		r.wantBal("recipient", r.users[0].UserID, usdtID, "2498")
	})
}

// TestSendWrongPIN: 20119 is final. Exactly one post, recorded as failed,
// never retried by Send, Settle or Recover.
func TestSendWrongPIN(t *testing.T) {
	r := newRig(t, 15)
	ctx := context.Background()
	rv := r.review(r.draft(0, "10", ""), nil)
	res, err := r.desk.Send(ctx, rv, wrongPIN(r.pin))
	if err != nil || res.State != journal.StateFailed || !mixin.IsPINIncorrect(res.Err) {
		t.Fatalf("Send = %+v, %v; want failed with 20119", res, err)
	}
	if r.count.Posts() != 1 {
		t.Fatalf("%d posts, want exactly 1", r.count.Posts())
	}
	if je := r.wantState(rv.TraceID, journal.StateFailed); je.Failed.Code != mixin.CodePINIncorrect {
		t.Fatalf("journal failed %+v, want code 20119", je.Failed)
	}
	r.wantNoDebit(rv.TraceID)

	// With the right PIN later, the failed payout is not posted again.
	if out, err := r.desk.Settle(ctx, rv.TraceID, r.pin); err != nil || out.State != journal.StateFailed || !out.Already || !mixin.IsPINIncorrect(out.Err) {
		t.Fatalf("Settle = %+v, %v", out, err)
	}
	if out, err := r.desk.Recover(ctx, r.pin); err != nil || len(out) != 0 {
		t.Fatalf("Recover = %+v, %v", out, err)
	}
	if again, err := r.desk.Send(ctx, rv, r.pin); err != nil || again.State != journal.StateFailed || !again.Already {
		t.Fatalf("Send again = %+v, %v", again, err)
	}
	rep := r.restart()
	if !rep.Intact() {
		t.Fatal(rep)
	}
	if out, err := r.desk.Recover(ctx, r.pin); err != nil || len(out) != 0 {
		t.Fatalf("Recover after restart = %+v, %v", out, err)
	}
	if r.count.Posts() != 1 {
		t.Fatalf("%d posts, want exactly 1", r.count.Posts())
	}
	// Paying it takes a new review, which gets a new trace.
	again := r.review(r.draft(0, "10", ""), rv)
	if !again.NewTrace || again.TraceID == rv.TraceID {
		t.Fatalf("review after a failure kept trace %s", again.TraceID)
	}
	if res := r.send(again); res.State != journal.StateDone {
		t.Fatalf("payout with the right PIN %+v", res)
	}
	r.wantOneDebit(again)
	r.wantBal("operator", r.self.UserID, usdtID, "49990")
}

// TestSendPINLocked: 429 on a transfer (the PIN locked after wrong tries,
// or rate limited) is failed and not retried.
func TestSendPINLocked(t *testing.T) {
	ctx := context.Background()
	t.Run("locked after wrong tries", func(t *testing.T) {
		r := newRig(t, 16)
		for range 5 {
			if _, err := r.client.VerifyPIN(ctx, wrongPIN(r.pin)); !mixin.IsPINIncorrect(err) {
				t.Fatalf("VerifyPIN with a wrong PIN: %v", err)
			}
		}
		rv := r.review(r.draft(0, "1", ""), nil)
		res, err := r.desk.Send(ctx, rv, r.pin)
		if err != nil || res.State != journal.StateFailed || !mixin.IsTooManyRequests(res.Err) {
			t.Fatalf("Send = %+v, %v; want failed with 429", res, err)
		}
		if je := r.wantState(rv.TraceID, journal.StateFailed); je.Failed.Code != mixin.CodeTooManyRequests {
			t.Fatalf("journal %+v, want code 429", je.Failed)
		}
		if out, err := r.desk.Recover(ctx, r.pin); err != nil || len(out) != 0 {
			t.Fatalf("Recover = %+v, %v", out, err)
		}
		if r.count.Posts() != 1 {
			t.Fatalf("%d posts, want 1", r.count.Posts())
		}
		r.wantNoDebit(rv.TraceID)
		r.wantBal("operator", r.self.UserID, usdtID, "50000")
	})
	t.Run("rate limited", func(t *testing.T) {
		r := newRig(t, 17)
		rv := r.review(r.draft(0, "1", ""), nil)
		r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultTooManyRequests})
		res := r.send(rv)
		if res.State != journal.StateFailed || !mixin.IsTooManyRequests(res.Err) {
			t.Fatalf("result %+v, want failed 429", res)
		}
		if again := r.send(rv); again.State != journal.StateFailed || !again.Already {
			t.Fatalf("Send again %+v", again)
		}
		if r.count.Posts() != 1 {
			t.Fatalf("%d posts, want 1", r.count.Posts())
		}
		r.wantNoDebit(rv.TraceID)
	})
}

// intentsInDoubt records intents for reviews without posting them: a
// process (a batch, say) that died after writing them.
func intentsInDoubt(t *testing.T, r *rig, rvs ...*Review) {
	t.Helper()
	for _, rv := range rvs {
		in := rv.Payment()
		if _, err := r.j.AppendIntent(journal.Intent{Trace: in.Key, AssetID: in.AssetID, RecipientID: in.RecipientID, Amount: in.Amount, Memo: in.Memo, Hash: rv.ContentHash}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecoverStopsAfterPINError: a refused PIN is not tried again on the
// next payout in doubt (each wrong try counts toward the PIN lock).
func TestRecoverStopsAfterPINError(t *testing.T) {
	ctx := context.Background()
	t.Run("Recover", func(t *testing.T) {
		r := newRig(t, 18)
		rvs := []*Review{r.review(r.draft(0, "1", ""), nil), r.review(r.draft(1, "2", ""), nil), r.review(r.draft(2, "3", ""), nil)}
		intentsInDoubt(t, r, rvs...)
		out, err := r.desk.Recover(ctx, wrongPIN(r.pin))
		if got := r.count.Posts(); got != 1 {
			t.Fatalf("Recover with a wrong PIN made %d posts, want 1 (results %+v, %v)", got, out, err)
		}
		if err == nil || !mixin.IsPINIncorrect(err) {
			t.Errorf("Recover error %v, want the PIN refusal", err)
		}
		if len(out) != 1 || out[0].State != journal.StateFailed || !mixin.IsPINIncorrect(out[0].Err) {
			t.Fatalf("results %+v", out)
		}
		if got := r.j.InDoubt(); len(got) != 2 {
			t.Fatalf("in doubt after the refusal: %+v, want the two not tried", got)
		}
		out, err = r.desk.Recover(ctx, r.pin)
		if err != nil || len(out) != 2 || out[0].State != journal.StateDone || out[1].State != journal.StateDone {
			t.Fatalf("Recover with the right PIN = %+v, %v", out, err)
		}
		r.wantNoDebit(rvs[0].TraceID)
		r.wantOneDebit(rvs[1])
		r.wantOneDebit(rvs[2])
	})
	t.Run("Send", func(t *testing.T) {
		r := newRig(t, 19)
		old := r.review(r.draft(0, "1", ""), nil)
		intentsInDoubt(t, r, old)
		rv := r.review(r.draft(1, "2", ""), nil)
		res, err := r.desk.Send(ctx, rv, wrongPIN(r.pin))
		if got := r.count.Posts(); got != 1 {
			t.Fatalf("Send with a wrong PIN and one payout in doubt made %d posts, want 1 (%+v, %v)", got, res, err)
		}
		// The confirmation is in the journal, closed as not sent, with
		// the PIN refusal as its reason.
		var np *NotPostedError
		if err != nil || res.State != journal.StateFailed || !errors.As(res.Err, &np) || !mixin.IsPINIncorrect(res.Err) {
			t.Errorf("Send = %+v, %v; want not sent because the PIN was refused", res, err)
		}
		if e := r.entry(rv.TraceID); e.State != journal.StateFailed || e.Failed.Code != CodeNotPosted || !strings.Contains(e.Failed.Description, "PIN") {
			t.Errorf("journal entry %+v, want failed as not posted", e)
		}
		r.wantState(old.TraceID, journal.StateFailed)
		r.wantNoDebit(rv.TraceID)
		// Sent again, the closed payout is not posted; a new review of the
		// same draft carries a new trace and is paid once.
		if res, err := r.desk.Send(ctx, rv, r.pin); err != nil || !res.Already || res.State != journal.StateFailed {
			t.Fatalf("second Send of the closed review = %+v, %v", res, err)
		}
		rv2 := r.review(r.draft(1, "2", ""), rv)
		if rv2.TraceID == rv.TraceID || !rv2.NewTrace {
			t.Fatalf("the new review kept the closed trace")
		}
		if res := r.send(rv2); res.State != journal.StateDone {
			t.Fatalf("Send with the right PIN %+v", res)
		}
		r.wantOneDebit(rv2)
	})
}

// TestSendBadPINFormat: a PIN that is not six digits is refused before
// anything is recorded or sent.
func TestSendBadPINFormat(t *testing.T) {
	r := newRig(t, 20)
	rv := r.review(r.draft(0, "1", ""), nil)
	for _, pin := range []string{"", "12345", "1234567", "12a456"} {
		res, err := r.desk.Send(context.Background(), rv, pin)
		if fe := fieldErr(err); fe == nil || fe.Field != mixin.FieldPIN {
			t.Fatalf("Send with PIN %q = %+v, %v; want a PIN field error", pin, res, err)
		}
	}
	if r.j.Len() != 0 || r.count.Posts() != 0 {
		t.Fatalf("journal has %d entries (%+v), %d posts; want nothing", r.j.Len(), r.j.Entries(), r.count.Posts())
	}
	if res := r.send(rv); res.State != journal.StateDone {
		t.Fatalf("Send with the right PIN %+v", res)
	}
	r.wantOneDebit(rv)
}

// TestSendRefusesChangedReview: the content hash pins what the operator saw.
func TestSendRefusesChangedReview(t *testing.T) {
	r := newRig(t, 21)
	base := r.review(r.draft(0, "0.5", "lunch"), nil)
	changes := map[string]func(*Review){
		"amount text":    func(rv *Review) { rv.AmountText = "0.6" },
		"amount form":    func(rv *Review) { rv.AmountText = "0.50" },
		"memo":           func(rv *Review) { rv.Memo = "dinner" },
		"recipient":      func(rv *Review) { rv.Recipient.UserID = r.users[1].UserID },
		"asset":          func(rv *Review) { rv.Asset.AssetID = btcID },
		"trace":          func(rv *Review) { rv.TraceID = NewTraceID() },
		"hash":           func(rv *Review) { rv.ContentHash = strings.Repeat("0", 64) },
		"amount garbage": func(rv *Review) { rv.AmountText = "-1" },
	}
	for name, change := range changes {
		rv := *base
		change(&rv)
		res, err := r.desk.Send(context.Background(), &rv, r.pin)
		if err == nil || res.State == journal.StateDone {
			t.Errorf("%s changed: Send = %+v, %v; want refused", name, res, err)
		}
	}
	if r.j.Len() != 0 || r.count.Posts() != 0 || len(r.srv.Ledger()) != 0 {
		t.Fatalf("a changed review reached the journal (%d) or the server (%d posts)", r.j.Len(), r.count.Posts())
	}
	if res := r.send(base); res.State != journal.StateDone {
		t.Fatalf("the unchanged review: %+v", res)
	}
	r.wantOneDebit(base)
}

// TestSendAfterTornTail: a crash during an append leaves a piece of a line;
// the next open keeps the complete records, computes what is in doubt from
// them, and sends go on.
func TestSendAfterTornTail(t *testing.T) {
	r := newRig(t, 22)
	a := r.review(r.draft(0, "1.25", "a"), nil)
	b := r.review(r.draft(1, "2.5", "b"), nil)
	c := r.review(r.draft(2, "3.75", "c"), nil)
	r.send(a)
	r.send(b)
	crashOnce(t)
	if res := r.send(c); res.State != journal.StateInDoubt {
		t.Fatalf("c %+v", res)
	}
	seq, head := r.j.Head()
	r.j.Close()
	// The crash hit while the done record of c was being written.
	torn := fmt.Sprintf(`{"seq":%d,"prev":"%s","kind":"done","time":"2025-11-26T12:`, seq+1, head)
	f, err := os.OpenFile(r.path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(torn); err != nil {
		t.Fatal(err)
	}
	f.Close()

	rep := r.open()
	if !rep.Intact() || !rep.TornTail || rep.Count != 5 || len(rep.Records) != 5 || rep.TornLen != int64(len(torn)) {
		t.Fatalf("report: intact %v torn %v count %d records %d torn len %d\n%s", rep.Intact(), rep.TornTail, rep.Count, len(rep.Records), rep.TornLen, rep)
	}
	if r.j.Len() != 3 {
		t.Fatalf("%d entries, want 3", r.j.Len())
	}
	r.wantState(a.TraceID, journal.StateDone)
	r.wantState(b.TraceID, journal.StateDone)
	if got := r.j.InDoubt(); len(got) != 1 || got[0].Trace != c.TraceID {
		t.Fatalf("InDoubt = %+v, want c", got)
	}
	d := r.review(r.draft(3, "5", "d"), nil)
	if !hasWarning(d, WarnInDoubt) {
		t.Errorf("warnings %v, want %s", warningKinds(d), WarnInDoubt)
	}
	if res := r.send(d); res.State != journal.StateDone {
		t.Fatalf("d %+v", res)
	}
	for _, rv := range []*Review{a, b, c, d} {
		r.wantOneDebit(rv)
		r.wantState(rv.TraceID, journal.StateDone)
	}
	rep = r.restart()
	// 5 records before, d's intent, c's post record (c was posted again
	// before d), c's and d's outcomes.
	if !rep.Intact() || rep.TornTail || rep.Count != 9 {
		t.Fatalf("report after sends: %s", rep)
	}
	r.wantBal("operator", r.self.UserID, usdtID, "49987.5")
}

// TestSendRefusedOnTamperedJournal: an edited record makes the journal
// untrusted; Send refuses and nothing reaches the server, not even a
// payout in doubt that the edit changed.
func TestSendRefusedOnTamperedJournal(t *testing.T) {
	for _, target := range []string{"done intent", "intent in doubt"} {
		t.Run(target, func(t *testing.T) {
			r := newRig(t, 23)
			ctx := context.Background()
			a := r.review(r.draft(0, "1.25", "a"), nil)
			b := r.review(r.draft(1, "2.5", "b"), nil)
			c := r.review(r.draft(2, "3.75", "c"), nil)
			r.send(a) // lines 1, 2
			crashOnce(t)
			r.send(b) // line 3, in doubt
			// Keep b in doubt while c is sent: its look-ups fail.
			r.srv.InjectFault("GET", "/transfers/trace/", sandbox.Fault{Kind: sandbox.FaultServerError, Times: 4})
			r.send(c) // lines 4, 5
			r.wantState(b.TraceID, journal.StateInDoubt)
			d := r.review(r.draft(3, "5", "d"), nil) // reviewed before the edit
			r.j.Close()

			lines := strings.SplitAfter(readFileT(t, r.path), "\n")
			line, from, to := 1, `"amount":"1.25"`, `"amount":"9.25"`
			if target == "intent in doubt" {
				line, from, to = 3, `"amount":"2.5"`, `"amount":"250"`
			}
			if !strings.Contains(lines[line-1], from) {
				t.Fatalf("line %d is %s", line, lines[line-1])
			}
			lines[line-1] = strings.Replace(lines[line-1], from, to, 1)
			if err := os.WriteFile(r.path, []byte(strings.Join(lines, "")), 0o600); err != nil {
				t.Fatal(err)
			}
			posts, ledger := r.count.Posts(), len(r.srv.Ledger())

			rep := r.open()
			if rep.Intact() {
				t.Fatalf("an edited journal reads as intact:\n%s", rep)
			}
			var be *journal.BrokenError
			if err := rep.Err(); !errors.As(err, &be) || be.First.Line != line || !strings.Contains(err.Error(), fmt.Sprintf("line %d", line)) {
				t.Fatalf("report error %v, want a BrokenError at line %d", err, line)
			}
			if rep.FirstBad.Reason != journal.ReasonContentHash {
				t.Errorf("first problem %+v, want a content-hash problem", rep.FirstBad)
			}

			if _, err := r.desk.Review(ctx, r.draft(3, "5", "d"), nil); !errors.Is(err, journal.ErrBroken) {
				t.Fatalf("Review on a broken journal: %v, want ErrBroken", err)
			}
			res, err := r.desk.Send(ctx, d, r.pin)
			if err == nil || !errors.Is(err, journal.ErrBroken) || res.State == journal.StateDone {
				t.Fatalf("Send on a broken journal = %+v, %v; want ErrBroken", res, err)
			}
			if _, err := r.desk.Recover(ctx, r.pin); err == nil {
				t.Errorf("Recover on a broken journal did not fail")
			}
			if _, err := r.desk.Settle(ctx, b.TraceID, r.pin); err == nil {
				t.Errorf("Settle on a broken journal did not fail")
			}
			if r.count.Posts() != posts || len(r.srv.Ledger()) != ledger {
				t.Fatalf("the server got %d posts and %d transfers from a broken journal: %+v",
					r.count.Posts()-posts, len(r.srv.Ledger())-ledger, r.srv.Ledger())
			}
			r.wantNoDebit(d.TraceID)
			r.wantNoDebit(b.TraceID)
			if _, ok := r.j.Lookup(d.TraceID); ok {
				t.Error("the new payout was recorded in a broken journal")
			}
		})
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

func readFileT(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSendRefusesStaleReview: a review left on the confirmation for longer
// than MaxReviewAge is not sent; nothing is recorded or posted. A review
// already sent is still answered from the journal however old it is.
func TestSendRefusesStaleReview(t *testing.T) {
	r := newRig(t, 41, withClock(reviewStart))
	stale := r.review(r.draft(0, "3", "old"), nil)
	sent := r.review(r.draft(1, "4", "sent"), nil)
	first := r.send(sent)
	r.clock.Advance(MaxReviewAge + time.Second)
	res, err := r.desk.Send(context.Background(), stale, r.pin)
	if !errors.Is(err, ErrReviewStale) || res.State == journal.StateDone {
		t.Fatalf("Send of a stale review = %+v, %v; want ErrReviewStale", res, err)
	}
	if _, ok := r.j.Lookup(stale.TraceID); ok {
		t.Fatal("a stale review was recorded")
	}
	r.wantNoDebit(stale.TraceID)
	again := r.send(sent)
	if again.State != journal.StateDone || !again.Already || again.Snap.SnapshotID != first.Snap.SnapshotID {
		t.Fatalf("old sent review = %+v, want its recorded outcome", again)
	}
	if r.count.Posts() != 1 {
		t.Fatalf("%d posts, want 1", r.count.Posts())
	}
}
