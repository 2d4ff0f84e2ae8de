package rail

import (
	"context"
	"errors"
)

// Resumer is a rail that pays in stages and must keep its own state of a
// payment durable between them (the Safe rail builds a transaction, has it
// verified, signs it and submits it, and must never build a second one
// under the same key). A single Pay cannot let such a rail journal between
// its steps, so the money logic, when its rail is a Resumer, pays with
// PayKept and settles with Resume, handing over a Keeper:
//
//   - Before the rail goes on past a stage that a restart must not lose
//     (on Safe: the signed transaction, before it is submitted), it calls
//     Keeper.Keep, which makes the state durable in the journal under the
//     payment's key (a rail record) and returns only then. A state it must
//     keep but whose loss in a crash is harmless (on Safe: the unsigned
//     transaction and the outputs it spends, before it is verified) it may
//     keep with DeferKeeper.KeepDeferred. When keeping fails the rail
//     stops there and sends nothing more; the payment is left in doubt.
//   - What a payment holds (on Safe: the outputs its kept transaction
//     spends) is read from the states kept for the payments not settled
//     yet (Keeper.Unsettled), so that it is right after a restart, and is
//     never used for another payment.
//   - A payment in doubt whose key was not found executed is settled with
//     Resume from its kept states, never with a fresh Pay: the rail sends
//     again only what it kept (on Safe: the same signed bytes, or the same
//     unsigned transaction verified and signed again), never something new
//     under the key.
//   - A staged payment is in flight (payout/inflight.go) only once a
//     request that can execute it may have left (Sent); until then it can
//     be failed, and its window is not waited out. Its post window starts
//     no earlier than its last kept state.
//
// The rail's Pay is not used by the money logic; a Resumer may refuse it
// (with an error marked ErrNotSent) rather than pay without keeping its
// stages. A rail that pays in one request (the legacy rail) needs none of
// this.
type Resumer interface {
	Rail

	// PayKept pays p as Pay does (same answers: a movement, a
	// *RefusedError, or any other error for an unknown outcome), keeping
	// its stages through keep. It may answer an error marked ErrNotSent
	// when nothing that could execute the payment left and nothing will
	// (the payment is then closed as not sent), and a *RefusedError found
	// before anything was sent (not enough to pay with, a recipient the
	// rail cannot pay).
	PayKept(ctx context.Context, p Payment, pin string, keep Keeper) (*Movement, error)
	// Resume settles a payment in doubt that a look-up by key did not find
	// executed, from the states kept for it (in the order kept): it sends
	// again only what was kept, keeping through keep any state it makes
	// on the way. Its answers are PayKept's. It answers ErrNotSent only
	// when Sent(kept) is false and nothing can be sent from what was
	// kept, and a *RefusedError that is not IsKeyUsed only while Sent was
	// false before it was called: once a request that can execute the
	// payment may have left, a refusal of a later one proves nothing, and
	// the payment stays in doubt.
	Resume(ctx context.Context, p Payment, kept []Kept, pin string, keep Keeper) (*Movement, error)
	// Sent reports whether, by the states kept for a payment, a request
	// that can execute it may have left the process (on Safe: its signed
	// transaction was kept, so a submit of it may be in flight). While it
	// is false the payment is not in flight.
	Sent(kept []Kept) bool
}

// Kept is one state of a payment that a Resumer kept through a Keeper.
type Kept struct {
	Stage string // the rail's name for it: 1 to 32 bytes of a-z, 0-9, '-'
	Data  []byte // at most MaxKept bytes; shared, never change it
}

// MaxKept is the most bytes of one kept state (journal.MaxRailData).
const MaxKept = 256 << 10

// Keeper keeps a Resumer's states of one payment.
type Keeper interface {
	// Keep makes data durable under the payment's key as stage before it
	// returns. An error means it may not have been kept: the rail goes no
	// further.
	Keep(stage string, data []byte) error
	// Unsettled returns the states kept for every other payment not
	// settled yet, one slice per payment, in the order they were
	// recorded.
	Unsettled() [][]Kept
}

// DeferKeeper is a Keeper that can also keep a state without waiting for
// the disk. The desk's keeper is one.
type DeferKeeper interface {
	Keeper
	// KeepDeferred keeps data as Keep does (in order, read back at once by
	// Unsettled and handed to Resume), but it becomes durable only with the
	// next Keep (or the next durable write of the journal), and a crash of
	// the machine before that may lose it. A rail uses it only for a state
	// whose loss is harmless because nothing that can execute the payment
	// leaves before a later state is kept with Keep: on Safe, the unsigned
	// transaction, since a submit needs the signed bytes, kept (and made
	// durable, with everything before them) first. Lost, the payment has
	// nothing kept, nothing that could execute it ever left, and it is
	// closed as not sent.
	KeepDeferred(stage string, data []byte) error
}

// ErrNotSent marks an error of PayKept or Resume saying that nothing that
// could execute the payment ever left and nothing will: the money logic
// closes the payment as not sent (payout.CodeNotPosted) with the error's
// text as the reason, and the operator may pay again after a new review.
var ErrNotSent = errors.New("nothing that could execute the payment was sent")
