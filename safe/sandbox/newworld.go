package sandbox

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/MixinNetwork/mixin/crypto"

	"mixdesk/safe"
)

// World is what NewWorld built: the operator's Safe keystore and the
// people and assets around it.
type World struct {
	Operator     safe.Keystore `json:"operator"` // as the dashboard hands it, spend key included
	OperatorUser safe.User     `json:"operator_user"`
	Users        []safe.User   `json:"users"` // others; HasSafe false for the one not on Safe
	Assets       []safe.Asset  `json:"assets"`
	// Payers are the keystores of the other users on Safe, in the order of
	// Users, so that they can pay as themselves through the API (a payment
	// link of the operator, in the console's sandbox). Sandbox keys only;
	// a world saved before they were kept has none.
	Payers []safe.Keystore `json:"payers,omitempty"`
}

var worldAssets = []struct {
	asset    safe.Asset
	operator []string // the operator's opening outputs
	others   string   // each other user's opening output
}{
	{safe.Asset{AssetID: "c6d0c728-2624-429b-8e0d-d9d19b6592fa", ChainID: "c6d0c728-2624-429b-8e0d-d9d19b6592fa",
		Symbol: "BTC", Name: "Bitcoin", Precision: 8, PriceUSD: "64250.37", ChangeUSD: "0.0132"},
		[]string{"1.25", "0.75", "0.5"}, "0.05"},
	{safe.Asset{AssetID: "43d61dcd-e413-450d-80b8-101d5e903357", ChainID: "43d61dcd-e413-450d-80b8-101d5e903357",
		Symbol: "ETH", Name: "Ether", Precision: 8, PriceUSD: "3120.85", ChangeUSD: "-0.0241"},
		[]string{"25", "10", "5"}, "1.2"},
	{safe.Asset{AssetID: "4d8c508b-91c5-375b-92b0-ee702ed2dac5", ChainID: "43d61dcd-e413-450d-80b8-101d5e903357",
		Symbol: "USDT", Name: "Tether USD", Precision: 8, PriceUSD: "1.0002", ChangeUSD: "0.0001"},
		[]string{"20000", "15000", "10000", "5000"}, "2500"},
}

var worldPeople = []struct {
	name   string
	onSafe bool
}{{"Amara Okafor", true}, {"Bruno Costa", true}, {"Chen Wu", true}, {"Dalia Haddad", true}, {"Emeka Eze", false}}

// NewWorld builds the default Safe world of a sandbox: an operator app
// "Treasury Desk" registered for Safe with its keystore, five other users
// (the last not registered for Safe, to show 10404; the others each with a
// session and keystore, World.Payers), and BTC, ETH and USDT held as
// several unspent outputs. Every key is drawn from opts.Seed.
func NewWorld(opts Options) (*Server, World, error) {
	s := New(opts)
	var w World
	s.mu.Lock()
	spendSeed, sessSeed := s.randBytesLocked(32), s.randBytesLocked(32)
	serverPub := ed25519.NewKeyFromSeed(s.randBytesLocked(32)).Public().(ed25519.PublicKey)
	opID, sid := s.newIDLocked(), s.newIDLocked()
	ids := make([]string, len(worldPeople))
	for i := range ids {
		ids[i] = s.newIDLocked()
	}
	s.mu.Unlock()

	spend := safe.NewSpendKey(spendSeed)
	if err := s.AddUser(opID, "Treasury Desk", "7000100001", spend.Public()); err != nil {
		return nil, w, err
	}
	if err := s.AddSession(opID, sid, ed25519.NewKeyFromSeed(sessSeed).Public().(ed25519.PublicKey)); err != nil {
		return nil, w, err
	}
	w.Operator = safe.Keystore{AppID: opID, SessionID: sid, ServerPublicKey: hex.EncodeToString(serverPub),
		SessionPrivateKey: hex.EncodeToString(sessSeed), SpendPrivateKey: hex.EncodeToString(spendSeed)}
	w.OperatorUser = safe.User{UserID: opID, IdentityNumber: "7000100001", FullName: "Treasury Desk", SessionID: sid, HasSafe: true, SpendPublicKey: spend.Public().String()}
	spends := make([][]byte, len(worldPeople))
	for i, p := range worldPeople {
		var key crypto.Key
		if p.onSafe {
			s.mu.Lock()
			spends[i] = s.randBytesLocked(32)
			s.mu.Unlock()
			key = safe.NewSpendKey(spends[i]).Public()
		}
		identity := fmt.Sprintf("70001%05d", 2+i)
		if err := s.AddUser(ids[i], p.name, identity, key); err != nil {
			return nil, w, err
		}
		w.Users = append(w.Users, safe.User{UserID: ids[i], IdentityNumber: identity, FullName: p.name, HasSafe: p.onSafe})
	}
	for _, a := range worldAssets {
		if err := s.AddAsset(a.asset); err != nil {
			return nil, w, err
		}
		for _, amt := range a.operator {
			if _, err := s.Deposit(opID, a.asset.AssetID, amt); err != nil {
				return nil, w, err
			}
		}
		for _, u := range w.Users {
			if u.HasSafe {
				if _, err := s.Deposit(u.UserID, a.asset.AssetID, a.others); err != nil {
					return nil, w, err
				}
			}
		}
		stored := a.asset
		stored.KernelAssetID = safe.KernelAssetID(stored.AssetID).String()
		w.Assets = append(w.Assets, stored)
	}
	// The payers' sessions are drawn last, so that the rest of a seeded
	// world is what it was before they were kept.
	for i, u := range w.Users {
		if spends[i] == nil {
			continue
		}
		s.mu.Lock()
		sid, sessSeed := s.newIDLocked(), s.randBytesLocked(32)
		s.mu.Unlock()
		if err := s.AddSession(u.UserID, sid, ed25519.NewKeyFromSeed(sessSeed).Public().(ed25519.PublicKey)); err != nil {
			return nil, w, err
		}
		w.Payers = append(w.Payers, safe.Keystore{AppID: u.UserID, SessionID: sid, ServerPublicKey: hex.EncodeToString(serverPub),
			SessionPrivateKey: hex.EncodeToString(sessSeed), SpendPrivateKey: hex.EncodeToString(spends[i])})
	}
	s.mu.Lock()
	kept := w
	kept.Payers = slices.Clone(w.Payers)
	s.world = &kept
	s.mu.Unlock()
	return s, w, nil
}

// World returns the world NewWorld built (also after Load), or false when
// the server was not made by NewWorld. The operator's keystore in it holds
// the sandbox's own keys: fake money only.
func (s *Server) World() (World, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.world == nil {
		return World{}, false
	}
	w := *s.world
	w.Users = slices.Clone(w.Users)
	w.Assets = slices.Clone(w.Assets)
	w.Payers = slices.Clone(w.Payers)
	return w, true
}

// newIDLocked draws a version-4 UUID from the seeded source.
func (s *Server) newIDLocked() string {
	b := s.randBytesLocked(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
