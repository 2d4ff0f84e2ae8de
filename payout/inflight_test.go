package payout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout/rail"
)

// heldStart is the rig clock's start in the tests of held posts.
var heldStart = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// holdNextPost makes the server hold the next post past the client's
// timeout (and execute it after), and refuse the post after it with 429.
func holdNextPost(r *rig, hold time.Duration) {
	r.t.Cleanup(r.srv.WaitHeld)
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultHold, Delay: hold})
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultTooManyRequests})
}

// TestHeldPostThenRefusedRepost: a post held past the timeout leaves the
// payout in doubt; settling it inside the window looks the trace up and
// posts nothing (so the 429 waiting for the next post can never make it
// "failed"); once the held post has executed, the look-up finds it: done,
// paid once, no PIN try counted.
func TestHeldPostThenRefusedRepost(t *testing.T) {
	r := newRig(t, 1101, withClock(heldStart), withTimeout(100*time.Millisecond), withPostWindow(DefaultPostWindow))
	ctx := context.Background()
	rv := r.review(r.draft(0, "12.5", "held"), nil)
	holdNextPost(r, 400*time.Millisecond)

	if res := r.send(rv); res.State != journal.StateInDoubt {
		t.Fatalf("Send = %+v, want in doubt", res)
	}
	for _, step := range []time.Duration{0, time.Minute} {
		r.clock.Advance(step)
		res, err := r.desk.Settle(ctx, rv.TraceID, r.pin)
		var pe *PostPendingError
		if err != nil || res.State != journal.StateInDoubt || !errors.As(res.Err, &pe) || !pe.Own {
			t.Fatalf("Settle %v after = %+v, %v; want in doubt until the window ends", step, res, err)
		}
		if want := heldStart.Add(DefaultPostWindow); !pe.Until.Equal(want) {
			t.Fatalf("in doubt until %v, want %v", pe.Until, want)
		}
		if !strings.Contains(res.Err.Error(), "in doubt until") || !strings.Contains(res.Err.Error(), "may still reach the server") {
			t.Fatalf("the operator reads %q", res.Err)
		}
		if n := r.count.Posts(); n != 1 {
			t.Fatalf("%d posts, want only the held one", n)
		}
	}
	// A new payout meanwhile is warned about at its review, and refused
	// before anything is recorded: its PIN would go out while the held one
	// may still arrive.
	other := r.review(r.draft(1, "3", ""), nil)
	if !hasWarning(other, WarnInDoubt) || !strings.Contains(warningText(other, WarnInDoubt), "cannot be sent before") {
		t.Fatalf("warnings %+v", other.Warnings)
	}
	if res, err := r.desk.Send(ctx, other, r.pin); !IsPostPending(err) || !strings.Contains(err.Error(), "nothing was sent") {
		t.Fatalf("Send during the window = %+v, %v", res, err)
	}
	if _, ok := r.j.Lookup(other.TraceID); ok {
		t.Fatal("the refused payout was recorded")
	}

	r.srv.WaitHeld() // the server executes the held post now
	r.clock.Advance(time.Minute)
	res, err := r.desk.Settle(ctx, rv.TraceID, r.pin)
	if err != nil || res.State != journal.StateDone || res.Reposted {
		t.Fatalf("Settle after the held post = %+v, %v; want done by look-up", res, err)
	}
	r.wantOneDebit(rv)
	r.wantState(rv.TraceID, journal.StateDone)
	if n := r.srv.PINFailures(r.self.UserID); n != 0 {
		t.Fatalf("%d PIN tries counted", n)
	}
	// The 429 is still waiting: it refuses the next post, a first post,
	// which is final.
	if res := r.send(other); res.State != journal.StateFailed || !mixin.IsTooManyRequests(res.Err) {
		t.Fatalf("next payout = %+v", res)
	}
	r.wantNoDebit(other.TraceID)
}

// TestHeldPostNeverExecutedIsPostedAgainAfterItsWindow: a post held and
// then dropped by the server (never executed) is posted again, with a post
// record first, once its window is over; the refusal of that post is final.
func TestHeldPostNeverExecutedIsPostedAgainAfterItsWindow(t *testing.T) {
	r := newRig(t, 1102, withClock(heldStart), withTimeout(100*time.Millisecond), withPostWindow(DefaultPostWindow))
	ctx := context.Background()
	rv := r.review(r.draft(0, "7", ""), nil)
	// Held until its token has expired: the server refuses it then.
	r.t.Cleanup(r.srv.WaitHeld)
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultHold, Delay: 300 * time.Millisecond})
	if res := r.send(rv); res.State != journal.StateInDoubt {
		t.Fatalf("Send = %+v", res)
	}
	r.clock.Advance(DefaultPostWindow + time.Second)
	r.srv.WaitHeld()
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultTooManyRequests})
	res, err := r.desk.Settle(ctx, rv.TraceID, r.pin)
	if err != nil || res.State != journal.StateFailed || !res.Reposted || !mixin.IsTooManyRequests(res.Err) {
		t.Fatalf("Settle = %+v, %v; want the re-post refused, final", res, err)
	}
	e := r.entry(rv.TraceID)
	if e.Posts != 2 || !e.LastPost.Equal(heldStart.Add(DefaultPostWindow+time.Second)) {
		t.Fatalf("entry posts %d last %v, want the post record", e.Posts, e.LastPost)
	}
	rep := r.restart()
	if !rep.Intact() || rep.Count != 3 || rep.Records[1].Kind != journal.KindPost {
		t.Fatalf("journal after the re-post: %s", rep)
	}
	r.wantNoDebit(rv.TraceID)
}

// TestHeldBatchRowPaidOnceAcrossRerun: a batch row whose post is held past
// the timeout, with a 429 on the next post. The batch waits for the row's
// window instead of posting anything, finds the row paid, and a re-run
// pays the row the 429 refused: every row is paid exactly once.
func TestHeldBatchRowPaidOnceAcrossRerun(t *testing.T) {
	r := newRig(t, 1103, withClock(heldStart), withTimeout(100*time.Millisecond), withPostWindow(DefaultPostWindow))
	text := r.manyRows(5)
	b := r.mustPrepare(text)
	holdNextPost(r, 400*time.Millisecond)

	waiting := make(chan BatchProgress, 1)
	done := make(chan error, 1)
	go func() {
		_, err := r.runBatch(b, r.pin, nil, func(p BatchProgress) {
			if !p.WaitUntil.IsZero() {
				select {
				case waiting <- p:
				default:
				}
			}
		})
		done <- err
	}()
	select {
	case p := <-waiting:
		if p.WaitLine != 2 || !p.WaitUntil.Equal(heldStart.Add(DefaultPostWindow)) {
			t.Errorf("waiting %+v, want line 2 until the window's end", p)
		}
		if n := r.count.Posts(); n != 1 {
			t.Fatalf("%d posts while waiting, want the held one only", n)
		}
		r.srv.WaitHeld()
		r.clock.Advance(DefaultPostWindow)
	case err := <-done:
		t.Fatalf("the batch ended (%v) instead of waiting for the held row", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the batch neither waited nor ended")
	}
	if err := <-done; err != nil {
		t.Logf("first run: %v", err)
	}
	r.srv.WaitHeld()
	again := r.mustPrepare(text)
	if _, err := r.runBatch(again, r.pin, nil, nil); err != nil {
		t.Fatalf("re-run: %v", err)
	}
	// Every row once, under the trace of its paying attempt.
	for _, it := range items(again) {
		if it.State != ItemDone {
			t.Fatalf("line %d: %s (%v)", it.Row.Line, it.State, it.Err)
		}
	}
	paid := map[string]int{}
	for _, l := range r.srv.Ledger() {
		paid[l.Memo]++
	}
	for i := 1; i <= 5; i++ {
		if n := paid[fmt.Sprintf("row %d", i)]; n != 1 {
			t.Errorf("row %d paid %d times", i, n)
		}
	}
	if n := r.srv.PINFailures(r.self.UserID); n != 0 {
		t.Errorf("%d PIN tries counted", n)
	}
}

// TestCrashWhileSettlingKeepsTheConfirmation: the process dies while Send
// settles an earlier payout in doubt; the payout just confirmed is in the
// journal after the restart, and is paid once when settled.
func TestCrashWhileSettlingKeepsTheConfirmation(t *testing.T) {
	r := newRig(t, 1104)
	ctx := context.Background()
	old := r.review(r.draft(0, "1", ""), nil)
	crashOnce(t)
	if res := r.send(old); res.State != journal.StateInDoubt {
		t.Fatalf("old: %+v", res)
	}
	r.restart()
	prev := testHookBeforeRepost
	testHookBeforeRepost = func() error { return errCrash }
	t.Cleanup(func() { testHookBeforeRepost = prev })

	rv := r.review(r.draft(1, "2", ""), nil)
	if _, err := r.desk.Send(ctx, rv, r.pin); !errors.Is(err, errCrash) {
		t.Fatalf("Send = %v, want the crash while settling", err)
	}
	testHookBeforeRepost = prev
	r.restart()
	if e := r.entry(rv.TraceID); e.State != journal.StateInDoubt {
		t.Fatalf("the confirmed payout after the restart: %+v", e)
	}
	out, err := r.desk.Recover(ctx, r.pin)
	if err != nil || len(out) != 2 || out[0].State != journal.StateDone || out[1].State != journal.StateDone {
		t.Fatalf("Recover = %+v, %v", out, err)
	}
	r.wantOneDebit(old)
	r.wantOneDebit(rv)
}

// TestTransferAnswerMustMatch: an answer that names another amount,
// asset, recipient or memo, or whose balances do not add up, is not
// recorded done: the payout stays in doubt and the look-up settles it.
func TestTransferAnswerMustMatch(t *testing.T) {
	in := rail.Payment{AssetID: usdtID, RecipientID: "6f2b0e43-8c1d-4a55-9a3b-0e9c2b7d4f11", Amount: "0.2", Key: "0c6f3a52-1a8e-4bb4-9a52-6d0d6d1a0b77", Memo: "pay"}
	good := rail.Movement{SnapshotID: "3e2f6a1b-8f9c-4d0e-9a7b-5c4d3e2f1a0b", Key: in.Key, AssetID: in.AssetID,
		OpponentID: in.RecipientID, Amount: "-0.2", OpeningBalance: "10", ClosingBalance: "9.8", Memo: "pay"}
	if err := checkAnswer(&good, in); err != nil {
		t.Fatalf("a matching answer: %v", err)
	}
	noBal := good
	noBal.OpeningBalance, noBal.ClosingBalance = "", ""
	if err := checkAnswer(&noBal, in); err != nil {
		t.Fatalf("an answer without balances: %v", err)
	}
	for name, edit := range map[string]func(*rail.Movement){
		"amount":       func(s *rail.Movement) { s.Amount = "-999" },
		"positive":     func(s *rail.Movement) { s.Amount = "0.2" },
		"asset":        func(s *rail.Movement) { s.AssetID = btcID },
		"recipient":    func(s *rail.Movement) { s.OpponentID = "9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" },
		"memo":         func(s *rail.Movement) { s.Memo = "other" },
		"trace":        func(s *rail.Movement) { s.Key = "1c6f3a52-1a8e-4bb4-9a52-6d0d6d1a0b77" },
		"no snapshot":  func(s *rail.Movement) { s.SnapshotID = "" },
		"closing":      func(s *rail.Movement) { s.ClosingBalance = "0.00000001" },
		"negative":     func(s *rail.Movement) { s.OpeningBalance, s.ClosingBalance = "0.1", "-0.1" },
		"only opening": func(s *rail.Movement) { s.ClosingBalance = "" },
	} {
		s := good
		edit(&s)
		if err := checkAnswer(&s, in); err == nil {
			t.Errorf("%s: a rewritten answer was accepted", name)
		}
	}
}

// TestVerifyPINWaitsForAHeldPost: the lock screen's PIN check is a
// PIN-bearing request: while a held post may still arrive it is refused
// and nothing is sent (a newer iterator would turn the held post into a
// wrong try); a check whose answer was lost keeps transfers back in turn.
func TestVerifyPINWaitsForAHeldPost(t *testing.T) {
	r := newRig(t, 1105, withClock(heldStart), withTimeout(100*time.Millisecond), withPostWindow(DefaultPostWindow))
	ctx := context.Background()
	rv := r.review(r.draft(0, "4", ""), nil)
	r.t.Cleanup(r.srv.WaitHeld)
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultHold, Delay: 300 * time.Millisecond})
	if res := r.send(rv); res.State != journal.StateInDoubt {
		t.Fatalf("Send = %+v", res)
	}
	if err := r.desk.VerifyPIN(ctx, r.pin); !IsPostPending(err) {
		t.Fatalf("VerifyPIN during the window = %v", err)
	}
	if n := r.count.N("POST /pin/verify"); n != 0 {
		t.Fatalf("%d PIN checks reached the server", n)
	}
	r.srv.WaitHeld()
	if n := r.srv.PINFailures(r.self.UserID); n != 0 {
		t.Fatalf("%d PIN tries counted", n)
	}
	r.clock.Advance(DefaultPostWindow)
	if res, err := r.desk.Settle(ctx, rv.TraceID, r.pin); err != nil || res.State != journal.StateDone {
		t.Fatalf("Settle = %+v, %v", res, err)
	}
	if err := r.desk.VerifyPIN(ctx, r.pin); err != nil {
		t.Fatalf("VerifyPIN after = %v", err)
	}
	// A check whose answer is lost holds the next transfer back.
	r.srv.InjectFault("POST", "/pin/verify", sandbox.Fault{Kind: sandbox.FaultServerError})
	if err := r.desk.VerifyPIN(ctx, r.pin); err == nil || IsPostPending(err) {
		t.Fatalf("VerifyPIN with a 5xx = %v", err)
	}
	next := r.review(r.draft(1, "1", ""), nil)
	if _, err := r.desk.Send(ctx, next, r.pin); !IsPostPending(err) {
		t.Fatalf("Send after a lost PIN check = %v", err)
	}
}

// warningText is the text of the review's warning of kind k.
func warningText(r *Review, k WarningKind) string {
	for _, w := range r.Warnings {
		if w.Kind == k {
			return w.Text
		}
	}
	return ""
}

// TestJournalLinkRefused: a link planted at the journal's path is never
// followed: the journal does not open, and the link's target is untouched.
func TestJournalLinkRefused(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "journal.jsonl")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if _, _, err := journal.Open(path); err == nil || !strings.Contains(err.Error(), "link") {
		t.Fatalf("Open through a link = %v", err)
	}
	fi, err := os.Stat(victim)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("the target changed: %v, %v", fi, err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep\n" {
		t.Fatal("the target was written")
	}
}

// TestBatchGoesOnOnceTheHeldRowIsFound: a batch waiting for a held row's
// window looks the row up again while it waits, and goes on as soon as the
// held post has executed, long before the window is over; every row once.
func TestBatchGoesOnOnceTheHeldRowIsFound(t *testing.T) {
	old := waitLookAgain
	waitLookAgain = 100 * time.Millisecond
	t.Cleanup(func() { waitLookAgain = old })
	r := newRig(t, 1106, withClock(heldStart), withTimeout(100*time.Millisecond), withPostWindow(DefaultPostWindow))
	r.t.Cleanup(r.srv.WaitHeld)
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultHold, Delay: 300 * time.Millisecond})
	b := r.mustPrepare(r.manyRows(4))
	done := make(chan error, 1)
	go func() {
		_, err := r.runBatch(b, r.pin, nil, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("batch: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the batch waited on although the held row was paid (the clock never reached the window's end)")
	}
	r.wantEachPaidOnce(b, 0)
}
