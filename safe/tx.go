package safe

import (
	"encoding/hex"
	"errors"
	"fmt"

	"filippo.io/edwards25519"
	"github.com/MixinNetwork/mixin/common"
	"github.com/MixinNetwork/mixin/crypto"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
)

// MaxMemoBytes is the most bytes of memo a payment carries: the kernel's
// extra limit for an ordinary transaction (common.ExtraSizeGeneralLimit).
const MaxMemoBytes = common.ExtraSizeGeneralLimit

// Payment is what one payout pays through the Safe rail: one transaction
// named RequestID (the payout's trace id) paying Amount of AssetID from the
// wallet Sender to Recipient, with Memo as the transaction's extra.
type Payment struct {
	RequestID string
	AssetID   string
	Sender    string // this wallet's app id; the change goes back to it
	Recipient string
	Amount    string
	Memo      string
}

// Check returns the payment with canonical ids and amount, or the first bad
// field in one line (docs/safe-api.md §4.3). A payment to the wallet
// itself is refused: that is a merge (CheckMerge).
func (p Payment) Check() (Payment, error) { return p.check(false) }

// check is Check of a payment (merge false) or of a merge, whose recipient
// must be the wallet itself.
func (p Payment) check(merge bool) (Payment, error) {
	var err error
	if p.RequestID, err = mixin.ParseUUID(mixin.FieldTrace, p.RequestID); err != nil {
		return p, err
	}
	if p.AssetID, err = mixin.ParseUUID(mixin.FieldAsset, p.AssetID); err != nil {
		return p, err
	}
	if p.Sender, err = mixin.ParseUUID(FieldAppID, p.Sender); err != nil {
		return p, err
	}
	if p.Recipient, err = mixin.ParseUUID(mixin.FieldRecipient, p.Recipient); err != nil {
		return p, err
	}
	switch {
	case !merge && p.Recipient == p.Sender:
		return p, fieldErr(mixin.FieldRecipient, "is this wallet itself")
	case merge && p.Recipient != p.Sender:
		return p, fieldErr(mixin.FieldRecipient, "is not this wallet: a merge pays the wallet itself")
	}
	if _, p.Amount, err = mixin.ParseAmount(p.Amount); err != nil {
		return p, err
	}
	if err = ValidateMemo(p.Memo); err != nil {
		return p, err
	}
	return p, nil
}

// ValidateMemo checks a Safe memo: the legacy memo rules (mixin.ValidateMemo)
// and at most MaxMemoBytes bytes of UTF-8 (docs/safe-api.md §4.3, Decision).
func ValidateMemo(memo string) error {
	if err := mixin.ValidateMemo(memo); err != nil {
		return err
	}
	if len(memo) > MaxMemoBytes {
		return fieldErr(mixin.FieldMemo, "%d bytes of UTF-8; at most %d", len(memo), MaxMemoBytes)
	}
	return nil
}

// GhostKeyRequest is one element of the body of POST /safe/keys.
type GhostKeyRequest struct {
	Receivers []string `json:"receivers"`
	Index     uint     `json:"index"`
	Hint      string   `json:"hint"`
}

// GhostKeys is one element of its answer: the output's mask and one key per
// receiver.
type GhostKeys struct {
	Type string   `json:"type,omitempty"`
	Mask string   `json:"mask"`
	Keys []string `json:"keys"`
}

// GhostRequests is the POST /safe/keys body of a payment: output 0 to the
// recipient and, when there is change, output 1 back to the sender, each
// with its hint derived from the request id (docs/safe-api.md §4.2).
func GhostRequests(p Payment, sel *Selection) []GhostKeyRequest {
	reqs := []GhostKeyRequest{{Receivers: []string{p.Recipient}, Index: 0, Hint: GhostHint(p.RequestID, 0)}}
	if hasChange(sel) {
		reqs = append(reqs, GhostKeyRequest{Receivers: []string{p.Sender}, Index: 1, Hint: GhostHint(p.RequestID, 1)})
	}
	return reqs
}

func hasChange(sel *Selection) bool {
	c, err := decimal.NewFromString(sel.Change)
	return err == nil && c.IsPositive()
}

// Unsigned is a payment's unsigned v5 transaction: the bytes sent to
// POST /safe/transaction/requests and the hash the kernel signs.
type Unsigned struct {
	RequestID string
	Raw       []byte
	Hash      crypto.Hash
	Inputs    []Output // the spent outputs, in input order
	Change    string
}

// RawHex is the "raw" of the verify call.
func (u *Unsigned) RawHex() string { return hex.EncodeToString(u.Raw) }

// Build makes the payment's unsigned v5 transaction with the kernel library
// (docs/safe-api.md §4.3): the selection's outputs as inputs, output 0 to
// the recipient and output 1 (when there is change) back to the sender,
// with the ghost keys POST /safe/keys answered, and the memo as extra.
// Everything is checked before the kernel library sees it.
func Build(p Payment, sel *Selection, ghosts []GhostKeys) (*Unsigned, error) {
	p, err := p.Check()
	if err != nil {
		return nil, err
	}
	return build(p, sel, ghosts)
}

// build is Build of a checked payment or merge.
func build(p Payment, sel *Selection, ghosts []GhostKeys) (u *Unsigned, err error) {
	if sel == nil || len(sel.Inputs) == 0 {
		return nil, fieldErr(FieldOutputs, "none chosen")
	}
	if len(sel.Inputs) > MaxInputs {
		return nil, &TooManyInputsError{Needed: len(sel.Inputs), Max: MaxInputs}
	}
	amount := decimal.RequireFromString(p.Amount)
	total := decimal.Zero
	ins := make([]spendable, len(sel.Inputs))
	seen := make(map[string]bool, len(sel.Inputs))
	for i := range sel.Inputs {
		o := &sel.Inputs[i]
		if seen[o.Ref()] {
			return nil, fieldErr(FieldOutputs, "output %s chosen twice", o.Ref())
		}
		seen[o.Ref()] = true
		if ins[i], err = o.spendable(p.Sender, p.AssetID, true); err != nil {
			return nil, fieldErr(FieldOutputs, "%s", err.Error())
		}
		total = total.Add(ins[i].amount)
	}
	if total.LessThan(amount) {
		return nil, &InsufficientError{AssetID: p.AssetID, Amount: p.Amount, Available: total.String(), Held: "0"}
	}
	change := total.Sub(amount)
	if c, err := decimal.NewFromString(sel.Change); err != nil || !c.Equal(change) {
		return nil, fieldErr(FieldOutputs, "change %s does not match the outputs chosen (%s)", sel.Change, change)
	}
	amounts := []string{p.Amount}
	if change.IsPositive() {
		amounts = append(amounts, change.String())
	}
	if len(ghosts) != len(amounts) {
		return nil, fieldErr(FieldGhostKeys, "%d answered for %d outputs", len(ghosts), len(amounts))
	}
	outs := make([]*common.Output, len(amounts))
	used := make(map[crypto.Key]bool, len(amounts))
	for i, g := range ghosts {
		mask, err := pointKey(g.Mask)
		if err != nil {
			return nil, fieldErr(FieldGhostKeys, "output %d mask %s", i, err)
		}
		if len(g.Keys) != 1 {
			return nil, fieldErr(FieldGhostKeys, "output %d has %d keys for 1 receiver", i, len(g.Keys))
		}
		key, err := pointKey(g.Keys[0])
		if err != nil {
			return nil, fieldErr(FieldGhostKeys, "output %d key %s", i, err)
		}
		if used[key] {
			return nil, fieldErr(FieldGhostKeys, "output %d repeats a key", i)
		}
		used[key] = true
		outs[i] = &common.Output{
			Type:   common.OutputTypeScript,
			Amount: common.NewIntegerFromString(amounts[i]),
			Keys:   []*crypto.Key{&key},
			Mask:   mask,
			Script: common.NewThresholdScript(1),
		}
	}

	defer func() {
		if r := recover(); r != nil { // not expected: everything was checked
			u, err = nil, errors.New("safe: the kernel library refused to encode the transaction")
		}
	}()
	tx := common.NewTransactionV5(KernelAssetID(p.AssetID))
	for _, in := range ins {
		tx.AddInput(in.hash, in.index)
	}
	tx.Outputs = outs
	tx.Extra = []byte(p.Memo)
	ver := tx.AsVersioned()
	return &Unsigned{
		RequestID: p.RequestID,
		Raw:       ver.Marshal(),
		Hash:      ver.PayloadHash(),
		Inputs:    sel.Inputs,
		Change:    change.String(),
	}, nil
}

// Sign signs every input of an unsigned transaction (docs/safe-api.md
// §4.5): key_i = views[i] + y (the spend scalar), sig_i = key_i.Sign(hash),
// SignaturesMap[i] = {0: sig_i}. inputs are the outputs the transaction
// spends, in input order; the signatures are verified with the kernel
// library (crypto.BatchVerify, as the kernel checks a transaction) against
// the outputs' one-time keys before the signed bytes are returned, so a
// wrong view or spend key never reaches the network.
func Sign(raw []byte, inputs []Output, views []string, spend *SpendKey) (signed []byte, hash crypto.Hash, err error) {
	if spend == nil {
		return nil, hash, fieldErr(FieldSpendPrivateKey, "missing")
	}
	ver, err := common.UnmarshalVersionedTransaction(raw)
	if err != nil {
		return nil, hash, fieldErr(FieldTransaction, "not a kernel transaction")
	}
	if len(ver.SignaturesMap) > 0 || ver.AggregatedSignature != nil {
		return nil, hash, fieldErr(FieldTransaction, "already signed")
	}
	if len(inputs) != len(ver.Inputs) {
		return nil, hash, fieldErr(FieldOutputs, "%d given for %d inputs", len(inputs), len(ver.Inputs))
	}
	if len(views) != len(ver.Inputs) {
		return nil, hash, fieldErr(FieldViews, "%d answered for %d inputs", len(views), len(ver.Inputs))
	}
	keys := make([]crypto.Key, len(inputs))
	for i, in := range ver.Inputs {
		o := &inputs[i]
		h, err := hexKey(o.TransactionHash)
		if err != nil || crypto.Hash(h) != in.Hash || o.OutputIndex != in.Index {
			return nil, hash, fieldErr(FieldOutputs, "output %d is not input %d of the transaction", i, i)
		}
		if len(o.Keys) != 1 {
			return nil, hash, fieldErr(FieldOutputs, "output %s has %d keys, not 1", o.Ref(), len(o.Keys))
		}
		// Not checked to be a point here: a key that is none fails the
		// verification below.
		k, err := hexKey(o.Keys[0])
		if err != nil {
			return nil, hash, fieldErr(FieldOutputs, "output %s key %s", o.Ref(), err)
		}
		keys[i] = crypto.Key(k)
	}
	hash = ver.PayloadHash()
	ver.SignaturesMap = make([]map[uint16]*crypto.Signature, len(ver.Inputs))
	sigs := make([]*crypto.Signature, len(ver.Inputs))
	pubs := make([]*crypto.Key, len(ver.Inputs))
	for i := range ver.Inputs {
		v, err := hexKey(views[i])
		if err != nil {
			return nil, hash, fieldErr(FieldViews, "view %d %s", i, err)
		}
		x, err := edwards25519.NewScalar().SetCanonicalBytes(v[:])
		if err != nil {
			return nil, hash, fieldErr(FieldViews, "view %d is not a scalar", i)
		}
		var k crypto.Key
		copy(k[:], edwards25519.NewScalar().Add(x, spend.y).Bytes())
		sig := k.Sign(hash)
		clear(k[:])
		sigs[i], pubs[i] = &sig, &keys[i]
		ver.SignaturesMap[i] = map[uint16]*crypto.Signature{0: &sig}
	}
	// One batch verification, as the kernel checks a transaction; only when
	// it fails is each signature checked, to name the input.
	if !VerifyBatch(hash, pubs, sigs) {
		for i := range sigs {
			if !keys[i].Verify(hash, *sigs[i]) {
				return nil, hash, fieldErr(FieldViews, "view %d with this spend key does not sign for output %s: wrong spend key, or views of another wallet", i, inputs[i].Ref())
			}
		}
		return nil, hash, fieldErr(FieldViews, "the signatures do not verify together")
	}
	return ver.Marshal(), hash, nil
}

// VerifyBatch is crypto.BatchVerify of the signatures sigs[i] by keys[i]
// over hash, as the kernel checks a transaction's inputs, except that it
// never panics. The kernel's batch verifier draws 16 random bytes for each
// signature and panics when a draw looks too little random (kernel
// crypto/rand.go ReadRand: one byte value 5 or more times in 16, about once
// in a million draws, so about once in 4,000 merges of 256 inputs): then
// each signature is verified alone instead (Key.Verify draws nothing).
func VerifyBatch(hash crypto.Hash, keys []*crypto.Key, sigs []*crypto.Signature) bool {
	if ok, drawn := batchVerify(hash, keys, sigs); drawn {
		return ok
	}
	if len(keys) != len(sigs) {
		return false
	}
	for i := range sigs {
		if keys[i] == nil || sigs[i] == nil || !keys[i].Verify(hash, *sigs[i]) {
			return false
		}
	}
	return true
}

// batchVerify is crypto.BatchVerify; drawn is false when it panicked.
func batchVerify(hash crypto.Hash, keys []*crypto.Key, sigs []*crypto.Signature) (ok, drawn bool) {
	defer func() {
		if recover() != nil {
			ok, drawn = false, false
		}
	}()
	return crypto.BatchVerify(hash, keys, sigs), true
}

// VerifySigned decodes a signed transaction and checks, with the kernel
// library, that input i carries exactly one signature, at index 0, by
// keys[i] over the transaction hash. It returns the decoded transaction.
func VerifySigned(signed []byte, keys []crypto.Key) (*common.VersionedTransaction, error) {
	ver, err := common.UnmarshalVersionedTransaction(signed)
	if err != nil {
		return nil, fmt.Errorf("safe: not a kernel transaction: %w", err)
	}
	if ver.AggregatedSignature != nil || len(ver.SignaturesMap) != len(ver.Inputs) {
		return nil, fmt.Errorf("safe: %d signature maps for %d inputs", len(ver.SignaturesMap), len(ver.Inputs))
	}
	if len(keys) != len(ver.Inputs) {
		return nil, fmt.Errorf("safe: %d keys for %d inputs", len(keys), len(ver.Inputs))
	}
	hash := ver.PayloadHash()
	for i, sm := range ver.SignaturesMap {
		sig, ok := sm[0]
		if len(sm) != 1 || !ok || sig == nil {
			return nil, fmt.Errorf("safe: input %d is not signed once at index 0", i)
		}
		if !keys[i].Verify(hash, *sig) {
			return nil, fmt.Errorf("safe: input %d: signature does not verify", i)
		}
	}
	return ver, nil
}
