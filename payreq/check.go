package payreq

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/payout/rail"
)

// PaymentMismatchError: a transfer carries the request's trace but is not
// the payment asked for (another asset, amount or memo, or a transfer that
// this wallet sent). The trace can never pay the request now, so Check
// closes it as spent; what was paid is in Paid.
type PaymentMismatchError struct {
	Request Request
	Paid    rail.Movement
}

func (e *PaymentMismatchError) Error() string {
	s, r := e.Paid, e.Request
	amt, err := decimal.NewFromString(s.Amount)
	if err != nil {
		return fmt.Sprintf("the trace of this request was used by a transfer with an unreadable amount %s; it is not marked paid, and the link can never be paid now", printable(s.Amount))
	}
	if !amt.IsPositive() {
		return fmt.Sprintf("the trace of this request was used by a transfer of %s that this wallet sent, not by a payment to it; it is not marked paid, and the link can never be paid now", payout.GroupDigits(amt.String()))
	}
	var diffs []string
	if !strings.EqualFold(s.AssetID, r.AssetID) {
		diffs = append(diffs, fmt.Sprintf("asset %s instead of %s", printable(s.AssetID), r.AssetID))
	}
	if want, _ := decimal.NewFromString(r.Amount); !amt.Equal(want) {
		diffs = append(diffs, fmt.Sprintf("amount %s instead of %s", payout.GroupDigits(amt.String()), payout.GroupDigits(r.Amount)))
	}
	if s.Memo != r.Memo {
		diffs = append(diffs, fmt.Sprintf("memo %s instead of %s", printable(s.Memo), printable(r.Memo)))
	}
	if len(diffs) == 0 {
		diffs = append(diffs, "a transfer that does not match it")
	}
	return "the request's trace was paid with " + strings.Join(diffs, ", ") + "; it is not marked paid, and the link can never be paid now (snapshot " + printable(s.SnapshotID) + ")"
}

// Check looks the request's trace up once with l (the desk's rail, or any
// rail.Looker). Not found means not paid yet: the request is returned as
// it is. A transfer to the recipient of exactly the asset, amount and memo
// asked for marks it paid (the payer, the snapshot and the time are
// recorded and written to the book). A transfer that differs closes the
// request as spent (recorded likewise) and gives a *PaymentMismatchError.
// Other errors (network, session) are returned as they are, with the
// request unchanged. A request already closed is returned without a
// look-up.
func (b *Book) Check(ctx context.Context, l rail.Looker, trace string) (Request, error) {
	r, ok := b.Get(trace)
	if !ok {
		return Request{}, ErrNotFound
	}
	if r.Closed() {
		return r, nil
	}
	if l == nil {
		return r, errors.New("payreq: the request cannot be checked without a connection to the server")
	}
	snap, err := l.PaymentByKey(ctx, r.TraceID)
	if errors.Is(err, rail.ErrNotFound) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if snap == nil {
		return r, errors.New("payreq: the trace look-up answered nothing")
	}
	if !paymentMatches(r, *snap) {
		mm := &PaymentMismatchError{Request: r, Paid: *snap}
		return b.close(r.TraceID, func(p *Request) {
			p.State, p.Reason = StateSpent, mm.Error()
			p.PaidAt = snap.CreatedAt.UTC().Round(0)
			if id, err := mixin.ParseUUID("snapshot id", snap.SnapshotID); err == nil {
				p.SnapshotID = id
			}
		}, mm)
	}
	snapID, err := mixin.ParseUUID("snapshot id", snap.SnapshotID)
	if err != nil {
		return r, fmt.Errorf("payreq: the payment's snapshot: %w", err)
	}
	payer, err := mixin.ParseUUID("payer id", snap.OpponentID)
	if err != nil {
		payer = "" // the payment stands; the payer is shown as unknown
	}
	paidAt := snap.CreatedAt.UTC().Round(0)
	if paidAt.IsZero() {
		paidAt = b.now().UTC().Round(0)
	}

	return b.close(r.TraceID, func(p *Request) {
		p.State, p.PaidAt, p.SnapshotID, p.PayerID = StatePaid, paidAt, snapID, payer
	}, nil)
}

// close records a request closed (paid or spent) by set, and returns it
// with why (nil for a payment).
func (b *Book) close(trace string, set func(*Request), why error) (Request, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, ok := b.findLocked(trace)
	if !ok {
		return Request{}, ErrNotFound
	}
	if b.reqs[i].Closed() {
		return b.reqs[i], why // another check got there first
	}
	next := append([]Request(nil), b.reqs...)
	p := next[i]
	set(&p)
	next[i] = p
	if err := b.writeLocked(next); err != nil {
		return b.reqs[i], fmt.Errorf("the request's trace was used, but recording it failed (the next check records it): %w", err)
	}
	return p, why
}

// paymentMatches: the movement is the recipient's view of a payment of
// exactly what the request asks for.
func paymentMatches(r Request, s rail.Movement) bool {
	if s.Key != "" && !strings.EqualFold(s.Key, r.TraceID) {
		return false
	}
	amt, err := decimal.NewFromString(s.Amount)
	if err != nil || !amt.IsPositive() {
		return false
	}
	want, err := decimal.NewFromString(r.Amount)
	if err != nil || !amt.Equal(want) {
		return false
	}
	return strings.EqualFold(s.AssetID, r.AssetID) && s.Memo == r.Memo
}
