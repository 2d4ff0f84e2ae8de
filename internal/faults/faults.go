// Package faults is the fault layer the two sandboxes share (mixin/sandbox
// and safe/sandbox): the faults a test or an operator injects into chosen
// calls (a bare 5xx, a 429, a delay, an answer dropped after the call took
// effect, a call held past the caller's timeout and done afterwards), the
// tracking of the calls being held, and Serve, the front of a sandbox's
// ServeHTTP that applies them and writes the answer envelope. The
// sandboxes' own fault types are aliases of Kind and Fault.
package faults

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Kind is what an injected fault does to a call.
type Kind int

const (
	// ServerError answers HTTP 5xx with a non-JSON body before doing
	// anything.
	ServerError Kind = iota + 1
	// Delay waits Fault.Delay before handling the call normally. If the
	// caller gives up meanwhile, nothing is done.
	Delay
	// TooManyRequests answers error 429 before doing anything.
	TooManyRequests
	// CommitThenDrop handles the call in full and then drops the
	// connection without an answer. It needs a real http.Server
	// (httptest.NewServer is one), which closes the connection.
	CommitThenDrop
	// Hold holds the call for Fault.Delay and then handles it in full,
	// whether or not the caller is still waiting: a slow server or a
	// congested network, where a request the client gave up on is executed
	// later. The call is authenticated when it is handled, after the hold,
	// so a token that expired meanwhile is refused. WaitHeld waits for the
	// calls being held.
	Hold
)

// Fault is one injected fault.
type Fault struct {
	Kind Kind
	// Times is how many matching calls it applies to; zero means one.
	Times int
	// Delay is the wait of Delay and the hold of Hold.
	Delay time.Duration
	// Status is the HTTP status of ServerError, 500 to 599; zero means 500.
	Status int
}

// Set is a sandbox's pending faults and the calls it holds. The zero value
// is an empty set. It is safe for concurrent use.
type Set struct {
	mu    sync.Mutex
	rules []*rule
	held  held
}

type rule struct {
	method, pathPrefix string
	fault              Fault
	left               int
}

// Inject makes the next f.Times calls whose method equals method (""
// matches any) and whose path starts with pathPrefix suffer f. Faults apply
// in the order injected, one per call. A fault of an unknown kind is
// ignored; a Status outside 500 to 599 is 500.
func (s *Set) Inject(method, pathPrefix string, f Fault) {
	if f.Kind < ServerError || f.Kind > Hold {
		return
	}
	if f.Status < 500 || f.Status > 599 {
		f.Status = http.StatusInternalServerError
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, &rule{method: method, pathPrefix: pathPrefix, fault: f, left: max(f.Times, 1)})
}

// Clear removes every pending fault. Calls already held stay held.
func (s *Set) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
}

// take consumes one use of the first fault matching the call.
func (s *Set) take(method, path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.rules {
		if (r.method == "" || r.method == method) && strings.HasPrefix(path, r.pathPrefix) {
			r.left--
			if r.left == 0 {
				s.rules = append(s.rules[:i:i], s.rules[i+1:]...)
			}
			return r.fault, true
		}
	}
	return Fault{}, false
}

// WaitHeld waits until every call held by a Hold fault so far has been
// handled.
func (s *Set) WaitHeld() { s.held.wait() }

// held counts the calls being held. Unlike a sync.WaitGroup, a call may
// start being held while someone waits.
type held struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to zero
}

func (h *held) add() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		h.zero = make(chan struct{})
	}
	h.n++
}

func (h *held) done() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n--
	if h.n == 0 {
		close(h.zero)
	}
}

func (h *held) wait() {
	h.mu.Lock()
	if h.n == 0 {
		h.mu.Unlock()
		return
	}
	z := h.zero
	h.mu.Unlock()
	<-z
}
