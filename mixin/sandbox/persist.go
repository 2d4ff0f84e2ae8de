package sandbox

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/mixin"

	"mixdesk/internal/worldfile"
)

// stateVersion is the version of the saved state's layout.
const stateVersion = 1

// state is the whole server as Save writes it. It holds the sessions' server
// secrets (PIN keys, server seeds), the users' PINs and, with a world, the
// operator's credentials: fake money only, but write it with care (0600).
type state struct {
	worldfile.Head
	LastTime  time.Time       `json:"last_time"`
	Users     []userState     `json:"users"`
	Sessions  []sessionState  `json:"sessions"`
	Assets    []mixin.Asset   `json:"assets"`
	Balances  []balanceState  `json:"balances"`
	Transfers []transferState `json:"transfers"`
	JTIs      []worldfile.JTI `json:"jtis,omitempty"`
	World     *World          `json:"world,omitempty"`
}

type userState struct {
	UserID         string      `json:"user_id"`
	IdentityNumber string      `json:"identity_number"`
	FullName       string      `json:"full_name"`
	CreatedAt      time.Time   `json:"created_at"`
	PIN            string      `json:"pin,omitempty"`
	SessionID      string      `json:"session_id,omitempty"`
	PINFailures    []time.Time `json:"pin_failures,omitempty"`
}

type sessionState struct {
	SessionID    string `json:"session_id"`
	UserID       string `json:"user_id"`
	Kind         string `json:"kind"`       // "RSA" or "Ed25519"
	PublicKey    []byte `json:"public_key"` // PKIX DER (RSA) or the 32-byte key
	PINKey       []byte `json:"pin_key,omitempty"`
	ServerSeed   []byte `json:"server_seed,omitempty"`
	PINToken     string `json:"pin_token"`
	LastIterator uint64 `json:"last_iterator"`
}

type balanceState struct {
	UserID  string `json:"user_id"`
	AssetID string `json:"asset_id"`
	Amount  string `json:"amount"`
}

type transferState struct {
	SnapshotID  string    `json:"snapshot_id"`
	TraceID     string    `json:"trace_id"`
	AssetID     string    `json:"asset_id"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	Amount      string    `json:"amount"`
	Memo        string    `json:"memo"`
	CreatedAt   time.Time `json:"created_at"`
	FromOpening string    `json:"from_opening"`
	FromClosing string    `json:"from_closing"`
	ToOpening   string    `json:"to_opening"`
	ToClosing   string    `json:"to_closing"`
}

// Save writes the full state as JSON: users, sessions, assets, balances,
// transfers, PIN iterators and failures, remembered jti's and the world.
// Injected faults are not saved.
func (s *Server) Save(w io.Writer) error {
	s.mu.Lock()
	st, err := s.stateLocked()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return worldfile.Write(w, st, "  ")
}

func (s *Server) stateLocked() (*state, error) {
	head, err := worldfile.NewHead(stateVersion, s.pcg)
	if err != nil {
		return nil, err
	}
	st := &state{Head: head, LastTime: s.lastTime, World: s.world}
	for _, u := range s.userList {
		st.Users = append(st.Users, userState{
			UserID: u.id, IdentityNumber: u.identity, FullName: u.fullName, CreatedAt: u.createdAt,
			PIN: u.pin, SessionID: u.sessionID, PINFailures: slices.Clone(u.pinFailures),
		})
	}
	sessions := slices.SortedFunc(maps.Values(s.sessions), func(a, b *session) int { return strings.Compare(a.id, b.id) })
	for _, sess := range sessions {
		ss := sessionState{
			SessionID: sess.id, UserID: sess.userID, Kind: sess.kind.String(),
			PINToken: sess.pinToken, LastIterator: sess.lastIterator,
		}
		if sess.kind == mixin.KeyRSA {
			der, err := x509.MarshalPKIXPublicKey(sess.rsaPub)
			if err != nil {
				return nil, errors.New("sandbox: saving a session key failed")
			}
			ss.PublicKey, ss.PINKey = der, sess.pinKey
		} else {
			ss.PublicKey, ss.ServerSeed = sess.edPub, sess.serverSeed
		}
		st.Sessions = append(st.Sessions, ss)
	}
	for _, id := range s.assetList {
		st.Assets = append(st.Assets, *s.assets[id])
	}
	for _, u := range s.userList {
		for _, id := range s.assetList {
			if b, ok := s.balances[holding{u.id, id}]; ok {
				st.Balances = append(st.Balances, balanceState{UserID: u.id, AssetID: id, Amount: b.String()})
			}
		}
	}
	for _, t := range s.transfers {
		st.Transfers = append(st.Transfers, transferState{
			SnapshotID: t.snapshotID, TraceID: t.traceID, AssetID: t.assetID, From: t.from, To: t.to,
			Amount: t.amount.String(), Memo: t.memo, CreatedAt: t.createdAt,
			FromOpening: t.fromOpening.String(), FromClosing: t.fromClosing.String(),
			ToOpening: t.toOpening.String(), ToClosing: t.toClosing.String(),
		})
	}
	st.JTIs = worldfile.JTIs(s.jtis.seen)
	return st, nil
}

// Load reads a state Save wrote and checks it through. opts.Now is the
// clock of the loaded server; opts.Seed is ignored (the random source
// continues where it was saved).
func Load(r io.Reader, opts Options) (*Server, error) {
	var st state
	src, err := worldfile.Read(r, &st, stateVersion)
	if err != nil {
		return nil, err
	}
	s := newEmpty(opts)
	s.pcg, s.rng = src, mrand.New(src)
	s.lastTime = st.LastTime.UTC()
	for _, load := range []func(*state) error{s.loadUsers, s.loadSessions, s.loadAssets, s.loadBalances, s.loadTransfers, s.loadRest} {
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
		if !mixin.IsMixinID(us.IdentityNumber) || s.identities[us.IdentityNumber] != nil {
			return fmt.Errorf("sandbox: state user %s: bad or repeated identity number", id)
		}
		if us.PIN != "" && !isPlainPIN(us.PIN) {
			return fmt.Errorf("sandbox: state user %s: the PIN is not six digits", id)
		}
		u := &user{
			id: id, identity: us.IdentityNumber, fullName: us.FullName, createdAt: us.CreatedAt.UTC(),
			pin: us.PIN, sessionID: us.SessionID, pinFailures: us.PINFailures,
		}
		s.users[id] = u
		s.userList = append(s.userList, u)
		s.identities[u.identity] = u
	}
	return nil
}

func (s *Server) loadSessions(st *state) error {
	for i, ss := range st.Sessions {
		id, ok := canonicalUUID(ss.SessionID)
		if !ok || s.sessions[id] != nil {
			return fmt.Errorf("sandbox: state session %d: bad or repeated id", i)
		}
		if s.users[ss.UserID] == nil {
			return fmt.Errorf("sandbox: state session %s: unknown user", id)
		}
		sess := &session{id: id, userID: ss.UserID, pinToken: ss.PINToken, lastIterator: ss.LastIterator}
		switch ss.Kind {
		case mixin.KeyRSA.String():
			pub, err := x509.ParsePKIXPublicKey(ss.PublicKey)
			rk, ok := pub.(*rsa.PublicKey)
			if err != nil || !ok || rk.N.BitLen() < 1024 || rk.N.BitLen() > 4096 {
				return fmt.Errorf("sandbox: state session %s: bad RSA public key", id)
			}
			if len(ss.PINKey) != 32 {
				return fmt.Errorf("sandbox: state session %s: bad PIN key", id)
			}
			sess.kind, sess.rsaPub, sess.pinKey = mixin.KeyRSA, rk, ss.PINKey
		case mixin.KeyEd25519.String():
			if len(ss.PublicKey) != ed25519.PublicKeySize || len(ss.ServerSeed) != ed25519.SeedSize {
				return fmt.Errorf("sandbox: state session %s: bad Ed25519 keys", id)
			}
			key, err := edPINKey(ss.ServerSeed, ss.PublicKey)
			if err != nil {
				return fmt.Errorf("sandbox: state session %s: %w", id, err)
			}
			sess.kind, sess.edPub, sess.serverSeed, sess.pinKey = mixin.KeyEd25519, ss.PublicKey, ss.ServerSeed, key
		default:
			return fmt.Errorf("sandbox: state session %s: unknown key kind", id)
		}
		s.sessions[id] = sess
	}
	for _, u := range s.userList {
		if u.sessionID != "" && (s.sessions[u.sessionID] == nil || s.sessions[u.sessionID].userID != u.id) {
			return fmt.Errorf("sandbox: state user %s: current session is not theirs", u.id)
		}
	}
	return nil
}

func (s *Server) loadAssets(st *state) error {
	for i, a := range st.Assets {
		if a.AssetID == "" {
			return fmt.Errorf("sandbox: state asset %d: no id", i)
		}
		a, err := normalizeAsset(a)
		if err != nil {
			return err
		}
		if s.assets[a.AssetID] != nil {
			return fmt.Errorf("sandbox: state asset %s: repeated", a.AssetID)
		}
		s.assets[a.AssetID] = &a
		s.assetList = append(s.assetList, a.AssetID)
	}
	return nil
}

func (s *Server) loadBalances(st *state) error {
	for _, b := range st.Balances {
		if s.users[b.UserID] == nil || s.assets[b.AssetID] == nil {
			return errors.New("sandbox: state balance of an unknown user or asset")
		}
		d, err := decimal.NewFromString(b.Amount)
		if err != nil || d.IsNegative() {
			return fmt.Errorf("sandbox: state balance of %s: not a decimal at least zero", b.UserID)
		}
		s.balances[holding{b.UserID, b.AssetID}] = d
	}
	return nil
}

func (s *Server) loadTransfers(st *state) error {
	var last time.Time
	for i, ts := range st.Transfers {
		t := &transfer{
			snapshotID: ts.SnapshotID, traceID: ts.TraceID, assetID: ts.AssetID,
			from: ts.From, to: ts.To, memo: ts.Memo, createdAt: ts.CreatedAt.UTC(),
		}
		if _, ok := canonicalUUID(t.snapshotID); !ok || s.bySnapshot[t.snapshotID] != nil {
			return fmt.Errorf("sandbox: state transfer %d: bad or repeated snapshot id", i)
		}
		if _, ok := canonicalUUID(t.traceID); !ok || s.byTrace[t.traceID] != nil {
			return fmt.Errorf("sandbox: state transfer %d: bad or repeated trace id", i)
		}
		if s.assets[t.assetID] == nil || s.users[t.from] == nil || s.users[t.to] == nil || t.from == t.to {
			return fmt.Errorf("sandbox: state transfer %d: unknown asset or party", i)
		}
		if !t.createdAt.After(last) {
			return fmt.Errorf("sandbox: state transfer %d: out of time order", i)
		}
		last = t.createdAt
		var ok bool
		if t.amount, ok = parseAmount(ts.Amount); !ok {
			return fmt.Errorf("sandbox: state transfer %d: bad amount", i)
		}
		for _, f := range []struct {
			src string
			dst *decimal.Decimal
		}{{ts.FromOpening, &t.fromOpening}, {ts.FromClosing, &t.fromClosing}, {ts.ToOpening, &t.toOpening}, {ts.ToClosing, &t.toClosing}} {
			d, err := decimal.NewFromString(f.src)
			if err != nil {
				return fmt.Errorf("sandbox: state transfer %d: bad balance", i)
			}
			*f.dst = d
		}
		s.recordLocked(t)
	}
	if last.After(s.lastTime) {
		s.lastTime = last
	}
	return nil
}

func (s *Server) loadRest(st *state) error {
	worldfile.Remember(s.jtis.seen, st.JTIs)
	if st.World != nil {
		if s.users[st.World.OperatorUser.UserID] == nil {
			return errors.New("sandbox: state world: unknown operator")
		}
		w := *st.World
		s.world = &w
	}
	return nil
}

// SaveFile writes the state (Save) to the file at path, whole or not at
// all: into a new file of a random name in the same directory, created
// exclusively (O_EXCL, mode 0600: nothing planted there is followed or
// reused), synced, then renamed over path. A path that exists and is not a
// regular file (a symbolic link, a directory) is refused: the sandbox's
// keys are never written through a link.
func (s *Server) SaveFile(path string) error { return worldfile.SaveFile(path, s.Save) }

// LoadFile reads a state SaveFile wrote (see Load). A path that is not a
// regular file, a symbolic link included, is refused.
func LoadFile(path string, opts Options) (*Server, error) {
	return worldfile.LoadFile(path, func(r io.Reader) (*Server, error) { return Load(r, opts) })
}
