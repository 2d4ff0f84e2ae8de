package saferail

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/MixinNetwork/mixin/common"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
	"mixdesk/payout/rail"
	"mixdesk/safe"
)

// Pay is refused: a Safe payout is paid only by PayKept, which keeps its
// transaction in the journal before it is verified and the signed bytes
// before they are submitted. Nothing is sent.
func (r *Rail) Pay(context.Context, rail.Payment, string) (*rail.Movement, error) {
	return nil, notSent(errors.New("saferail: a Safe payout is paid only through a desk that keeps its stages (PayKept)"))
}

// Sent reports whether the signed transaction was kept: from then on a
// submit of it may be in flight.
func (r *Rail) Sent(kept []rail.Kept) bool {
	return slices.ContainsFunc(kept, func(k rail.Kept) bool { return k.Stage == StageSigned })
}

// PayKept pays p as one kernel transaction under p.Key (docs/safe-api.md
// §4): outputs chosen among those no payout in doubt holds (what
// keep.Unsettled kept), ghost keys, the unsigned transaction kept
// ("unsigned"), verified, signed, the signed bytes kept ("signed"),
// submitted. Its answers:
//
//   - the movement, when the submit answered the transaction final;
//   - a *rail.RefusedError before anything was signed: not enough unspent
//     outputs (IsInsufficient), a recipient not on Safe (10404), the
//     request id used (IsKeyUsed), or the API's refusal of the verify
//     (10105, 10106, 429…): nothing signed ever left;
//   - an error marked rail.ErrNotSent when nothing left that can execute
//     it (the outputs or ghost keys could not be read, more than 256
//     outputs are needed, the views did not sign);
//   - any other error once a signature may have left, or when keeping
//     failed: unknown, settled by a look-up and Resume. After the signed
//     bytes were kept it is never a refusal, except IsKeyUsed when the
//     request id holds another transaction.
func (r *Rail) PayKept(ctx context.Context, p rail.Payment, _ string, keep rail.Keeper) (*rail.Movement, error) {
	sp, err := r.payment(p)
	if err != nil {
		return nil, notSent(err)
	}
	return r.pay(ctx, sp, keep, r.c.Prepare)
}

// pay pays a checked payment or merge, prepared by prepare, keeping its
// stages (PayKept).
func (r *Rail) pay(ctx context.Context, sp safe.Payment, keep rail.Keeper,
	prepare func(context.Context, safe.Payment, map[string]bool) (*safe.Unsigned, error)) (*rail.Movement, error) {
	held, err := heldBy(keep.Unsettled())
	if err != nil {
		return nil, notSent(fmt.Errorf("saferail: what the payouts in doubt hold cannot be read from the journal (%w); nothing was sent", err))
	}
	u, err := prepare(ctx, sp, held)
	if err != nil {
		return nil, prepareErr(err)
	}
	data, err := encodeUnsigned(u)
	if err != nil {
		return nil, notSent(err)
	}
	if err := keepUnsigned(keep, data); err != nil {
		return nil, fmt.Errorf("saferail: keeping the transaction before it is verified (nothing was sent): %w", err)
	}
	req, err := r.c.Verify(ctx, u)
	if err != nil {
		return nil, verifyErr(err)
	}
	signed, _, err := safe.Sign(u.Raw, u.Inputs, req.Views, r.c.Account().Spend())
	if err != nil {
		return nil, notSent(fmt.Errorf("saferail: signing the verified transaction (wrong spend key, or views of another wallet; nothing was submitted): %w", err))
	}
	if err := keep.Keep(StageSigned, signed); err != nil {
		return nil, fmt.Errorf("saferail: keeping the signed transaction before it is submitted (nothing was submitted): %w", err)
	}
	ans, err := r.c.Submit(ctx, u.RequestID, signed, u.Hash)
	if err != nil {
		return nil, sentErr(err)
	}
	return r.answered(ans)
}

// keepUnsigned keeps the unsigned transaction before it is verified:
// without waiting for the disk when keep can (rail.DeferKeeper). It becomes
// durable with the signed bytes, which are kept with Keep before anything
// that can execute the transaction leaves (verify locks nothing and spends
// nothing, docs/safe-api.md §6.3); lost in a crash before that, nothing
// signed left, and the payout is closed as not sent, which is true.
func keepUnsigned(keep rail.Keeper, data []byte) error {
	if dk, ok := keep.(rail.DeferKeeper); ok {
		return dk.KeepDeferred(StageUnsigned, data)
	}
	return keep.Keep(StageUnsigned, data)
}

// Resume settles a payout in doubt from what was kept (safe.Client.Resume:
// look-up; not submitted → the kept signed bytes again, or the kept
// unsigned transaction verified and signed again, its signed bytes kept
// before they are submitted; never a new transaction). Nothing kept → an
// error marked rail.ErrNotSent. Its answers are PayKept's: a refusal that
// is not IsKeyUsed only while no signed bytes were kept, before or during
// this call.
func (r *Rail) Resume(ctx context.Context, p rail.Payment, kept []rail.Kept, _ string, keep rail.Keeper) (*rail.Movement, error) {
	st, err := storedOf(p.Key, kept)
	if err != nil {
		return nil, fmt.Errorf("saferail: the kept transaction of %s cannot be read (%w); nothing was sent, and it stays in doubt", shortID(p.Key), err)
	}
	if st.Unsigned == nil {
		return nil, notSent(errors.New("no transaction was kept before it was verified, so nothing signed ever left"))
	}
	if err := r.pays(st.Unsigned, p); err != nil {
		return nil, fmt.Errorf("saferail: the kept transaction of %s does not pay what the journal's intent says (%w); nothing was sent, and it stays in doubt", shortID(p.Key), err)
	}
	signedBefore, keptNow := st.Signed != nil, false
	var keepErr error
	out, ans, err := r.c.Resume(ctx, st, func(signed []byte) error {
		keptNow = true
		keepErr = keep.Keep(StageSigned, signed)
		return keepErr
	})
	switch {
	case err != nil && keepErr != nil:
		return nil, fmt.Errorf("saferail: keeping the signed transaction before it is submitted (nothing was submitted): %w", err)
	case err != nil && out == safe.NotSubmitted && !signedBefore && !keptNow:
		// The verify sent again, or the signing, failed: nothing signed
		// left.
		var fe *mixin.FieldError
		if errors.As(err, &fe) {
			return nil, notSent(fmt.Errorf("saferail: signing the verified transaction (nothing was submitted): %w", err))
		}
		return nil, verifyErr(err)
	case err != nil && out == safe.NotSubmitted:
		return nil, sentErr(err)
	case err != nil:
		return nil, err // the look-up failed: unknown
	}
	switch out {
	case safe.Final, safe.Pending:
		return r.answered(ans)
	case safe.Taken:
		return nil, refusal(&mixin.Error{Code: safe.CodeRequestUsed,
			Description: fmt.Sprintf("request %s holds another transaction (%s)", shortID(p.Key), shortID(ans.TransactionHash))})
	}
	return nil, fmt.Errorf("saferail: settling %s: %s", shortID(p.Key), out)
}

// pays checks that a kept transaction pays p: its asset, its first output
// (the recipient's) and its extra.
func (r *Rail) pays(u *safe.Unsigned, p rail.Payment) error {
	ver, err := common.UnmarshalVersionedTransaction(u.Raw)
	if err != nil || len(ver.Outputs) == 0 {
		return errors.New("not a kernel transaction")
	}
	want, werr := decimal.NewFromString(p.Amount)
	got, gerr := decimal.NewFromString(ver.Outputs[0].Amount.String())
	switch {
	case ver.Asset != safe.KernelAssetID(strings.ToLower(p.AssetID)):
		return errors.New("another asset")
	case werr != nil || gerr != nil || !got.Equal(want):
		return errors.New("another amount")
	case string(ver.Extra) != p.Memo:
		return errors.New("another memo")
	}
	return nil
}

// prepareErr classifies a failure to build the transaction: nothing was
// sent that can execute it.
func prepareErr(err error) error {
	var ie *safe.InsufficientError
	var me *mixin.Error
	switch {
	case errors.As(err, &ie):
		return &rail.RefusedError{Reason: rail.Insufficient, Code: CodeInsufficient, Description: strings.TrimPrefix(ie.Error(), "safe: "), Err: ie}
	case safe.IsRecipientNotRegistered(err):
		return notRegistered(err)
	case errors.As(err, &me) && !mixin.IsServerOrTransport(err):
		return refusal(me)
	}
	return notSent(fmt.Errorf("saferail: the transaction could not be built (nothing was sent): %w", err))
}

// verifyErr classifies a failure of POST /safe/transaction/requests
// before anything was signed: the request id taken is IsKeyUsed, another
// answer of the API a refusal, anything else unknown.
func verifyErr(err error) error {
	var te *safe.RequestTakenError
	var me *mixin.Error
	switch {
	case errors.As(err, &te):
		return refusal(&mixin.Error{Code: safe.CodeRequestUsed, Description: strings.TrimPrefix(te.Error(), "safe: ")})
	case errors.As(err, &me) && !mixin.IsServerOrTransport(err):
		return refusal(me)
	}
	return err
}

// sentErr classifies a failure once the signed bytes were kept: never a
// refusal (a submit may be in flight), but IsKeyUsed when the request id
// holds another transaction.
func sentErr(err error) error {
	var te *safe.RequestTakenError
	switch {
	case errors.As(err, &te) && !te.Ours:
		return refusal(&mixin.Error{Code: safe.CodeRequestUsed, Description: strings.TrimPrefix(te.Error(), "safe: ")})
	case safe.IsRequestUsed(err):
		return refusal(&mixin.Error{Code: safe.CodeRequestUsed, Description: "the request id holds another transaction"})
	}
	return &inDoubtError{err: err}
}

// inDoubtError is an answer to a submit (or a re-submit) that proves
// nothing: the signed transaction may still be executed.
type inDoubtError struct{ err error }

func (e *inDoubtError) Error() string {
	return "the signed transaction was sent and the answer proves nothing yet (" + strings.TrimPrefix(e.err.Error(), "safe: ") + "); it is looked up by its request id"
}

func (e *inDoubtError) Unwrap() error { return e.err }

// answered is the movement of a submitted transaction as the API answered
// it: final (spent), or not final yet (signed: looked up again later).
func (r *Rail) answered(ans *safe.TransactionRequest) (*rail.Movement, error) {
	if ans == nil {
		return nil, &mixin.ProtocolError{Op: "POST /safe/transactions", Reason: "no request in the answer"}
	}
	if ans.State == safe.StateSigned {
		return nil, &notFinalError{requestID: ans.RequestID}
	}
	return r.movementOf(ans)
}

// PaymentByKey reads GET /safe/transactions/:key: 404, or a request only
// verified (state unspent), is "not found" (never submitted); a request
// of another user is ErrNotOurs; a submitted one not final yet (state
// signed) is an unknown answer (looked up again later); a final one of
// this wallet is its movement, read from its transaction.
func (r *Rail) PaymentByKey(ctx context.Context, key string) (*rail.Movement, error) {
	req, err := r.c.Transaction(ctx, key)
	switch {
	case mixin.IsNotFound(err):
		return nil, rail.Mark(err, rail.ErrNotFound)
	case mixin.IsInvalidField(err):
		return nil, rail.Mark(err, rail.ErrInvalid)
	case err != nil:
		return nil, err
	}
	if !r.ours(req) {
		return nil, rail.Mark(fmt.Errorf("safe: request %s belongs to another wallet", shortID(key)), rail.ErrNotOurs)
	}
	switch req.State {
	case safe.StateUnspent:
		return nil, rail.Mark(fmt.Errorf("safe: request %s was verified, never submitted", shortID(key)), rail.ErrNotFound)
	case safe.StateSigned:
		return nil, &notFinalError{requestID: req.RequestID}
	}
	return r.movementOf(req)
}

// ours reports whether a request is this wallet's.
func (r *Rail) ours(req *safe.TransactionRequest) bool {
	if req.UserID != "" {
		return sameID(req.UserID, r.self)
	}
	return len(req.Senders) == 1 && sameID(req.Senders[0], r.self)
}

// movementOf is this wallet's movement of a final request, read from its
// raw transaction (the request's own amount and extra are not relied
// upon, docs/safe-api.md §7 #12): the outputs not back to this wallet are
// what it paid, to the first of their receivers; the extra is the memo. A
// transaction whose every output is the wallet's own is a merge: its
// movement is to the wallet itself, of what output 0 merged.
func (r *Rail) movementOf(req *safe.TransactionRequest) (*rail.Movement, error) {
	ver, asset, bad, err := decodeFinal(req)
	if err != nil {
		return nil, err
	}
	hash := ver.PayloadHash()
	paid, opponent := decimal.Zero, ""
	for i, o := range ver.Outputs {
		m := req.Receivers[i].Members
		if len(m) == 1 && sameID(m[0], r.self) {
			continue // change
		}
		if len(m) != 1 {
			return nil, bad("an output to several receivers")
		}
		id, err := mixin.ParseUUID("receiver", m[0])
		if err != nil {
			return nil, bad("a receiver is not a UUID")
		}
		if opponent == "" {
			opponent = id
		}
		a, err := decimal.NewFromString(o.Amount.String())
		if err != nil {
			return nil, bad("an output amount is not a decimal")
		}
		paid = paid.Add(a)
	}
	if opponent == "" {
		if len(ver.Outputs) == 0 {
			return nil, bad("the transaction has no output")
		}
		// Every output is the wallet's own: a merge (PayMerge). Its
		// movement is the wallet's to itself, what output 0 merged.
		a, err := decimal.NewFromString(ver.Outputs[0].Amount.String())
		if err != nil {
			return nil, bad("an output amount is not a decimal")
		}
		paid, opponent = a, r.self
	}
	snapshot := req.SnapshotID
	if snapshot == "" {
		// Messenger's formula, which the sandbox follows (docs/safe-api.md
		// §3.3).
		snapshot = safe.SnapshotID(r.self, hash)
	}
	at := req.SnapshotAt
	if at.IsZero() {
		at = req.UpdatedAt
	}
	return &rail.Movement{SnapshotID: snapshot, Key: req.RequestID, AssetID: asset, OpponentID: opponent,
		Amount: paid.Neg().String(), Memo: mixin.DisplayText(string(ver.Extra)), CreatedAt: at, TxHash: hash.String()}, nil
}

// decodeFinal reads a final request's raw transaction and checks it
// against the request: its hash is the one named, the asset id names its
// asset, and there is one receiver group per output. bad makes a protocol
// error about the request.
func decodeFinal(req *safe.TransactionRequest) (ver *common.VersionedTransaction, asset string, bad func(string) error, err error) {
	const op = "GET /safe/transactions"
	bad = func(reason string) error {
		return &mixin.ProtocolError{Op: op, Reason: "request " + shortID(req.RequestID) + ": " + reason}
	}
	raw, err := hex.DecodeString(req.RawTransaction)
	if err != nil {
		return nil, "", bad, bad("the raw transaction is not hex")
	}
	ver, err = common.UnmarshalVersionedTransaction(raw)
	if err != nil {
		return nil, "", bad, bad("the raw transaction is not a kernel transaction")
	}
	hash := ver.PayloadHash()
	if !strings.EqualFold(hash.String(), req.TransactionHash) {
		return nil, "", bad, bad("the raw transaction is not the one named")
	}
	asset, err = mixin.ParseUUID("asset id", req.AssetID)
	if err != nil || safe.KernelAssetID(asset) != ver.Asset {
		return nil, "", bad, bad("the asset id does not name the transaction's asset")
	}
	if len(req.Receivers) != len(ver.Outputs) {
		return nil, "", bad, bad("the receivers do not match the outputs")
	}
	return ver, asset, bad, nil
}

// keptUnsigned is the "unsigned" state: the transaction as sent to verify
// and the outputs it spends, in input order (what safe.ParseUnsigned and
// safe.Sign need, and the held set).
type keptUnsigned struct {
	Raw    string       `json:"raw"` // hex
	Inputs []keptOutput `json:"inputs"`
}

type keptOutput struct {
	OutputID string `json:"output_id"`
	Hash     string `json:"transaction_hash"`
	Index    uint   `json:"output_index"`
	AssetID  string `json:"asset_id"`
	Amount   string `json:"amount"`
	Mask     string `json:"mask"`
	Key      string `json:"key"`
}

func encodeUnsigned(u *safe.Unsigned) ([]byte, error) {
	k := keptUnsigned{Raw: u.RawHex(), Inputs: make([]keptOutput, len(u.Inputs))}
	for i, o := range u.Inputs {
		if len(o.Keys) != 1 {
			return nil, fmt.Errorf("saferail: output %s has %d keys", o.Ref(), len(o.Keys))
		}
		k.Inputs[i] = keptOutput{OutputID: o.OutputID, Hash: strings.ToLower(o.TransactionHash), Index: o.OutputIndex,
			AssetID: o.AssetID, Amount: o.Amount, Mask: o.Mask, Key: o.Keys[0]}
	}
	b, err := json.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("saferail: encoding the transaction to keep: %w", err)
	}
	if len(b) > rail.MaxKept {
		return nil, fmt.Errorf("saferail: the transaction of %d inputs takes %d bytes to keep, more than %d; nothing was sent", len(u.Inputs), len(b), rail.MaxKept)
	}
	return b, nil
}

func decodeUnsigned(requestID string, data []byte) (*safe.Unsigned, error) {
	var k keptUnsigned
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil {
		return nil, errors.New("the kept transaction is not one this rail writes")
	}
	raw, err := hex.DecodeString(k.Raw)
	if err != nil {
		return nil, errors.New("the kept transaction is not hex")
	}
	ins := make([]safe.Output, len(k.Inputs))
	for i, o := range k.Inputs {
		ins[i] = safe.Output{OutputID: o.OutputID, TransactionHash: o.Hash, OutputIndex: o.Index, AssetID: o.AssetID,
			Amount: o.Amount, Mask: o.Mask, Keys: []string{o.Key}, State: safe.StateUnspent}
	}
	return safe.ParseUnsigned(requestID, raw, ins)
}

// storedOf rebuilds what was kept of a payout: its last unsigned
// transaction (nil when none) and its last signed bytes (nil when none).
func storedOf(requestID string, kept []rail.Kept) (safe.Stored, error) {
	var st safe.Stored
	for _, k := range kept {
		switch k.Stage {
		case StageUnsigned:
			u, err := decodeUnsigned(requestID, k.Data)
			if err != nil {
				return st, err
			}
			st.Unsigned = u
		case StageSigned:
			st.Signed = bytes.Clone(k.Data)
		default:
			return st, fmt.Errorf("a kept state %q this rail does not write", k.Stage)
		}
	}
	if st.Signed != nil && st.Unsigned == nil {
		return st, errors.New("signed bytes kept without their transaction")
	}
	return st, nil
}

// heldBy is the outputs the kept transactions of the payouts in doubt
// spend, by reference ("hash:index").
func heldBy(unsettled [][]rail.Kept) (map[string]bool, error) {
	held := map[string]bool{}
	for _, kept := range unsettled {
		for _, k := range kept {
			if k.Stage != StageUnsigned {
				continue
			}
			var ku keptUnsigned
			if err := json.Unmarshal(k.Data, &ku); err != nil {
				return nil, errors.New("a kept transaction is not one this rail writes")
			}
			for _, o := range ku.Inputs {
				held[fmt.Sprintf("%s:%d", strings.ToLower(o.Hash), o.Index)] = true
			}
		}
	}
	return held, nil
}
