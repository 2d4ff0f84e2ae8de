package sandbox

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"mixdesk/mixin"
)

// worldEnv serves a NewWorld server and returns the env and operator.
func worldEnv(t *testing.T, opts Options) (*env, World, *actor) {
	t.Helper()
	c := newClock()
	opts.Now = c.Now
	s, w, err := NewWorld(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	e := &env{tb: t, clock: c, srv: s, url: hs.URL, asset: w.Assets[0].AssetID}
	return e, w, e.actorFor(w.Operator, w.OperatorUser)
}

func TestNewWorldDefault(t *testing.T) {
	e, w, op := worldEnv(t, Options{Seed: 3})

	block, rest := pem.Decode([]byte(w.Operator.PrivateKey))
	if block == nil || block.Type != "RSA PRIVATE KEY" || len(strings.TrimSpace(string(rest))) != 0 {
		t.Fatal("operator key is not one PEM PKCS#1 block")
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil || k.N.BitLen() != 2048 {
		t.Fatalf("operator key: %v", err)
	}
	if sealed, err := base64.StdEncoding.DecodeString(w.Operator.PINToken); err != nil || len(sealed) != 256 {
		t.Fatalf("PIN token is not std base64 of a 256-byte OAEP ciphertext")
	}
	if !isPlainPIN(w.Operator.PIN) || w.Operator.PIN[0] == '0' {
		t.Fatal("PIN is not six digits starting 1-9")
	}
	if op.sess.KeyKind() != mixin.KeyRSA || w.OperatorUser.FullName != "Treasury Desk" || !strings.HasPrefix(w.OperatorUser.IdentityNumber, "7000") {
		t.Fatalf("operator %+v", w.OperatorUser)
	}
	if len(w.Users) != 4 || len(w.Assets) != 3 {
		t.Fatalf("%d users, %d assets", len(w.Users), len(w.Assets))
	}
	for _, u := range w.Users {
		if !mixin.IsMixinID(u.IdentityNumber) || len(u.IdentityNumber) != 8 || !strings.Contains(u.FullName, " ") {
			t.Errorf("user %+v", u)
		}
	}
	assets := decode[[]mixin.Asset](t, op.get("/assets"))
	if !reflect.DeepEqual(assets, w.Assets) {
		t.Fatalf("/assets\n got %+v\nwant %+v", assets, w.Assets)
	}
	for i, sym := range []string{"BTC", "ETH", "USDT"} {
		if assets[i].Symbol != sym || assets[i].Balance == "0" || assets[i].PriceUSD == "0" {
			t.Errorf("asset %d: %+v", i, assets[i])
		}
	}
	// The operator pays one of the others through the API.
	in := mixin.TransferInput{AssetID: w.Assets[2].AssetID, OpponentID: w.Users[0].UserID, Amount: "125.5", TraceID: uuid.NewString()}
	decode[mixin.Snapshot](t, op.transfer(in))
	if got := e.srv.Balance(w.Users[0].UserID, in.AssetID); got != "2625.5" {
		t.Fatalf("payee balance %s", got)
	}
	got, ok := e.srv.World()
	if !ok || got.Assets[2].Balance != "49874.5" || got.Operator != w.Operator {
		t.Fatalf("World() = %+v", got.Assets)
	}
	if _, ok := New(Options{}).World(); ok {
		t.Fatal("a hand-built server has a world")
	}
}

func TestEd25519CredentialForms(t *testing.T) {
	for _, hexForm := range []bool{false, true} {
		e := newEnv(t)
		creds, u, err := e.srv.NewAppSessionWith("Desk", SessionOptions{Kind: mixin.KeyEd25519, HexForm: hexForm})
		if err != nil {
			t.Fatal(err)
		}
		if hexForm {
			if len(creds.PrivateKey) != 64 || len(creds.PINToken) != 64 {
				t.Fatalf("hex form: key %d, token %d characters", len(creds.PrivateKey), len(creds.PINToken))
			}
			if _, err := hex.DecodeString(creds.PINToken); err != nil {
				t.Fatal(err)
			}
		} else {
			if raw, err := base64.RawURLEncoding.DecodeString(creds.PrivateKey); err != nil || len(raw) != 64 {
				t.Fatal("private key is not base64url of 64 bytes")
			}
			if raw, err := base64.RawURLEncoding.DecodeString(creds.PINToken); err != nil || len(raw) != 32 {
				t.Fatal("PIN token is not base64url of 32 bytes")
			}
		}
		if err := e.srv.Credit(u.UserID, e.asset, "2"); err != nil {
			t.Fatal(err)
		}
		a := e.actorFor(creds, u)
		b := e.newActor("Payee", mixin.KeyEd25519, "")
		decode[mixin.Snapshot](t, a.pay(b, "1"))
		// /me gives the X25519 key in base64url in both forms.
		me := decode[mixin.User](t, a.get("/me"))
		if raw, err := base64.RawURLEncoding.DecodeString(me.PINTokenBase64); err != nil || len(raw) != 32 {
			t.Fatalf("pin_token_base64 %q", me.PINTokenBase64)
		}
	}
}

func TestRSASessionSizes(t *testing.T) {
	s := New(Options{Seed: 1})
	for _, bits := range []int{512, 1023, 4097, 8192, -1} {
		if _, _, err := s.NewAppSession("x", mixin.KeyRSA, bits); err == nil {
			t.Errorf("RSA-%d accepted", bits)
		}
	}
	if _, _, err := s.NewAppSession("x", mixin.KeyKind(9), 0); err == nil {
		t.Error("unknown key kind accepted")
	}
	if _, _, err := s.NewAppSessionWith("x", SessionOptions{Kind: mixin.KeyRSA, HexForm: true}); err == nil {
		t.Error("hex form accepted for RSA")
	}
	sizes := []int{1024}
	if !testing.Short() {
		sizes = append(sizes, 4096)
	}
	e := newEnv(t)
	for _, bits := range sizes {
		creds, u, err := e.srv.NewAppSession("Desk", mixin.KeyRSA, bits)
		if err != nil {
			t.Fatal(err)
		}
		a := e.actorFor(creds, u)
		decode[mixin.User](t, a.verifyPIN(a.pin()))
		if len(a.rsaKey().N.Bytes())*8 != bits {
			t.Errorf("key is not %d bits", bits)
		}
	}
}

func TestDeterminism(t *testing.T) {
	build := func(seed int64, kind mixin.KeyKind) (World, []Entry) {
		c := newClock()
		s, w, err := NewWorld(Options{Seed: seed, Now: c.Now, Operator: SessionOptions{Kind: kind, RSABits: 1024}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Transfer(w.Users[0].UserID, mixin.TransferInput{
			AssetID: w.Assets[0].AssetID, OpponentID: w.Users[1].UserID, Amount: "0.01", TraceID: "3f1b8e0a-7d2c-4e5f-9a6b-1c2d3e4f5a6b",
		}); err != nil {
			t.Fatal(err)
		}
		return w, s.Ledger()
	}
	w1, l1 := build(42, mixin.KeyEd25519)
	w2, l2 := build(42, mixin.KeyEd25519)
	if !reflect.DeepEqual(w1, w2) || !reflect.DeepEqual(l1, l2) {
		t.Fatal("the same seed built different Ed25519 worlds")
	}
	w3, _ := build(43, mixin.KeyEd25519)
	if w3.Operator.ClientID == w1.Operator.ClientID || w3.Operator.PrivateKey == w1.Operator.PrivateKey || w3.Users[0] == w1.Users[0] {
		t.Fatal("another seed built the same world")
	}
	// RSA: the same ids, names and PIN; the key itself is fresh.
	r1, _ := build(42, mixin.KeyRSA)
	r2, _ := build(42, mixin.KeyRSA)
	if r1.Operator.ClientID != r2.Operator.ClientID || r1.Operator.SessionID != r2.Operator.SessionID ||
		r1.Operator.PIN != r2.Operator.PIN || !reflect.DeepEqual(r1.Users, r2.Users) {
		t.Fatal("the same seed built RSA worlds with different ids")
	}
	if r1.Operator.PrivateKey == r2.Operator.PrivateKey {
		t.Log("RSA keys came out equal; crypto/rsa honoured a seeded source")
	}
}

func TestWorldBuilderErrors(t *testing.T) {
	s := New(Options{Seed: 5})
	u := s.AddUser("")
	if u.FullName == "" || !strings.Contains(u.FullName, " ") {
		t.Fatalf("drawn name %q", u.FullName)
	}
	a, err := s.AddAsset(mixin.Asset{Symbol: "BTC", Name: "Bitcoin", PriceUSD: "60000.10", Balance: "99"})
	if err != nil || a.PriceUSD != "60000.1" || a.ChangeUSD != "0" || a.ChainID != a.AssetID || a.Balance != "" {
		t.Fatalf("AddAsset = %+v, %v", a, err)
	}
	if s.Balance(u.UserID, a.AssetID) != "0" {
		t.Fatal("the asset's balance field was used")
	}
	for _, bad := range []mixin.Asset{
		{AssetID: "x", Symbol: "X"},
		{Symbol: "X", ChainID: "y"},
		{Symbol: ""},
		{Symbol: "X", PriceUSD: "cheap"},
	} {
		if _, err := s.AddAsset(bad); err == nil {
			t.Errorf("AddAsset(%+v) accepted", bad)
		}
	}
	// Replacing details keeps balances.
	if err := s.Credit(u.UserID, a.AssetID, "1.5"); err != nil {
		t.Fatal(err)
	}
	a.PriceUSD = "61000"
	if _, err := s.AddAsset(a); err != nil || s.Balance(u.UserID, a.AssetID) != "1.5" {
		t.Fatalf("re-adding an asset: %v, balance %s", err, s.Balance(u.UserID, a.AssetID))
	}
	for _, c := range []struct {
		user, asset, amount string
		want                error
	}{
		{uuid.NewString(), a.AssetID, "1", ErrUnknownUser},
		{u.UserID, uuid.NewString(), "1", ErrUnknownAsset},
		{u.UserID, a.AssetID, "0", ErrInvalidAmount},
		{u.UserID, a.AssetID, "-1", ErrInvalidAmount},
		{u.UserID, a.AssetID, "1e3", ErrInvalidAmount},
	} {
		if err := s.Credit(c.user, c.asset, c.amount); err != c.want {
			t.Errorf("Credit(%s) = %v, want %v", c.amount, err, c.want)
		}
	}
	if s.Balance("nobody", "nothing") != "0" {
		t.Fatal("Balance of unknowns")
	}
}
