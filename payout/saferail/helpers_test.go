package saferail_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
	"mixdesk/payout/rail"
	"mixdesk/payout/saferail"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

const (
	deskID  = "00000000-0000-4000-8000-000000000001"
	aliceID = "00000000-0000-4000-8000-000000000002"
	bobID   = "00000000-0000-4000-8000-000000000003" // not on Safe
	carlID  = "00000000-0000-4000-8000-000000000004"
	btcID   = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"
	ethID   = "43d61dcd-e413-450d-80b8-101d5e903357"
)

// seed32 is 32 bytes of b, a fixed test key.
func seed32(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// keystore registers a session for id in srv and returns the keystore of
// id with spend seed spend and session seed session.
func keystore(t testing.TB, srv *sandbox.Server, id string, spend, session byte) safe.Keystore {
	t.Helper()
	sid := uuid.NewSHA1(uuid.NameSpaceOID, []byte(id)).String()
	sess := ed25519.NewKeyFromSeed(seed32(session))
	if err := srv.AddSession(id, sid, sess.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	server := ed25519.NewKeyFromSeed(seed32(0x77)).Public().(ed25519.PublicKey)
	return safe.Keystore{AppID: id, SessionID: sid, ServerPublicKey: hex.EncodeToString(server),
		SessionPrivateKey: hex.EncodeToString(seed32(session)), SpendPrivateKey: hex.EncodeToString(seed32(spend))}
}

// world is a Safe sandbox on loopback with the desk (holding BTC as
// outputs of 1.25, 0.75 and 0.5, oldest first), Alice and Carl on Safe, and
// Bob not on Safe.
type world struct {
	srv  *sandbox.Server
	url  string
	rail *saferail.Rail
	ks   safe.Keystore
	// alice pays as Alice, straight through the Safe client.
	alice *safe.Client
}

var fastRetry = mixin.RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond}

func newWorld(t testing.TB) *world {
	t.Helper()
	srv := sandbox.New(sandbox.Options{Seed: 11})
	for _, u := range []struct {
		id, name, identity string
		spend              byte
	}{{deskID, "Treasury Desk", "7000101", 0x01}, {aliceID, "Alice Liddell", "7000102", 0x02}, {carlID, "Carl Ek", "7000104", 0x04}} {
		if err := srv.AddUser(u.id, u.name, u.identity, safe.NewSpendKey(seed32(u.spend)).Public()); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.AddUser(bobID, "Bob Bell", "7000103", [32]byte{}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []safe.Asset{
		{AssetID: btcID, Symbol: "BTC", Name: "Bitcoin", Precision: 8, PriceUSD: "60000"},
		{AssetID: ethID, Symbol: "ETH", Name: "Ether", Precision: 8, PriceUSD: "3000"},
	} {
		if err := srv.AddAsset(a); err != nil {
			t.Fatal(err)
		}
	}
	for _, amt := range []string{"1.25", "0.75", "0.5"} {
		if _, err := srv.Deposit(deskID, btcID, amt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := srv.Deposit(aliceID, btcID, "2"); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	w := &world{srv: srv, url: hs.URL, ks: keystore(t, srv, deskID, 0x01, 0x11)}
	r, err := saferail.Dial(hs.URL, w.ks, saferail.WithRetry(fastRetry), saferail.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	w.rail = r
	acct, err := keystore(t, srv, aliceID, 0x02, 0x12).Open()
	if err != nil {
		t.Fatal(err)
	}
	if w.alice, err = safe.NewClient(hs.URL, acct, safe.WithRetry(fastRetry)); err != nil {
		t.Fatal(err)
	}
	return w
}

// keeper is an in-memory rail.Keeper: what a journal would keep for one
// payment. before, when set, runs before a state is kept; an error from it
// is Keep's, and the state is not kept.
type keeper struct {
	mu        sync.Mutex
	kept      []rail.Kept
	unsettled [][]rail.Kept
	before    func(stage string, data []byte) error
}

var errKeep = errors.New("the journal refused the record")

func (k *keeper) Keep(stage string, data []byte) error {
	if k.before != nil {
		if err := k.before(stage, data); err != nil {
			return err
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kept = append(k.kept, rail.Kept{Stage: stage, Data: bytes.Clone(data)})
	return nil
}

func (k *keeper) Unsettled() [][]rail.Kept { return k.unsettled }

func (k *keeper) stages() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, s := range k.kept {
		out = append(out, s.Stage)
	}
	return out
}

// payment is a payment of amount BTC to Alice under a fresh key.
func payment(amount, memo string) rail.Payment {
	return rail.Payment{Key: uuid.NewString(), AssetID: btcID, RecipientID: aliceID, Amount: amount, Memo: memo}
}

// request returns the sandbox's request of id, or nil.
func (w *world) request(id string) *safe.TransactionRequest {
	for _, q := range w.srv.Requests() {
		if q.RequestID == id {
			return &q
		}
	}
	return nil
}

// unspent returns the desk's unspent outputs of BTC as canonical amounts,
// by sequence.
func (w *world) unspent() []string {
	var out []string
	for _, o := range w.srv.Outputs(deskID) {
		if o.State == safe.StateUnspent && o.AssetID == btcID {
			out = append(out, decimal.RequireFromString(o.Amount).String())
		}
	}
	return out
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }
