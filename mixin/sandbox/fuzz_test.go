package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
)

// serve runs one signed request through the handler without a network and
// checks the envelope: HTTP 200 with data or HTTP 202 with an error.
func (a *actor) serve(tb testing.TB, method, uri string, body []byte) (json.RawMessage, *mixin.Error) {
	tb.Helper()
	id := uuid.NewString()
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	path, query, _ := strings.Cut(uri, "?")
	req.URL.Path, req.URL.RawQuery = path, query
	req.Header.Set("Authorization", "Bearer "+a.token(method, req.URL.RequestURI(), body, id))
	req.Header.Set("X-Request-Id", id)
	rec := httptest.NewRecorder()
	a.e.srv.ServeHTTP(rec, req)
	var env struct {
		Data  json.RawMessage `json:"data"`
		Error *mixin.Error    `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		tb.Fatalf("answer is not JSON: %q", rec.Body.Bytes())
	}
	switch {
	case rec.Code == http.StatusOK && env.Error == nil && env.Data != nil:
	case rec.Code == http.StatusAccepted && env.Error != nil && env.Data == nil:
		if env.Error.Code == mixin.CodeUnauthorized {
			tb.Fatalf("a correctly signed request was refused: %v", env.Error.Extra)
		}
	default:
		tb.Fatalf("bad envelope: HTTP %d %q", rec.Code, rec.Body.Bytes())
	}
	if rec.Header().Get("X-Request-Id") != id || rec.Header().Get("X-Server-Time") == "" {
		tb.Fatal("headers missing")
	}
	return env.Data, env.Error
}

// FuzzTransferBody posts arbitrary bodies to /transfers. In the body,
// $PIN becomes a freshly encrypted PIN, $PAYEE the payee's id and $ASSET
// the asset id, so the fuzzer reaches the checks past the fields. Whatever
// the body, the answer is a proper envelope and money is conserved.
func FuzzTransferBody(f *testing.F) {
	for _, seed := range []string{
		`{"asset_id":"$ASSET","opponent_id":"$PAYEE","amount":"1.5","trace_id":"0b1e2a2c-8d0b-4a4f-9d3c-5d6f7a8b9c0d","pin":"$PIN","memo":"x"}`,
		`{"asset_id":"$ASSET","counter_user_id":"$PAYEE","amount":"0.00000001","trace_id":"6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","pin":"$PIN"}`,
		`{"asset_id":"$ASSET","opponent_id":"$PAYEE","amount":"1e2","trace_id":"x","pin":"123456"}`,
		`{"amount":1.5}`,
		`[]`,
		``,
	} {
		f.Add([]byte(seed))
	}
	e := newEnv(f)
	a := e.newActor("Desk", mixin.KeyEd25519, "1000")
	b := e.newActor("Payee", mixin.KeyEd25519, "")
	total := decimal.NewFromInt(1000)
	f.Fuzz(func(t *testing.T, body []byte) {
		a := a.with(t)
		e.clock.Advance(time.Second)
		body = bytes.ReplaceAll(body, []byte("$PIN"), []byte(a.pin()))
		body = bytes.ReplaceAll(body, []byte("$PAYEE"), []byte(b.user.UserID))
		body = bytes.ReplaceAll(body, []byte("$ASSET"), []byte(e.asset))
		data, apiErr := a.serve(t, http.MethodPost, "/transfers", body)
		if apiErr == nil {
			var s mixin.Snapshot
			if err := json.Unmarshal(data, &s); err != nil {
				t.Fatal(err)
			}
			if !decimal.RequireFromString(s.Amount).IsNegative() {
				t.Fatalf("sender view amount %s", s.Amount)
			}
		}
		ab, bb := decimal.RequireFromString(a.balance()), decimal.RequireFromString(b.balance())
		if ab.IsNegative() || !ab.Add(bb).Equal(total) {
			t.Fatalf("balances %s + %s", ab, bb)
		}
	})
}

// FuzzSnapshotsQuery sends arbitrary queries to GET /snapshots.
func FuzzSnapshotsQuery(f *testing.F) {
	for _, seed := range []string{
		"", "limit=2", "limit=500&order=ASC", "offset=2025-03-01T12%3A00%3A00.5%2B01%3A00",
		"offset=2025-03-01T12:00:00+01:00", "limit=0", "order=asc", "asset=%00", "limit=99999999999999999999",
	} {
		f.Add(seed)
	}
	e := newEnv(f)
	a := e.newActor("Desk", mixin.KeyEd25519, "1000")
	b := e.newActor("Payee", mixin.KeyEd25519, "")
	for range 5 {
		e.clock.Advance(time.Second)
		decode[mixin.Snapshot](f, a.pay(b, "1"))
	}
	f.Fuzz(func(t *testing.T, query string) {
		a := a.with(t)
		data, apiErr := a.serve(t, http.MethodGet, "/snapshots?"+query, nil)
		if apiErr != nil {
			if apiErr.Code != mixin.CodeInvalidField {
				t.Fatalf("error %d", apiErr.Code)
			}
			return
		}
		var list []mixin.Snapshot
		if err := json.Unmarshal(data, &list); err != nil || list == nil || len(list) > 5 {
			t.Fatalf("list %q: %v", data, err)
		}
	})
}

// FuzzOpenPIN feeds arbitrary strings to the PIN decoder.
func FuzzOpenPIN(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	f.Add(sealPIN(f, key, "123456", 1700000000, 1, base64.StdEncoding))
	f.Add("123456")
	f.Add("")
	f.Add(strings.Repeat("A", 64))
	f.Fuzz(func(t *testing.T, s string) {
		p, reason := openPIN(key, s)
		if reason == "" {
			for _, d := range p.digits {
				if d < '0' || d > '9' {
					t.Fatalf("accepted digits %q", p.digits)
				}
			}
		}
	})
}
