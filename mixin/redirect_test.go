package mixin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// witness is a server that must never be reached: it records whatever
// arrives.
type witness struct {
	mu    sync.Mutex
	calls []string // method, path, Authorization and body of each request
	srv   *httptest.Server
}

func newWitness(t *testing.T) *witness {
	w := &witness{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		w.calls = append(w.calls, fmt.Sprintf("%s %s with token %v, with PIN %v", r.Method, r.URL.Path, r.Header.Get("Authorization") != "", strings.Contains(string(b), `"pin"`)))
		w.mu.Unlock()
		echo(rw, r)
		io.WriteString(rw, `{"data":{"user_id":"`+tRecipient+`","full_name":"Elsewhere"}}`)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *witness) reached() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.calls...)
}

// redirector answers every request with status to target+path.
func redirector(status int, target string, seen *[]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*seen = append(*seen, r.Method+" "+r.URL.Path+" body="+string(b))
		w.Header().Set("Location", target+r.URL.Path)
		w.WriteHeader(status)
	}
}

func checkRedirectRefused(t *testing.T, err error, w *witness) {
	t.Helper()
	if got := w.reached(); len(got) != 0 {
		t.Fatalf("the redirect target was reached: %.300q", got)
	}
	var pe *ProtocolError
	if !errors.As(err, &pe) || !errors.Is(err, ErrRedirect) || !IsServerOrTransport(err) {
		t.Fatalf("want a ProtocolError wrapping ErrRedirect (outcome unknown), got %T %v", err, err)
	}
	if !strings.Contains(pe.Reason, "redirect") || !strings.Contains(pe.Reason, "not followed") {
		t.Fatalf("reason %q does not say that a redirect was refused", pe.Reason)
	}
}

// An https API that redirects to plain http on another address (the same
// host on another port, where net/http would keep Authorization and send
// the token in clear, and another host name): nothing goes there. The
// caller's own http.Client (the one that trusts the test certificate) is
// used, and left as it was.
func TestRedirectFromHTTPSToPlainHTTPElsewhereIsRefused(t *testing.T) {
	w := newWitness(t)
	u, _ := url.Parse(w.srv.URL)
	for _, elsewhere := range []string{"http://127.0.0.1:" + u.Port(), "http://localhost:" + u.Port()} {
		var seen []string
		for _, status := range []int{301, 302, 303, 307, 308} {
			api := httptest.NewTLSServer(redirector(status, elsewhere, &seen))
			defer api.Close()
			theirs := api.Client()
			s, _ := NewSession(newEdSession(t, false).creds)
			c, err := NewClient(api.URL, s, WithHTTPClient(theirs))
			if err != nil {
				t.Fatal(err)
			}
			if theirs.CheckRedirect != nil {
				t.Fatal("the caller's http.Client was changed")
			}
			_, err = c.Me(context.Background())
			checkRedirectRefused(t, err, w)
			if want := strings.TrimPrefix(elsewhere, "http://"); !strings.Contains(err.Error(), "HTTP "+strconv.Itoa(status)) || !strings.Contains(err.Error(), want) {
				t.Errorf("HTTP %d: error %q does not name the status and %s", status, err, want)
			}
		}
		// Not retried: one request per status, no more.
		if len(seen) != 5 {
			t.Fatalf("the API saw %d requests, want 5: %q", len(seen), seen)
		}
	}
}

// A redirect to another port of the same host keeps Authorization in
// net/http's default client: refused before it is sent.
func TestRedirectToAnotherPortIsRefused(t *testing.T) {
	w := newWitness(t)
	var seen []string
	api := httptest.NewServer(redirector(302, w.srv.URL, &seen))
	defer api.Close()
	s, _ := NewSession(newEdSession(t, false).creds)
	c, err := NewClient(api.URL, s)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Assets(context.Background())
	checkRedirectRefused(t, err, w)
}

// A 307 on POST /transfers would have the body, encrypted PIN included,
// posted again to the new address. It is not; the transfer's outcome is
// unknown to the caller and the error says that it is settled by trace.
func TestRedirectOfATransferDoesNotResendThePIN(t *testing.T) {
	w := newWitness(t)
	var seen []string
	api := httptest.NewServer(redirector(307, w.srv.URL, &seen))
	defer api.Close()
	s, _ := NewSession(newEdSession(t, false).creds)
	c, err := NewClient(api.URL, s)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Transfer(context.Background(), TransferInput{AssetID: tAsset, OpponentID: tRecipient, Amount: "1", TraceID: tTrace}, "123456")
	checkRedirectRefused(t, err, w)
	if len(seen) != 1 || !strings.Contains(seen[0], `"pin":`) {
		t.Fatalf("the API saw %q, want the one transfer post", seen)
	}
	if !strings.Contains(err.Error(), "settled by its trace") {
		t.Fatalf("error %q does not say how the transfer is settled", err)
	}
}

// A redirect without a Location is refused the same way.
func TestRedirectWithoutLocationIsRefused(t *testing.T) {
	c, n := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) {
		echo(w, r)
		w.WriteHeader(307)
	})
	_, err := c.Me(context.Background())
	if !errors.Is(err, ErrRedirect) || n.Load() != 1 {
		t.Fatalf("got %v after %d calls", err, n.Load())
	}
}
