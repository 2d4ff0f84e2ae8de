// Package legacyrail is the legacy Mixin transfer API as a payment rail
// (rail.Rail): it pays with POST /transfers under the payment's key as
// trace id, authorised by the operator's PIN, looks payments up with
// GET /transfers/trace/:trace and lists GET /snapshots. Every mapping
// between the legacy client's shapes and codes and the rail's lives here:
// mixin.Snapshot to rail.Movement, a 404 of a trace look-up to "not found",
// the error codes to the reasons of a refusal.
package legacyrail

import (
	"context"
	"errors"

	"mixdesk/mixin"
	"mixdesk/payout/rail"
)

// Client is the part of the legacy API the rail uses; *mixin.Client is one.
type Client interface {
	Asset(ctx context.Context, assetID string) (*mixin.Asset, error)
	User(ctx context.Context, userID string) (*mixin.User, error)
	Search(ctx context.Context, q string) (*mixin.User, error)
	Snapshots(ctx context.Context, q mixin.SnapshotQuery) ([]mixin.Snapshot, error)
	Transfer(ctx context.Context, in mixin.TransferInput, pin string) (*mixin.Snapshot, error)
	TransferByTrace(ctx context.Context, traceID string) (*mixin.Snapshot, error)
}

// TraceClient looks a transfer up by its trace (GET /transfers/trace/:trace);
// *mixin.Client is one.
type TraceClient interface {
	TransferByTrace(ctx context.Context, traceID string) (*mixin.Snapshot, error)
}

// pinClient is a client that can check the PIN (*mixin.Client can).
type pinClient interface {
	VerifyPIN(ctx context.Context, pin string) (*mixin.User, error)
}

// Rail is the legacy API as a rail.Rail.
type Rail struct {
	c Client
}

// verifying is a Rail whose client can check the PIN: a rail.PINVerifier.
type verifying struct {
	*Rail
	pv pinClient
}

// New makes the rail of a legacy client. When the client can check the PIN
// (as *mixin.Client can) the rail is also a rail.PINVerifier.
func New(c Client) rail.Rail {
	r := &Rail{c: c}
	if pv, ok := c.(pinClient); ok {
		return &verifying{Rail: r, pv: pv}
	}
	return r
}

// NewLooker makes the payment look-up of a legacy client (for a payment
// request's trace).
func NewLooker(c TraceClient) rail.Looker { return looker{c} }

type looker struct{ c TraceClient }

func (l looker) PaymentByKey(ctx context.Context, key string) (*rail.Movement, error) {
	return byTrace(ctx, l.c, key)
}

// User reads GET /users/:id.
func (r *Rail) User(ctx context.Context, userID string) (*rail.User, error) {
	return Users{C: r.c}.User(ctx, userID)
}

// UserByMixinID reads GET /search/:number.
func (r *Rail) UserByMixinID(ctx context.Context, mixinID string) (*rail.User, error) {
	return Users{C: r.c}.UserByMixinID(ctx, mixinID)
}

// UserClient reads users by id and by Mixin ID number (GET /users/:id,
// GET /search/:q); *mixin.Client is one, on a legacy session or on a Safe
// account's session (the Safe API keeps these calls).
type UserClient interface {
	User(ctx context.Context, userID string) (*mixin.User, error)
	Search(ctx context.Context, q string) (*mixin.User, error)
}

// Users is a rail's user look-ups on a UserClient, for every rail whose API
// keeps the messenger's user calls.
type Users struct{ C UserClient }

// User reads GET /users/:id.
func (u Users) User(ctx context.Context, userID string) (*rail.User, error) {
	got, err := u.C.User(ctx, userID)
	if err != nil {
		return nil, MarkLookup(err)
	}
	return userOf(got)
}

// UserByMixinID reads GET /search/:number.
func (u Users) UserByMixinID(ctx context.Context, mixinID string) (*rail.User, error) {
	got, err := u.C.Search(ctx, mixinID)
	if err != nil {
		return nil, MarkLookup(err)
	}
	return userOf(got)
}

// Asset reads GET /assets/:id, with the balance.
func (r *Rail) Asset(ctx context.Context, assetID string) (*rail.Asset, error) {
	a, err := r.c.Asset(ctx, assetID)
	if err != nil {
		return nil, MarkLookup(err)
	}
	if a == nil {
		return nil, &mixin.ProtocolError{Op: "GET /assets", Reason: "the answer carried no asset"}
	}
	return &rail.Asset{AssetID: a.AssetID, ChainID: a.ChainID, Symbol: a.Symbol, Name: a.Name, IconURL: a.IconURL,
		Balance: a.Balance, PriceUSD: a.PriceUSD, ChangeUSD: a.ChangeUSD}, nil
}

func userOf(u *mixin.User) (*rail.User, error) {
	if u == nil {
		return nil, &mixin.ProtocolError{Op: "GET /users", Reason: "the answer carried no user"}
	}
	return &rail.User{UserID: u.UserID, IdentityNumber: u.IdentityNumber, FullName: u.FullName}, nil
}

// MarkLookup marks the definite answers of a read (404 not found, 10002
// invalid) with the rail's markers; any other error is left as it is.
func MarkLookup(err error) error {
	switch {
	case mixin.IsNotFound(err):
		return rail.Mark(err, rail.ErrNotFound)
	case mixin.IsInvalidField(err):
		return rail.Mark(err, rail.ErrInvalid)
	}
	return err
}

// NeedsPIN: every transfer carries the operator's PIN.
func (r *Rail) NeedsPIN() bool { return true }

// CheckPIN checks the PIN's form (6 digits).
func (r *Rail) CheckPIN(pin string) error { return mixin.ValidatePIN(pin) }

// Validate checks a payment as POST /transfers would (mixin.ValidateTransfer).
func (r *Rail) Validate(p rail.Payment) (rail.Payment, error) {
	in, err := mixin.ValidateTransfer(transferOf(p))
	if err != nil {
		return p, err
	}
	return rail.Payment{Key: in.TraceID, AssetID: in.AssetID, RecipientID: in.OpponentID, Amount: in.Amount, Memo: in.Memo}, nil
}

// Pay posts POST /transfers once with the payment's key as trace id and
// the PIN encrypted afresh.
func (r *Rail) Pay(ctx context.Context, p rail.Payment, pin string) (*rail.Movement, error) {
	s, err := r.c.Transfer(ctx, transferOf(p), pin)
	if err != nil {
		return nil, payErr(err)
	}
	if s == nil {
		return nil, nil // no movement: the money logic keeps the payment in doubt
	}
	m := movementOf(*s)
	return &m, nil
}

// payErr classifies the answer to a post: an application error (a code
// below 500, or 10000 and above) is a refusal; a 5xx, a transport failure,
// a broken answer or anything else leaves the outcome unknown.
func payErr(err error) error {
	var me *mixin.Error
	if errors.As(err, &me) && (me.Code < 500 || me.Code >= 10000) {
		return refusal(me, err)
	}
	return err
}

func refusal(me *mixin.Error, err error) *rail.RefusedError {
	reason := rail.Other
	switch {
	case mixin.IsPINError(me):
		reason = rail.PINRefused
	case mixin.IsInsufficientBalance(me):
		reason = rail.Insufficient
	case mixin.IsTraceUsed(me):
		reason = rail.KeyUsed
	}
	return &rail.RefusedError{Reason: reason, Code: me.Code, Description: me.Description, Err: err}
}

// PaymentByKey reads GET /transfers/trace/:trace: 404 is "not found"
// (never executed), 403 a trace between other users.
func (r *Rail) PaymentByKey(ctx context.Context, key string) (*rail.Movement, error) {
	return byTrace(ctx, r.c, key)
}

func byTrace(ctx context.Context, c TraceClient, key string) (*rail.Movement, error) {
	s, err := c.TransferByTrace(ctx, key)
	switch {
	case mixin.IsNotFound(err):
		return nil, rail.Mark(err, rail.ErrNotFound)
	case mixin.IsForbidden(err):
		return nil, rail.Mark(err, rail.ErrNotOurs)
	case err != nil:
		return nil, err
	case s == nil:
		return nil, &mixin.ProtocolError{Op: "GET /transfers/trace", Reason: "the answer carried no transfer"}
	}
	m := movementOf(*s)
	return &m, nil
}

// Movements reads one page of GET /snapshots (limit 0: the largest page,
// 500).
func (r *Rail) Movements(ctx context.Context, q rail.Query) ([]rail.Movement, error) {
	limit := q.Limit
	if limit == 0 {
		limit = mixin.MaxSnapshotLimit
	}
	page, err := r.c.Snapshots(ctx, mixin.SnapshotQuery{Limit: limit, Offset: q.Before, Opponent: q.Opponent})
	if err != nil {
		return nil, err
	}
	out := make([]rail.Movement, len(page))
	for i := range page {
		out[i] = movementOf(page[i])
	}
	return out, nil
}

// Refusal rebuilds a recorded refusal as the *mixin.Error it was.
func (r *Rail) Refusal(code int, description string) *rail.RefusedError {
	me := &mixin.Error{Code: code, Description: description}
	return refusal(me, me)
}

// KeyTaken is a 20125 refusal with the desk's words.
func (r *Rail) KeyTaken(description string) *rail.RefusedError {
	return r.Refusal(mixin.CodeTraceUsed, description)
}

// VerifyPIN asks POST /pin/verify. Any application error is the server's
// answer; a 5xx, a transport failure or a broken answer leaves it unknown.
func (v *verifying) VerifyPIN(ctx context.Context, pin string) error {
	_, err := v.pv.VerifyPIN(ctx, pin)
	var me *mixin.Error
	if err != nil && errors.As(err, &me) && !mixin.IsServerOrTransport(err) {
		return refusal(me, err)
	}
	return err
}

func transferOf(p rail.Payment) mixin.TransferInput {
	return mixin.TransferInput{AssetID: p.AssetID, OpponentID: p.RecipientID, Amount: p.Amount, TraceID: p.Key, Memo: p.Memo}
}

func movementOf(s mixin.Snapshot) rail.Movement {
	return rail.Movement{SnapshotID: s.SnapshotID, Key: s.TraceID, AssetID: s.AssetID, OpponentID: s.OpponentID,
		Amount: s.Amount, Memo: s.Memo, CreatedAt: s.CreatedAt, OpeningBalance: s.OpeningBalance, ClosingBalance: s.ClosingBalance}
}
