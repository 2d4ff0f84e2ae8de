package saferail

import (
	"bytes"
	"context"
	"fmt"

	"github.com/MixinNetwork/mixin/common"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
	"mixdesk/payout/rail"
	"mixdesk/safe"
)

// Incoming is the look-up of payments to this wallet by the payer's
// request id, for a payment request: whoever pays a Safe link pays it in
// one transaction whose request id is the link's trace
// (safe/paylink), so the trace names the payment. The transaction is read
// with GET /safe/transactions/:id, which answers any user's request
// (docs/safe-api.md §4.7, §7 #13), and what it paid this wallet is read
// from its raw transaction, checked against its hash and asset: the sum of
// the outputs whose receivers are this wallet alone (threshold 1). The
// receiver's snapshots are not searched: they carry the sender's request
// id only in the sandbox (§7 #21), and finding one would mean paging the
// whole history.
//
// Its answers, as a rail.Looker:
//
//   - nothing under the id, or a transaction not final yet (verified only,
//     or submitted and not final): ErrNotFound, not paid so far;
//   - a transaction of another wallet that paid this one: this wallet's
//     view of the payment (a positive amount, the payer as opponent, the
//     transaction's extra as memo, the receiver's snapshot id by
//     Messenger's formula, safe.SnapshotID);
//   - one of another wallet that paid this one nothing: ErrNotOurs (the
//     trace was used by a payment to someone else);
//   - one this wallet sent: its movement, as PaymentByKey answers it (a
//     negative amount);
//   - anything else: an error whose answer is unknown.
func (r *Rail) Incoming() rail.Looker { return incoming{r} }

type incoming struct{ r *Rail }

func (in incoming) PaymentByKey(ctx context.Context, key string) (*rail.Movement, error) {
	r := in.r
	req, err := r.c.Transaction(ctx, key)
	switch {
	case mixin.IsNotFound(err):
		return nil, rail.Mark(err, rail.ErrNotFound)
	case mixin.IsInvalidField(err):
		return nil, rail.Mark(err, rail.ErrInvalid)
	case err != nil:
		return nil, err
	}
	switch req.State {
	case safe.StateUnspent:
		return nil, rail.Mark(fmt.Errorf("safe: request %s was verified, never submitted", shortID(key)), rail.ErrNotFound)
	case safe.StateSigned:
		return nil, rail.Mark(fmt.Errorf("safe: request %s was submitted and is not final yet", shortID(key)), rail.ErrNotFound)
	}
	if r.ours(req) {
		return r.movementOf(req)
	}
	return r.received(req)
}

// received is this wallet's view of another wallet's final transaction:
// what it paid this wallet alone, or ErrNotOurs when it paid it nothing.
func (r *Rail) received(req *safe.TransactionRequest) (*rail.Movement, error) {
	ver, asset, bad, err := decodeFinal(req)
	if err != nil {
		return nil, err
	}
	got := decimal.Zero
	for i, o := range ver.Outputs {
		g := req.Receivers[i]
		// This wallet's alone: one member, and a threshold of exactly 1 in
		// the hash-checked raw output itself (a threshold of 0 would let
		// anyone spend it; the answer's receivers are only its word).
		if len(g.Members) != 1 || !sameID(g.Members[0], r.self) || g.Threshold != 1 ||
			!bytes.Equal(o.Script, common.NewThresholdScript(1)) {
			continue
		}
		a, err := decimal.NewFromString(o.Amount.String())
		if err != nil {
			return nil, bad("an output amount is not a decimal")
		}
		got = got.Add(a)
	}
	if !got.IsPositive() {
		return nil, rail.Mark(fmt.Errorf("safe: request %s is a payment of another wallet to someone else; nothing of it reached this wallet", shortID(req.RequestID)), rail.ErrNotOurs)
	}
	payer := req.UserID
	if payer == "" && len(req.Senders) == 1 {
		payer = req.Senders[0]
	}
	if id, err := mixin.ParseUUID("payer id", payer); err == nil {
		payer = id
	} else {
		payer = "" // the payment stands; the payer is shown as unknown
	}
	hash := ver.PayloadHash()
	at := req.SnapshotAt
	if at.IsZero() {
		at = req.UpdatedAt
	}
	return &rail.Movement{SnapshotID: safe.SnapshotID(r.self, hash), Key: req.RequestID, AssetID: asset, OpponentID: payer,
		Amount: got.String(), Memo: mixin.DisplayText(string(ver.Extra)), CreatedAt: at, TxHash: hash.String()}, nil
}
