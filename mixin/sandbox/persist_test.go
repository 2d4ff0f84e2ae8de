package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/mixin"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	e, w, op := worldEnv(t, Options{Seed: 9, Operator: SessionOptions{Kind: mixin.KeyRSA, RSABits: 1024}})
	ed := e.newActor("Ed Desk", mixin.KeyEd25519, "3")
	for i := range 3 {
		e.clock.Advance(time.Second)
		decode[mixin.Snapshot](t, op.transfer(mixin.TransferInput{
			AssetID: w.Assets[i].AssetID, OpponentID: w.Users[i].UserID, Amount: "0.5", TraceID: uuid.NewString(), Memo: "before restart",
		}))
	}
	decode[mixin.Snapshot](t, ed.pay(op, "1"))
	// A wrong PIN counts, and survives the restart.
	wantError(t, op.verifyPIN(sealPIN(t, op.pinKey(), "000000", e.clock.Now().Unix(), uint64(e.clock.Now().UnixNano())+1e9, base64.StdEncoding)), mixin.CodePINIncorrect, "")
	// A request whose token is replayed after the restart.
	replayID := uuid.NewString()
	replayTok := op.token("GET", "/me", nil, replayID)
	decode[mixin.User](t, e.send("GET", "/me", nil, replayTok, replayID))
	// A PIN encrypted before the restart but held back: its iterator is
	// below the one used next, so it must stay refused afterwards.
	stalePIN := op.pin()
	decode[mixin.User](t, op.verifyPIN(op.pin()))

	var buf bytes.Buffer
	if err := e.srv.Save(&buf); err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := e.srv.Save(&again); err != nil || !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatal("two saves of the same state differ")
	}
	saved := buf.String()
	loaded, err := Load(&buf, Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// The random source continues: the next ids match on both servers.
	if a, b := e.srv.AddUser("Next"), loaded.AddUser("Next"); a.UserID != b.UserID {
		t.Fatal("the loaded server draws other ids than the original")
	}
	hs := httptest.NewServer(loaded)
	defer hs.Close()
	e2 := &env{tb: t, clock: e.clock, srv: loaded, url: hs.URL, asset: e.asset}
	lw, ok := loaded.World()
	if !ok {
		t.Fatal("the world was not restored")
	}
	op2 := e2.actorFor(lw.Operator, lw.OperatorUser)
	ed2 := e2.actorFor(ed.creds, ed.user)

	if !reflect.DeepEqual(loaded.Ledger(), e.srv.Ledger()) {
		t.Fatal("ledger differs after load")
	}
	ow, _ := e.srv.World()
	if !reflect.DeepEqual(lw, ow) {
		t.Fatal("world differs after load")
	}
	for _, id := range []string{op.user.UserID, ed.user.UserID, w.Users[0].UserID} {
		for _, a := range w.Assets {
			if loaded.Balance(id, a.AssetID) != e.srv.Balance(id, a.AssetID) {
				t.Fatalf("balance of %s in %s differs", id, a.Symbol)
			}
		}
	}
	before := decode[[]mixin.Snapshot](t, op.get("/snapshots"))
	after := decode[[]mixin.Snapshot](t, op2.get("/snapshots"))
	if !reflect.DeepEqual(before, after) || len(after) != 4 {
		t.Fatalf("snapshots differ after load: %d vs %d", len(before), len(after))
	}
	wantError(t, e2.send("GET", "/me", nil, replayTok, replayID), mixin.CodeUnauthorized, "jti already used")
	wantError(t, op2.verifyPIN(stalePIN), mixin.CodePINIncorrect, "iterator")
	loaded.mu.Lock()
	fails := len(loaded.users[op.user.UserID].pinFailures)
	loaded.mu.Unlock()
	if fails != 2 { // the wrong try before the save, and the stale iterator
		t.Fatalf("%d PIN failures after load, want 2", fails)
	}
	// Both session kinds keep working (new client sessions start their
	// iterators from the clock), and new records continue in time.
	e.clock.Advance(time.Second)
	decode[mixin.Snapshot](t, op2.pay(ed2, "0.25"))
	s := decode[mixin.Snapshot](t, ed2.pay(op2, "0.25"))
	if !s.CreatedAt.After(after[0].CreatedAt) {
		t.Fatal("created_at went back after load")
	}
	// The saved state holds no client private key but the world's.
	if strings.Count(saved, "PRIVATE KEY-----") != 2 || strings.Contains(saved, ed.creds.PrivateKey) {
		t.Fatal("the state holds client private keys beyond the operator's")
	}
}

func TestLoadRejectsDamagedState(t *testing.T) {
	c := newClock()
	s, w, err := NewWorld(Options{Seed: 2, Now: c.Now, Operator: SessionOptions{Kind: mixin.KeyEd25519}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Transfer(w.Users[0].UserID, mixin.TransferInput{AssetID: w.Assets[0].AssetID, OpponentID: w.Users[1].UserID, Amount: "0.01", TraceID: uuid.NewString()}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.Save(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	if _, err := Load(bytes.NewReader(good), Options{}); err != nil {
		t.Fatalf("the good state: %v", err)
	}
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	first := func(m map[string]any, key string) map[string]any { return m[key].([]any)[0].(map[string]any) }
	for name, data := range map[string][]byte{
		"not JSON":         []byte("{"),
		"empty":            nil,
		"unknown field":    mutate(func(m map[string]any) { m["extra"] = 1 }),
		"version":          mutate(func(m map[string]any) { m["version"] = 2 }),
		"random source":    mutate(func(m map[string]any) { m["random"] = "AAAA" }),
		"user id":          mutate(func(m map[string]any) { first(m, "users")["user_id"] = "x" }),
		"identity":         mutate(func(m map[string]any) { first(m, "users")["identity_number"] = "abc" }),
		"PIN":              mutate(func(m map[string]any) { first(m, "users")["pin"] = "12345" }),
		"current session":  mutate(func(m map[string]any) { first(m, "users")["session_id"] = uuid.NewString() }),
		"session user":     mutate(func(m map[string]any) { first(m, "sessions")["user_id"] = uuid.NewString() }),
		"session kind":     mutate(func(m map[string]any) { first(m, "sessions")["kind"] = "DSA" }),
		"session key":      mutate(func(m map[string]any) { first(m, "sessions")["public_key"] = "AAAA" }),
		"asset id":         mutate(func(m map[string]any) { first(m, "assets")["asset_id"] = "btc" }),
		"balance amount":   mutate(func(m map[string]any) { first(m, "balances")["amount"] = "-1" }),
		"balance user":     mutate(func(m map[string]any) { first(m, "balances")["user_id"] = uuid.NewString() }),
		"transfer amount":  mutate(func(m map[string]any) { first(m, "transfers")["amount"] = "0" }),
		"transfer party":   mutate(func(m map[string]any) { first(m, "transfers")["to"] = uuid.NewString() }),
		"transfer trace":   mutate(func(m map[string]any) { first(m, "transfers")["trace_id"] = "t" }),
		"transfer balance": mutate(func(m map[string]any) { first(m, "transfers")["to_closing"] = "x" }),
		"world operator": mutate(func(m map[string]any) {
			m["world"].(map[string]any)["OperatorUser"].(map[string]any)["user_id"] = uuid.NewString()
		}),
		"users not a list":  mutate(func(m map[string]any) { m["users"] = "x" }),
		"transfer time nil": mutate(func(m map[string]any) { first(m, "transfers")["created_at"] = "0001-01-01T00:00:00Z" }),
	} {
		if _, err := Load(bytes.NewReader(data), Options{}); err == nil {
			t.Errorf("%s: damaged state loaded", name)
		} else if strings.Contains(err.Error(), w.Operator.PIN) {
			t.Errorf("%s: error quotes the PIN", name)
		}
	}
}

func TestSavedServerAnswersHTTP(t *testing.T) {
	// A loaded server is a full handler: headers and envelope included.
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "1")
	var buf bytes.Buffer
	if err := e.srv.Save(&buf); err != nil {
		t.Fatal(err)
	}
	s, err := Load(&buf, Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	req := httptest.NewRequest(http.MethodGet, "/assets", nil)
	req.Header.Set("Authorization", "Bearer "+a.token("GET", "/assets", nil, id))
	req.Header.Set("X-Request-Id", id)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("X-Request-Id") != id || !strings.Contains(rec.Body.String(), `"balance":"1"`) {
		t.Fatalf("loaded server answered %d %q", rec.Code, rec.Body.String())
	}
}
