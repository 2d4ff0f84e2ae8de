package mixin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAPI answers with a fixed handler and counts calls.
func fakeAPI(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) (*Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(w, r, int(n.Add(1)))
	}))
	t.Cleanup(srv.Close)
	s, err := NewSession(newEdSession(t, false).creds)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(srv.URL, s, WithRetry(RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

func echo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", r.Header.Get("X-Request-Id"))
}

func TestReadsRetryOn5xxTransportAnd429(t *testing.T) {
	c, n := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) {
		switch i {
		case 1:
			w.WriteHeader(502)
			io.WriteString(w, "<html>bad gateway</html>")
		case 2:
			echo(w, r)
			io.WriteString(w, `{"error":{"status":202,"code":429,"description":"Too Many Requests"}}`)
		default:
			echo(w, r)
			io.WriteString(w, `{"data":{"user_id":"`+tRecipient+`","full_name":"Desk"}}`)
		}
	})
	u, err := c.Me(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.FullName != "Desk" || n.Load() != 3 {
		t.Fatalf("user %+v after %d calls", u, n.Load())
	}
}

func TestReadsGiveUpAfterTheBound(t *testing.T) {
	c, n := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) { w.WriteHeader(500) })
	_, err := c.Assets(context.Background())
	var se *ServerError
	if !errors.As(err, &se) || se.StatusCode != 500 {
		t.Fatalf("got %v", err)
	}
	if n.Load() != 3 {
		t.Fatalf("%d tries, want 3", n.Load())
	}
	if !IsServerOrTransport(err) {
		t.Fatal("a 5xx must count as server-or-transport")
	}
}

func TestTransferIsNeverRetried(t *testing.T) {
	for name, h := range map[string]func(http.ResponseWriter, *http.Request, int){
		"500": func(w http.ResponseWriter, r *http.Request, i int) { w.WriteHeader(500) },
		"429": func(w http.ResponseWriter, r *http.Request, i int) {
			echo(w, r)
			io.WriteString(w, `{"error":{"status":202,"code":429,"description":"Too Many Requests"}}`)
		},
		"drop": func(w http.ResponseWriter, r *http.Request, i int) { panic(http.ErrAbortHandler) },
	} {
		t.Run(name, func(t *testing.T) {
			c, n := fakeAPI(t, h)
			_, err := c.Transfer(context.Background(), TransferInput{AssetID: tAsset, OpponentID: tRecipient, Amount: "1", TraceID: tTrace}, "123456")
			if err == nil {
				t.Fatal("no error")
			}
			if n.Load() != 1 {
				t.Fatalf("POST /transfers sent %d times", n.Load())
			}
		})
	}
}

func TestDroppedConnectionIsTransportError(t *testing.T) {
	c, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) { panic(http.ErrAbortHandler) })
	_, err := c.Transfer(context.Background(), TransferInput{AssetID: tAsset, OpponentID: tRecipient, Amount: "1", TraceID: tTrace}, "123456")
	var te *TransportError
	if !errors.As(err, &te) || !IsServerOrTransport(err) {
		t.Fatalf("got %T %v", err, err)
	}
}

// An answer to another request says what that means for the operator, not
// the two request ids; for a transfer, that it is settled by its trace.
func TestRequestIdEchoIsChecked(t *testing.T) {
	other := "3f2b8c1e-7d4a-4c2b-9e1f-0a1b2c3d4e5f"
	var sent []string
	c, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) {
		sent = append(sent, r.Header.Get("X-Request-Id"))
		w.Header().Set("X-Request-Id", other)
		io.WriteString(w, `{"data":{"type":"transfer","snapshot_id":"`+tTrace+`","asset_id":"`+tAsset+`","user_id":"`+tRecipient+`"}}`)
	})
	_, err := c.Me(context.Background())
	var pe *ProtocolError
	if !errors.As(err, &pe) || !IsServerOrTransport(err) || !strings.Contains(pe.Reason, "not the answer to this request") {
		t.Fatalf("got %v", err)
	}
	_, err = c.Transfer(context.Background(), TransferInput{AssetID: tAsset, OpponentID: tRecipient, Amount: "1", TraceID: tTrace}, "123456")
	if !errors.As(err, &pe) || !strings.Contains(pe.Reason, "whether the transfer was made is unknown") || !strings.Contains(pe.Reason, "settled by its trace") {
		t.Fatalf("transfer: got %v", err)
	}
	for _, id := range append(sent, other) {
		if strings.Contains(err.Error(), id) {
			t.Fatalf("error %q quotes the request id %s", err, id)
		}
	}
}

func TestApplicationErrorsOnAny2xx(t *testing.T) {
	for _, status := range []int{200, 202} {
		c, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) {
			echo(w, r)
			w.Header().Set("X-Server-Time", "1000000000000000000")
			w.WriteHeader(status)
			io.WriteString(w, `{"error":{"status":202,"code":10002,"description":"Invalid field","extra":{"field":"memo"}}}`)
		})
		_, err := c.Me(context.Background())
		var e *Error
		if !errors.As(err, &e) || e.Code != 10002 || e.Field() != "memo" || !IsInvalidField(err) {
			t.Fatalf("HTTP %d: got %v", status, err)
		}
		if e.ServerTime != 1e18 {
			t.Fatalf("server time %d", e.ServerTime)
		}
	}
}

func TestMalformedAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"not json":    "<html>",
		"neither":     `{}`,
		"null data":   `{"data":null}`,
		"wrong shape": `{"data":[1,2]}`,
		"no user id":  `{"data":{"full_name":"Desk"}}`,
		"bad user id": `{"data":{"user_id":"u","full_name":"Desk"}}`,
		"braced id":   `{"data":{"user_id":"{` + tRecipient + `}"}}`,
		"bad session": `{"data":{"user_id":"` + tRecipient + `","session_id":"x"}}`,
		"bad number":  `{"data":{"user_id":"` + tRecipient + `","identity_number":"7000 (Bob)"}}`,
	} {
		c, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) {
			echo(w, r)
			io.WriteString(w, body)
		})
		_, err := c.Me(context.Background())
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Errorf("%s: got %T %v", name, err, err)
		}
	}
}

func TestSignedBytesAreSentBytes(t *testing.T) {
	var got struct{ uri, body, tok, id string }
	c, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) {
		b, _ := io.ReadAll(r.Body)
		got.uri, got.body, got.tok, got.id = r.URL.RequestURI(), string(b), r.Header.Get("Authorization"), r.Header.Get("X-Request-Id")
		echo(w, r)
		io.WriteString(w, `{"data":[]}`)
	})
	off := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	if _, err := c.Snapshots(context.Background(), SnapshotQuery{Limit: 10, Offset: off}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.uri, "offset=2026-01-02T02%3A04%3A05.000000006Z") {
		t.Fatalf("offset not UTC RFC3339Nano and escaped: %s", got.uri)
	}
	claims := parseClaimsNoVerify(t, strings.TrimPrefix(got.tok, "Bearer "))
	if claims["sig"] != RequestSig("GET", got.uri, nil) || claims["jti"] != got.id {
		t.Fatalf("sig/jti do not match the request: %v", claims)
	}
}

func TestCallerCancellationStopsRetries(t *testing.T) {
	c, n := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) { w.WriteHeader(503) })
	c.retry = RetryPolicy{Attempts: 10, Base: time.Second, Max: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Me(ctx)
	if err == nil || time.Since(start) > 900*time.Millisecond || n.Load() != 1 {
		t.Fatalf("err %v after %v and %d calls", err, time.Since(start), n.Load())
	}
}

func TestClockSkew(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	e := &Error{Code: 401, ServerTime: now.Add(-10 * time.Minute).UnixNano()}
	if d, skew := ClockSkew(e, now); !skew || d != 10*time.Minute {
		t.Fatalf("%v %v", d, skew)
	}
	e.ServerTime = now.Add(time.Minute).UnixNano()
	if _, skew := ClockSkew(e, now); skew {
		t.Fatal("one minute is not skew")
	}
}

func TestNewClientAllowsPlainHTTPOnlyOnLoopback(t *testing.T) {
	s, _ := NewSession(newEdSession(t, false).creds)
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9", "https://api.mixin.one"} {
		if _, err := NewClient(u, s); err != nil {
			t.Errorf("%q refused: %v", u, err)
		}
	}
}

func TestNewClientRefusesBadURL(t *testing.T) {
	s, _ := NewSession(newEdSession(t, false).creds)
	for _, u := range []string{"", "api.mixin.one", "ftp://x", "https://x/?a=1", "https://", "http://api.mixin.one", "http://10.0.0.5:8080"} {
		if _, err := NewClient(u, s); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

// Answers are read into reused buffers: what one answer decoded must not
// change when the next answers are read.
func TestDecodedAnswersOutliveTheirBuffer(t *testing.T) {
	answer := func(i int) string {
		return `{"data":{"user_id":"` + tRecipient + `","full_name":"` + strings.Repeat(string(rune('a'+i)), 3000) + `"}}`
	}
	errAnswer := func(i int) string {
		return `{"error":{"status":202,"code":10002,"description":"` + strings.Repeat(string(rune('a'+i)), 3000) + `","extra":{"field":"` + string(rune('a'+i)) + `"}}}`
	}
	c, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) {
		echo(w, r)
		if i%2 == 0 {
			io.WriteString(w, errAnswer(i/2))
			return
		}
		io.WriteString(w, answer(i/2))
	})
	var users []*User
	var errs []*Error
	for i := 0; i < 10; i++ {
		u, err := c.Me(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
		_, err = c.Me(context.Background())
		var e *Error
		if !errors.As(err, &e) {
			t.Fatal(err)
		}
		errs = append(errs, e)
	}
	for i, u := range users {
		if want := strings.Repeat(string(rune('a'+i)), 3000); u.FullName != want {
			t.Fatalf("answer %d changed: %.20q...", i, u.FullName)
		}
	}
	for i, e := range errs {
		if want := string(rune('a' + i + 1)); e.Description != strings.Repeat(want, 3000) || e.Field() != want {
			t.Fatalf("error %d changed: %.20q... %q", i, e.Description, e.Field())
		}
	}
}
