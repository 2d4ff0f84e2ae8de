package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/mixin"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

// savedWorld is a default world after some payouts: one paid, one verified
// and signed but not submitted, one whose ghost keys were asked only.
type savedWorld struct {
	srv     *sandbox.Server
	world   sandbox.World
	paid    *safe.Unsigned
	pending *safe.Unsigned
	signed  []byte // of pending
}

func buildSavedWorld(t *testing.T) *savedWorld {
	t.Helper()
	srv, w, err := sandbox.NewWorld(sandbox.Options{Seed: 99})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := operatorClient(t, w, hs.URL)
	ctx := context.Background()
	sw := &savedWorld{srv: srv, world: w}
	btc := w.Assets[0].AssetID
	p := safe.Payment{RequestID: uuid.NewString(), AssetID: btc, Recipient: w.Users[0].UserID, Amount: "1.6", Memo: "before the restart"}
	if sw.paid, err = c.Prepare(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	signed, err := c.VerifyAndSign(ctx, sw.paid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, sw.paid.RequestID, signed, sw.paid.Hash); err != nil {
		t.Fatal(err)
	}
	p = safe.Payment{RequestID: uuid.NewString(), AssetID: btc, Recipient: w.Users[1].UserID, Amount: "0.2", Memo: "in flight"}
	if sw.pending, err = c.Prepare(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	if sw.signed, err = c.VerifyAndSign(ctx, sw.pending); err != nil {
		t.Fatal(err)
	}
	p = safe.Payment{RequestID: uuid.NewString(), AssetID: w.Assets[1].AssetID, Recipient: w.Users[2].UserID, Amount: "3"}
	if _, err := c.Prepare(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	return sw
}

func operatorClient(t *testing.T, w sandbox.World, url string) *safe.Client {
	t.Helper()
	acct, err := w.Operator.Open()
	if err != nil {
		t.Fatal(err)
	}
	c, err := safe.NewClient(url, acct)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func save(t *testing.T, srv *sandbox.Server) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := srv.Save(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSaveLoadRoundTrip: a loaded world saves to the same bytes, answers
// the same balances, outputs, snapshots and request ids, finishes the
// payout that was signed before the restart, refuses other content under
// its id and a replayed token, and its random source goes on where it was.
func TestSaveLoadRoundTrip(t *testing.T) {
	sw := buildSavedWorld(t)
	// A token used before the restart.
	acct, _ := sw.world.Operator.Open()
	jti := uuid.NewString()
	tok, _ := acct.Session().Token("GET", "/safe/me", nil, jti, time.Now())
	hs0 := httptest.NewServer(sw.srv)
	if code := getWith(t, hs0.URL, tok, jti); code != 200 {
		t.Fatalf("first use of the token: %d", code)
	}
	hs0.Close()

	saved := save(t, sw.srv)
	if again := save(t, sw.srv); !bytes.Equal(saved, again) {
		t.Fatal("two saves of one state differ")
	}
	loaded, err := sandbox.Load(bytes.NewReader(saved), sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if resaved := save(t, loaded); !bytes.Equal(saved, resaved) {
		t.Fatal("the loaded state saves to other bytes")
	}
	lw, ok := loaded.World()
	if !ok || !reflect.DeepEqual(lw, sw.world) {
		t.Fatal("the loaded world is not the saved one")
	}
	op := sw.world.OperatorUser.UserID
	for _, id := range append([]string{op}, sw.world.Users[0].UserID) {
		if !reflect.DeepEqual(loaded.Outputs(id), sw.srv.Outputs(id)) {
			t.Fatalf("outputs of %s differ", id)
		}
		if !reflect.DeepEqual(loaded.Snapshots(id), sw.srv.Snapshots(id)) {
			t.Fatalf("snapshots of %s differ", id)
		}
	}
	if !reflect.DeepEqual(loaded.Requests(), sw.srv.Requests()) {
		t.Fatal("requests differ")
	}

	// The random source goes on: the same deposit on the old and the
	// loaded server makes the same output.
	a, err1 := sw.srv.Deposit(op, sw.world.Assets[2].AssetID, "7")
	b, err2 := loaded.Deposit(op, sw.world.Assets[2].AssetID, "7")
	if err1 != nil || err2 != nil || a.TransactionHash != b.TransactionHash || a.Keys[0] != b.Keys[0] || a.Sequence != b.Sequence {
		t.Fatalf("deposits after the restart differ: %+v / %+v", a, b)
	}

	hs := httptest.NewServer(loaded)
	defer hs.Close()
	if code := getWith(t, hs.URL, tok, jti); code != 401 {
		t.Fatalf("a token used before the restart was accepted again: %d", code)
	}
	c := operatorClient(t, sw.world, hs.URL)
	ctx := context.Background()
	bal, err := c.Balances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bal[len(bal)-1].AssetID != sw.world.Assets[0].AssetID && bal[0].AssetID != sw.world.Assets[0].AssetID {
		t.Fatalf("balances %v", bal)
	}
	for _, b := range bal {
		if b.AssetID == sw.world.Assets[0].AssetID && b.Amount != "0.9" {
			t.Fatalf("BTC after the restart: %s, want 0.9", b.Amount)
		}
	}
	if out, _, err := c.Settle(ctx, sw.paid.RequestID, sw.paid.Hash); err != nil || out != safe.Final {
		t.Fatalf("the paid request after the restart: %v %v", out, err)
	}
	var te *safe.RequestTakenError
	if _, err := c.Verify(ctx, sw.paid); !errors.As(err, &te) || !te.Ours {
		t.Fatalf("verify of the paid request again: %v", err)
	}
	// The signed payout goes through on the loaded world (its request,
	// views and ghost keys were kept); other content under its id does not.
	other := *sw.pending
	other.Raw = sw.paid.Raw
	other.Hash = sw.paid.Hash
	if _, err := c.Verify(ctx, &other); !safe.IsRequestUsed(err) {
		t.Fatalf("other content under a verified id after the restart: %v", err)
	}
	if out, _, err := c.Settle(ctx, sw.pending.RequestID, sw.pending.Hash); err != nil || out != safe.NotSubmitted {
		t.Fatalf("the verified request after the restart: %v %v", out, err)
	}
	if _, err := c.Submit(ctx, sw.pending.RequestID, sw.signed, sw.pending.Hash); err != nil {
		t.Fatalf("submit of the payout signed before the restart: %v", err)
	}
}

func getWith(t *testing.T, url, tok, jti string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/safe/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Request-Id", jti)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Error *mixin.Error `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&env)
	if env.Error != nil {
		return env.Error.Code
	}
	return resp.StatusCode
}

// TestLoadRejectsDamagedState: a state damaged in any of these ways is
// refused with one line, never a panic, and nothing of it is served.
func TestLoadRejectsDamagedState(t *testing.T) {
	sw := buildSavedWorld(t)
	saved := save(t, sw.srv)
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(saved, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	item := func(m map[string]any, list string, i int) map[string]any {
		return m[list].([]any)[i].(map[string]any)
	}
	spentOutput := func(m map[string]any) map[string]any {
		for _, o := range m["outputs"].([]any) {
			if o.(map[string]any)["state"] == "spent" {
				return o.(map[string]any)
			}
		}
		t.Fatal("no spent output")
		return nil
	}
	cases := map[string][]byte{
		"empty":              nil,
		"truncated":          saved[:len(saved)/2],
		"unknown field":      edit(func(m map[string]any) { m["extra"] = 1 }),
		"version":            edit(func(m map[string]any) { m["version"] = 2 }),
		"random":             edit(func(m map[string]any) { m["random"] = "AAAA" }),
		"secret":             edit(func(m map[string]any) { m["secret"] = "00" }),
		"view key no scalar": edit(func(m map[string]any) { item(m, "users", 0)["view_key"] = strings.Repeat("ff", 32) }),
		"spend key no point": edit(func(m map[string]any) {
			for _, u := range m["users"].([]any) {
				if _, ok := u.(map[string]any)["spend_public_key"]; ok {
					u.(map[string]any)["spend_public_key"] = "02" + strings.Repeat("00", 31)
				}
			}
		}),
		"session of nobody": edit(func(m map[string]any) { item(m, "sessions", 0)["user_id"] = uuid.NewString() }),
		"kernel asset id":   edit(func(m map[string]any) { item(m, "assets", 0)["kernel_asset_id"] = strings.Repeat("00", 32) }),
		"output of nobody":  edit(func(m map[string]any) { item(m, "outputs", 0)["receivers"] = []string{uuid.NewString()} }),
		"output amount":     edit(func(m map[string]any) { item(m, "outputs", 0)["amount"] = "-1" }),
		"output key":        edit(func(m map[string]any) { item(m, "outputs", 0)["keys"] = []string{"zz"} }),
		"output sequence":   edit(func(m map[string]any) { item(m, "outputs", 1)["sequence"] = 1 }),
		"output twice":      edit(func(m map[string]any) { m["outputs"] = append(m["outputs"].([]any), m["outputs"].([]any)[0]) }),
		"spent by nobody":   edit(func(m map[string]any) { spentOutput(m)["signed_by"] = strings.Repeat("ab", 32) }),
		"request raw":       edit(func(m map[string]any) { item(m, "requests", 0)["transaction_hash"] = strings.Repeat("ab", 32) }),
		"request of nobody": edit(func(m map[string]any) { item(m, "requests", 0)["owner"] = uuid.NewString() }),
		"request input":     edit(func(m map[string]any) { item(m, "requests", 0)["inputs"] = []string{"x:0"} }),
		"request twice":     edit(func(m map[string]any) { m["requests"] = append(m["requests"].([]any), m["requests"].([]any)[0]) }),
		"ghost receiver":    edit(func(m map[string]any) { item(m, "ghosts", 0)["receiver"] = uuid.NewString() }),
		"snapshot user":     edit(func(m map[string]any) { item(m, "snapshots", 0)["user_id"] = uuid.NewString() }),
		"snapshot order":    edit(func(m map[string]any) { item(m, "snapshots", 0)["created_at"] = "2999-01-01T00:00:00Z" }),
		"world operator": edit(func(m map[string]any) {
			m["world"].(map[string]any)["operator"].(map[string]any)["app_id"] = uuid.NewString()
		}),
		"current session":     edit(func(m map[string]any) { item(m, "users", 0)["session_id"] = uuid.NewString() }),
		"not json of a state": []byte(`[1,2,3]`),
	}
	for name, b := range cases {
		srv, err := sandbox.Load(bytes.NewReader(b), sandbox.Options{})
		if err == nil || srv != nil {
			t.Errorf("%s: loaded", name)
			continue
		}
		if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "sandbox: ") {
			t.Errorf("%s: %q is not one line of the sandbox", name, err)
		}
	}
}

// TestSaveFileRefusesLinks: the world is written through a new file of a
// random name, mode 0600, so a link planted at world.json.tmp is neither
// followed nor replaced; a link at the world's own path is refused both
// ways; no temporary file stays.
func TestSaveFileRefusesLinks(t *testing.T) {
	srv, w, err := sandbox.NewWorld(sandbox.Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "world.json")
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o640); err != nil {
		t.Fatal(err)
	}
	untouched := func() {
		t.Helper()
		b, err := os.ReadFile(victim)
		fi, serr := os.Stat(victim)
		if err != nil || serr != nil || string(b) != "keep me" || fi.Mode().Perm() != 0o640 {
			t.Fatalf("the link's target was written: %q", b)
		}
	}
	for _, planted := range []string{path + ".tmp", filepath.Join(dir, ".world.json.tmp")} {
		if err := os.Symlink(victim, planted); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	untouched()
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("world file %v, %v; want a regular file, mode 0600", fi.Mode(), err)
	}
	loaded, err := sandbox.LoadFile(path, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if lw, ok := loaded.World(); !ok || lw.Operator.AppID != w.Operator.AppID {
		t.Fatal("the loaded world is not the saved one")
	}
	if err := loaded.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("a temporary file stayed: %s", e.Name())
		}
	}
	linked := filepath.Join(dir, "linked.json")
	if err := os.Symlink(victim, linked); err != nil {
		t.Fatal(err)
	}
	if err := srv.SaveFile(linked); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("SaveFile over a link: %v", err)
	}
	untouched()
	if _, err := sandbox.LoadFile(linked, sandbox.Options{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("LoadFile of a link: %v", err)
	}
	if _, err := sandbox.LoadFile(filepath.Join(dir, "none.json"), sandbox.Options{}); !os.IsNotExist(err) {
		t.Fatalf("LoadFile of a missing file: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := srv.SaveFile(filepath.Join(dir, "adir")); err == nil {
		t.Fatal("SaveFile over a directory")
	}
}
