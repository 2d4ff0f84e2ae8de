package sandbox

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/MixinNetwork/mixin/common"
	"github.com/MixinNetwork/mixin/crypto"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
	"mixdesk/safe"
)

const kernelRequestType = "kernel_transaction_request"

func badBody() *mixin.Error {
	return apiErr(mixin.CodeBadRequest, "The request body can't be parsed as valid data.", "")
}

func errRequestUsed() *mixin.Error {
	return apiErr(safe.CodeRequestUsed, "Transfer has been paid by someone else.", "")
}

func errLocked() *mixin.Error {
	return apiErr(safe.CodeOutputsLocked, "inputs locked by another transaction", "")
}

func errInvalidUTXO() *mixin.Error {
	return apiErr(safe.CodeInvalidUTXO, "invalid utxo", "")
}

// handleKeys answers POST /safe/keys (docs/safe-api.md §4.2): one key per
// receiver, derived with the kernel's DeriveGhostPublicKey from a secret r
// that depends only on the request (receivers, index, hint), so the same
// request gets the same keys. A receiver not registered for Safe is 10404.
// The sandbox serves single-receiver outputs only.
func (s *Server) handleKeys(c *call) (any, *mixin.Error) {
	var reqs []safe.GhostKeyRequest
	if err := json.Unmarshal(c.body, &reqs); err != nil || len(reqs) == 0 || len(reqs) > common.SliceCountLimit {
		return nil, badBody()
	}
	out := make([]safe.GhostKeys, len(reqs))
	for i, q := range reqs {
		if len(q.Receivers) != 1 {
			return nil, invalid("receivers", "one receiver per output")
		}
		id, ok := canonicalUUID(q.Receivers[0])
		if !ok {
			return nil, apiErr(safe.CodeBadReceivers, "receivers contain duplicate or invalid data.", "")
		}
		u := s.users[id]
		if u == nil || !u.registered() {
			return nil, apiErr(safe.CodeNotRegistered, "The user has not registered to the latest API.", "")
		}
		if _, ok := canonicalUUID(q.Hint); !ok {
			return nil, invalid("hint", "not a UUID")
		}
		if q.Index >= common.SliceCountLimit {
			return nil, invalid("index", "out of range")
		}
		seed := crypto.Blake3Hash([]byte(string(s.secret[:]) + id + "|" + strconv.Itoa(int(q.Index)) + "|" + q.Hint))
		more := crypto.Blake3Hash(seed[:])
		r := crypto.NewKeyFromSeed(append(seed[:], more[:]...))
		A := u.view.Public()
		key := crypto.DeriveGhostPublicKey(&r, &A, &u.spend, uint64(q.Index))
		s.ghosts[*key] = ghost{receivers: []string{id}, index: q.Index}
		out[i] = safe.GhostKeys{Type: "ghost_key", Mask: r.Public().String(), Keys: []string{key.String()}}
	}
	return out, nil
}

type rawRequest struct {
	RequestID string `json:"request_id"`
	Raw       string `json:"raw"`
}

// decodeRaws decodes the body of verify and submit: 1 to 16 transactions
// under distinct request ids.
func decodeRaws(body []byte) ([]rawRequest, *mixin.Error) {
	var reqs []rawRequest
	if err := json.Unmarshal(body, &reqs); err != nil || len(reqs) == 0 || len(reqs) > 16 {
		return nil, badBody()
	}
	ids := make(map[string]bool, len(reqs))
	for _, q := range reqs {
		id, ok := canonicalUUID(q.RequestID)
		if !ok {
			return nil, invalid("request_id", "not a UUID")
		}
		if ids[id] {
			return nil, invalid("request_id", "repeated in one call")
		}
		ids[id] = true
	}
	return reqs, nil
}

// decodeTx checks the request id and decodes the raw with the kernel library.
func decodeTx(q rawRequest) (string, *common.VersionedTransaction, *mixin.Error) {
	id, ok := canonicalUUID(q.RequestID)
	if !ok {
		return "", nil, invalid("request_id", "not a UUID")
	}
	b, err := hex.DecodeString(q.Raw)
	if err != nil {
		return "", nil, invalid("raw", "not hex")
	}
	ver, err := common.UnmarshalVersionedTransaction(b)
	if err != nil {
		return "", nil, invalid("raw", "not a kernel transaction")
	}
	return id, ver, nil
}

// handleVerify answers POST /safe/transaction/requests (docs/safe-api.md
// §4.4, §6.1). A call is all or nothing: every transaction in it is checked
// before any is recorded, so a refused call leaves every id as it was.
func (s *Server) handleVerify(c *call) (any, *mixin.Error) {
	reqs, e := decodeRaws(c.body)
	if e != nil {
		return nil, e
	}
	out := make([]safe.TransactionRequest, 0, len(reqs))
	var fresh []*request
	for _, q := range reqs {
		r, isNew, e := s.verifyLocked(c.user, q)
		if e != nil {
			return nil, e
		}
		if isNew {
			fresh = append(fresh, r)
		}
		out = append(out, r.TransactionRequest)
	}
	for _, r := range fresh {
		s.requests[r.RequestID] = r
	}
	return out, nil
}

// verifyLocked checks one transaction to verify and returns its request:
// the existing one (isNew false) or a new one the caller records.
func (s *Server) verifyLocked(u *user, q rawRequest) (r *request, isNew bool, e *mixin.Error) {
	id, ver, e := decodeTx(q)
	if e != nil {
		return nil, false, e
	}
	if len(ver.SignaturesMap) > 0 || ver.AggregatedSignature != nil {
		return nil, false, invalid("raw", "already signed")
	}
	hash := ver.PayloadHash()
	if old := s.requests[id]; old != nil {
		switch {
		case old.owner != u.id:
			return nil, false, errRequestUsed()
		case old.TransactionHash == hash.String(), old.State != safe.StateUnspent:
			return old, false, nil // same content, or already submitted: the existing request
		}
		return nil, false, errRequestUsed() // another unsigned transaction under the id
	}
	ins, receivers, paid, e := s.checkLocked(u, ver)
	if e != nil {
		return nil, false, e
	}
	now := s.nextTimeLocked()
	r = &request{owner: u.id, TransactionRequest: safe.TransactionRequest{
		Type:             kernelRequestType,
		RequestID:        id,
		TransactionHash:  hash.String(),
		Asset:            ver.Asset.String(),
		KernelAssetID:    ver.Asset.String(),
		AssetID:          s.byKernel[ver.Asset],
		Amount:           paid,
		Extra:            hex.EncodeToString(ver.Extra),
		UserID:           u.id,
		Receivers:        receivers,
		Senders:          []string{u.id},
		SendersHash:      safe.MembersHash(u.id),
		SendersThreshold: 1,
		Signers:          []string{u.id},
		State:            safe.StateUnspent,
		RawTransaction:   q.Raw,
		CreatedAt:        now,
		UpdatedAt:        now,
	}}
	for _, o := range ins {
		mask, _ := crypto.KeyFromString(o.Mask)
		x := crypto.HashScalar(crypto.KeyMultPubPriv(&mask, &u.view), uint64(o.OutputIndex))
		r.Views = append(r.Views, hex.EncodeToString(x.Bytes()))
		r.inputs = append(r.inputs, o.Ref())
	}
	return r, true, nil
}

// checkLocked checks a transaction as the kernel and Sequencer would before
// it spends u's outputs: known asset, no references, 1..256 inputs that are
// u's unspent outputs of the asset, 1..256 one-key threshold-1 outputs
// whose keys were issued by /safe/keys for that index and never used,
// Σ inputs = Σ outputs, extra within the kernel's limit. It returns the
// inputs, the receivers and the amount paid to others.
func (s *Server) checkLocked(u *user, ver *common.VersionedTransaction) ([]*output, []safe.Receiver, string, *mixin.Error) {
	assetID := s.byKernel[ver.Asset]
	switch {
	case assetID == "":
		return nil, nil, "", invalid("raw", "unknown asset")
	case len(ver.References) > 0:
		return nil, nil, "", invalid("raw", "references are not served")
	case len(ver.Inputs) == 0 || len(ver.Inputs) > common.SliceCountLimit:
		return nil, nil, "", invalid("raw", "1 to 256 inputs")
	case len(ver.Outputs) == 0 || len(ver.Outputs) > common.SliceCountLimit:
		return nil, nil, "", invalid("raw", "1 to 256 outputs")
	case len(ver.Extra) > ver.GetExtraLimit():
		return nil, nil, "", invalid("raw", fmt.Sprintf("extra of %d bytes; at most %d", len(ver.Extra), ver.GetExtraLimit()))
	}
	total := common.NewInteger(0)
	ins := make([]*output, len(ver.Inputs))
	seen := map[string]bool{}
	for i, in := range ver.Inputs {
		if in.Genesis != nil || in.Deposit != nil || in.Mint != nil {
			return nil, nil, "", invalid("raw", "not a transfer input")
		}
		ref := fmt.Sprintf("%s:%d", in.Hash, in.Index)
		o := s.outputs[ref]
		if seen[ref] || o == nil || o.Receivers[0] != u.id || o.AssetID != assetID || o.InscriptionHash != "" {
			return nil, nil, "", errInvalidUTXO()
		}
		if o.State != safe.StateUnspent {
			return nil, nil, "", errLocked()
		}
		seen[ref] = true
		ins[i] = o
		total = total.Add(common.NewIntegerFromString(o.Amount))
	}
	out := common.NewInteger(0)
	paid := decimal.Zero
	var receivers []safe.Receiver
	keys := map[crypto.Key]bool{}
	for i, o := range ver.Outputs {
		if o.Type != common.OutputTypeScript || o.Withdrawal != nil || o.Script.String() != "fffe01" || len(o.Keys) != 1 {
			return nil, nil, "", invalid("raw", fmt.Sprintf("output %d is not a one-key threshold-1 script output", i))
		}
		if o.Amount.Sign() <= 0 {
			return nil, nil, "", invalid("raw", fmt.Sprintf("output %d amount", i))
		}
		k := *o.Keys[0]
		g, issued := s.ghosts[k]
		switch {
		case !o.Mask.HasValue() || !o.Mask.CheckKey() || !k.CheckKey():
			return nil, nil, "", invalid("raw", fmt.Sprintf("output %d keys", i))
		case !issued || g.index != uint(i):
			return nil, nil, "", invalid("raw", fmt.Sprintf("output %d key was not issued for this output", i))
		case s.usedKeys[k] || keys[k]:
			return nil, nil, "", invalid("raw", fmt.Sprintf("output %d key already used", i))
		}
		keys[k] = true
		out = out.Add(o.Amount)
		receivers = append(receivers, safe.Receiver{Members: g.receivers, MembersHash: safe.MembersHash(g.receivers...), Threshold: 1})
		if g.receivers[0] != u.id {
			paid = paid.Add(decimal.RequireFromString(o.Amount.String()))
		}
	}
	if total.Cmp(out) != 0 {
		return nil, nil, "", invalid("raw", "inputs and outputs do not balance")
	}
	return ins, receivers, paid.String(), nil
}

// handleSubmit answers POST /safe/transactions (docs/safe-api.md §4.6,
// §6.1): the raw must be the verified transaction under its id, every
// input signed by its output's key (kernel BatchVerify); then the inputs
// are spent, the outputs created and each party gets a snapshot. A repeat
// of a submitted transaction answers it again and moves nothing. A call is
// all or nothing: every transaction in it is checked (and no output may be
// spent by two of them) before any is applied, so a refused call moves
// nothing.
func (s *Server) handleSubmit(c *call) (any, *mixin.Error) {
	reqs, e := decodeRaws(c.body)
	if e != nil {
		return nil, e
	}
	type accepted struct {
		r   *request
		ver *common.VersionedTransaction
		ins []*output
		raw string
	}
	var apply []accepted
	spending := map[string]bool{}
	for _, q := range reqs {
		r, ver, ins, e := s.submitLocked(c.user, q)
		if e != nil {
			return nil, e
		}
		if ver == nil {
			continue // a repeat
		}
		for _, o := range ins {
			if spending[o.Ref()] {
				return nil, errLocked()
			}
			spending[o.Ref()] = true
		}
		apply = append(apply, accepted{r, ver, ins, q.Raw})
	}
	for _, a := range apply {
		s.applyLocked(c.user, a.r, a.ver, a.ins, a.raw)
	}
	out := make([]safe.TransactionRequest, 0, len(reqs))
	for _, q := range reqs {
		id, _ := canonicalUUID(q.RequestID)
		out = append(out, s.requests[id].TransactionRequest)
	}
	return out, nil
}

// submitLocked checks one transaction to submit. It returns the request
// and, when the transaction is to be applied, its decoded form and inputs;
// ver is nil for a repeat of a submitted transaction.
func (s *Server) submitLocked(u *user, q rawRequest) (*request, *common.VersionedTransaction, []*output, *mixin.Error) {
	id, ver, e := decodeTx(q)
	if e != nil {
		return nil, nil, nil, e
	}
	r := s.requests[id]
	hash := ver.PayloadHash()
	switch {
	case r == nil:
		return nil, nil, nil, invalid("request_id", "not verified")
	case r.owner != u.id || r.TransactionHash != hash.String():
		return nil, nil, nil, errRequestUsed()
	case r.State != safe.StateUnspent:
		return r, nil, nil, nil
	}
	ins, _, _, e := s.checkLocked(u, ver)
	if e != nil {
		return nil, nil, nil, e
	}
	if ver.AggregatedSignature != nil || len(ver.SignaturesMap) != len(ins) {
		return nil, nil, nil, invalid("raw", "one signature map per input")
	}
	keys := make([]*crypto.Key, len(ins))
	sigs := make([]*crypto.Signature, len(ins))
	for i, sm := range ver.SignaturesMap {
		sig, ok := sm[0]
		if len(sm) != 1 || !ok || sig == nil {
			return nil, nil, nil, invalid("raw", fmt.Sprintf("input %d is not signed once at index 0", i))
		}
		keys[i], sigs[i] = &ins[i].key, sig
	}
	if !safe.VerifyBatch(hash, keys, sigs) {
		return nil, nil, nil, invalid("raw", "signatures do not verify")
	}
	return r, ver, ins, nil
}

// applyLocked spends the inputs, creates the outputs and the snapshots.
func (s *Server) applyLocked(u *user, r *request, ver *common.VersionedTransaction, ins []*output, signed string) {
	hash := ver.PayloadHash()
	now := s.nextTimeLocked()
	for _, o := range ins {
		o.State, o.SignedBy, o.UpdatedAt = safe.StateSpent, hash.String(), now
	}
	assetID := s.byKernel[ver.Asset]
	got := map[string]decimal.Decimal{}
	var order []string
	for i, o := range ver.Outputs {
		k := *o.Keys[0]
		owner := s.ghosts[k].receivers[0]
		s.addOutputLocked(owner, assetID, o.Amount.String(), o.Mask, k, hash, uint(i), r.RequestID, ver.Extra)
		if owner != u.id {
			if _, ok := got[owner]; !ok {
				order = append(order, owner)
			}
			got[owner] = got[owner].Add(decimal.RequireFromString(o.Amount.String()))
		}
	}
	memo := hex.EncodeToString(ver.Extra)
	snap := func(user, opponent, amount string) *safe.Snapshot {
		sn := &safe.Snapshot{
			SnapshotID: safe.SnapshotID(user, hash), Type: "snapshot", UserID: user, OpponentID: opponent,
			TransactionHash: hash.String(), AssetID: assetID, KernelAssetID: ver.Asset.String(),
			Amount: amount, Memo: memo, RequestID: r.RequestID, CreatedAt: s.nextTimeLocked(),
		}
		s.snapshots = append(s.snapshots, sn)
		return sn
	}
	paid := decimal.Zero
	for _, v := range got {
		paid = paid.Add(v)
	}
	opponent := ""
	if len(order) > 0 {
		opponent = order[0]
	}
	r.State, r.RawTransaction, r.UpdatedAt = safe.StateSpent, signed, now
	if paid.IsPositive() { // a transaction back to oneself moves nothing to show
		mine := snap(u.id, opponent, paid.Neg().String())
		r.SnapshotID, r.SnapshotAt = mine.SnapshotID, mine.CreatedAt
	}
	for _, owner := range order {
		snap(owner, u.id, got[owner].String())
	}
	sh := crypto.Blake3Hash([]byte("snapshot:" + hash.String()))
	r.SnapshotHash = sh.String()
}
