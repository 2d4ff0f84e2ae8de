package safe

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MixinNetwork/mixin/common"
	"github.com/MixinNetwork/mixin/crypto"

	"mixdesk/mixin"
)

// fakeSafe is a small scripted Safe server for the client's tests: it
// checks tokens, pages outputs (offset inclusive), answers ghost keys and
// views with the kernel library, verifies signatures and keeps requests by
// id as docs/safe-api.md §6.1 says. The full imitation is safe/sandbox.
type fakeSafe struct {
	t       *testing.T
	mu      sync.Mutex
	pub     ed25519.PublicKey // the session's
	wallets map[string]wallet
	outputs []Output
	reqs    map[string]*TransactionRequest
	hits    map[string]int
	fail    map[string]int // path → answers still to fail with HTTP 500
	me      User
	assets  map[string]Asset
}

func newFake(t *testing.T) (*fakeSafe, *Client) {
	s := sender(t)
	f := &fakeSafe{
		t:       t,
		pub:     ed25519.NewKeyFromSeed(mustHex(t, sessionSeedHex)).Public().(ed25519.PublicKey),
		wallets: wallets(t),
		reqs:    map[string]*TransactionRequest{},
		hits:    map[string]int{},
		fail:    map[string]int{},
		me:      User{UserID: senderID, IdentityNumber: "7000", FullName: "Desk", HasSafe: true, SpendPublicKey: s.spend.Public().String()},
		assets:  map[string]Asset{btcID: {AssetID: btcID, KernelAssetID: KernelAssetID(btcID).String(), Symbol: "BTC", Name: "Bitcoin", Precision: 8, PriceUSD: "60000"}},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL, openVectorAccount(t), WithRetry(mixin.RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func (f *fakeSafe) answer(w http.ResponseWriter, data any) {
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
}

func (f *fakeSafe) fault(w http.ResponseWriter, code int, desc string) {
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"status": 202, "code": code, "description": desc}})
}

// authorized checks the token as strictly as the legacy sandbox does for
// what matters here: signature, sig claim, jti = X-Request-Id.
func (f *fakeSafe) authorized(r *http.Request, body []byte) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !ed25519.Verify(f.pub, []byte(parts[0]+"."+parts[1]), sig) {
		return false
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct{ Sig, Jti, Uid string }
	_ = json.Unmarshal(raw, &claims)
	return claims.Sig == mixin.RequestSig(r.Method, r.URL.RequestURI(), body) &&
		claims.Jti == r.Header.Get("X-Request-Id") && claims.Uid == senderID
}

func (f *fakeSafe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Request-Id", r.Header.Get("X-Request-Id"))
	path := r.URL.Path
	if strings.HasPrefix(path, "/safe/transactions/") {
		path = "/safe/transactions/:id"
	}
	f.hits[r.Method+" "+path]++
	if n := f.fail[path]; n > 0 {
		f.fail[path] = n - 1
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if !f.authorized(r, body) {
		f.fault(w, 401, "Unauthorized")
		return
	}
	switch r.Method + " " + path {
	case "GET /safe/me":
		f.answer(w, f.me)
	case "GET /safe/outputs":
		f.listOutputs(w, r)
	case "POST /safe/assets/fetch":
		var ids []string
		_ = json.Unmarshal(body, &ids)
		var out []Asset
		for _, id := range ids {
			if a, ok := f.assets[id]; ok {
				out = append(out, a)
			}
		}
		f.answer(w, out)
	case "POST /safe/keys":
		f.keys(w, body)
	case "POST /safe/transaction/requests":
		f.verify(w, body)
	case "POST /safe/transactions":
		f.submit(w, body)
	case "GET /safe/transactions/:id":
		q := f.reqs[strings.TrimPrefix(r.URL.Path, "/safe/transactions/")]
		if q == nil || q.State == StateUnspent {
			f.fault(w, 404, "The endpoint is not found.")
			return
		}
		f.answer(w, q)
	default:
		f.fault(w, 404, "The endpoint is not found.")
	}
}

func (f *fakeSafe) listOutputs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("members") != MembersHash(senderID) || q.Get("threshold") != "1" || q.Get("order") != "ASC" {
		f.fault(w, 10002, "members")
		return
	}
	offset, _ := strconv.ParseInt(q.Get("offset"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	outs := slices.Clone(f.outputs)
	slices.SortFunc(outs, func(a, b Output) int { return int(a.Sequence - b.Sequence) })
	page := []Output{}
	for _, o := range outs {
		if o.Sequence < offset || (q.Get("asset") != "" && o.KernelAssetID != q.Get("asset")) || (q.Get("state") != "" && o.State != q.Get("state")) {
			continue
		}
		if len(page) < limit {
			page = append(page, o)
		}
	}
	f.answer(w, page)
}

func (f *fakeSafe) keys(w http.ResponseWriter, body []byte) {
	var reqs []GhostKeyRequest
	_ = json.Unmarshal(body, &reqs)
	out := make([]GhostKeys, len(reqs))
	for i, q := range reqs {
		wl, ok := f.wallets[q.Receivers[0]]
		if !ok {
			f.fault(w, CodeNotRegistered, "user not registered to safe")
			return
		}
		h := crypto.Blake3Hash([]byte(q.Hint))
		out[i] = wl.ghost(crypto.NewKeyFromSeed(append(h[:], h[:]...)), uint64(q.Index))
	}
	f.answer(w, out)
}

func (f *fakeSafe) decode(w http.ResponseWriter, body []byte) (string, *common.VersionedTransaction, string) {
	var reqs []rawRequest
	if json.Unmarshal(body, &reqs) != nil || len(reqs) != 1 {
		f.fault(w, 400, "bad body")
		return "", nil, ""
	}
	b, err := hex.DecodeString(reqs[0].Raw)
	ver, derr := common.UnmarshalVersionedTransaction(b)
	if err != nil || derr != nil {
		f.fault(w, 10002, "raw")
		return "", nil, ""
	}
	return reqs[0].RequestID, ver, reqs[0].Raw
}

func (f *fakeSafe) input(ref string) *Output {
	for i := range f.outputs {
		if f.outputs[i].Ref() == ref {
			return &f.outputs[i]
		}
	}
	return nil
}

func (f *fakeSafe) verify(w http.ResponseWriter, body []byte) {
	id, ver, raw := f.decode(w, body)
	if ver == nil {
		return
	}
	hash := ver.PayloadHash().String()
	if q := f.reqs[id]; q != nil {
		if q.TransactionHash == hash || q.State != StateUnspent {
			f.answer(w, []*TransactionRequest{q})
		} else {
			f.fault(w, CodeRequestUsed, "request id used")
		}
		return
	}
	s := f.wallets[senderID]
	var ins []Output
	for _, in := range ver.Inputs {
		o := f.input(fmt.Sprintf("%s:%d", in.Hash, in.Index))
		if o == nil {
			f.fault(w, CodeInvalidUTXO, "invalid utxo")
			return
		}
		if o.State != StateUnspent {
			f.fault(w, CodeOutputsLocked, "inputs locked by another transaction")
			return
		}
		ins = append(ins, *o)
	}
	q := &TransactionRequest{RequestID: id, TransactionHash: hash, State: StateUnspent, RawTransaction: raw, Views: s.views(ins), Amount: ver.Outputs[0].Amount.String()}
	f.reqs[id] = q
	f.answer(w, []*TransactionRequest{q})
}

func (f *fakeSafe) submit(w http.ResponseWriter, body []byte) {
	id, ver, raw := f.decode(w, body)
	if ver == nil {
		return
	}
	q := f.reqs[id]
	if q == nil {
		f.fault(w, 10002, "request_id")
		return
	}
	if q.TransactionHash != ver.PayloadHash().String() {
		f.fault(w, CodeRequestUsed, "request id used")
		return
	}
	if q.State != StateUnspent {
		f.answer(w, []*TransactionRequest{q})
		return
	}
	keys := make([]crypto.Key, len(ver.Inputs))
	for i, in := range ver.Inputs {
		keys[i], _ = crypto.KeyFromString(f.input(fmt.Sprintf("%s:%d", in.Hash, in.Index)).Keys[0])
	}
	if _, err := VerifySigned(mustHex(f.t, raw), keys); err != nil {
		f.fault(w, 10002, "raw")
		return
	}
	for _, in := range ver.Inputs {
		o := f.input(fmt.Sprintf("%s:%d", in.Hash, in.Index))
		o.State, o.SignedBy = StateSigned, q.TransactionHash
	}
	q.State, q.RawTransaction, q.Views = StateSigned, raw, nil
	f.answer(w, []*TransactionRequest{q})
}
