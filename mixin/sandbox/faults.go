package sandbox

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"
)

// FaultKind is what an injected fault does to a call.
type FaultKind int

const (
	// FaultServerError answers HTTP 5xx with a non-JSON body before doing
	// anything.
	FaultServerError FaultKind = iota + 1
	// FaultDelay waits Fault.Delay before handling the call normally. If
	// the caller gives up meanwhile, nothing is done.
	FaultDelay
	// FaultTooManyRequests answers error 429 before doing anything.
	FaultTooManyRequests
	// FaultCommitThenDrop handles the call in full (a transfer commits) and
	// then drops the connection without an answer. It needs a real
	// http.Server (httptest.NewServer is one), which closes the connection.
	FaultCommitThenDrop
	// FaultHold holds the call for Fault.Delay and then handles it in full,
	// whether or not the caller is still waiting: a slow server or a
	// congested network, where a request the client gave up on is executed
	// later. The call is authenticated when it is handled, after the hold
	// (so a token that expired meanwhile is refused), as are the PIN's time
	// and iterator. WaitHeld waits for the calls being held.
	FaultHold
)

// Fault is one injected fault.
type Fault struct {
	Kind FaultKind
	// Times is how many matching calls it applies to; zero means one.
	Times int
	// Delay is the wait of FaultDelay and the hold of FaultHold.
	Delay time.Duration
	// Status is the HTTP status of FaultServerError, 500 to 599; zero
	// means 500.
	Status int
}

type faultRule struct {
	method     string
	pathPrefix string
	fault      Fault
	left       int
}

// InjectFault makes the next f.Times calls whose method equals method (""
// matches any) and whose path starts with pathPrefix suffer f. Faults apply
// in the order injected, one per call. A fault of an unknown kind is
// ignored.
func (s *Server) InjectFault(method, pathPrefix string, f Fault) {
	if f.Kind < FaultServerError || f.Kind > FaultHold {
		return
	}
	if f.Status < 500 || f.Status > 599 {
		f.Status = http.StatusInternalServerError
	}
	left := max(f.Times, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultRule{method: method, pathPrefix: pathPrefix, fault: f, left: left})
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault consumes one use of the first fault matching the call.
func (s *Server) takeFault(method, path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.faults {
		if (r.method == "" || r.method == method) && strings.HasPrefix(path, r.pathPrefix) {
			r.left--
			if r.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
			return r.fault, true
		}
	}
	return Fault{}, false
}

// WaitHeld waits until every call held by FaultHold so far has been
// handled.
func (s *Server) WaitHeld() { s.held.wait() }

// heldCalls counts the calls being held. Unlike a sync.WaitGroup, a call
// may start being held while someone waits.
type heldCalls struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to zero
}

func (h *heldCalls) add() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		h.zero = make(chan struct{})
	}
	h.n++
}

func (h *heldCalls) done() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n--
	if h.n == 0 {
		close(h.zero)
	}
}

func (h *heldCalls) wait() {
	h.mu.Lock()
	if h.n == 0 {
		h.mu.Unlock()
		return
	}
	z := h.zero
	h.mu.Unlock()
	<-z
}

// sleepContext waits d, or less if ctx ends; it reports whether d passed.
func sleepContext(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
