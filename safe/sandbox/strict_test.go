package sandbox_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/MixinNetwork/mixin/common"
	"github.com/MixinNetwork/mixin/crypto"
	"github.com/google/uuid"

	"mixdesk/mixin"
	"mixdesk/safe"
)

// rawCall makes one signed call with any body, as the client would but
// without its checks, and returns the data or the error object.
func rawCall(t *testing.T, w *world, c *safe.Client, method, path string, body any) (json.RawMessage, *mixin.Error) {
	t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	id := uuid.NewString()
	tok, err := c.Account().Session().Token(method, path, b, id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, w.url+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Request-Id", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Data  json.RawMessage `json:"data"`
		Error *mixin.Error    `json:"error"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s %s: HTTP %d %q", method, path, resp.StatusCode, raw)
	}
	return env.Data, env.Error
}

type rawReq struct {
	RequestID string `json:"request_id"`
	Raw       string `json:"raw"`
}

// prepared is a payment built and signed but not submitted.
type prepared struct {
	u      *safe.Unsigned
	signed []byte
}

// prepareSigned builds, verifies and signs payments of amounts from the
// desk, each on outputs no other one uses.
func prepareSigned(t *testing.T, w *world, amounts ...string) []prepared {
	t.Helper()
	ctx := context.Background()
	held := map[string]bool{}
	var out []prepared
	for _, a := range amounts {
		u, err := w.desk.Prepare(ctx, pay(uuid.NewString(), a, ""), held)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range u.Inputs {
			held[in.Ref()] = true
		}
		signed, err := w.desk.VerifyAndSign(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, prepared{u, signed})
	}
	return out
}

// TestCallsAreAllOrNothing: a verify or submit call of several
// transactions of which one is refused changes nothing: the good one is
// neither recorded nor spent.
func TestCallsAreAllOrNothing(t *testing.T) {
	w := newWorld(t)
	w.deposit(t, "1", "1")
	ps := prepareSigned(t, w, "0.5", "0.25")
	good, bad := ps[0], ps[1]
	forged := bytes.Clone(bad.signed)
	forged[len(forged)-1] ^= 1
	_, e := rawCall(t, w, w.desk, "POST", "/safe/transactions", []rawReq{
		{good.u.RequestID, hex.EncodeToString(good.signed)},
		{bad.u.RequestID, hex.EncodeToString(forged)},
	})
	if e == nil || e.Code != mixin.CodeInvalidField || e.Field() != "raw" {
		t.Fatalf("submit with a forged second transaction: %v", e)
	}
	if got := balance(t, w.desk); got != "2" {
		t.Fatalf("a refused submit call moved money: balance %s", got)
	}
	if out, _, err := w.desk.Settle(context.Background(), good.u.RequestID, good.u.Hash); err != nil || out != safe.NotSubmitted {
		t.Fatalf("the good transaction of a refused call: %v %v", out, err)
	}

	// Verify: the first id of a refused call stays free for other content.
	id := uuid.NewString()
	u1, err := w.desk.Prepare(context.Background(), pay(id, "0.1", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, e = rawCall(t, w, w.desk, "POST", "/safe/transaction/requests", []rawReq{
		{id, u1.RawHex()},
		{uuid.NewString(), "00"},
	})
	if e == nil || e.Field() != "raw" {
		t.Fatalf("verify with a broken second raw: %v", e)
	}
	u2, err := w.desk.Prepare(context.Background(), pay(id, "0.2", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.desk.Verify(context.Background(), u2); err != nil {
		t.Fatalf("the id of a refused verify call was kept: %v", err)
	}

	// One id twice in one call, and two transactions spending one output.
	_, e = rawCall(t, w, w.desk, "POST", "/safe/transaction/requests", []rawReq{{id, u2.RawHex()}, {id, u2.RawHex()}})
	if e == nil || e.Field() != "request_id" {
		t.Fatalf("one id twice: %v", e)
	}
	twin := uuid.NewString()
	u3 := *good.u
	u3.RequestID = twin
	if _, err := w.desk.Verify(context.Background(), &u3); err != nil {
		t.Fatal(err)
	}
	_, e = rawCall(t, w, w.desk, "POST", "/safe/transactions", []rawReq{
		{good.u.RequestID, hex.EncodeToString(good.signed)},
		{twin, hex.EncodeToString(good.signed)},
	})
	if e == nil || (!safe.IsOutputsLocked(e) && !safe.IsRequestUsed(e) && e.Code != mixin.CodeInvalidField) {
		t.Fatalf("one output in two transactions of one call: %v", e)
	}
	if got := balance(t, w.desk); got != "2" {
		t.Fatalf("balance %s", got)
	}
}

// TestSpendingCallsStrict: what verify and submit refuse, each with the
// code docs/safe-api.md §5 gives, and that a refusal changes nothing.
func TestSpendingCallsStrict(t *testing.T) {
	w := newWorld(t)
	w.deposit(t, "1", "1")
	ctx := context.Background()
	u, err := w.desk.Prepare(ctx, pay(uuid.NewString(), "0.5", "memo"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ver, err := common.UnmarshalVersionedTransaction(u.Raw)
	if err != nil {
		t.Fatal(err)
	}
	// mutate returns the unsigned raw with one change.
	mutate := func(f func(tx *common.Transaction)) string {
		v, _ := common.UnmarshalVersionedTransaction(u.Raw)
		f(&v.Transaction)
		return hex.EncodeToString(v.AsVersioned().Marshal())
	}
	aliceOut := func() safe.Output {
		if _, err := w.srv.Deposit(aliceID, btcID, "0.5"); err != nil {
			t.Fatal(err)
		}
		outs := w.srv.Outputs(aliceID)
		return outs[len(outs)-1]
	}()
	aliceHash, _ := crypto.HashFromString(aliceOut.TransactionHash)
	otherKey := crypto.NewKeyFromSeed(bytes.Repeat([]byte{9}, 64)).Public()

	cases := []struct {
		name  string
		raw   string
		code  int
		field string
	}{
		{"not hex", "zz", mixin.CodeInvalidField, "raw"},
		{"not a transaction", "77770005", mixin.CodeInvalidField, "raw"},
		{"trailing bytes", u.RawHex() + "00", mixin.CodeInvalidField, "raw"},
		{"unknown asset", mutate(func(tx *common.Transaction) { tx.Asset = crypto.Blake3Hash([]byte("x")) }), mixin.CodeInvalidField, "raw"},
		{"unbalanced", mutate(func(tx *common.Transaction) {
			tx.Outputs[0].Amount = tx.Outputs[0].Amount.Add(common.NewIntegerFromString("0.00000001"))
		}), mixin.CodeInvalidField, "raw"},
		{"extra too long", mutate(func(tx *common.Transaction) { tx.Extra = bytes.Repeat([]byte{'a'}, 257) }), mixin.CodeInvalidField, "raw"},
		{"key not issued", mutate(func(tx *common.Transaction) { tx.Outputs[0].Keys = []*crypto.Key{&otherKey} }), mixin.CodeInvalidField, "raw"},
		{"key of another index", mutate(func(tx *common.Transaction) {
			tx.Outputs[0].Keys, tx.Outputs[1].Keys = tx.Outputs[1].Keys, tx.Outputs[0].Keys
		}), mixin.CodeInvalidField, "raw"},
		{"input of another user", mutate(func(tx *common.Transaction) { tx.Inputs[0].Hash = aliceHash }), safe.CodeInvalidUTXO, ""},
		{"input twice", mutate(func(tx *common.Transaction) { tx.Inputs = append(tx.Inputs, tx.Inputs[0]) }), safe.CodeInvalidUTXO, ""},
		{"no such input", mutate(func(tx *common.Transaction) { tx.Inputs[0].Index = 7 }), safe.CodeInvalidUTXO, ""},
	}
	if len(ver.Outputs) != 2 {
		t.Fatalf("%d outputs; the cases need change", len(ver.Outputs))
	}
	for _, c := range cases {
		_, e := rawCall(t, w, w.desk, "POST", "/safe/transaction/requests", []rawReq{{uuid.NewString(), c.raw}})
		if e == nil || e.Code != c.code || e.Field() != c.field {
			t.Errorf("verify, %s: %v, want code %d field %q", c.name, e, c.code, c.field)
		}
	}
	if _, e := rawCall(t, w, w.desk, "POST", "/safe/transaction/requests", []rawReq{{"not-a-uuid", u.RawHex()}}); e == nil || e.Field() != "request_id" {
		t.Errorf("verify, bad request id: %v", e)
	}
	for _, body := range []string{"[]", "{}", "null"} {
		if _, e := rawCall(t, w, w.desk, "POST", "/safe/transaction/requests", json.RawMessage(body)); e == nil || e.Code != mixin.CodeBadRequest {
			t.Errorf("verify, body %s: %v", body, e)
		}
	}

	// Submit: never verified; unsigned; signed at another index; signed
	// by another key; another transaction under a verified id; another
	// user's id.
	if _, e := rawCall(t, w, w.desk, "POST", "/safe/transactions", []rawReq{{u.RequestID, u.RawHex()}}); e == nil || e.Field() != "request_id" {
		t.Errorf("submit, never verified: %v", e)
	}
	r, err := w.desk.Verify(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	signed, _, err := safe.Sign(u.Raw, u.Inputs, r.Views, w.desk.Account().Spend())
	if err != nil {
		t.Fatal(err)
	}
	resign := func(f func(v *common.VersionedTransaction)) string {
		v, _ := common.UnmarshalVersionedTransaction(signed)
		f(v)
		return hex.EncodeToString(v.Marshal())
	}
	wrongKey := safe.NewSpendKey(bytes.Repeat([]byte{0x42}, 32))
	byOther, _, _ := safe.Sign(u.Raw, u.Inputs, r.Views, wrongKey)
	if byOther != nil {
		t.Fatal("Sign accepted a wrong spend key")
	}
	other, err := w.desk.Prepare(ctx, pay(u.RequestID, "0.4", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	subs := []struct {
		name  string
		raw   string
		code  int
		field string
	}{
		{"unsigned", u.RawHex(), mixin.CodeInvalidField, "raw"},
		{"signed at index 1", resign(func(v *common.VersionedTransaction) {
			v.SignaturesMap[0] = map[uint16]*crypto.Signature{1: v.SignaturesMap[0][0]}
		}), mixin.CodeInvalidField, "raw"},
		{"signature of another input", resign(func(v *common.VersionedTransaction) {
			if len(v.SignaturesMap) > 1 {
				v.SignaturesMap[0], v.SignaturesMap[1] = v.SignaturesMap[1], v.SignaturesMap[0]
			} else {
				var s crypto.Signature
				v.SignaturesMap[0][0] = &s
			}
		}), mixin.CodeInvalidField, "raw"},
		{"one signature missing", resign(func(v *common.VersionedTransaction) { v.SignaturesMap = v.SignaturesMap[:len(v.SignaturesMap)-1] }), mixin.CodeInvalidField, "raw"},
		{"another transaction under the id", other.RawHex(), safe.CodeRequestUsed, ""},
	}
	for _, c := range subs {
		_, e := rawCall(t, w, w.desk, "POST", "/safe/transactions", []rawReq{{u.RequestID, c.raw}})
		if e == nil || e.Code != c.code || e.Field() != c.field {
			t.Errorf("submit, %s: %v, want code %d field %q", c.name, e, c.code, c.field)
		}
	}
	if _, e := rawCall(t, w, w.alice, "POST", "/safe/transactions", []rawReq{{u.RequestID, hex.EncodeToString(signed)}}); e == nil || e.Code != safe.CodeRequestUsed {
		t.Errorf("submit under another user's id: %v", e)
	}
	if _, e := rawCall(t, w, w.alice, "POST", "/safe/transaction/requests", []rawReq{{u.RequestID, u.RawHex()}}); e == nil || e.Code != safe.CodeRequestUsed {
		t.Errorf("verify under another user's id: %v", e)
	}
	if got := balance(t, w.desk); got != "2" {
		t.Fatalf("refusals moved money: %s", got)
	}
	if _, err := w.desk.Submit(ctx, u.RequestID, signed, u.Hash); err != nil {
		t.Fatalf("the good transaction after the refusals: %v", err)
	}
	if got := balance(t, w.desk); got != "1.5" {
		t.Fatalf("balance %s", got)
	}
	var te *safe.RequestTakenError
	if _, err := w.desk.Verify(ctx, other); !errors.As(err, &te) || te.Ours {
		t.Fatalf("verify of another transaction under a submitted id: %v", err)
	}
}
