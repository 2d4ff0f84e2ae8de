// Package rail is the seam between the money logic (package payout) and a
// payment rail: the API it pays through. It holds the Rail interface, the
// types that cross the seam (User, Asset, Payment, Movement, Deposit,
// Query) and the errors a rail answers with, so that the money logic
// decides on what a payment became without knowing a rail's endpoints,
// codes or shapes.
//
// A rail is adapted to this interface in a package of its own (the legacy
// Mixin transfer API in payout/legacyrail). It imports this package, never
// payout; this package imports nothing of the module.
//
// What an implementation must guarantee is written on each method, and
// the rules of a post in flight, which the money logic keeps for every
// rail, are in the doc of Rail. A rail that pays in several requests and
// must keep its own state between them (the Safe rail) is also a Resumer
// (staged.go): the money logic then pays it with PayKept and settles it
// with Resume, and the rail keeps each stage in the journal through a
// Keeper before it goes on.
package rail

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// Rail is what the money logic pays through: it resolves a recipient and an
// asset with its balance, pays under the idempotency key the journal
// recorded first, looks a payment up by that key telling "not found" (never
// executed) from an unknown answer, and lists the account's movements.
//
// What every implementation guarantees (each method says more):
//
//   - One key, one payment. A key never names two executed payments. Paying
//     a key again with the same content moves nothing (it answers with the
//     first movement, or refuses with IsKeyUsed); with other content it
//     refuses with IsKeyUsed.
//   - Pay sends once and classifies its answer: a movement (executed), a
//     *RefusedError (this post did not execute and never will), or any
//     other error (unknown). It never retries a post inside.
//   - A post that got no answer is executed within the post window after it
//     left (payout.DefaultPostWindow, 11 minutes, unless the profile sets
//     Config.PostWindow), or never.
//   - PaymentByKey answers ErrNotFound only when nothing executed under the
//     key so far; once the window of every post of it is over, that answer
//     is final.
//   - Validate accepts only what Pay can send: Pay never refuses, without
//     sending it, a payment Validate accepted. (A Resumer may refuse, with
//     a *RefusedError, before anything that can execute the payment left,
//     for what only its server can tell: not enough to pay with, a
//     recipient it cannot pay.)
//   - Pay's movement is the sender's view of exactly the payment sent (key,
//     asset, recipient, memo, amount negated); balances, when given, add up
//     (opening + amount = closing, not negative). An answer that does not
//     match leaves the payout in doubt, settled by key.
//   - Refusal rebuilds what the journal recorded; the rail's codes are
//     never -1 (payout.CodeNotPosted, the desk's own "not sent").
//   - Text from the server (names, symbols, memos, descriptions) is
//     display-safe (mixin.DisplayText) when it crosses the seam.
//
// And the money logic keeps the rules of a post in flight whatever the rail
// (payout/inflight.go):
//
//  1. Nothing about a key is final while a post of it may be in flight: a
//     refusal of a later post proves only that that post did not execute.
//     Inside the window a payment in doubt is only looked up; it is paid
//     again under the same key only after the window, once the look-up
//     still finds nothing, and that post's refusal is then final.
//  2. A batch row is tried under a new attempt key only when every earlier
//     attempt is known not executed (recorded failed, final by rule 1).
//  3. No paying request (a payment, a batch row, a re-post, or the PIN
//     check of a rail that has one) goes out while another one of the
//     session may be in flight. On the legacy rail each bears the PIN, and
//     a held one that arrives after a newer one counts as a wrong PIN.
//  4. A kept PIN the rail refused (IsPINRefused) is not used again until
//     the operator types it or sets the profile up again.
//  5. A confirmation is never lost: its key is durable in the journal
//     before Pay is called.
//
// For a Resumer the kept states refine rules 1 and 3: a payment is in
// flight only once Sent says a request that can execute it may have left
// (before that it is neither waited for nor holds others back, and it may
// be failed), and its window starts no earlier than its last kept state;
// once it may have been sent, a refusal never fails it (only a key found
// taken does), and it is settled by Resume from what was kept, never by a
// fresh payment.
//
// A Rail is safe for concurrent use.
type Rail interface {
	Looker

	// User reads a user by id (a UUID in canonical form). An unknown user
	// is an error for which errors.Is(err, ErrNotFound) holds; an id the
	// rail refuses as malformed, ErrInvalid.
	User(ctx context.Context, userID string) (*User, error)
	// UserByMixinID reads a user by Mixin ID number (digits), with the same
	// errors as User.
	UserByMixinID(ctx context.Context, mixinID string) (*User, error)
	// Asset reads an asset by id with the account's balance of it (zero
	// when it holds none). An unknown asset is ErrNotFound.
	Asset(ctx context.Context, assetID string) (*Asset, error)

	// NeedsPIN reports whether Pay needs the operator's PIN. A rail that
	// does not (its secret is in the session) ignores the pin argument.
	NeedsPIN() bool
	// CheckPIN checks a PIN's form without sending it (always nil for a
	// rail that needs none): a PIN the rail could not even use is refused
	// before anything is recorded.
	CheckPIN(pin string) error
	// Validate checks a payment's fields by the rail's rules and returns it
	// in canonical form (lower-case ids, canonical amount). It sends
	// nothing. Pay never refuses, without sending it, a payment that
	// Validate accepted: such a refusal would look like an unknown outcome.
	Validate(p Payment) (Payment, error)
	// Pay sends one payment under p.Key, exactly once: it is never retried
	// inside. It answers with the account's movement (the sender's view: a
	// negative amount), or a *RefusedError when the rail refused this post
	// (it did not execute, and this post never will), or any other error
	// when the outcome is unknown (a time-out, a 5xx, a lost connection, a
	// broken answer): the payment is then settled with PaymentByKey.
	//
	// The key makes a payment idempotent: paying a key again never moves
	// money twice. With the same content it answers with the movement made
	// the first time (or moves nothing and says IsKeyUsed); with other
	// content it refuses with IsKeyUsed.
	Pay(ctx context.Context, p Payment, pin string) (*Movement, error)
	// Movements lists the account's movements, newest first (the order
	// is not trusted: the caller sorts).
	Movements(ctx context.Context, q Query) ([]Movement, error)

	// Refusal rebuilds a refusal from the Code and Description the journal
	// recorded of a *RefusedError of this rail, so that a recorded refusal
	// reads (and is explained) like a fresh one.
	Refusal(code int, description string) *RefusedError
	// KeyTaken is the refusal the money logic records when the key of a
	// payment turns out to belong to another payment (found by
	// PaymentByKey): IsKeyUsed holds for it, its Code is the one the rail
	// answers a reused key with, and description says what was found.
	KeyTaken(description string) *RefusedError
}

// Looker looks a payment up by its key. Every Rail is one; so is what
// watches a payment request.
type Looker interface {
	// PaymentByKey returns the movement made under key as this account sees
	// it (negative amount: money out). When nothing was executed under key
	// the error satisfies errors.Is(err, ErrNotFound): a definite answer,
	// the payment never executed so far. When the key belongs to a payment
	// this account is not part of, ErrNotOurs. Any other error means the
	// answer is unknown, and nothing may be concluded from it.
	PaymentByKey(ctx context.Context, key string) (*Movement, error)
}

// PINVerifier is a rail that can check the operator's PIN with its server
// (the legacy rail can). The check is a paying request under rule 3.
type PINVerifier interface {
	// VerifyPIN answers nil when the PIN is right, a *RefusedError when the
	// server answered otherwise (a wrong or locked PIN, a refused session),
	// or any other error when the answer is unknown: the check may then
	// still reach the server.
	VerifyPIN(ctx context.Context, pin string) error
}

// User is a person or app a payment can go to. Text is display-safe, as the
// rail read it.
type User struct {
	UserID         string // canonical UUID
	IdentityNumber string // the Mixin ID number
	FullName       string
}

// Asset is an asset with the account's balance of it. Numbers are decimal
// strings as the rail read them; an empty Balance or PriceUSD reads as zero.
type Asset struct {
	AssetID   string
	ChainID   string
	Symbol    string
	Name      string
	IconURL   string
	Balance   string
	PriceUSD  string
	ChangeUSD string
}

// Payment is one payment as the journal recorded it before it is paid.
type Payment struct {
	Key         string // the idempotency key: the journal's trace id
	AssetID     string
	RecipientID string
	Amount      string // decimal string, > 0, canonical
	Memo        string
}

// Movement is one movement of the account's money as the rail tells it: a
// payment out (negative Amount) or in (positive).
type Movement struct {
	SnapshotID string    // the movement's id on the rail
	Key        string    // the idempotency key it was made under ("" when none)
	AssetID    string    //
	OpponentID string    // the other party
	Amount     string    // signed decimal string, as the rail sent it
	Memo       string    // display-safe
	CreatedAt  time.Time // zero when the rail did not say

	// The account's balance of the asset before and after, as decimal
	// strings, when the rail tells them; "" otherwise.
	OpeningBalance string
	ClosingBalance string

	// TxHash is the network transaction's hash, when the rail has one (the
	// Safe rail's kernel transaction); "" otherwise.
	TxHash string

	// Deposit is set when the movement is a deposit: money in from the
	// asset's chain, not a payment from a user (it has no OpponentID).
	// Nil for every other movement, and on a rail that does not tell.
	Deposit *Deposit
}

// Deposit is what a rail tells of a deposit. Text is display-safe; ""
// when the rail did not say.
type Deposit struct {
	Hash   string // the chain's transaction
	Sender string // the chain address it came from
}

// Matches reports whether m, found by p's key, is the payment p: out of the
// account (a negative amount, which the sender sees; a positive one is a
// payment to the account under the same key), to p's recipient, of p's
// asset, amount and memo. A nil m matches nothing.
func (m *Movement) Matches(p Payment) bool {
	if m == nil || m.Key != p.Key || m.AssetID != p.AssetID || m.OpponentID != p.RecipientID || m.Memo != p.Memo {
		return false
	}
	a, err := decimal.NewFromString(m.Amount)
	want, err2 := decimal.NewFromString(p.Amount)
	return err == nil && err2 == nil && a.IsNegative() && a.Neg().Equal(want)
}

// Query selects movements.
type Query struct {
	// Before: only movements at or before this time (inclusive, so a page
	// that ends at one instant can be continued); zero means the newest.
	Before time.Time
	// Limit is the most movements to return; 0 means the largest page the
	// rail serves. A page shorter than Limit is the last.
	Limit int
	// Opponent keeps only movements with this user ("" for all).
	Opponent string
}
