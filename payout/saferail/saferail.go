// Package saferail is the Mixin Safe (Sequencer) API as a payment rail
// (rail.Rail), and a staged one (rail.Resumer): one payout is one kernel
// transaction named by the payout's trace as request id, built, verified,
// signed with the wallet's spend key and submitted by package safe
// (docs/safe-api.md §4), with every stage a restart must not lose kept in
// the journal first (§6.4, §6.5):
//
//   - "unsigned": the unsigned transaction and the outputs it spends, kept
//     after it is built and before it is verified (without an fsync of its
//     own when the keeper can: it is durable with the signed bytes, and a
//     crash that loses it leaves nothing signed sent). From then on those
//     outputs are held: never chosen for another payout until this one is
//     settled (the held set is read from the kept states of the payouts in
//     doubt, so it is right after a restart).
//   - "signed": the signed transaction, kept before it is submitted. From
//     then on a submit of it may be in flight (Sent), and the payout is
//     never failed on a refusal: it is settled by a look-up of its request
//     id, and sent again only as these same bytes.
//
// It is also a rail.Merger (merge.go): a batch row that needs more than
// the kernel's 256 inputs is paid after merges, transactions of the
// wallet to itself kept and settled like payouts.
//
// Recipients are read with the messenger calls GET /users/:id and
// GET /search/:number, which take the Safe session unchanged (§3.4);
// balances are sums of the wallet's unspent outputs (§3.1), exact decimals;
// the history is GET /safe/snapshots (§3.3). The rail needs no PIN: the
// spend key is in the keystore.
//
// Every mapping between package safe's shapes and codes and the rail's
// lives here.
package saferail

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"mixdesk/mixin"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/rail"
	"mixdesk/safe"
)

// The stages the rail keeps (rail.Keeper).
const (
	StageUnsigned = "unsigned"
	StageSigned   = "signed"
)

// CodeInsufficient is the code of the rail's own refusal when the
// unspent outputs of the asset not held by payouts in doubt do not cover
// a payment (nothing was sent). It is the legacy API's code for an
// insufficient balance, which the Safe API never answers.
const CodeInsufficient = mixin.CodeInsufficientBalance

// UserClient reads users with the messenger calls; *mixin.Client made
// with the Safe account's session (safe.Account.Session) is one.
type UserClient = legacyrail.UserClient

// Rail is the Safe API as a rail.Resumer. Safe for concurrent use.
type Rail struct {
	c     *safe.Client
	users UserClient
	self  string // the wallet's app id
}

var _ rail.Resumer = (*Rail)(nil)

// New makes the rail of a Safe client, reading users with users.
func New(c *safe.Client, users UserClient) (*Rail, error) {
	if c == nil || users == nil {
		return nil, errors.New("saferail: a rail needs a Safe client and a user client")
	}
	return &Rail{c: c, users: users, self: c.Account().AppID}, nil
}

// Option configures Dial.
type Option func(*options)

type options struct {
	http    *http.Client
	timeout time.Duration
	retry   *mixin.RetryPolicy
	now     func() time.Time
}

// WithHTTPClient sets the HTTP client of every call (a copy that follows
// no redirect is used).
func WithHTTPClient(h *http.Client) Option { return func(o *options) { o.http = h } }

// WithTimeout bounds each single request (default 15 s).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithRetry sets the retry policy of reads (default mixin.DefaultRetry).
func WithRetry(p mixin.RetryPolicy) Option { return func(o *options) { o.retry = &p } }

// WithClock sets the clock of the request tokens (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Dial makes the rail of a Safe profile: it checks the keystore field by
// field (safe.Keystore.Open; the first bad field in one line that never
// quotes a key) and makes the Safe client and the user client on baseURL
// (https, or http on loopback for a sandbox) with the keystore's session.
// It sends nothing; CheckAccount asks the API whether the wallet can pay.
func Dial(baseURL string, ks safe.Keystore, opts ...Option) (*Rail, error) {
	acct, err := ks.Open()
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var so []safe.Option
	var mo []mixin.Option
	if o.http != nil {
		so, mo = append(so, safe.WithHTTPClient(o.http)), append(mo, mixin.WithHTTPClient(o.http))
	}
	if o.timeout > 0 {
		so, mo = append(so, safe.WithTimeout(o.timeout)), append(mo, mixin.WithTimeout(o.timeout))
	}
	if o.retry != nil {
		so, mo = append(so, safe.WithRetry(*o.retry)), append(mo, mixin.WithRetry(*o.retry))
	}
	if o.now != nil {
		so, mo = append(so, safe.WithClock(o.now)), append(mo, mixin.WithClock(o.now))
	}
	c, err := safe.NewClient(baseURL, acct, so...)
	if err != nil {
		return nil, err
	}
	users, err := mixin.NewClient(baseURL, acct.Session(), mo...)
	if err != nil {
		return nil, err
	}
	return New(c, users)
}

// Self is the wallet's own user id (the app id): the desk's Config.Self.
func (r *Rail) Self() string { return r.self }

// Client is the rail's Safe client.
func (r *Rail) Client() *safe.Client { return r.c }

// CheckAccount asks GET /safe/me whether this wallet can pay: nil, or
// safe.ErrNotRegistered (the spend key is not registered: the dashboard's
// App Wallet page), or a *mixin.FieldError on the spend key when another
// key is registered, or the error of the call.
func (r *Rail) CheckAccount(ctx context.Context) error {
	_, err := r.c.CheckRegistered(ctx)
	return err
}

// Me checks the account with GET /safe/me as CheckAccount does and returns
// the app as the API answered it (for the console's header).
func (r *Rail) Me(ctx context.Context) (*rail.User, error) {
	u, err := r.c.CheckRegistered(ctx)
	if err != nil {
		return nil, err
	}
	return &rail.User{UserID: u.UserID, IdentityNumber: u.IdentityNumber, FullName: u.FullName}, nil
}

// Holdings lists the assets the wallet holds, in asset id order: each
// with the exact sum of its unspent outputs (inscriptions left out) and
// its metadata (POST /safe/assets/fetch). An asset the API does not know
// is listed by id, with no symbol.
func (r *Rail) Holdings(ctx context.Context) ([]rail.Asset, error) {
	bal, err := r.c.Balances(ctx)
	if err != nil || len(bal) == 0 {
		return nil, err
	}
	ids := make([]string, len(bal))
	for i, b := range bal {
		ids[i] = b.AssetID
	}
	meta, err := r.c.FetchAssets(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*safe.Asset, len(meta))
	for i := range meta {
		byID[meta[i].AssetID] = &meta[i]
	}
	out := make([]rail.Asset, len(bal))
	for i, b := range bal {
		out[i] = rail.Asset{AssetID: b.AssetID, Balance: b.Amount}
		if a := byID[b.AssetID]; a != nil {
			out[i] = rail.Asset{AssetID: a.AssetID, ChainID: a.ChainID, Symbol: a.ShownSymbol(), Name: a.ShownName(), IconURL: a.IconURL,
				Balance: b.Amount, PriceUSD: a.PriceUSD, ChangeUSD: a.ChangeUSD}
		}
	}
	return out, nil
}

// User reads GET /users/:id.
func (r *Rail) User(ctx context.Context, userID string) (*rail.User, error) {
	return legacyrail.Users{C: r.users}.User(ctx, userID)
}

// UserByMixinID reads GET /search/:number.
func (r *Rail) UserByMixinID(ctx context.Context, mixinID string) (*rail.User, error) {
	return legacyrail.Users{C: r.users}.UserByMixinID(ctx, mixinID)
}

// Asset reads GET /safe/assets/:id, with the balance: the sum of the
// wallet's unspent outputs of the asset (inscriptions left out), exact.
// Outputs held by payouts in doubt are counted: they are the wallet's
// until a transaction spending them is final.
func (r *Rail) Asset(ctx context.Context, assetID string) (*rail.Asset, error) {
	a, err := r.c.Asset(ctx, assetID)
	if err != nil {
		return nil, legacyrail.MarkLookup(err)
	}
	outs, err := r.c.UnspentOutputs(ctx, a.AssetID)
	if err != nil {
		return nil, err
	}
	balance := "0"
	for _, b := range safe.SumBalances(outs) {
		if b.AssetID == a.AssetID {
			balance = b.Amount
		}
	}
	return &rail.Asset{AssetID: a.AssetID, ChainID: a.ChainID, Symbol: a.ShownSymbol(), Name: a.ShownName(), IconURL: a.IconURL,
		Balance: balance, PriceUSD: a.PriceUSD, ChangeUSD: a.ChangeUSD}, nil
}

// NeedsPIN: a Safe payout is signed with the keystore's spend key.
func (r *Rail) NeedsPIN() bool { return false }

// CheckPIN: there is no PIN.
func (r *Rail) CheckPIN(string) error { return nil }

// Validate checks a payment by the Safe rules (safe.Payment.Check): ids,
// an amount of at most 8 decimals, not to this wallet itself, and a memo
// under the legacy memo rules and at most 256 bytes (safe.MaxMemoBytes).
func (r *Rail) Validate(p rail.Payment) (rail.Payment, error) {
	sp, err := r.payment(p)
	if err != nil {
		return p, err
	}
	return rail.Payment{Key: sp.RequestID, AssetID: sp.AssetID, RecipientID: sp.Recipient, Amount: sp.Amount, Memo: sp.Memo}, nil
}

func (r *Rail) payment(p rail.Payment) (safe.Payment, error) {
	return safe.Payment{RequestID: p.Key, AssetID: p.AssetID, Sender: r.self, Recipient: p.RecipientID, Amount: p.Amount, Memo: p.Memo}.Check()
}

// Movements reads one page of GET /safe/snapshots, newest first (limit 0:
// the largest page, 500), checked by safe.SnapshotPager: each with its
// kernel transaction's hash, and a snapshot with a deposit object (money
// in) as a deposit.
func (r *Rail) Movements(ctx context.Context, q rail.Query) ([]rail.Movement, error) {
	limit := q.Limit
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	page, err := r.c.NewSnapshotPager(safe.SnapshotsQuery{Opponent: q.Opponent, Offset: q.Before, Limit: limit}).Next(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]rail.Movement, len(page))
	for i, s := range page {
		out[i] = rail.Movement{SnapshotID: s.SnapshotID, Key: s.RequestID, AssetID: s.AssetID, OpponentID: s.OpponentID,
			Amount: s.Amount, Memo: s.MemoText, CreatedAt: s.CreatedAt, TxHash: s.TransactionHash}
		if s.Deposit != nil && !s.IsOut() {
			out[i].Deposit = &rail.Deposit{Hash: s.Deposit.DepositHash, Sender: s.Deposit.Sender}
		}
	}
	return out, nil
}

// Refusal rebuilds a recorded refusal: the Safe API's codes as the
// *mixin.Error they were, the rail's own insufficient outputs as its words.
func (r *Rail) Refusal(code int, description string) *rail.RefusedError {
	switch code {
	case CodeInsufficient:
		return &rail.RefusedError{Reason: rail.Insufficient, Code: code, Description: description}
	case safe.CodeNotRegistered:
		me := &mixin.Error{Code: code, Description: description}
		return &rail.RefusedError{Reason: rail.Other, Code: code, Description: description, Err: &worded{line: description, err: me}}
	}
	return refusal(&mixin.Error{Code: code, Description: description})
}

// KeyTaken is a 20125 refusal with the desk's words.
func (r *Rail) KeyTaken(description string) *rail.RefusedError {
	return refusal(&mixin.Error{Code: safe.CodeRequestUsed, Description: description})
}

// refusal is an application error of the Safe API as a refusal.
func refusal(me *mixin.Error) *rail.RefusedError {
	reason := rail.Other
	if me.Code == safe.CodeRequestUsed {
		reason = rail.KeyUsed
	}
	return &rail.RefusedError{Reason: reason, Code: me.Code, Description: me.Description, Err: me}
}

// worded is an error in the rail's own words with the API's error inside.
type worded struct {
	line string
	err  error
}

func (w *worded) Error() string { return w.line }
func (w *worded) Unwrap() error { return w.err }

// notRegistered is the refusal of a payment to a user who has not
// upgraded to Safe (10404 from POST /safe/keys).
func notRegistered(err error) *rail.RefusedError {
	line := "the recipient has not upgraded to Mixin Safe, so no Safe payment can reach them; nothing was sent"
	return &rail.RefusedError{Reason: rail.Other, Code: safe.CodeNotRegistered, Description: line, Err: &worded{line: line, err: err}}
}

// notSent marks err as closing the payment: nothing that could execute it
// left, and nothing will.
func notSent(err error) error { return rail.Mark(err, rail.ErrNotSent) }

// shortID is the start of an id, for messages.
func shortID(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

// sameID compares two UUIDs whatever their case.
func sameID(a, b string) bool { return a != "" && strings.EqualFold(a, b) }

// notFinalError: the transaction was submitted and accepted (state
// signed) but is not final yet: the payout stays in doubt and is looked up
// again, never sent again.
type notFinalError struct{ requestID string }

func (e *notFinalError) Error() string {
	return fmt.Sprintf("safe: the transaction of request %s was submitted and is not final yet; it is looked up again, never sent again", shortID(e.requestID))
}
