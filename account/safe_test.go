package account

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"mixdesk/journal"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/payout/saferail"
	"mixdesk/safe"
	safesandbox "mixdesk/safe/sandbox"
)

// safeWorld is a Safe sandbox behind an HTTP server and an Env on it.
func safeWorld(t *testing.T) (*safesandbox.Server, safesandbox.World, Env) {
	t.Helper()
	srv, w, err := safesandbox.NewWorld(safesandbox.Options{Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	store, err := keystore.New(keystore.NewMemory(), keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, w, Env{Store: store, APIURL: hs.URL, DataDir: filepath.Join(t.TempDir(), "data"),
		SafeOptions: []saferail.Option{saferail.WithTimeout(5 * time.Second),
			saferail.WithRetry(mixin.RetryPolicy{Attempts: 1, Base: time.Millisecond, Max: time.Millisecond})},
		Payout: payout.Config{PostWindow: time.Nanosecond}}
}

// TestOpenSafeProfile: a Safe profile opens on the Safe rail: the app as
// GET /safe/me names it, balances summed from its outputs with the assets'
// symbols, no PIN asked, and a payout paid without one.
func TestOpenSafeProfile(t *testing.T) {
	t.Parallel()
	srv, w, env := safeWorld(t)
	ctx := testCtx(t)
	ks := w.Operator
	a, err := env.Open(ctx, "vault", keystore.Profile{Safe: &ks}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Me.UserID != w.OperatorUser.UserID || a.Me.FullName != w.OperatorUser.FullName || a.Me.FullName == "" {
		t.Fatalf("opened as %+v, want %+v", a.Me, w.OperatorUser)
	}
	if a.AsksPIN() || a.KeepsPIN() || a.Desk.NeedsPIN() {
		t.Fatal("a Safe profile asks a PIN")
	}
	if a.Journal().Path() != journal.Path(env.DataDir, "vault") {
		t.Fatalf("journal %s", a.Journal().Path())
	}
	as, err := a.Balances(ctx)
	if err != nil || len(as) != len(w.Assets) {
		t.Fatalf("balances %+v, %v", as, err)
	}
	syms := map[string]bool{}
	for _, x := range as {
		syms[x.Symbol] = true
		if x.Balance == "" || x.Balance == "0" {
			t.Fatalf("empty balance %+v", x)
		}
	}
	for _, x := range w.Assets {
		if !syms[x.Symbol] {
			t.Fatalf("%s missing from %+v", x.Symbol, as)
		}
	}
	var to string
	for _, u := range w.Users {
		if u.HasSafe {
			to = u.UserID
			break
		}
	}
	rv, err := a.Desk.Review(ctx, payout.Draft{AssetID: as[0].AssetID, Recipient: to, Amount: "0.001", Memo: "test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Desk.Send(ctx, rv, "")
	if err != nil || res.State != journal.StateDone {
		t.Fatalf("send %+v, %v", res, err)
	}
	if len(srv.Requests()) != 1 {
		t.Fatalf("requests %d", len(srv.Requests()))
	}
}

// TestOpenSafeNotRegistered: a wallet whose spend key is not registered is
// refused in one line that says what to do.
func TestOpenSafeNotRegistered(t *testing.T) {
	t.Parallel()
	srv, w, env := safeWorld(t)
	ks := offSafe(t, srv, w)
	_, err := env.Open(testCtx(t), "vault", keystore.Profile{Safe: &ks}, nil)
	want := errNotRegistered{}
	if !errors.Is(err, safe.ErrNotRegistered) || err.Error() != want.Error() {
		t.Fatalf("err %v", err)
	}
}

// offSafe is a keystore of the sandbox's user who is not on Safe, with a
// session of the operator's session key and the operator's spend key.
func offSafe(t *testing.T, srv *safesandbox.Server, w safesandbox.World) safe.Keystore {
	t.Helper()
	// The user not on Safe, with a session of the operator's session key.
	var off safe.User
	for _, u := range w.Users {
		if !u.HasSafe {
			off = u
		}
	}
	seed, err := hex.DecodeString(w.Operator.SessionPrivateKey)
	if err != nil || len(seed) < ed25519.SeedSize {
		t.Fatalf("session key: %v", err)
	}
	sid := "3f1e3a52-9d55-4f6c-8a55-1f0c2b9d7e41"
	if err := srv.AddSession(off.UserID, sid, ed25519.NewKeyFromSeed(seed[:ed25519.SeedSize]).Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	ks := w.Operator
	ks.AppID, ks.SessionID = off.UserID, sid
	return ks
}

// TestSetupSafeProfile: a Safe keystore is checked with the API and only
// then saved, without any PIN, and opened; a wallet not registered is
// refused under the key's field, and nothing is saved.
func TestSetupSafeProfile(t *testing.T) {
	t.Parallel()
	srv, w, env := safeWorld(t)
	ctx := testCtx(t)
	off := offSafe(t, srv, w)
	_, err := env.Setup(ctx, Setup{Name: "off", Profile: keystore.Profile{Safe: &off}})
	var se *SetupError
	if !errors.As(err, &se) || se.Field != FieldPrivateKey || !errors.Is(err, safe.ErrNotRegistered) {
		t.Fatalf("err %v", err)
	}
	if ok, _ := env.Store.Exists(ctx, "off"); ok {
		t.Fatal("a refused keystore was saved")
	}
	ks := w.Operator
	a, err := env.Setup(ctx, Setup{Name: "vault", Profile: keystore.Profile{Safe: &ks}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Me.UserID != w.OperatorUser.UserID || a.AsksPIN() {
		t.Fatalf("opened %+v", a.Me)
	}
	p, err := env.Store.Load(ctx, "vault")
	if err != nil || p.Kind() != "safe" || p.Safe.SpendPrivateKey != ks.SpendPrivateKey || p.PIN != "" {
		t.Fatalf("saved %v, %v", p, err)
	}
	if def, _ := env.Store.Default(ctx); def != "vault" {
		t.Fatalf("default %q", def)
	}
}
