package payout

import (
	"context"
	"time"

	"mixdesk/journal"
	"mixdesk/payout/rail"
)

// A rail that pays in stages (rail.Resumer, the Safe rail) keeps its state
// of a payment in the journal between its steps: the desk hands it a
// keeper that appends a rail record (journal.AppendRail, fsynced) under the
// payment's trace before the rail goes on, and settles a payment in doubt
// with Resume from the kept states instead of paying it again. The rules
// of a post in flight (inflight.go) hold as for any rail, with two
// refinements the kept states allow:
//
//   - a staged payment is in flight only once its rail says a request that
//     can execute it may have left (Resumer.Sent); before that it is not
//     waited for, holds no other payment back, and may be failed;
//   - its window starts at its last post or its last kept state, whichever
//     is later (the rail keeps its last state just before it sends).
//
// And a staged payment that may have been sent is never recorded failed on
// a refusal of the rail: only done, or failed when its key turns out to
// belong to another payment (IsKeyUsed, settled by a look-up).

// staged returns the desk's rail as a rail.Resumer when it is one.
func (d *Desk) staged() (rail.Resumer, bool) {
	rs, ok := d.rail.(rail.Resumer)
	return rs, ok
}

// keeper is what the desk hands a staged rail for the payment with trace.
type keeper struct {
	d     *Desk
	trace string
}

// Keep appends a rail record under the trace, fsynced.
func (k keeper) Keep(stage string, data []byte) error {
	_, err := k.d.journal.AppendRail(journal.RailState{Trace: k.trace, Stage: stage, Data: data})
	return err
}

// KeepDeferred appends a rail record under the trace without waiting for
// the disk (rail.DeferKeeper): it is durable with the next durable append.
func (k keeper) KeepDeferred(stage string, data []byte) error {
	_, err := k.d.journal.AppendRailDeferred(journal.RailState{Trace: k.trace, Stage: stage, Data: data})
	return err
}

// Unsettled returns the states kept for every other payment in doubt.
func (k keeper) Unsettled() [][]rail.Kept {
	var out [][]rail.Kept
	for _, e := range k.d.journal.InDoubtEntries() {
		if e.Intent.Trace != k.trace && len(e.Rail) > 0 {
			out = append(out, keptOf(e))
		}
	}
	return out
}

// keptOf is what a staged rail kept for the entry, in order.
func keptOf(e journal.Entry) []rail.Kept {
	if len(e.Rail) == 0 {
		return nil
	}
	out := make([]rail.Kept, len(e.Rail))
	for i, r := range e.Rail {
		out[i] = rail.Kept{Stage: r.Stage, Data: r.Data}
	}
	return out
}

// lastPost is when the last request of the entry that can execute it may
// have left: its last post, or its last kept state when that is later.
func lastPost(e journal.Entry) time.Time {
	t := e.LastPost
	for _, r := range e.Rail {
		if r.Time.After(t) {
			t = r.Time
		}
	}
	return t
}

// mayBeInFlight reports whether a request that can execute the entry may
// have left: not for an intent this process recorded and has not posted,
// nor for a staged payment whose rail kept nothing that was sent.
func (d *Desk) mayBeInFlight(e journal.Entry) bool {
	if d.isUnposted(e.Intent.Trace) {
		return false
	}
	if rs, ok := d.staged(); ok {
		return rs.Sent(keptOf(e))
	}
	return true
}

// sentStaged reports whether the rail is staged and, by what the journal
// kept for trace, a request that can execute it may have left: a refusal
// then proves nothing about an earlier request.
func (d *Desk) sentStaged(trace string) bool {
	rs, ok := d.staged()
	if !ok {
		return false
	}
	e, found := d.journal.Lookup(trace)
	return found && rs.Sent(keptOf(e))
}

// repost pays an entry in doubt again under its trace: a staged rail
// resumes from what it kept, any other rail pays again. An intent this
// process recorded and never posted, of which a staged rail kept nothing
// (a batch group recorded ahead, rows held back), never had anything sent
// under its trace: it is paid as its first post (PayKept), as the legacy
// rail would post it, rather than closed as not sent.
func (d *Desk) repost(ctx context.Context, e journal.Entry, in rail.Payment, pin string) (*rail.Movement, error) {
	unposted := d.isUnposted(in.Key)
	d.markPosted(in.Key)
	if rs, ok := d.staged(); ok {
		if unposted && len(e.Rail) == 0 {
			return rs.PayKept(ctx, in, pin, keeper{d: d, trace: in.Key})
		}
		return rs.Resume(ctx, in, keptOf(e), pin, keeper{d: d, trace: in.Key})
	}
	return d.rail.Pay(ctx, in, pin)
}
