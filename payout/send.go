package payout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/payout/rail"
)

// Result is what became of one payout.
type Result struct {
	TraceID string
	State   journal.State  // done, failed or in doubt
	Snap    *rail.Movement // the sender's movement when done and known
	// Err is the rail's refusal (failed: a *rail.RefusedError, or a
	// *NotPostedError) or what left the payout in doubt.
	Err error
	// Already is set when the journal already held the outcome and nothing
	// was posted (a second Send of the same review).
	Already bool
	// Reposted is set when settling posted the transfer again with its trace.
	Reposted bool
	// Until is set when a post of this payout may still reach the server:
	// it stays in doubt at least until then (see DefaultPostWindow).
	Until time.Time
}

// MaxReviewAge is how long a review may wait for its confirmation before it
// must be made again.
const MaxReviewAge = 10 * time.Minute

// ErrReviewStale: the review is older than MaxReviewAge; nothing was sent.
var ErrReviewStale = errors.New("payout: this review is more than 10 minutes old; review it again (balances and warnings may have changed); nothing was sent")

// ErrTraceMismatch: the journal holds another payout under this trace id;
// nothing was sent. Review the draft again.
var ErrTraceMismatch = errors.New("payout: this trace id already belongs to another payout in the journal")

// testHookAfterIntent, when set by a test, runs after the intent is durable
// and before the post; returning an error stops Send there, as a crash would.
var testHookAfterIntent func() error

// testHookBeforeRepost, when set by a test, runs in a settlement after the
// post record is durable and before the post; returning an error stops
// there, as a crash would (the error is the procedure's).
var testHookBeforeRepost func() error

// Send pays a reviewed payout: it settles any transfer still in doubt,
// appends the intent (fsynced), posts once with the review's trace id and
// records the outcome. A timeout, a 5xx or a lost connection leaves the
// payout in doubt (Result.State); it is settled by trace later, never sent
// with a new trace. Sending the same review again never moves money twice:
// a recorded outcome is returned as it is, an in-doubt one is settled.
//
// A payout over a cap of the policy (the journal may have changed since the
// review) is refused with a *CapError before anything is recorded or sent.
//
// The error is for failures to run the procedure at all (the journal cannot
// be written, the review does not match the journal, a cap); the server's
// answer is in the Result.
func (d *Desk) Send(ctx context.Context, r *Review, pin string) (Result, error) {
	if r == nil {
		return Result{}, errors.New("payout: nothing to send")
	}
	in := r.Payment()
	if _, err := d.rail.Validate(in); err != nil {
		return Result{}, err
	}
	if h := journal.ContentHash(in.AssetID, in.RecipientID, in.Amount, in.Memo, in.Key); h != r.ContentHash {
		return Result{}, errors.New("payout: the review was changed after it was built; review again")
	}
	d.sendMu.Lock()
	defer d.sendMu.Unlock()

	if e, ok := d.journal.Lookup(in.Key); ok {
		if e.Intent.Hash != r.ContentHash {
			return Result{TraceID: in.Key}, ErrTraceMismatch
		}
		if res, closed := d.resultFromEntry(e); closed {
			return res, nil
		}
		return d.settle(ctx, e, pin)
	}

	// A review is a picture of balances and warnings at one moment; one left
	// open too long is reviewed again before anything is sent.
	if age := d.now().Sub(r.ReviewedAt); age > MaxReviewAge {
		return Result{TraceID: in.Key}, ErrReviewStale
	}

	// A PIN the rail cannot even use would leave the payout in doubt
	// although nothing was sent: refuse it before anything is recorded.
	if err := d.checkPIN(pin); err != nil {
		return Result{TraceID: in.Key}, err
	}

	// The caps are checked on the journal as it is now: another payout may
	// have been sent since the review. Settling the payouts in doubt below
	// can only lower what counts (payouts in doubt already count).
	amount, err := decimal.NewFromString(in.Amount)
	if err != nil {
		return Result{TraceID: in.Key}, fmt.Errorf("payout: the amount %q is not a number (nothing was sent)", in.Amount)
	}
	if _, over, err := d.checkCaps(ctx, in.AssetID, amount, d.now(), in.Key); err != nil {
		return Result{TraceID: in.Key}, err
	} else if over != nil {
		over.Symbol = r.Asset.Symbol
		return Result{TraceID: in.Key}, over
	}

	// A post that may still reach the server keeps every other PIN-bearing
	// request back: the operator is told at once, before anything is
	// recorded, and can confirm again after that time.
	if err := d.pinGate(); err != nil {
		return Result{TraceID: in.Key}, fmt.Errorf("payout: nothing was sent: %w", err)
	}

	// The confirmation is made durable before anything that can take time
	// (settling earlier payouts is network work): from here on a restart
	// shows this payout, sent, in doubt or not sent.
	d.markUnposted(in.Key)
	if _, err := d.journal.AppendIntent(journal.Intent{Trace: in.Key, AssetID: in.AssetID, RecipientID: in.RecipientID,
		Amount: in.Amount, Memo: in.Memo, Hash: r.ContentHash}); err != nil {
		d.markPosted(in.Key)
		return Result{TraceID: in.Key}, fmt.Errorf("payout: recording the intent (nothing was sent): %w", err)
	}
	if testHookAfterIntent != nil {
		if err := testHookAfterIntent(); err != nil {
			return Result{TraceID: in.Key, State: journal.StateInDoubt, Err: err}, nil
		}
	}

	// Earlier transfers in doubt are settled first, so that the picture the
	// operator sees next is true. Their outcomes are in the journal.
	for _, other := range d.journal.InDoubtEntries() {
		if other.Intent.Trace == in.Key {
			continue
		}
		res, err := d.settle(ctx, other, pin)
		if err != nil {
			return Result{TraceID: in.Key, State: journal.StateInDoubt, Err: errNotPostedYet}, err
		}
		if res.State == journal.StateFailed && rail.IsPINRefused(res.Err) {
			// Posting this payout with a PIN just refused would be a retry.
			return d.recordNotPosted(in.Key, fmt.Errorf("settling an earlier payout in doubt, the PIN was refused: %w", res.Err))
		}
	}
	// Settling may have posted an earlier payout again, and that post may
	// still be in flight.
	if err := d.pinGate(); err != nil {
		return d.recordNotPosted(in.Key, err)
	}
	snap, err := d.post(ctx, in, pin)
	return d.record(ctx, in, snap, err, false)
}

// errNotPostedYet: the intent is recorded but was not posted; the payout is
// settled by trace (and posted, after its window) at the next settlement.
var errNotPostedYet = errors.New("recorded but not posted yet; it is settled by its trace before anything else is sent")

// record appends the outcome of one post of in.
func (d *Desk) record(ctx context.Context, in rail.Payment, snap *rail.Movement, err error, reposted bool) (Result, error) {
	res := Result{TraceID: in.Key, Reposted: reposted}
	if err == nil {
		if cerr := checkAnswer(snap, in); cerr != nil {
			res.State, res.Err, res.Until = journal.StateInDoubt, cerr, d.postedUntil(in.Key)
			return res, nil
		}
		return d.recordDone(res, snap, journal.ViaSend)
	}
	if rail.IsKeyUsed(err) {
		// The trace was paid already: look it up and record what was paid.
		found, lerr := d.rail.PaymentByKey(ctx, in.Key)
		if errors.Is(lerr, rail.ErrNotOurs) {
			return d.recordFailed(res, d.traceTakenByOthers())
		}
		if lerr != nil {
			res.State, res.Err = journal.StateInDoubt, fmt.Errorf("trace already used, and looking it up failed: %w", lerr)
			return res, nil
		}
		if found.Matches(in) {
			return d.recordDone(res, found, journal.ViaRecovery)
		}
		return d.recordFailed(res, d.traceTaken(found))
	}
	if errors.Is(err, rail.ErrNotSent) {
		// Nothing that could execute the payment left, and nothing will.
		return d.recordNotPosted(in.Key, err)
	}
	var re *rail.RefusedError
	if errors.As(err, &re) && !d.sentStaged(in.Key) {
		return d.recordFailed(res, re)
	}
	// Anything else (5xx, transport, a broken answer, a cancelled
	// context): unknown.
	res.State, res.Err = journal.StateInDoubt, err
	res.Until = d.postedUntil(in.Key)
	return res, nil
}

// postedUntil is the end of the window of the last post of trace.
func (d *Desk) postedUntil(trace string) time.Time {
	e, ok := d.journal.Lookup(trace)
	if !ok || !d.mayBeInFlight(e) {
		return time.Time{}
	}
	return lastPost(e).Add(d.window())
}

// doneRecord is the done outcome of a posted transfer (via send): the
// closing balance kept only when the movement says it and it reads as one.
func doneRecord(trace string, snap *rail.Movement) journal.Done {
	closing := ""
	if snap.ClosingBalance != "" && snap.OpponentID != "" {
		if c, err := decimal.NewFromString(snap.ClosingBalance); err == nil && !c.IsNegative() {
			closing = c.String()
		}
	}
	return journal.Done{Trace: trace, SnapshotID: snap.SnapshotID, ClosingBalance: closing, Via: journal.ViaSend}
}

func (d *Desk) recordDone(res Result, snap *rail.Movement, via journal.Via) (Result, error) {
	res.State, res.Snap = journal.StateDone, snap
	done := doneRecord(res.TraceID, snap)
	done.Via = via
	if _, err := d.journal.AppendDone(done); err != nil {
		// The money moved; only the record is missing. The entry stays in
		// doubt in the journal and the next settlement finds the snapshot.
		return res, fmt.Errorf("payout: the transfer was made (snapshot %s) but recording it failed: %w", snap.SnapshotID, err)
	}
	return res, nil
}

func (d *Desk) recordFailed(res Result, re *rail.RefusedError) (Result, error) {
	res.State, res.Err = journal.StateFailed, re
	if _, err := d.journal.AppendFailed(journal.Failed{Trace: res.TraceID, Code: re.Code, Description: re.Description}); err != nil {
		return res, fmt.Errorf("payout: the server refused the transfer (%v) and recording it failed: %w", re, err)
	}
	return res, nil
}

// traceTaken is the refusal recorded when the trace belongs to another
// transfer: what that transfer was, in the words of this account.
func (d *Desk) traceTaken(found *rail.Movement) *rail.RefusedError {
	what := fmt.Sprintf("%s of asset %s", strings.TrimPrefix(found.Amount, "-"), found.AssetID)
	if strings.HasPrefix(found.Amount, "-") {
		what = "a payout of " + what + " to " + found.OpponentID
	} else {
		what = "a payment of " + what + " received from " + found.OpponentID
	}
	return d.rail.KeyTaken(fmt.Sprintf("the trace id already belongs to %s (snapshot %s); this payout was not made", what, found.SnapshotID))
}

// traceTakenByOthers: the trace belongs to a transfer between other users,
// so this payout can never be made under it.
func (d *Desk) traceTakenByOthers() *rail.RefusedError {
	return d.rail.KeyTaken("the trace id already belongs to a transfer this account is not part of; this payout was not made")
}

// paymentOfIntent is the payment an intent stands for.
func paymentOfIntent(in journal.Intent) rail.Payment {
	return rail.Payment{Key: in.Trace, AssetID: in.AssetID, RecipientID: in.RecipientID, Amount: in.Amount, Memo: in.Memo}
}

// failedErr is the error of a failed outcome as recorded: the rail's
// refusal, rebuilt by the rail, or the desk's own "not sent".
func (d *Desk) failedErr(f journal.Failed) error {
	if f.Code == CodeNotPosted {
		return &NotPostedError{Reason: errors.New(strings.TrimPrefix(f.Description, "not sent: "))}
	}
	return d.rail.Refusal(f.Code, f.Description)
}

// resultFromEntry is the recorded outcome of a journal entry that is done
// or failed (closed); nothing is posted for it again.
func (d *Desk) resultFromEntry(e journal.Entry) (Result, bool) {
	switch e.State {
	case journal.StateDone:
		return Result{TraceID: e.Intent.Trace, State: journal.StateDone, Already: true, Snap: movementFromDone(e)}, true
	case journal.StateFailed:
		return Result{TraceID: e.Intent.Trace, State: journal.StateFailed, Already: true, Err: d.failedErr(e.Failed)}, true
	}
	return Result{}, false
}

// movementFromDone is the movement a done entry recorded.
func movementFromDone(e journal.Entry) *rail.Movement {
	return &rail.Movement{SnapshotID: e.Done.SnapshotID, Key: e.Intent.Trace, AssetID: e.Intent.AssetID,
		OpponentID: e.Intent.RecipientID, Amount: "-" + e.Intent.Amount, ClosingBalance: e.Done.ClosingBalance, Memo: e.Intent.Memo}
}

// Settle settles one in-doubt payout by its trace: found on the rail →
// done; not found → posted again with the same trace (on the legacy rail
// with a fresh PIN encryption; when the rail needs a PIN and pin is empty
// it stays in doubt: nothing can be posted without it). A refused PIN is
// recorded and never retried.
func (d *Desk) Settle(ctx context.Context, trace, pin string) (Result, error) {
	d.sendMu.Lock()
	defer d.sendMu.Unlock()
	e, ok := d.journal.Lookup(trace)
	if !ok {
		return Result{TraceID: trace}, fmt.Errorf("payout: no payout with trace %s in the journal", trace)
	}
	if res, closed := d.resultFromEntry(e); closed {
		return res, nil
	}
	return d.settle(ctx, e, pin)
}

// ErrNeedPIN: the transfer was not executed and re-posting it needs the PIN
// (the rail needs one, and none was given).
var ErrNeedPIN = errors.New("not executed yet; re-posting it needs the PIN")

func (d *Desk) settle(ctx context.Context, e journal.Entry, pin string) (Result, error) {
	it := e.Intent
	in := paymentOfIntent(it)
	res := Result{TraceID: it.Trace, State: journal.StateInDoubt}
	// A journal that cannot be trusted (edited, or a failed write) may hold
	// an intent nobody confirmed, and no outcome could be recorded: nothing
	// is posted from it.
	if err := d.journal.Err(); err != nil {
		return res, fmt.Errorf("payout: nothing was sent: %w", err)
	}
	found, err := d.rail.PaymentByKey(ctx, it.Trace)
	switch {
	case err == nil:
		if found.Matches(in) {
			return d.recordDone(res, found, journal.ViaRecovery)
		}
		return d.recordFailed(res, d.traceTaken(found))
	case errors.Is(err, rail.ErrNotOurs):
		return d.recordFailed(res, d.traceTakenByOthers())
	case !errors.Is(err, rail.ErrNotFound):
		res.Err = err
		return res, nil
	}
	// Not executed so far. A post of it may still arrive: then it is only
	// looked up until its window is over.
	now := d.now()
	if until := lastPost(e).Add(d.window()); now.Before(until) && d.mayBeInFlight(e) {
		res.Err = &PostPendingError{Until: until, Trace: it.Trace, Own: true}
		res.Until = until
		return res, nil
	}
	if err := d.pinGate(); err != nil {
		res.Err = err
		return res, nil
	}
	if pin == "" && d.rail.NeedsPIN() {
		res.Err = ErrNeedPIN
		return res, nil
	}
	if _, err := d.journal.AppendPost(it.Trace); err != nil {
		return res, fmt.Errorf("payout: recording the post again (nothing was sent): %w", err)
	}
	if testHookBeforeRepost != nil {
		if err := testHookBeforeRepost(); err != nil {
			return res, err
		}
	}
	snap, err := d.repost(ctx, e, in, pin)
	return d.record(ctx, in, snap, err, true)
}

// Recover settles every in-doubt payout of the journal (at start-up, and
// from the history screen). pin may be empty: then, on a rail that needs a
// PIN, payouts that were not executed stay in doubt with ErrNeedPIN. A PIN refused by the server stops
// it (the refusal is in the last Result, the error says how many were left).
func (d *Desk) Recover(ctx context.Context, pin string) ([]Result, error) {
	d.sendMu.Lock()
	defer d.sendMu.Unlock()
	var out []Result
	pending := d.journal.InDoubtEntries()
	for i, e := range pending {
		r, err := d.settle(ctx, e, pin)
		out = append(out, r)
		if err != nil {
			return out, err
		}
		if r.State == journal.StateFailed && rail.IsPINRefused(r.Err) && i < len(pending)-1 {
			// Each wrong try counts toward the PIN lock: stop here.
			return out, fmt.Errorf("payout: the PIN was refused; %d more transfer(s) in doubt were not settled: %w", len(pending)-i-1, r.Err)
		}
	}
	return out, nil
}
