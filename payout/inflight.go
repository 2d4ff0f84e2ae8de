package payout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/payout/rail"
)

// The rules of a post in flight, which hold for every rail. A post of a
// payment (rail.Rail.Pay) may be held by the rail's server, or by the
// network in front of it, past the client's timeout and still be executed
// afterwards. So:
//
//   - A post is in flight from the moment its intent (or post record) is
//     written until LastPost + PostWindow. While any post of a trace may be
//     in flight, nothing about that trace is final: a refusal of a later
//     post proves only that that post did not execute. Settling therefore
//     only looks the trace up inside the window, and posts again only after
//     it (when every earlier post can no longer execute, so that the new
//     post's refusal is final).
//   - While any paying request of the session (a post, or a PIN check) may
//     be in flight, no other one goes out. On the legacy rail every paying
//     request bears the PIN: a held post that arrives after a newer one
//     carries an older PIN iterator, and the server counts it as a wrong PIN
//     (five in 24 hours lock the PIN). The rule is kept for a rail without
//     a PIN too: a held payment may still spend what a newer one counts on.
//   - A batch row is tried under a new attempt trace only when its earlier
//     attempt is recorded failed, which these rules make final.
//
// A rail guarantees that a post it gave no answer to is executed within the
// post window or never. DefaultPostWindow is the legacy rail's, 11 minutes:
// a post is signed with a token whose exp is 5 minutes after its iat
// (MIXIN-API.md §2), the server accepts an iat up to 5 minutes ahead of its
// own clock, so a clock ahead of the server's by as much stretches that to
// 10 minutes of ours; a post the server has not authenticated by then is
// refused. The PIN inside carries a time the server accepts for 10 minutes
// either way, which bounds it again. One more minute covers a request
// authenticated just in time and executed after. A rail whose posts may be
// executed later sets Config.PostWindow.
const DefaultPostWindow = 11 * time.Minute

// CodeNotPosted is the code of a failed outcome recorded by mixdesk itself
// for an intent that was never posted (nothing reached the server under its
// trace, and nothing will): the operator confirmed it, and the journal says
// why it was not sent. It is no rail's code.
const CodeNotPosted = -1

// PostPendingError says that a post may still reach the server until Until,
// so nothing is posted before then.
type PostPendingError struct {
	Until time.Time
	// Trace is the payout whose post may still arrive.
	Trace string
	// Own is set when Trace is the payout being settled: it stays in doubt
	// until Until and is looked up again then.
	Own bool
	// NoPIN is set when the rail pays without a PIN: what waits is then
	// any payment, not a PIN.
	NoPIN bool
}

func (e *PostPendingError) Error() string {
	at := e.Until.Local().Format("15:04:05")
	if e.Own {
		return "in doubt until " + at + ": the last post may still reach the server; it is looked up by its trace then, and posted again only if it was not executed"
	}
	if e.NoPIN {
		return "a post of an earlier payout may still reach the server until " + at + "; nothing more is paid before then, because a held payment could still execute after a newer one"
	}
	return "a post of an earlier payout may still reach the server until " + at + "; no PIN is sent before then, because a second PIN-bearing request could be counted as a wrong PIN"
}

// IsPostPending reports whether err is (or wraps) a *PostPendingError.
func IsPostPending(err error) bool {
	var pe *PostPendingError
	return errors.As(err, &pe)
}

// window is the post window of the desk.
func (d *Desk) window() time.Duration {
	if d.cfg.PostWindow > 0 {
		return d.cfg.PostWindow
	}
	return DefaultPostWindow
}

// markUnposted notes intents recorded by this process and not posted yet:
// no post of theirs can be in flight. An intent found in the journal at
// start-up is not known to be unposted, so its window is waited out.
func (d *Desk) markUnposted(traces ...string) {
	d.upMu.Lock()
	defer d.upMu.Unlock()
	if d.unposted == nil {
		d.unposted = make(map[string]struct{})
	}
	for _, t := range traces {
		d.unposted[t] = struct{}{}
	}
}

// markPosted is called just before a trace's post goes out.
func (d *Desk) markPosted(trace string) {
	d.upMu.Lock()
	defer d.upMu.Unlock()
	delete(d.unposted, trace)
}

func (d *Desk) isUnposted(trace string) bool {
	d.upMu.Lock()
	defer d.upMu.Unlock()
	_, ok := d.unposted[trace]
	return ok
}

// post pays p once through the rail, after noting that a post of its trace
// may be in flight from now on. A staged rail (rail.Resumer) pays with
// PayKept and keeps its stages in the journal under p.Key.
func (d *Desk) post(ctx context.Context, p rail.Payment, pin string) (*rail.Movement, error) {
	d.markPosted(p.Key)
	if rs, ok := d.staged(); ok {
		return rs.PayKept(ctx, p, pin, keeper{d: d, trace: p.Key})
	}
	return d.rail.Pay(ctx, p, pin)
}

// checkPIN checks the PIN's form when the rail pays with one.
func (d *Desk) checkPIN(pin string) error {
	if !d.rail.NeedsPIN() {
		return nil
	}
	return d.rail.CheckPIN(pin)
}

// pinBusy returns the latest time until which a paying request of this
// session (a post, or a PIN check) may still reach the server (zero when
// none may), and the trace of that post ("" for a PIN check).
func (d *Desk) pinBusy(now time.Time) (until time.Time, trace string) {
	return d.pinBusyExcept(now, nil)
}

// pinBusyExcept is pinBusy leaving out the payouts of done: their outcome
// is known, though not recorded yet (a batch group's done outcomes are
// recorded together after its posts).
func (d *Desk) pinBusyExcept(now time.Time, done map[string]bool) (until time.Time, trace string) {
	w := d.window()
	// Only the traces first: in a batch most entries in doubt are rows
	// done in the current group or recorded ahead and not posted, and
	// copying each of them before every post cost more than the post.
	for _, t := range d.journal.InDoubtTraces() {
		if done[t] || d.isUnposted(t) {
			continue
		}
		e, ok := d.journal.Lookup(t)
		if !ok || e.State != journal.StateInDoubt || !d.mayBeInFlight(e) {
			continue
		}
		if end := lastPost(e).Add(w); end.After(now) && (end.After(until) || end.Equal(until) && t < trace) {
			until, trace = end, t
		}
	}
	d.upMu.Lock()
	vb := d.verifyBusy
	d.upMu.Unlock()
	if vb.After(now) && vb.After(until) {
		until, trace = vb, ""
	}
	return until, trace
}

// pinGate returns a *PostPendingError when a paying request must not go
// out now. The caller holds d.sendMu.
func (d *Desk) pinGate() error { return d.pinGateExcept(nil) }

// pinGateExcept is pinGate leaving out the payouts of done (see
// pinBusyExcept).
func (d *Desk) pinGateExcept(done map[string]bool) error {
	if until, trace := d.pinBusyExcept(d.now(), done); !until.IsZero() {
		return &PostPendingError{Until: until, Trace: trace, NoPIN: !d.rail.NeedsPIN()}
	}
	return nil
}

// recordNotPosted records a failed outcome for an intent that was never
// posted, with why.
func (d *Desk) recordNotPosted(trace string, why error) (Result, error) {
	res := Result{TraceID: trace, State: journal.StateFailed, Err: &NotPostedError{Reason: why}}
	if _, err := d.journal.AppendFailed(journal.Failed{Trace: trace, Code: CodeNotPosted, Description: "not sent: " + errorLine(why)}); err != nil {
		res.State = journal.StateInDoubt
		return res, fmt.Errorf("payout: the payout was not sent, and recording that failed (it is settled by trace at the next start): %w", err)
	}
	return res, nil
}

// NotPostedError is the outcome of a payout recorded but never posted:
// nothing reached the server under its trace. Reason wraps why (a PIN
// refused while settling an earlier payout, a post of another payout that
// may still arrive...).
type NotPostedError struct{ Reason error }

func (e *NotPostedError) Error() string { return "not sent: " + errorLine(e.Reason) }
func (e *NotPostedError) Unwrap() error { return e.Reason }

// checkAnswer compares the rail's answer to a post with what was posted:
// trace, asset, opponent, amount (negative: the sender's view), memo, and
// the balances' sign and arithmetic when the rail tells them. An answer
// that does not match is not recorded as done: the payout stays in doubt
// and is settled by a trace look-up.
func checkAnswer(s *rail.Movement, in rail.Payment) error {
	if s == nil || s.SnapshotID == "" {
		return errors.New("the answer did not carry this transfer's snapshot")
	}
	bad := func(field, got, want string) error {
		return fmt.Errorf("the server's answer does not match the transfer sent (%s %q, sent %q); it is checked by a trace look-up", field, got, want)
	}
	switch {
	case s.Key != in.Key:
		return bad("trace", s.Key, in.Key)
	case s.AssetID != in.AssetID:
		return bad("asset", s.AssetID, in.AssetID)
	case s.OpponentID != in.RecipientID:
		return bad("recipient", s.OpponentID, in.RecipientID)
	case s.Memo != in.Memo:
		return bad("memo", s.Memo, in.Memo)
	}
	amount, err := decimal.NewFromString(s.Amount)
	want, werr := decimal.NewFromString(in.Amount)
	if err != nil || werr != nil || !amount.Neg().Equal(want) {
		return bad("amount", s.Amount, "-"+in.Amount)
	}
	if s.OpeningBalance == "" && s.ClosingBalance == "" {
		return nil
	}
	open, oerr := decimal.NewFromString(s.OpeningBalance)
	closing, cerr := decimal.NewFromString(s.ClosingBalance)
	if oerr != nil || cerr != nil || closing.IsNegative() || !open.Add(amount).Equal(closing) {
		return fmt.Errorf("the server's answer does not add up (opening %q, amount %q, closing %q); it is checked by a trace look-up", s.OpeningBalance, s.Amount, s.ClosingBalance)
	}
	return nil
}

// ErrNoPINCheck: the desk's rail cannot check a PIN.
var ErrNoPINCheck = errors.New("payout: this API cannot check a PIN")

// VerifyPIN checks the PIN with the rail's server (a rail.PINVerifier; on
// the legacy rail POST /pin/verify). It is a paying request like a post, so
// it obeys the same rule: while a post may still reach the server it is
// refused with a *PostPendingError and nothing is sent, and a check whose
// answer was lost may itself still arrive, so no paying request follows it
// within the window.
func (d *Desk) VerifyPIN(ctx context.Context, pin string) error {
	pv, ok := d.rail.(rail.PINVerifier)
	if !ok {
		return ErrNoPINCheck
	}
	if err := d.rail.CheckPIN(pin); err != nil {
		return err
	}
	d.sendMu.Lock()
	defer d.sendMu.Unlock()
	if err := d.pinGate(); err != nil {
		return err
	}
	sent := d.now()
	err := pv.VerifyPIN(ctx, pin)
	if err != nil && (!rail.IsRefused(err) || ctx.Err() != nil) {
		d.upMu.Lock()
		d.verifyBusy = sent.Add(d.window())
		d.upMu.Unlock()
	}
	return err
}
