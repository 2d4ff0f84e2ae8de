package faults

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mixdesk/mixin"
)

// stub is a sandbox of one endpoint that counts the calls it handled.
type stub struct {
	set     Set
	handled atomic.Int32
}

func (s *stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.set.Serve(w, r, Site{
		MaxBody: 16,
		Now:     func() time.Time { return time.Unix(0, 42) },
		Handle: func(r *http.Request, body []byte) (any, *mixin.Error) {
			s.handled.Add(1)
			return map[string]string{"path": r.URL.Path, "body": string(body)}, nil
		},
		Unreadable:  &mixin.Error{Status: 202, Code: mixin.CodeBadRequest, Description: "unreadable"},
		RateLimited: &mixin.Error{Status: 202, Code: mixin.CodeTooManyRequests, Description: "slow down"},
	})
}

type answer struct {
	status int
	header http.Header
	body   string
}

func send(t *testing.T, h http.Handler, method, path, body string) answer {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("X-Request-Id", "req-1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return answer{w.Code, w.Header(), w.Body.String()}
}

func TestTakeOrderTimesAndMatching(t *testing.T) {
	var s Set
	s.Inject(http.MethodPost, "/transfers", Fault{Kind: ServerError, Times: 2})
	s.Inject("", "/", Fault{Kind: TooManyRequests})
	s.Inject(http.MethodGet, "/me", Fault{Kind: 99}) // unknown: ignored
	s.Inject(http.MethodGet, "/me", Fault{Kind: 0})  // unknown: ignored

	if f, ok := s.take(http.MethodGet, "/transfers"); !ok || f.Kind != TooManyRequests {
		t.Fatalf("GET /transfers took %+v %v, want the any-method fault", f, ok)
	}
	for i := range 2 {
		f, ok := s.take(http.MethodPost, "/transfers/x")
		if !ok || f.Kind != ServerError || f.Status != http.StatusInternalServerError {
			t.Fatalf("POST %d took %+v %v, want a 500", i, f, ok)
		}
	}
	if f, ok := s.take(http.MethodGet, "/me"); ok {
		t.Fatalf("a used-up or unknown fault was taken: %+v", f)
	}
}

func TestInjectStatusAndClear(t *testing.T) {
	var s Set
	s.Inject("", "/a", Fault{Kind: ServerError, Status: 503})
	s.Inject("", "/b", Fault{Kind: ServerError, Status: 404})
	if f, _ := s.take("GET", "/a"); f.Status != 503 {
		t.Fatalf("status %d, want 503", f.Status)
	}
	if f, _ := s.take("GET", "/b"); f.Status != 500 {
		t.Fatalf("status %d, want 500 for one outside 5xx", f.Status)
	}
	s.Inject("", "/", Fault{Kind: Delay, Times: 3})
	s.Clear()
	if _, ok := s.take("GET", "/x"); ok {
		t.Fatal("a fault survived Clear")
	}
}

func TestServeAnswersAndFaults(t *testing.T) {
	st := &stub{}
	a := send(t, st, http.MethodPost, "/x", "{}")
	if a.status != 200 || a.header.Get("X-Request-Id") != "req-1" || a.header.Get("X-Server-Time") != "42" {
		t.Fatalf("plain call: %d %v", a.status, a.header)
	}
	var env struct {
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal([]byte(a.body), &env); err != nil || env.Data["body"] != "{}" {
		t.Fatalf("plain call body %q", a.body)
	}

	st.set.Inject("", "/x", Fault{Kind: ServerError, Status: 502})
	a = send(t, st, http.MethodPost, "/x", "{}")
	if a.status != 502 || strings.HasPrefix(a.body, "{") || a.header.Get("X-Server-Time") == "" || a.header.Get("X-Request-Id") != "req-1" {
		t.Fatalf("server error: %d %q %v", a.status, a.body, a.header)
	}
	st.set.Inject("", "/x", Fault{Kind: TooManyRequests})
	a = send(t, st, http.MethodPost, "/x", "{}")
	if a.status != http.StatusAccepted || !strings.Contains(a.body, `"code":429`) {
		t.Fatalf("429: %d %q", a.status, a.body)
	}
	if st.handled.Load() != 1 {
		t.Fatalf("%d calls handled, want only the plain one", st.handled.Load())
	}

	a = send(t, st, http.MethodPost, "/x", strings.Repeat("x", 17))
	if a.status != http.StatusAccepted || !strings.Contains(a.body, "unreadable") || st.handled.Load() != 1 {
		t.Fatalf("a body over MaxBody: %d %q, %d handled", a.status, a.body, st.handled.Load())
	}
}

// TestDelayAbandonedDoesNothing: a caller that gives up during a delay
// leaves nothing done.
func TestDelayAbandonedDoesNothing(t *testing.T) {
	st := &stub{}
	st.set.Inject("", "/", Fault{Kind: Delay, Delay: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("{}")).WithContext(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.ServeHTTP(httptest.NewRecorder(), r)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the delayed call did not end with its caller")
	}
	if st.handled.Load() != 0 {
		t.Fatal("an abandoned delayed call was handled")
	}
}

// TestHoldRunsAfterTheCallerLeftAndWaitHeld: a held call is done after its
// caller gave up; WaitHeld waits for it, and for one held while it waits.
func TestHoldRunsAfterTheCallerLeftAndWaitHeld(t *testing.T) {
	st := &stub{}
	srv := httptest.NewServer(st)
	defer srv.Close()
	st.set.Inject(http.MethodPost, "/", Fault{Kind: Hold, Delay: time.Second, Times: 2})
	st.set.WaitHeld() // nothing held: returns at once

	// post sends a call, waits until it is held, and gives up on it.
	post := func(want int) {
		ctx, cancel := context.WithCancel(context.Background())
		answered := make(chan error, 1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/x", strings.NewReader("{}"))
			resp, err := srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
			}
			answered <- err
		}()
		for deadline := time.Now().Add(10 * time.Second); st.set.heldNow() < want; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the call was not held (%d held)", st.set.heldNow())
			}
		}
		cancel()
		if err := <-answered; err == nil {
			t.Fatal("the held call answered its caller")
		}
	}
	post(1)
	waited := make(chan struct{})
	go func() {
		st.set.WaitHeld()
		close(waited)
	}()
	time.Sleep(20 * time.Millisecond) // let the waiter block
	post(2)                           // held while someone waits
	<-waited
	if n := st.handled.Load(); n != 2 {
		t.Fatalf("WaitHeld returned with %d of 2 held calls handled", n)
	}
}

// heldNow is how many calls are being held.
func (s *Set) heldNow() int {
	s.held.mu.Lock()
	defer s.held.mu.Unlock()
	return s.held.n
}

// TestCommitThenDrop: the call is handled, the caller gets no answer.
func TestCommitThenDrop(t *testing.T) {
	st := &stub{}
	srv := httptest.NewServer(st)
	defer srv.Close()
	st.set.Inject(http.MethodPost, "/x", Fault{Kind: CommitThenDrop})
	resp, err := srv.Client().Post(srv.URL+"/x", "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("want a dropped connection, got HTTP %d", resp.StatusCode)
	}
	if st.handled.Load() != 1 {
		t.Fatal("the dropped call was not handled")
	}
}
