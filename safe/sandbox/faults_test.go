package sandbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/mixin"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

const (
	verifyPath = "/safe/transaction/requests"
	submitPath = "/safe/transactions"
)

// impatient is the desk's client with a short timeout per request.
func impatient(t *testing.T, w *world, d time.Duration) *safe.Client {
	t.Helper()
	c, err := safe.NewClient(w.url, w.desk.Account(), safe.WithTimeout(d))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verified reports whether the sandbox holds a request under id, and its
// state.
func verified(w *world, id string) (bool, string) {
	for _, r := range w.srv.Requests() {
		if r.RequestID == id {
			return true, r.State
		}
	}
	return false, ""
}

// TestFaultsOnSpendingCalls injects every fault kind on verify and on
// submit, checks what the caller sees and what the sandbox did, and then
// settles the payout the contract's way (docs/safe-api.md §6.2): look it up
// by request id and, unless it was submitted, send the same bytes again.
// Whatever the fault, the payout is executed exactly once.
func TestFaultsOnSpendingCalls(t *testing.T) {
	const timeout = 60 * time.Millisecond
	type effect int
	const (
		none effect = iota
		done
		later // done once the held call is let through
	)
	cases := []struct {
		name  string
		fault sandbox.Fault
		// what the caller sees
		unknown, tooMany bool
		effect           effect
	}{
		{"500", sandbox.Fault{Kind: sandbox.FaultServerError, Status: 503}, true, false, none},
		{"429", sandbox.Fault{Kind: sandbox.FaultTooManyRequests}, false, true, none},
		{"delay past the timeout", sandbox.Fault{Kind: sandbox.FaultDelay, Delay: 300 * time.Millisecond}, true, false, none},
		{"short delay", sandbox.Fault{Kind: sandbox.FaultDelay, Delay: 10 * time.Millisecond}, false, false, done},
		{"commit then drop", sandbox.Fault{Kind: sandbox.FaultCommitThenDrop}, true, false, done},
		{"hold past the timeout", sandbox.Fault{Kind: sandbox.FaultHold, Delay: 250 * time.Millisecond}, true, false, later},
	}
	for _, phase := range []string{verifyPath, submitPath} {
		for _, c := range cases {
			t.Run(phase+"/"+c.name, func(t *testing.T) {
				w := newWorld(t)
				w.deposit(t, "1", "1")
				ctx := context.Background()
				cl := w.desk
				if c.unknown && (c.fault.Kind == sandbox.FaultDelay || c.fault.Kind == sandbox.FaultHold) {
					cl = impatient(t, w, timeout) // gives up during the delay or hold
				}
				u, err := w.desk.Prepare(ctx, pay(uuid.NewString(), "1.5", "faulted"), nil)
				if err != nil {
					t.Fatal(err)
				}
				var signed []byte
				if phase == submitPath {
					if signed, err = w.desk.VerifyAndSign(ctx, u); err != nil {
						t.Fatal(err)
					}
				}
				w.srv.InjectFault("POST", phase, c.fault)
				if phase == verifyPath {
					signed, err = cl.VerifyAndSign(ctx, u)
				} else {
					_, err = cl.Submit(ctx, u.RequestID, signed, u.Hash)
				}
				switch {
				case c.unknown && !mixin.IsServerOrTransport(err):
					t.Fatalf("want an unknown outcome, got %v", err)
				case c.tooMany && !mixin.IsTooManyRequests(err):
					t.Fatalf("want 429, got %v", err)
				case !c.unknown && !c.tooMany && err != nil:
					t.Fatal(err)
				}
				if c.fault.Kind == sandbox.FaultDelay && c.unknown {
					time.Sleep(c.fault.Delay + 50*time.Millisecond) // the abandoned handler is over
				}
				// What the sandbox did.
				has, state := verified(w, u.RequestID)
				executed := state == safe.StateSpent
				switch {
				case c.effect == none && phase == verifyPath && has:
					t.Fatal("a verify that failed before anything was recorded")
				case c.effect == none && phase == submitPath && executed:
					t.Fatal("a submit that failed before anything was executed")
				case c.effect == done && phase == verifyPath && (!has || executed):
					t.Fatalf("verify: recorded %v, state %q", has, state)
				case c.effect == done && phase == submitPath && !executed:
					t.Fatalf("submit: state %q", state)
				}

				// Settle as the contract says, while a held call may still
				// be on its way.
				out, _, err := w.desk.Settle(ctx, u.RequestID, u.Hash)
				if err != nil {
					t.Fatal(err)
				}
				if out == safe.NotSubmitted {
					if signed == nil {
						if signed, err = w.desk.VerifyAndSign(ctx, u); err != nil {
							t.Fatalf("verify again, same bytes: %v", err)
						}
					}
					if _, err := w.desk.Submit(ctx, u.RequestID, signed, u.Hash); err != nil {
						t.Fatalf("submit again, same bytes: %v", err)
					}
				}
				w.srv.WaitHeld()
				if out, _, err := w.desk.Settle(ctx, u.RequestID, u.Hash); err != nil || out != safe.Final {
					t.Fatalf("after settling: %v %v", out, err)
				}
				if got := balance(t, w.desk); got != "0.5" {
					t.Fatalf("desk balance %s, want 0.5 (paid once)", got)
				}
				if got := balance(t, w.alice); got != "1.5" {
					t.Fatalf("alice balance %s, want 1.5", got)
				}
				if n := len(w.srv.Snapshots(deskID)); n != 3 {
					t.Fatalf("%d desk snapshots, want 2 deposits and 1 payout", n)
				}
			})
		}
	}
}

// TestHeldCallRunsAfterTheCallerLeft: a submit held past the caller's
// timeout is executed afterwards; WaitHeld waits for it; a re-send of the
// same bytes meanwhile and the held call together pay once.
func TestHeldCallRunsAfterTheCallerLeft(t *testing.T) {
	w := newWorld(t)
	w.deposit(t, "1")
	ctx := context.Background()
	u, signed, _ := func() (*safe.Unsigned, []byte, error) {
		u, err := w.desk.Prepare(ctx, pay(trace1, "0.25", ""), nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := w.desk.VerifyAndSign(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		return u, s, nil
	}()
	const hold = 500 * time.Millisecond
	w.srv.InjectFault("POST", submitPath, sandbox.Fault{Kind: sandbox.FaultHold, Delay: hold, Times: 2})
	start := time.Now()
	if _, err := impatient(t, w, 50*time.Millisecond).Submit(ctx, trace1, signed, u.Hash); !mixin.IsServerOrTransport(err) {
		t.Fatalf("held submit: %v", err)
	}
	// Re-sent at once, itself held: both arrive later, one pays.
	if _, err := impatient(t, w, 50*time.Millisecond).Submit(ctx, trace1, signed, u.Hash); !mixin.IsServerOrTransport(err) {
		t.Fatalf("second held submit: %v", err)
	}
	early := time.Since(start) < hold/2
	if _, state := verified(w, trace1); early && state == safe.StateSpent {
		t.Fatal("the held call ran before its hold was over")
	}
	w.srv.WaitHeld()
	if time.Since(start) < hold {
		t.Fatal("WaitHeld returned before the hold was over")
	}
	if _, state := verified(w, trace1); state != safe.StateSpent {
		t.Fatalf("after WaitHeld the held submit was not executed: %q", state)
	}
	if got := balance(t, w.desk); got != "0.75" {
		t.Fatalf("balance %s: paid more or less than once", got)
	}
	w.srv.WaitHeld() // nothing held: returns at once

	// A refusal of the re-send proves only that the re-send did not run:
	// the held submit still pays (payout/inflight.go), so the payout stays
	// in doubt and its outputs held until no earlier submit can arrive.
	const trace2 = "6b3a8f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
	w.deposit(t, "1")
	u2, err := w.desk.Prepare(ctx, pay(trace2, "0.5", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	signed2, err := w.desk.VerifyAndSign(ctx, u2)
	if err != nil {
		t.Fatal(err)
	}
	w.srv.InjectFault("POST", submitPath, sandbox.Fault{Kind: sandbox.FaultHold, Delay: hold})
	w.srv.InjectFault("POST", submitPath, sandbox.Fault{Kind: sandbox.FaultTooManyRequests})
	if _, err := impatient(t, w, 50*time.Millisecond).Submit(ctx, trace2, signed2, u2.Hash); !mixin.IsServerOrTransport(err) {
		t.Fatalf("held submit: %v", err)
	}
	if _, err := w.desk.Submit(ctx, trace2, signed2, u2.Hash); !mixin.IsTooManyRequests(err) {
		t.Fatalf("re-send: %v", err)
	}
	w.srv.WaitHeld()
	if out, _, err := w.desk.Settle(ctx, trace2, u2.Hash); err != nil || out != safe.Final {
		t.Fatalf("the held submit after a refused re-send: %v %v", out, err)
	}
}

// TestHeldCallAuthenticatedAfterTheHold: a held call is authenticated when
// it is handled; one whose token expired meanwhile is refused and moves
// nothing (what bounds a post in flight, docs/safe-api.md §1.1). The
// token is made to expire 100 ms after it is signed; the hold is longer.
func TestHeldCallAuthenticatedAfterTheHold(t *testing.T) {
	w := newWorld(t)
	w.deposit(t, "1")
	ctx := context.Background()
	late := func() time.Time { return time.Now().Add(-5*time.Minute + 100*time.Millisecond) }
	short, err := safe.NewClient(w.url, w.desk.Account(), safe.WithTimeout(50*time.Millisecond), safe.WithClock(late))
	if err != nil {
		t.Fatal(err)
	}
	u, err := w.desk.Prepare(ctx, pay(trace1, "0.5", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := w.desk.VerifyAndSign(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	w.srv.InjectFault("POST", submitPath, sandbox.Fault{Kind: sandbox.FaultHold, Delay: 300 * time.Millisecond})
	if _, err := short.Submit(ctx, trace1, signed, u.Hash); !mixin.IsServerOrTransport(err) {
		t.Fatalf("held submit: %v", err)
	}
	w.srv.WaitHeld()
	if out, _, err := w.desk.Settle(ctx, trace1, u.Hash); err != nil || out != safe.NotSubmitted {
		t.Fatalf("a held submit whose token expired during the hold: %v %v", out, err)
	}
	if _, err := w.desk.Submit(ctx, trace1, signed, u.Hash); err != nil {
		t.Fatal(err)
	}
	if out, _, err := w.desk.Settle(ctx, trace1, u.Hash); err != nil || out != safe.Final || balance(t, w.desk) != "0.5" {
		t.Fatalf("%v %v", out, err)
	}
}
