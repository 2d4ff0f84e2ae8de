package sandbox

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"filippo.io/edwards25519"
	"github.com/MixinNetwork/mixin/common"
	"github.com/MixinNetwork/mixin/crypto"

	"mixdesk/mixin"
	"mixdesk/safe"

	"mixdesk/internal/worldfile"
)

// stateVersion is the version of the saved state's layout.
const stateVersion = 1

// state is the whole server as Save writes it. It holds the Sequencer's
// view keys and, with a world, the operator's keystore (spend key
// included): fake money only, but write it with care (SaveFile: 0600).
type state struct {
	worldfile.Head
	Secret    string          `json:"secret"` // mixes into ghost keys
	LastTime  time.Time       `json:"last_time"`
	Sequence  int64           `json:"sequence"`
	Users     []userState     `json:"users"`
	Sessions  []sessionState  `json:"sessions"`
	Assets    []safe.Asset    `json:"assets"`
	Outputs   []safe.Output   `json:"outputs"` // by sequence
	Ghosts    []ghostState    `json:"ghosts"`
	Requests  []requestState  `json:"requests"`
	Snapshots []safe.Snapshot `json:"snapshots"` // in the order made
	JTIs      []worldfile.JTI `json:"jtis,omitempty"`
	World     *World          `json:"world,omitempty"`
}

type userState struct {
	UserID         string `json:"user_id"`
	FullName       string `json:"full_name"`
	IdentityNumber string `json:"identity_number"`
	SpendPublicKey string `json:"spend_public_key,omitempty"` // "" when not registered for Safe
	ViewKey        string `json:"view_key"`                   // the Sequencer's private view key
	SessionID      string `json:"session_id,omitempty"`
}

type sessionState struct {
	SessionID string `json:"session_id"`
	UserID    string `json:"user_id"`
	PublicKey string `json:"public_key"` // hex Ed25519
}

type ghostState struct {
	Key      string `json:"key"`
	Receiver string `json:"receiver"`
	Index    uint   `json:"index"`
}

type requestState struct {
	safe.TransactionRequest
	Owner  string   `json:"owner"`
	Inputs []string `json:"inputs"` // refs of the outputs it spends
}

// Save writes the full state as JSON: users with their keys, sessions,
// assets, every output, the ghost keys issued, every request (verified or
// submitted), snapshots, remembered jti's and the world. Injected faults
// and held calls are not saved.
func (s *Server) Save(w io.Writer) error {
	s.mu.Lock()
	st, err := s.stateLocked()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return worldfile.Write(w, st, " ")
}

func (s *Server) stateLocked() (*state, error) {
	head, err := worldfile.NewHead(stateVersion, s.pcg)
	if err != nil {
		return nil, err
	}
	st := &state{Head: head, Secret: hex.EncodeToString(s.secret[:]),
		LastTime: s.lastTime, Sequence: s.sequence, World: s.world}
	for _, id := range slices.Sorted(maps.Keys(s.users)) {
		u := s.users[id]
		us := userState{UserID: u.id, FullName: u.name, IdentityNumber: u.identity, ViewKey: u.view.String(), SessionID: u.sessionID}
		if u.registered() {
			us.SpendPublicKey = u.spend.String()
		}
		st.Users = append(st.Users, us)
	}
	for _, id := range slices.Sorted(maps.Keys(s.sessions)) {
		sess := s.sessions[id]
		st.Sessions = append(st.Sessions, sessionState{SessionID: sess.id, UserID: sess.userID, PublicKey: hex.EncodeToString(sess.pub)})
	}
	for _, id := range slices.Sorted(maps.Keys(s.assets)) {
		st.Assets = append(st.Assets, *s.assets[id])
	}
	for _, o := range s.ordered {
		st.Outputs = append(st.Outputs, o.Output)
	}
	keys := slices.SortedFunc(maps.Keys(s.ghosts), func(a, b crypto.Key) int { return bytes.Compare(a[:], b[:]) })
	for _, k := range keys {
		g := s.ghosts[k]
		st.Ghosts = append(st.Ghosts, ghostState{Key: k.String(), Receiver: g.receivers[0], Index: g.index})
	}
	reqs := slices.SortedFunc(maps.Values(s.requests), func(a, b *request) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.RequestID, b.RequestID)
	})
	for _, r := range reqs {
		st.Requests = append(st.Requests, requestState{TransactionRequest: r.TransactionRequest, Owner: r.owner, Inputs: r.inputs})
	}
	for _, sn := range s.snapshots {
		st.Snapshots = append(st.Snapshots, *sn)
	}
	st.JTIs = worldfile.JTIs(s.jtis)
	return st, nil
}

// Load reads a state Save wrote and checks it through: every id, key,
// amount and reference, and every request's raw transaction against its
// hash. opts.Now is the clock of the loaded server; opts.Seed is ignored
// (the random source continues where it was saved).
func Load(r io.Reader, opts Options) (*Server, error) {
	var st state
	src, err := worldfile.Read(r, &st, stateVersion)
	if err != nil {
		return nil, err
	}
	s := newEmpty(opts)
	s.pcg, s.rng = src, rand.New(src)
	if b, err := hex.DecodeString(st.Secret); err != nil || len(b) != len(s.secret) {
		return nil, errors.New("sandbox: the state's secret is damaged")
	} else {
		copy(s.secret[:], b)
	}
	s.lastTime, s.sequence = st.LastTime.UTC(), st.Sequence
	for _, load := range []func(*state) error{s.loadUsers, s.loadSessions, s.loadAssets, s.loadOutputs, s.loadGhosts, s.loadRequests, s.loadSnapshots, s.loadRest} {
		if err := load(&st); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) loadUsers(st *state) error {
	for i, us := range st.Users {
		id, ok := canonicalUUID(us.UserID)
		if !ok || s.users[id] != nil {
			return fmt.Errorf("sandbox: state user %d: bad or repeated id", i)
		}
		u := &user{id: id, name: us.FullName, identity: us.IdentityNumber, sessionID: us.SessionID}
		if us.SpendPublicKey != "" {
			k, err := pointFromHex(us.SpendPublicKey)
			if err != nil {
				return fmt.Errorf("sandbox: state user %s: spend public key %v", id, err)
			}
			u.spend = k
		}
		b, err := hex.DecodeString(us.ViewKey)
		if err != nil || len(b) != 32 {
			return fmt.Errorf("sandbox: state user %s: bad view key", id)
		}
		if _, err := edwards25519.NewScalar().SetCanonicalBytes(b); err != nil || !crypto.Key(b).HasValue() {
			return fmt.Errorf("sandbox: state user %s: the view key is not a scalar", id)
		}
		u.view = crypto.Key(b)
		s.users[id] = u
	}
	return nil
}

func (s *Server) loadSessions(st *state) error {
	for i, ss := range st.Sessions {
		id, ok := canonicalUUID(ss.SessionID)
		if !ok || s.sessions[id] != nil {
			return fmt.Errorf("sandbox: state session %d: bad or repeated id", i)
		}
		pub, err := hex.DecodeString(ss.PublicKey)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return fmt.Errorf("sandbox: state session %s: bad public key", id)
		}
		if s.users[ss.UserID] == nil {
			return fmt.Errorf("sandbox: state session %s: unknown user", id)
		}
		s.sessions[id] = &session{id: id, userID: ss.UserID, pub: pub}
	}
	for _, u := range s.users {
		if u.sessionID != "" && (s.sessions[u.sessionID] == nil || s.sessions[u.sessionID].userID != u.id) {
			return fmt.Errorf("sandbox: state user %s: current session is not theirs", u.id)
		}
	}
	return nil
}

func (s *Server) loadAssets(st *state) error {
	for i, a := range st.Assets {
		id, ok := canonicalUUID(a.AssetID)
		if !ok || s.assets[id] != nil {
			return fmt.Errorf("sandbox: state asset %d: bad or repeated id", i)
		}
		k := safe.KernelAssetID(id)
		if a.KernelAssetID != k.String() {
			return fmt.Errorf("sandbox: state asset %s: kernel asset id is not SHA3-256 of its id", id)
		}
		a.AssetID = id
		s.assets[id] = &a
		s.byKernel[k] = id
	}
	return nil
}

func (s *Server) loadOutputs(st *state) error {
	var last int64
	for i, o := range st.Outputs {
		bad := func(what string) error { return fmt.Errorf("sandbox: state output %d: %s", i, what) }
		id, ok := canonicalUUID(o.OutputID)
		switch {
		case !ok || o.OutputID != id:
			return bad("bad id")
		case len(o.Receivers) != 1 || s.users[o.Receivers[0]] == nil || o.ReceiversThreshold != 1:
			return bad("not owned 1-of-1 by a known user")
		case s.assets[o.AssetID] == nil || o.KernelAssetID != s.assets[o.AssetID].KernelAssetID:
			return bad("unknown asset")
		case o.Sequence <= last || o.Sequence > s.sequence:
			return bad("out of sequence")
		case o.State != safe.StateUnspent && o.State != safe.StateSigned && o.State != safe.StateSpent:
			return bad("unknown state")
		case len(o.Keys) != 1:
			return bad("not one key")
		}
		last = o.Sequence
		if _, _, err := mixin.ParseAmount(o.Amount); err != nil {
			return bad("bad amount")
		}
		if _, err := crypto.HashFromString(o.TransactionHash); err != nil || len(o.TransactionHash) != 64 {
			return bad("bad transaction hash")
		}
		key, err := pointFromHex(o.Keys[0])
		if err != nil {
			return bad("key " + err.Error())
		}
		if _, err := pointFromHex(o.Mask); err != nil {
			return bad("mask " + err.Error())
		}
		if o.Extra != "" {
			if _, err := hex.DecodeString(o.Extra); err != nil {
				return bad("extra is not hex")
			}
		}
		out := &output{Output: o, key: key}
		if s.outputs[out.Ref()] != nil || s.usedKeys[key] {
			return bad("repeated")
		}
		s.outputs[out.Ref()] = out
		s.ordered = append(s.ordered, out)
		s.usedKeys[key] = true
	}
	return nil
}

func (s *Server) loadGhosts(st *state) error {
	for i, g := range st.Ghosts {
		k, err := pointFromHex(g.Key)
		if err != nil || s.users[g.Receiver] == nil || g.Index >= common.SliceCountLimit {
			return fmt.Errorf("sandbox: state ghost key %d: bad key, receiver or index", i)
		}
		if _, dup := s.ghosts[k]; dup {
			return fmt.Errorf("sandbox: state ghost key %d: repeated", i)
		}
		s.ghosts[k] = ghost{receivers: []string{g.Receiver}, index: g.Index}
	}
	return nil
}

func (s *Server) loadRequests(st *state) error {
	spentBy := map[string]string{} // output ref → hash of the submitted request spending it
	for i, rs := range st.Requests {
		bad := func(what string) error { return fmt.Errorf("sandbox: state request %d: %s", i, what) }
		id, ok := canonicalUUID(rs.RequestID)
		switch {
		case !ok || id != rs.RequestID || s.requests[id] != nil:
			return bad("bad or repeated id")
		case s.users[rs.Owner] == nil:
			return bad("unknown owner")
		case rs.State != safe.StateUnspent && rs.State != safe.StateSpent:
			return bad("unknown state")
		}
		raw, err := hex.DecodeString(rs.RawTransaction)
		if err != nil {
			return bad("raw is not hex")
		}
		ver, err := common.UnmarshalVersionedTransaction(raw)
		if err != nil || ver.PayloadHash().String() != rs.TransactionHash {
			return bad("raw is not the transaction of its hash")
		}
		if len(rs.Inputs) != len(ver.Inputs) {
			return bad("inputs do not match the raw")
		}
		for j, ref := range rs.Inputs {
			o := s.outputs[ref]
			if o == nil || ref != fmt.Sprintf("%s:%d", ver.Inputs[j].Hash, ver.Inputs[j].Index) {
				return bad("an input is not a known output")
			}
			if rs.State == safe.StateSpent {
				if o.State != safe.StateSpent || o.SignedBy != rs.TransactionHash || spentBy[ref] != "" {
					return bad("an input is not spent by it, or by another one too")
				}
				spentBy[ref] = rs.TransactionHash
			}
		}
		s.requests[id] = &request{TransactionRequest: rs.TransactionRequest, owner: rs.Owner, inputs: rs.Inputs}
	}
	for _, o := range s.ordered {
		if o.State != safe.StateUnspent && spentBy[o.Ref()] == "" {
			return fmt.Errorf("sandbox: state output %s: spent by no request", o.Ref())
		}
	}
	return nil
}

func (s *Server) loadSnapshots(st *state) error {
	seen := map[string]bool{}
	var last time.Time
	for i := range st.Snapshots {
		sn := st.Snapshots[i]
		id, ok := canonicalUUID(sn.SnapshotID)
		switch {
		case !ok || id != sn.SnapshotID || seen[id]:
			return fmt.Errorf("sandbox: state snapshot %d: bad or repeated id", i)
		case s.users[sn.UserID] == nil || s.assets[sn.AssetID] == nil:
			return fmt.Errorf("sandbox: state snapshot %s: unknown user or asset", id)
		case sn.CreatedAt.Before(last):
			return fmt.Errorf("sandbox: state snapshot %s: out of time order", id)
		}
		if _, _, err := mixin.ParseAmount(strings.TrimPrefix(sn.Amount, "-")); err != nil {
			return fmt.Errorf("sandbox: state snapshot %s: bad amount", id)
		}
		seen[id], last = true, sn.CreatedAt
		sn.CreatedAt = sn.CreatedAt.UTC()
		if sn.Deposit == nil && sn.OpponentID == "" && sn.RequestID == "" && !sn.IsOut() {
			// Made by Deposit in a world saved before deposits said so.
			sn.Deposit = depositOf(sn.TransactionHash, "")
		}
		s.snapshots = append(s.snapshots, &sn)
	}
	if last.After(s.lastTime) {
		s.lastTime = last.UTC()
	}
	return nil
}

func (s *Server) loadRest(st *state) error {
	worldfile.Remember(s.jtis, st.JTIs)
	if st.World != nil {
		if s.users[st.World.OperatorUser.UserID] == nil || st.World.Operator.AppID != st.World.OperatorUser.UserID {
			return errors.New("sandbox: state world: unknown operator")
		}
		for i, p := range st.World.Payers {
			if s.users[p.AppID] == nil {
				return fmt.Errorf("sandbox: state world: payer %d is not a user", i+1)
			}
		}
		w := *st.World
		s.world = &w
	}
	return nil
}

func pointFromHex(v string) (crypto.Key, error) {
	k, err := crypto.KeyFromString(v)
	if err != nil || !k.CheckKey() {
		return k, errors.New("is not a public key")
	}
	return k, nil
}

// SaveFile writes the state (Save) to the file at path, whole or not at
// all: into a new file of a random name in the same directory, created
// exclusively with mode 0600 (nothing planted there is followed or
// reused), synced, then renamed over path. A path that exists and is not a
// regular file (a symbolic link, a directory) is refused: the sandbox's
// keys are never written through a link.
func (s *Server) SaveFile(path string) error { return worldfile.SaveFile(path, s.Save) }

// LoadFile reads a state SaveFile wrote (see Load). A path that is not a
// regular file, a symbolic link included, is refused.
func LoadFile(path string, opts Options) (*Server, error) {
	return worldfile.LoadFile(path, func(r io.Reader) (*Server, error) { return Load(r, opts) })
}
