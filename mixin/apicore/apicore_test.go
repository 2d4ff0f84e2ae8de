package apicore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// appErr is a client's application error, as an error object decodes.
type appErr struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
	ServerTime  int64  `json:"-"`
}

func (e *appErr) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Description) }

type transportErr struct{ op string }
type serverErr struct {
	status int
	body   string
}
type protocolErr struct {
	op, reason string
	redirect   bool
}

func (e *transportErr) Error() string { return "transport " + e.op }
func (e *serverErr) Error() string    { return fmt.Sprintf("server %d %s", e.status, e.body) }
func (e *protocolErr) Error() string  { return "protocol " + e.op + ": " + e.reason }

var testErrors = Errors[appErr]{
	Prefix:    "test",
	Transport: func(op string, err error) error { return &transportErr{op} },
	Server:    func(status int, body string) error { return &serverErr{status, body} },
	Protocol:  func(op, reason string, redirect bool) error { return &protocolErr{op, reason, redirect} },
	Failed: func(e *appErr, serverTime int64) error {
		if e.Code == 0 {
			return nil
		}
		e.ServerTime = serverTime
		return e
	},
	RateLimited: func(err error) bool {
		var e *appErr
		return errors.As(err, &e) && e.Code == 429
	},
	InDoubt: func(op string) string {
		if op == "POST /pay" {
			return "; whether it paid is unknown"
		}
		return ""
	},
	Clean: func(s string) string { return strings.ReplaceAll(s, "\x1b", "?") },
}

// signer signs with the SHA-256 of what it was asked to sign.
type signer struct{}

func (signer) Token(method, uri string, body []byte, reqID string, _ time.Time) (string, error) {
	return sigOf(method, uri, body) + "." + reqID, nil
}

func sigOf(method, uri string, body []byte) string {
	h := sha256.Sum256([]byte(method + " " + uri + " " + string(body)))
	return hex.EncodeToString(h[:])
}

type item struct {
	Name string `json:"name"`
}

func checkItem(it *item) error {
	if it.Name == "" {
		return errors.New("name is missing")
	}
	return nil
}

// fakeAPI answers with h; n counts the calls.
func fakeAPI(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) (*Conn[appErr], *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(w, r, int(n.Add(1)))
	}))
	t.Cleanup(srv.Close)
	return &Conn[appErr]{
		Base: srv.URL, HTTP: NoRedirects(srv.Client()), Timeout: 5 * time.Second,
		Retry:  Policy{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond},
		Signer: signer{}, Now: time.Now, Errors: &testErrors,
	}, &n
}

// answer echoes the request id and writes body with status.
func answer(w http.ResponseWriter, r *http.Request, status int, body string) {
	w.Header().Set("X-Request-Id", r.Header.Get("X-Request-Id"))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func TestSignedBytesAreSentBytes(t *testing.T) {
	c, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		body, _ := io.ReadAll(r.Body)
		sig, id, _ := strings.Cut(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), ".")
		if sig != sigOf(r.Method, r.URL.RequestURI(), body) || id != r.Header.Get("X-Request-Id") {
			answer(w, r, 200, `{"error":{"code":401,"description":"bad signature"}}`)
			return
		}
		answer(w, r, 200, `{"data":{"name":"`+r.URL.Query().Get("at")+`"}}`)
	})
	cl := Call{Method: "POST", Path: "/pay", Query: map[string][]string{"at": {"+08:00"}}, Body: map[string]string{"memo": "a <b> & c"}}
	got, err := Do(context.Background(), c, cl, checkItem)
	if err != nil || got.Name != "+08:00" {
		t.Fatalf("Do = %+v, %v", got, err)
	}
}

func TestReadsRetriedWritesNever(t *testing.T) {
	for name, h := range map[string]func(http.ResponseWriter, *http.Request, int){
		"500":  func(w http.ResponseWriter, r *http.Request, _ int) { answer(w, r, 500, "down") },
		"429":  func(w http.ResponseWriter, r *http.Request, _ int) { answer(w, r, 202, `{"error":{"code":429}}`) },
		"drop": func(http.ResponseWriter, *http.Request, int) { panic(http.ErrAbortHandler) },
	} {
		t.Run(name, func(t *testing.T) {
			c, n := fakeAPI(t, h)
			if _, err := Do(context.Background(), c, Call{Method: "GET", Path: "/me", Retry: true}, checkItem); err == nil {
				t.Fatal("no error")
			}
			if n.Load() != 3 {
				t.Fatalf("a read was tried %d times, want 3", n.Load())
			}
			n.Store(0)
			if _, err := Do(context.Background(), c, Call{Method: "POST", Path: "/pay", Body: []int{1}}, checkItem); err == nil {
				t.Fatal("no error")
			}
			if n.Load() != 1 {
				t.Fatalf("a payment was tried %d times", n.Load())
			}
		})
	}
}

func TestOtherFailuresAreNotRetried(t *testing.T) {
	c, n := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		answer(w, r, 202, `{"error":{"code":404,"description":"no"}}`)
	})
	_, err := Do(context.Background(), c, Call{Method: "GET", Path: "/me", Retry: true}, checkItem)
	var ae *appErr
	if !errors.As(err, &ae) || ae.Code != 404 || n.Load() != 1 {
		t.Fatalf("%v after %d tries, want one 404", err, n.Load())
	}
}

func TestRetryThenSuccess(t *testing.T) {
	c, n := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) {
		if i < 3 {
			answer(w, r, 503, "")
			return
		}
		answer(w, r, 200, `{"data":{"name":"x"}}`)
	})
	if got, err := Do(context.Background(), c, Call{Method: "GET", Path: "/me", Retry: true}, checkItem); err != nil || got.Name != "x" || n.Load() != 3 {
		t.Fatalf("%+v %v after %d tries", got, err, n.Load())
	}
}

func TestCancellationEndsTheWaits(t *testing.T) {
	c, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) { answer(w, r, 503, "") })
	c.Retry = Policy{Attempts: 10, Base: time.Minute, Max: time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Do(ctx, c, Call{Method: "GET", Path: "/me", Retry: true}, checkItem)
	var se *serverErr
	if !errors.As(err, &se) || time.Since(start) > 10*time.Second {
		t.Fatalf("%v after %v, want the last 503 at once", err, time.Since(start))
	}
}

func TestRedirectRefused(t *testing.T) {
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer elsewhere.Close()
	c, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, elsewhere.URL+"/pay", http.StatusTemporaryRedirect)
	})
	_, err := Do(context.Background(), c, Call{Method: "POST", Path: "/pay", Body: []int{1}}, checkItem)
	var pe *protocolErr
	if !errors.As(err, &pe) || !pe.redirect || !strings.Contains(pe.reason, "not followed") ||
		!strings.Contains(pe.reason, strings.TrimPrefix(elsewhere.URL, "http://")) || !strings.HasSuffix(pe.reason, "whether it paid is unknown") {
		t.Fatalf("redirect: %v", err)
	}
	if reached.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
}

func TestNoRedirectsLeavesTheGivenClient(t *testing.T) {
	h := &http.Client{Timeout: time.Second}
	own := NoRedirects(h)
	if h.CheckRedirect != nil || own == h || own.Timeout != time.Second || own.CheckRedirect == nil {
		t.Fatal("NoRedirects changed the given client or lost its settings")
	}
	if NoRedirects(nil).CheckRedirect == nil {
		t.Fatal("no client given: the new one follows redirects")
	}
}

func TestDecode(t *testing.T) {
	const id = "req-1"
	resp := func(status int, header ...string) *http.Response {
		h := http.Header{"X-Request-Id": {id}}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	for _, tc := range []struct {
		name, body, want string
		resp             *http.Response
	}{
		{"data", `{"data":{"name":"x"}}`, "ok", resp(200)},
		{"error object", `{"error":{"code":20117,"description":"low"}}`, "app 20117 at 7", resp(202, "X-Server-Time", "7")},
		{"error of code 0 and data", `{"data":{"name":"x"},"error":{"code":0}}`, "ok", resp(200)},
		{"wrong echo", `{"data":{"name":"x"}}`, "protocol: mixed answers", resp(200, "X-Request-Id", "other")},
		{"no echo", `{"data":{"name":"x"}}`, "protocol: mixed answers", resp(200, "X-Request-Id", "")},
		{"5xx", " down \n", "server 502 down", resp(502)},
		{"not JSON", `<html>`, "protocol: not JSON", resp(200)},
		{"null data", `{"data":null}`, "protocol: neither data nor error", resp(200)},
		{"no data", `{}`, "protocol: neither data nor error", resp(200)},
		{"wrong type", `{"data":{"name":5}}`, "protocol: unexpected data", resp(200)},
		{"settle refuses", `{"data":{"name":""}}`, "protocol: unexpected data: name is missing; whether it paid is unknown", resp(200)},
		{"4xx without error", `{"data":{"name":"x"}}`, "protocol: HTTP 404 without an error object", resp(404)},
		{"too large", `{"data":{"name":"` + strings.Repeat("x", MaxBody) + `"}}`, "protocol: larger than 8 MiB", resp(200)},
	} {
		got, err := Decode(&testErrors, "POST /pay", id, tc.resp, []byte(tc.body), checkItem)
		var ae *appErr
		var se *serverErr
		var pe *protocolErr
		var says string
		switch {
		case err == nil && got != nil && got.Name == "x":
			says = "ok"
		case errors.As(err, &ae):
			says = fmt.Sprintf("app %d at %d", ae.Code, ae.ServerTime)
		case errors.As(err, &se):
			says = fmt.Sprintf("server %d %s", se.status, se.body)
		case errors.As(err, &pe):
			says = "protocol: " + pe.reason
		default:
			says = fmt.Sprint(got, err)
		}
		// A protocol error's reason is matched in part, the rest whole.
		if ok := strings.HasPrefix(tc.want, "protocol: ") && strings.HasPrefix(says, "protocol: ") &&
			strings.Contains(says, strings.TrimPrefix(tc.want, "protocol: ")); !ok && says != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, says, tc.want)
		}
	}
}

func TestBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		" https://api.example/ ":    "https://api.example",
		"https://api.example/v1/":   "https://api.example/v1",
		"http://127.0.0.1:7000":     "http://127.0.0.1:7000",
		"http://localhost:1":        "http://localhost:1",
		"http://[::1]:1":            "http://[::1]:1",
		"http://api.example":        "plain http",
		"ftp://api.example":         "need http(s)://host, e.g. https://x",
		"https://":                  "need http(s)://host",
		"https://api.example/?a=b":  "must not carry a query or fragment",
		"https://api.example/#frag": "must not carry a query or fragment",
	} {
		got, err := BaseURL(in, "https://x")
		if err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, want) {
			t.Errorf("BaseURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShortText(t *testing.T) {
	clean := func(s string) string { return s }
	long := strings.Repeat("a", 199) + "é" + "tail"
	got := ShortText(clean, long)
	if got != strings.Repeat("a", 199)+"..." {
		t.Fatalf("cut inside a character: %q", got)
	}
	if ShortText(testErrors.Clean, "a\x1bb") != "a?b" {
		t.Fatal("not cleaned")
	}
}
