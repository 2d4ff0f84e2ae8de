package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Test aids: a settable clock to share between the sandbox, a client, a
// journal and a desk, and a counter of the calls that reach the sandbox.

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// NewCounter counts the calls that reach next.
func NewCounter(next http.Handler) *Counter {
	return &Counter{next: next, calls: map[string]int{}}
}

// Counter wraps the sandbox's handler and counts the calls that reach it,
// remembering the trace id of every POST /transfers.
type Counter struct {
	next http.Handler

	mu     sync.Mutex
	calls  map[string]int // "POST /transfers", "GET /transfers/trace", ...
	traces []string
}

// ServeHTTP counts the call and passes it on.
func (p *Counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.Path
	if strings.HasPrefix(r.URL.Path, "/transfers/trace/") {
		key = r.Method + " /transfers/trace"
	}
	var trace string
	if r.Method == http.MethodPost && r.URL.Path == "/transfers" {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			var b struct {
				TraceID string `json:"trace_id"`
			}
			_ = json.Unmarshal(body, &b)
			trace = b.TraceID
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	p.mu.Lock()
	p.calls[key]++
	if trace != "" {
		p.traces = append(p.traces, trace)
	}
	p.mu.Unlock()
	p.next.ServeHTTP(w, r)
}

// Posts is the number of POST /transfers that reached the server.
func (p *Counter) Posts() int { return p.N("POST /transfers") }

// N is the number of calls that reached the server under key ("GET /me",
// "GET /transfers/trace", ...).
func (p *Counter) N(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[key]
}

// Traces is the trace id of every POST /transfers so far, in order.
func (p *Counter) Traces() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.traces...)
}
