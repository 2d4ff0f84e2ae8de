package sandbox

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/MixinNetwork/mixin/crypto"
	"github.com/google/uuid"

	"mixdesk/mixin"
	"mixdesk/safe"
)

// AddUser adds a user. spend is the spend public key registered for Safe,
// or the zero key for a user who has not registered (POST /safe/keys then
// answers 10404 for them, GET /safe/me has_safe false). The user's view
// key is the Sequencer's own, drawn from the seed.
func (s *Server) AddUser(id, name, identity string, spend crypto.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	uid, ok := canonicalUUID(id)
	if !ok {
		return errors.New("sandbox: user id is not a UUID")
	}
	if s.users[uid] != nil {
		return errors.New("sandbox: user exists")
	}
	if spend.HasValue() && !spend.CheckKey() {
		return errors.New("sandbox: spend key is not a public key")
	}
	s.users[uid] = &user{id: uid, name: name, identity: identity, spend: spend,
		view: crypto.NewKeyFromSeed(s.randBytesLocked(64))}
	return nil
}

// AddSession makes sessionID, signed by pub, the session of userID; the
// user's earlier session stops working, as in the dashboard.
func (s *Server) AddSession(userID, sessionID string, pub ed25519.PublicKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	sid, ok := canonicalUUID(sessionID)
	if u == nil || !ok || len(pub) != ed25519.PublicKeySize {
		return errors.New("sandbox: bad session")
	}
	s.sessions[sid] = &session{id: sid, userID: u.id, pub: pub}
	u.sessionID = sid
	return nil
}

// AddAsset adds an asset; its kernel asset id is derived from its id.
func (s *Server) AddAsset(a safe.Asset) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := canonicalUUID(a.AssetID)
	if !ok {
		return errors.New("sandbox: asset id is not a UUID")
	}
	a.AssetID = id
	k := safe.KernelAssetID(id)
	a.KernelAssetID = k.String()
	s.assets[id] = &a
	s.byKernel[k] = id
	return nil
}

// Deposit gives userID a new unspent output of amount of assetID, as a
// deposit from the asset's chain would, with a snapshot that has a deposit
// object (its deposit_hash made up, no sender).
func (s *Server) Deposit(userID, assetID, amount string) (safe.Output, error) {
	return s.DepositFrom(userID, assetID, amount, "")
}

// DepositFrom is Deposit from the chain address sender, which the
// snapshot's deposit object names.
func (s *Server) DepositFrom(userID, assetID, amount, sender string) (safe.Output, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, a := s.users[userID], s.assets[assetID]
	if u == nil || !u.registered() || a == nil {
		return safe.Output{}, errors.New("sandbox: deposit to an unknown or unregistered user, or of an unknown asset")
	}
	if _, _, err := mixin.ParseAmount(amount); err != nil {
		return safe.Output{}, err
	}
	var hash crypto.Hash
	copy(hash[:], s.randBytesLocked(32))
	r := crypto.NewKeyFromSeed(s.randBytesLocked(64))
	A := u.view.Public()
	key := crypto.DeriveGhostPublicKey(&r, &A, &u.spend, 0)
	o := s.addOutputLocked(u.id, a.AssetID, amount, r.Public(), *key, hash, 0, "", nil)
	s.snapshots = append(s.snapshots, &safe.Snapshot{
		SnapshotID: safe.SnapshotID(u.id, hash), Type: "snapshot", UserID: u.id,
		TransactionHash: hash.String(), AssetID: a.AssetID, KernelAssetID: a.KernelAssetID,
		Amount: amount, CreatedAt: o.CreatedAt, Deposit: depositOf(hash.String(), sender),
	})
	return o.Output, nil
}

// depositOf is the deposit object of the deposit from sender made by the
// kernel transaction txHash: the chain's transaction is made up from the
// kernel's (so that the seeded source draws what it always drew).
func depositOf(txHash, sender string) *safe.SnapshotDeposit {
	chain := crypto.Blake3Hash([]byte("deposit:" + txHash))
	return &safe.SnapshotDeposit{DepositHash: chain.String(), Sender: mixin.DisplayText(sender)}
}

// Outputs lists userID's outputs in any state, by sequence (tests).
func (s *Server) Outputs(userID string) []safe.Output {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []safe.Output
	for _, o := range s.sortedOutputsLocked() {
		if o.Receivers[0] == userID {
			out = append(out, o.Output)
		}
	}
	return out
}

// addOutputLocked records a new unspent output owned 1-of-1 by owner.
func (s *Server) addOutputLocked(owner, assetID, amount string, mask, key crypto.Key, hash crypto.Hash, index uint, requestID string, extra []byte) *output {
	s.sequence++
	now := s.nextTimeLocked()
	o := &output{key: key, Output: safe.Output{
		OutputID:           safe.UniqueObjectID(hash.String(), fmt.Sprint(index)),
		TransactionHash:    hash.String(),
		OutputIndex:        index,
		AssetID:            assetID,
		KernelAssetID:      safe.KernelAssetID(assetID).String(),
		Amount:             amount,
		Mask:               mask.String(),
		Keys:               []string{key.String()},
		Receivers:          []string{owner},
		ReceiversHash:      safe.MembersHash(owner),
		ReceiversThreshold: 1,
		Extra:              hex.EncodeToString(extra),
		State:              safe.StateUnspent,
		Sequence:           s.sequence,
		RequestID:          requestID,
		CreatedAt:          now,
		UpdatedAt:          now,
	}}
	s.outputs[o.Ref()] = o
	s.ordered = append(s.ordered, o)
	s.usedKeys[key] = true
	return o
}

// sortedOutputsLocked is every output by sequence (sequences only grow, so
// the order of creation).
func (s *Server) sortedOutputsLocked() []*output { return slices.Clone(s.ordered) }

// nextTimeLocked is a strictly increasing UTC time.
func (s *Server) nextTimeLocked() time.Time {
	t := s.now().UTC()
	if !t.After(s.lastTime) {
		t = s.lastTime.Add(time.Nanosecond)
	}
	s.lastTime = t
	return t
}

func (s *Server) randBytesLocked(n int) []byte {
	b := make([]byte, n+7)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], s.rng.Uint64())
	}
	return b[:n:n]
}

func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// Snapshots lists userID's snapshots, oldest first (tests).
func (s *Server) Snapshots(userID string) []safe.Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []safe.Snapshot
	for _, sn := range s.snapshots {
		if sn.UserID == userID {
			out = append(out, *sn)
		}
	}
	return out
}

// Requests lists every transaction request, verified only or submitted,
// oldest first (tests).
func (s *Server) Requests() []safe.TransactionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]safe.TransactionRequest, 0, len(s.requests))
	for _, r := range s.requests {
		c := r.TransactionRequest
		c.Views = slices.Clone(c.Views)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b safe.TransactionRequest) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}
