package sandbox

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"mixdesk/mixin"
)

// World is what NewWorld built: the operator's session and the people and
// assets around it.
type World struct {
	// Operator is the desk's app session, as the dashboard hands it out.
	Operator     mixin.Credentials
	OperatorUser mixin.User
	// Users are other people the operator can pay; they have no session.
	Users []mixin.User
	// Assets are the world's assets with the operator's opening balances.
	Assets []mixin.Asset
}

// Assets of the default world, with their Mixin ids and plausible prices.
var defaultAssets = []struct {
	asset    mixin.Asset
	operator string // the operator's opening balance
	others   string // each other user's opening balance
}{
	{mixin.Asset{
		AssetID: "c6d0c728-2624-429b-8e0d-d9d19b6592fa", ChainID: "c6d0c728-2624-429b-8e0d-d9d19b6592fa",
		Symbol: "BTC", Name: "Bitcoin", PriceUSD: "64250.37", ChangeUSD: "0.0132",
	}, "2.5", "0.05"},
	{mixin.Asset{
		AssetID: "43d61dcd-e413-450d-80b8-101d5e903357", ChainID: "43d61dcd-e413-450d-80b8-101d5e903357",
		Symbol: "ETH", Name: "Ether", PriceUSD: "3120.85", ChangeUSD: "-0.0241",
	}, "40", "1.2"},
	{mixin.Asset{
		AssetID: "4d8c508b-91c5-375b-92b0-ee702ed2dac5", ChainID: "43d61dcd-e413-450d-80b8-101d5e903357",
		Symbol: "USDT", Name: "Tether USD", PriceUSD: "1.0002", ChangeUSD: "0.0001",
	}, "50000", "2500"},
}

const (
	operatorName     = "Treasury Desk"
	defaultUserCount = 4
)

var (
	firstNames = []string{"Amara", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Jun",
		"Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Yara"}
	lastNames = []string{"Abara", "Berg", "Costa", "Dimitrov", "Eze", "Fischer", "Guerra", "Haddad", "Ito", "Jensen",
		"Kowalski", "Lindqvist", "Mensah", "Novak", "Okafor", "Park", "Rossi", "Sato", "Tanaka", "Varga", "Wu", "Zhou"}
)

// NewWorld builds the default world of `mixdesk --sandbox`: an operator app
// session (opts.Operator; RSA-2048 unless chosen otherwise) named "Treasury
// Desk", four other users, and BTC, ETH and USDT with balances for everyone.
// The world is remembered by the server (see World) and saved with it.
func NewWorld(opts Options) (*Server, World, error) {
	s := New(opts)
	var w World
	for _, da := range defaultAssets {
		if _, err := s.AddAsset(da.asset); err != nil {
			return nil, World{}, err
		}
	}
	creds, op, err := s.NewAppSessionWith(operatorName, opts.Operator)
	if err != nil {
		return nil, World{}, err
	}
	w.Operator, w.OperatorUser = creds, op
	for range defaultUserCount {
		w.Users = append(w.Users, s.AddUser(""))
	}
	for _, da := range defaultAssets {
		if err := s.Credit(op.UserID, da.asset.AssetID, da.operator); err != nil {
			return nil, World{}, err
		}
		for _, u := range w.Users {
			if err := s.Credit(u.UserID, da.asset.AssetID, da.others); err != nil {
				return nil, World{}, err
			}
		}
		a := da.asset
		a.Balance = s.Balance(op.UserID, a.AssetID)
		w.Assets = append(w.Assets, a)
	}
	s.mu.Lock()
	s.world = &w
	s.mu.Unlock()
	return s, w, nil
}

// World returns the world NewWorld built (also after Load), or false when the
// server was built by hand.
func (s *Server) World() (World, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.world == nil {
		return World{}, false
	}
	w := *s.world
	w.Users = append([]mixin.User(nil), w.Users...)
	w.Assets = append([]mixin.Asset(nil), w.Assets...)
	for i := range w.Assets {
		w.Assets[i].Balance = s.balances[holding{w.OperatorUser.UserID, w.Assets[i].AssetID}].String()
	}
	return w, true
}

// AddAsset adds an asset, or replaces the details of one with the same id
// (balances stay). The balance field is ignored. An empty asset id is drawn
// from the seed; an empty chain id is the asset id; empty prices are "0".
// It returns the asset as stored.
func (s *Server) AddAsset(a mixin.Asset) (mixin.Asset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.AssetID == "" {
		a.AssetID = s.newIDLocked()
	}
	a, err := normalizeAsset(a)
	if err != nil {
		return mixin.Asset{}, err
	}
	id := a.AssetID
	if s.assets[id] == nil {
		s.assetList = append(s.assetList, id)
	}
	s.assets[id] = &a
	return a, nil
}

// normalizeAsset checks an asset's ids and numbers and puts them in
// canonical form; the balance is dropped.
func normalizeAsset(a mixin.Asset) (mixin.Asset, error) {
	id, ok := canonicalUUID(a.AssetID)
	if !ok {
		return mixin.Asset{}, errors.New("sandbox: asset id is not a UUID")
	}
	a.AssetID = id
	if a.ChainID == "" {
		a.ChainID = id
	}
	if a.ChainID, ok = canonicalUUID(a.ChainID); !ok {
		return mixin.Asset{}, errors.New("sandbox: chain id is not a UUID")
	}
	if strings.TrimSpace(a.Symbol) == "" {
		return mixin.Asset{}, errors.New("sandbox: asset symbol is empty")
	}
	for _, p := range []*string{&a.PriceUSD, &a.ChangeUSD} {
		if *p == "" {
			*p = "0"
		}
		d, err := decimal.NewFromString(*p)
		if err != nil {
			return mixin.Asset{}, fmt.Errorf("sandbox: asset %s: price is not a decimal", a.Symbol)
		}
		*p = d.String()
	}
	a.Balance = ""
	return a, nil
}

// AddUser adds a user without a session or PIN. An empty name is drawn from
// the seed.
func (s *Server) AddUser(fullName string) mixin.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addUserLocked(fullName, false).publicUser()
}

// addUserLocked makes a user with a fresh id and identity number: 7000 and
// six digits for apps, eight digits for people.
func (s *Server) addUserLocked(fullName string, app bool) *user {
	if fullName == "" {
		fullName = firstNames[s.rng.IntN(len(firstNames))] + " " + lastNames[s.rng.IntN(len(lastNames))]
	}
	u := &user{id: s.newIDLocked(), fullName: fullName, createdAt: s.nextTimeLocked()}
	for u.identity == "" || s.identities[u.identity] != nil {
		if app {
			u.identity = "7000" + strconv.Itoa(100000+s.rng.IntN(900000))
		} else {
			u.identity = strconv.Itoa(10000000 + s.rng.IntN(90000000))
		}
	}
	s.users[u.id] = u
	s.userList = append(s.userList, u)
	s.identities[u.identity] = u
	return u
}

// NewAppSession creates an app user with a session and a PIN, and returns
// the credentials as the dashboard hands them out. rsaBits (1024 to 4096,
// zero for 2048) applies to RSA sessions only; Ed25519 credentials come in
// the base64url form.
func (s *Server) NewAppSession(fullName string, kind mixin.KeyKind, rsaBits int) (mixin.Credentials, mixin.User, error) {
	return s.NewAppSessionWith(fullName, SessionOptions{Kind: kind, RSABits: rsaBits})
}

// NewAppSessionWith is NewAppSession with every session option.
func (s *Server) NewAppSessionWith(fullName string, opts SessionOptions) (mixin.Credentials, mixin.User, error) {
	o, err := opts.normalized()
	if err != nil {
		return mixin.Credentials{}, mixin.User{}, err
	}
	keys, err := generateSessionKeys(o)
	if err != nil {
		return mixin.Credentials{}, mixin.User{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.addUserLocked(fullName, true)
	creds, err := s.issueSessionLocked(u, o, keys)
	if err != nil {
		return mixin.Credentials{}, mixin.User{}, err
	}
	return creds, u.publicUser(), nil
}

// IssueSession gives an existing user a new app session, as the dashboard's
// "new session" does: every earlier session of that user stops working
// (401). The PIN stays; a user without one gets one.
func (s *Server) IssueSession(userID string, opts SessionOptions) (mixin.Credentials, error) {
	o, err := opts.normalized()
	if err != nil {
		return mixin.Credentials{}, err
	}
	keys, err := generateSessionKeys(o)
	if err != nil {
		return mixin.Credentials{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _ := canonicalUUID(userID)
	u := s.users[id]
	if u == nil {
		return mixin.Credentials{}, ErrUnknownUser
	}
	return s.issueSessionLocked(u, o, keys)
}

// Credit adds amount (a positive decimal, at most 8 decimals) of an asset
// to a user's balance, as a deposit would. It makes no snapshot.
func (s *Server) Credit(userID, assetID, amount string) error {
	d, ok := parseAmount(amount)
	if !ok {
		return ErrInvalidAmount
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	uid, _ := canonicalUUID(userID)
	if s.users[uid] == nil {
		return ErrUnknownUser
	}
	aid, _ := canonicalUUID(assetID)
	if s.assets[aid] == nil {
		return ErrUnknownAsset
	}
	k := holding{uid, aid}
	s.balances[k] = s.balances[k].Add(d)
	return nil
}

// Balance is a user's balance of an asset as a canonical decimal ("0" when
// there is none or either is unknown).
func (s *Server) Balance(userID, assetID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	uid, _ := canonicalUUID(userID)
	aid, _ := canonicalUUID(assetID)
	return s.balances[holding{uid, aid}].String()
}
