package safe

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/MixinNetwork/mixin/common"
	"github.com/MixinNetwork/mixin/crypto"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
)

// Output states (docs/safe-api.md §3.1).
const (
	StateUnspent = "unspent"
	StateSigned  = "signed"
	StateSpent   = "spent"
)

// MaxInputs is the most inputs one kernel transaction may have
// (common.SliceCountLimit; kernel common/validation.go).
const MaxInputs = common.SliceCountLimit

// maxInputIndex is the largest output index the kernel encodes in an input
// (kernel common/encoding.go EncodeInput panics above it).
const maxInputIndex = 1024

// Output is one transaction output of the wallet as GET /safe/outputs lists
// it (docs/safe-api.md §3.1). Amount is a decimal string as sent.
type Output struct {
	OutputID           string    `json:"output_id"`
	TransactionHash    string    `json:"transaction_hash"`
	OutputIndex        uint      `json:"output_index"`
	AssetID            string    `json:"asset_id"`
	KernelAssetID      string    `json:"kernel_asset_id"`
	Amount             string    `json:"amount"`
	Mask               string    `json:"mask"`
	Keys               []string  `json:"keys"`
	Receivers          []string  `json:"receivers"`
	ReceiversHash      string    `json:"receivers_hash"`
	ReceiversThreshold int       `json:"receivers_threshold"`
	Senders            []string  `json:"senders,omitempty"`
	Extra              string    `json:"extra"`
	State              string    `json:"state"`
	Sequence           int64     `json:"sequence"`
	SignedBy           string    `json:"signed_by,omitempty"`
	InscriptionHash    string    `json:"inscription_hash,omitempty"`
	RequestID          string    `json:"request_id,omitempty"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// Ref names the output as a kernel input: "<transaction hash>:<index>".
// Payouts in flight hold outputs by this name.
func (o *Output) Ref() string {
	return strings.ToLower(o.TransactionHash) + ":" + strconv.FormatUint(uint64(o.OutputIndex), 10)
}

// spendable is an output checked for spending by owner: its kernel input,
// amount and the one-time key its signature must verify against.
type spendable struct {
	hash   crypto.Hash
	index  uint
	amount decimal.Decimal
	key    crypto.Key
}

// spendable checks that the output can be an input of a payment of assetID
// by owner: unspent, of that asset, owned 1-of-1 by owner, no inscription,
// a well-formed hash, index, amount, mask and key. The reason names what is
// wrong, for a broken answer. Only with points are the mask and key
// checked to be curve points (the costly part: Build does it for the
// outputs chosen).
func (o *Output) spendable(owner, assetID string, points bool) (spendable, error) {
	var s spendable
	bad := func(format string, a ...any) (spendable, error) {
		return s, fmt.Errorf("output %s: %s", o.Ref(), fmt.Sprintf(format, a...))
	}
	switch {
	case o.State != StateUnspent:
		return bad("state %q, not unspent", mixin.DisplayText(o.State))
	case o.AssetID != assetID:
		return bad("of another asset")
	case o.KernelAssetID != "" && !strings.EqualFold(o.KernelAssetID, KernelAssetID(assetID).String()):
		return bad("kernel asset id does not match its asset")
	case o.InscriptionHash != "":
		return bad("an inscription")
	case o.ReceiversThreshold != 1 || len(o.Receivers) != 1 || o.Receivers[0] != owner:
		return bad("not owned 1-of-1 by this wallet")
	case len(o.Keys) != 1:
		return bad("has %d keys, not 1", len(o.Keys))
	case o.OutputIndex > maxInputIndex:
		return bad("index above %d", maxInputIndex)
	}
	h, err := hexKey(o.TransactionHash)
	if err != nil {
		return bad("transaction hash %s", err)
	}
	check := hexKey
	if points {
		check = func(s string) ([32]byte, error) { k, err := pointKey(s); return k, err }
	}
	if _, err := check(o.Mask); err != nil {
		return bad("mask %s", err)
	}
	k, err := check(o.Keys[0])
	if err != nil {
		return bad("key %s", err)
	}
	amt, _, err := mixin.ParseAmount(o.Amount)
	if err != nil {
		return bad("amount is not a positive decimal of at most 8 places")
	}
	return spendable{hash: crypto.Hash(h), index: o.OutputIndex, amount: amt, key: crypto.Key(k)}, nil
}

// Selection is the outputs chosen to pay an amount, oldest first, and what
// is left over as change.
type Selection struct {
	Inputs []Output
	Total  string // Σ inputs, canonical decimal
	Change string // Total − amount; "0" when exact
}

// InsufficientError: the unspent outputs of the asset, less those held by
// payouts not yet settled, do not cover the amount. Nothing was sent.
type InsufficientError struct {
	AssetID   string
	Amount    string // asked
	Available string // Σ spendable outputs not held
	Held      string // Σ spendable outputs held by payouts in flight
}

func (e *InsufficientError) Error() string {
	s := fmt.Sprintf("safe: insufficient outputs: %s asked, %s spendable", e.Amount, e.Available)
	if e.Held != "0" {
		s += fmt.Sprintf(" (%s more held by payouts not yet settled)", e.Held)
	}
	return s
}

// TooManyInputsError: covering the amount needs more outputs than one
// transaction may spend. Nothing was sent; the wallet must be consolidated.
type TooManyInputsError struct {
	Needed, Max int
}

func (e *TooManyInputsError) Error() string {
	return fmt.Sprintf("safe: the amount needs %d outputs, more than the %d one transaction may spend; consolidate the wallet first", e.Needed, e.Max)
}

type candidate struct {
	out Output
	in  spendable
	// planned marks, in PlanMerges, the output of a planned merge (not one
	// of the wallet's yet).
	planned bool
}

// SelectOutputs chooses unspent outputs of assetID owned by owner to cover
// amount (docs/safe-api.md §4.1): oldest sequence first, at most maxInputs
// (0 or more than MaxInputs means MaxInputs); when the oldest ones need too
// many, the largest ones are taken instead. Outputs whose Ref is in held
// (payouts in flight) are never chosen; outputs that are not spendable
// (other asset, not unspent, inscriptions, malformed but for the curve
// points, which Build checks) are skipped, and a
// repeated output counts once. amount must be a valid amount.
func SelectOutputs(outputs []Output, owner, assetID, amount string, held map[string]bool, maxInputs int) (*Selection, error) {
	want, canon, err := mixin.ParseAmount(amount)
	if err != nil {
		return nil, err
	}
	if maxInputs <= 0 || maxInputs > MaxInputs {
		maxInputs = MaxInputs
	}
	cands, available, heldSum := candidatesOf(outputs, owner, assetID, held)
	if available.LessThan(want) {
		return nil, &InsufficientError{AssetID: assetID, Amount: canon, Available: available.String(), Held: heldSum.String()}
	}
	idx, total, err := choose(cands, want, maxInputs)
	if err != nil {
		return nil, err
	}
	return selectionOf(cands, idx, total, want), nil
}

// candidatesOf is the outputs that can pay assetID for owner, not held,
// each once, in sequence order, with their sum and the sum of those held.
func candidatesOf(outputs []Output, owner, assetID string, held map[string]bool) (cands []candidate, available, heldSum decimal.Decimal) {
	seen := make(map[string]bool, len(outputs))
	for i := range outputs {
		o := &outputs[i]
		ref := o.Ref()
		if seen[ref] {
			continue
		}
		in, err := o.spendable(owner, assetID, false)
		if err != nil {
			continue
		}
		seen[ref] = true
		if held[ref] {
			heldSum = heldSum.Add(in.amount)
			continue
		}
		available = available.Add(in.amount)
		cands = append(cands, candidate{out: *o, in: in})
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(a.out.Sequence, b.out.Sequence) })
	return cands, available, heldSum
}

// choose picks from cands, in sequence order, the outputs that cover want
// (whose sum the caller checked): the oldest first; when they need more
// than maxInputs, the largest first. It returns their indexes in cands, in
// sequence order, and their sum, or a *TooManyInputsError when even the
// largest need more than maxInputs.
func choose(cands []candidate, want decimal.Decimal, maxInputs int) ([]int, decimal.Decimal, error) {
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	idx, total := cover(cands, order, want)
	if len(idx) <= maxInputs {
		return idx, total, nil
	}
	slices.SortStableFunc(order, func(a, b int) int { return cands[b].in.amount.Cmp(cands[a].in.amount) })
	idx, total = cover(cands, order, want)
	if len(idx) > maxInputs {
		return nil, total, &TooManyInputsError{Needed: len(idx), Max: maxInputs}
	}
	slices.Sort(idx)
	return idx, total, nil
}

// cover takes cands in the order given until their sum reaches want, and
// returns their indexes (a fresh slice) and sum.
func cover(cands []candidate, order []int, want decimal.Decimal) ([]int, decimal.Decimal) {
	total := decimal.Zero
	for n, i := range order {
		total = total.Add(cands[i].in.amount)
		if total.GreaterThanOrEqual(want) {
			return slices.Clone(order[:n+1]), total
		}
	}
	return slices.Clone(order), total
}

// selectionOf is the selection of cands[idx] paying want.
func selectionOf(cands []candidate, idx []int, total, want decimal.Decimal) *Selection {
	sel := &Selection{Total: total.String(), Change: total.Sub(want).String()}
	for _, i := range idx {
		sel.Inputs = append(sel.Inputs, cands[i].out)
	}
	return sel
}

// hexKey decodes 64 hex characters.
func hexKey(s string) ([32]byte, error) {
	var k [32]byte
	if len(s) != 64 || !isHex(s) {
		return k, fmt.Errorf("is not 64 hex characters")
	}
	_, _ = hex.Decode(k[:], []byte(s))
	return k, nil
}

// pointKey decodes a public key and checks that it is a curve point.
func pointKey(s string) (crypto.Key, error) {
	b, err := hexKey(s)
	if err != nil {
		return crypto.Key{}, err
	}
	k := crypto.Key(b)
	if !k.CheckKey() {
		return k, fmt.Errorf("is not a valid public key")
	}
	return k, nil
}
