package sandbox_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/MixinNetwork/mixin/common"
	"github.com/google/uuid"

	"mixdesk/mixin"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

const (
	deskID  = "00000000-0000-4000-8000-000000000001"
	aliceID = "00000000-0000-4000-8000-000000000002"
	bobID   = "00000000-0000-4000-8000-000000000003" // not on Safe
	btcID   = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"
)

type world struct {
	srv   *sandbox.Server
	url   string
	desk  *safe.Client
	alice *safe.Client
}

// seed32 is 32 bytes of b, a fixed test key.
func seed32(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func account(t testing.TB, srv *sandbox.Server, id string, spend, session byte) *safe.Account {
	t.Helper()
	sid := uuid.NewSHA1(uuid.NameSpaceOID, []byte(id)).String()
	sess := ed25519.NewKeyFromSeed(seed32(session))
	if err := srv.AddSession(id, sid, sess.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	server := ed25519.NewKeyFromSeed(seed32(0x77)).Public().(ed25519.PublicKey)
	a, err := safe.Keystore{AppID: id, SessionID: sid, ServerPublicKey: hex.EncodeToString(server),
		SessionPrivateKey: hex.EncodeToString(seed32(session)), SpendPrivateKey: hex.EncodeToString(seed32(spend))}.Open()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newWorld(t testing.TB) *world {
	t.Helper()
	srv := sandbox.New(sandbox.Options{Seed: 7})
	for _, u := range []struct {
		id    string
		spend byte
	}{{deskID, 0x01}, {aliceID, 0x02}} {
		if err := srv.AddUser(u.id, "user", "7000", safe.NewSpendKey(seed32(u.spend)).Public()); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.AddUser(bobID, "bob", "7003", [32]byte{}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddAsset(safe.Asset{AssetID: btcID, Symbol: "BTC", Name: "Bitcoin", Precision: 8, PriceUSD: "60000"}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	retry := safe.WithRetry(mixin.RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond})
	desk, err := safe.NewClient(hs.URL, account(t, srv, deskID, 0x01, 0x11), retry)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := safe.NewClient(hs.URL, account(t, srv, aliceID, 0x02, 0x12), retry)
	if err != nil {
		t.Fatal(err)
	}
	return &world{srv: srv, url: hs.URL, desk: desk, alice: alice}
}

func (w *world) deposit(t testing.TB, amounts ...string) {
	t.Helper()
	for _, a := range amounts {
		if _, err := w.srv.Deposit(deskID, btcID, a); err != nil {
			t.Fatal(err)
		}
	}
}

func pay(trace, amount, memo string) safe.Payment {
	return safe.Payment{RequestID: trace, AssetID: btcID, Recipient: aliceID, Amount: amount, Memo: memo}
}

// send runs the whole flow and returns the submitted request.
func send(t *testing.T, c *safe.Client, p safe.Payment) (*safe.Unsigned, []byte, *safe.TransactionRequest) {
	t.Helper()
	ctx := context.Background()
	u, err := c.Prepare(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := c.VerifyAndSign(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Submit(ctx, u.RequestID, signed, u.Hash)
	if err != nil {
		t.Fatal(err)
	}
	return u, signed, r
}

func balance(t *testing.T, c *safe.Client) string {
	t.Helper()
	b, err := c.Balances(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return "0"
	}
	return b[0].Amount
}

const trace1 = "5f2f0c3e-6a1b-4c9d-8e7f-0123456789ab"

func TestPayRoundTrip(t *testing.T) {
	w := newWorld(t)
	w.deposit(t, "0.3", "0.25", "1")
	ctx := context.Background()
	if _, err := w.desk.CheckRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	u, signed, r := send(t, w.desk, pay(trace1, "0.42", "hello"))
	if r.State != safe.StateSpent || r.TransactionHash != u.Hash.String() || r.RawTransaction != hex.EncodeToString(signed) || r.Amount != "0.42" {
		t.Fatalf("request %+v", r)
	}
	if len(u.Inputs) != 2 || u.Change != "0.13" {
		t.Fatalf("%d inputs, change %s", len(u.Inputs), u.Change)
	}
	if got := balance(t, w.desk); got != "1.13" {
		t.Fatalf("desk balance %s", got)
	}
	if got := balance(t, w.alice); got != "0.42" {
		t.Fatalf("alice balance %s", got)
	}
	if out, _, err := w.desk.Settle(ctx, trace1, u.Hash); err != nil || out != safe.Final {
		t.Fatalf("settle %v %v", out, err)
	}
	// Each side's snapshot carries the request id and the memo.
	for _, c := range []struct {
		cl     *safe.Client
		amount string
		opp    string
	}{{w.desk, "-0.42", aliceID}, {w.alice, "0.42", deskID}} {
		snaps, err := c.cl.Snapshots(ctx, safe.SnapshotsQuery{AssetID: btcID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if snaps[0].Amount != c.amount || snaps[0].RequestID != trace1 || snaps[0].MemoText != "hello" || snaps[0].OpponentID != c.opp ||
			snaps[0].SnapshotID != safe.SnapshotID(snaps[0].UserID, u.Hash) {
			t.Fatalf("snapshot %+v", snaps[0])
		}
	}
	// The transaction the sandbox holds decodes to the client's bytes.
	ver, err := common.UnmarshalVersionedTransaction(signed)
	if err != nil || ver.PayloadHash() != u.Hash || string(ver.Extra) != "hello" {
		t.Fatalf("decode: %v", err)
	}
}

// TestRepeatedRequestID: same content answers the same request and moves
// nothing again; different content under the id is refused.
func TestRepeatedRequestID(t *testing.T) {
	w := newWorld(t)
	w.deposit(t, "1", "1")
	ctx := context.Background()
	u, signed, _ := send(t, w.desk, pay(trace1, "0.5", ""))
	outputs := len(w.srv.Outputs(deskID))
	if _, err := w.desk.VerifyAndSign(ctx, u); !taken(err, true) {
		t.Fatalf("verify again: %v", err)
	}
	if r, err := w.desk.Submit(ctx, trace1, signed, u.Hash); err != nil || r.State != safe.StateSpent {
		t.Fatalf("submit again: %v", err)
	}
	if len(w.srv.Outputs(deskID)) != outputs || balance(t, w.desk) != "1.5" {
		t.Fatal("a repeat moved money")
	}
	u2, err := w.desk.Prepare(ctx, pay(trace1, "0.6", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.desk.VerifyAndSign(ctx, u2); !taken(err, false) {
		t.Fatalf("other content: %v", err)
	}
	// Before submission, a second transaction under a verified id: 20125.
	const trace2 = "6b3a8f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
	u3, _ := w.desk.Prepare(ctx, pay(trace2, "0.1", ""), nil)
	if _, err := w.desk.VerifyAndSign(ctx, u3); err != nil {
		t.Fatal(err)
	}
	u4, _ := w.desk.Prepare(ctx, pay(trace2, "0.2", ""), nil)
	if _, err := w.desk.VerifyAndSign(ctx, u4); !safe.IsRequestUsed(err) {
		t.Fatalf("verified id, other content: %v", err)
	}
	// The id belongs to the desk: alice cannot use it.
	if _, err := w.alice.Transaction(ctx, trace1); err != nil {
		t.Fatalf("look-up of another user's id: %v", err)
	}
}

func taken(err error, ours bool) bool {
	var te *safe.RequestTakenError
	return errors.As(err, &te) && te.Ours == ours
}

func TestRefusals(t *testing.T) {
	w := newWorld(t)
	w.deposit(t, "0.3")
	ctx := context.Background()
	p := pay(trace1, "0.1", "")
	p.Recipient = bobID
	if _, err := w.desk.Prepare(ctx, p, nil); !safe.IsRecipientNotRegistered(err) {
		t.Fatalf("unregistered recipient: %v", err)
	}
	if _, err := w.desk.Prepare(ctx, pay(trace1, "0.31", ""), nil); !errors.As(err, new(*safe.InsufficientError)) {
		t.Fatalf("insufficient: %v", err)
	}
	// A signature that does not verify is refused and nothing is spent.
	u, err := w.desk.Prepare(ctx, pay(trace1, "0.1", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := w.desk.VerifyAndSign(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(signed)
	bad[len(bad)-1] ^= 1
	_, err = w.desk.Submit(ctx, u.RequestID, bad, u.Hash)
	var e *mixin.Error
	if !errors.As(err, &e) || e.Code != mixin.CodeInvalidField || e.Field() != "raw" {
		t.Fatalf("bad signature: %v", err)
	}
	if balance(t, w.desk) != "0.3" {
		t.Fatal("spent on a bad signature")
	}
	// Outputs taken by another transaction: 10105.
	if _, err := w.desk.Submit(ctx, u.RequestID, signed, u.Hash); err != nil {
		t.Fatal(err)
	}
	const trace2 = "6b3a8f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
	u2 := *u
	u2.RequestID = trace2
	if _, err := w.desk.Verify(ctx, &u2); !safe.IsOutputsLocked(err) {
		t.Fatalf("spent inputs: %v", err)
	}
}

// TestUnknownOutcomes: a submit that commits and drops the answer, and one
// that fails before doing anything, are told apart by the look-up; the
// same bytes are sent again only in the second case.
func TestUnknownOutcomes(t *testing.T) {
	w := newWorld(t)
	w.deposit(t, "1", "1")
	ctx := context.Background()
	u, _ := w.desk.Prepare(ctx, pay(trace1, "0.5", ""), nil)
	signed, _ := w.desk.VerifyAndSign(ctx, u)
	w.srv.InjectFault("POST", "/safe/transactions", sandbox.Fault{Kind: sandbox.FaultCommitThenDrop})
	if _, err := w.desk.Submit(ctx, trace1, signed, u.Hash); !mixin.IsServerOrTransport(err) {
		t.Fatalf("dropped: %v", err)
	}
	if out, _, err := w.desk.Settle(ctx, trace1, u.Hash); err != nil || out != safe.Final {
		t.Fatalf("after a drop: %v %v", out, err)
	}

	const trace2 = "6b3a8f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
	u2, _ := w.desk.Prepare(ctx, pay(trace2, "0.25", ""), nil)
	signed2, _ := w.desk.VerifyAndSign(ctx, u2)
	w.srv.InjectFault("POST", "/safe/transactions", sandbox.Fault{Kind: sandbox.FaultServerError})
	if _, err := w.desk.Submit(ctx, trace2, signed2, u2.Hash); !mixin.IsServerOrTransport(err) {
		t.Fatalf("500: %v", err)
	}
	if out, _, err := w.desk.Settle(ctx, trace2, u2.Hash); err != nil || out != safe.NotSubmitted {
		t.Fatalf("after a 500: %v %v", out, err)
	}
	if _, err := w.desk.Submit(ctx, trace2, signed2, u2.Hash); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, w.desk); got != "1.25" {
		t.Fatalf("balance %s", got)
	}
}

func TestOutputsPaging(t *testing.T) {
	w := newWorld(t)
	amounts := make([]string, 1100)
	for i := range amounts {
		amounts[i] = "0.001"
	}
	w.deposit(t, amounts...)
	outs, err := w.desk.UnspentOutputs(context.Background(), btcID)
	if err != nil || len(outs) != 1100 {
		t.Fatalf("%d outputs: %v", len(outs), err)
	}
	if got := balance(t, w.desk); got != "1.1" {
		t.Fatalf("balance %s", got)
	}
}

// TestTokensStrict: a replayed token and a token of another body are 401.
func TestTokensStrict(t *testing.T) {
	w := newWorld(t)
	acct := w.desk.Account()
	id := uuid.NewString()
	tok, err := acct.Session().Token("GET", "/safe/me", nil, id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) int {
		req, _ := http.NewRequest("GET", w.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Request-Id", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		if bytes.Contains(buf.Bytes(), []byte(`"code":401`)) {
			return 401
		}
		return resp.StatusCode
	}
	if got := get("/safe/me"); got != 200 {
		t.Fatalf("first use: %d", got)
	}
	if got := get("/safe/me"); got != 401 {
		t.Fatalf("replay: %d", got)
	}
	id = uuid.NewString()
	tok, _ = acct.Session().Token("GET", "/safe/me", nil, id, time.Now())
	if got := get("/safe/outputs"); got != 401 {
		t.Fatalf("token of another request: %d", got)
	}
}

// TestNewWorld: the default world's keystore opens, is registered, has
// balances, and pays a user on Safe; the user not on Safe is refused.
func TestNewWorld(t *testing.T) {
	srv, w, err := sandbox.NewWorld(sandbox.Options{Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	acct, err := w.Operator.Open()
	if err != nil {
		t.Fatal(err)
	}
	c, err := safe.NewClient(hs.URL, acct)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.CheckRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	bal, err := c.Balances(ctx)
	if err != nil || len(bal) != 3 {
		t.Fatalf("%v %v", bal, err)
	}
	for _, b := range bal {
		if b.AssetID == btcID && (b.Amount != "2.5" || b.Outputs != 3) {
			t.Fatalf("BTC %+v", b)
		}
	}
	p := safe.Payment{RequestID: trace1, AssetID: btcID, Recipient: w.Users[0].UserID, Amount: "1.5", Memo: "first"}
	if _, _, r := send(t, c, p); r.State != safe.StateSpent {
		t.Fatal(r.State)
	}
	p = safe.Payment{RequestID: uuid.NewString(), AssetID: btcID, Recipient: w.Users[4].UserID, Amount: "0.1"}
	if _, err := c.Prepare(ctx, p, nil); !safe.IsRecipientNotRegistered(err) || w.Users[4].HasSafe {
		t.Fatalf("not on Safe: %v", err)
	}
	if assets, err := c.FetchAssets(ctx, []string{btcID, w.Assets[2].AssetID}); err != nil || len(assets) != 2 || assets[1].ShownSymbol() != "USDT" {
		t.Fatalf("assets %v %v", assets, err)
	}
}
