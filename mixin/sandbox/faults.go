package sandbox

import "mixdesk/internal/faults"

// FaultKind is what an injected fault does to a call.
type FaultKind = faults.Kind

const (
	// FaultServerError answers HTTP 5xx with a non-JSON body before doing
	// anything.
	FaultServerError = faults.ServerError
	// FaultDelay waits Fault.Delay before handling the call normally. If
	// the caller gives up meanwhile, nothing is done.
	FaultDelay = faults.Delay
	// FaultTooManyRequests answers error 429 before doing anything.
	FaultTooManyRequests = faults.TooManyRequests
	// FaultCommitThenDrop handles the call in full (a transfer commits) and
	// then drops the connection without an answer. It needs a real
	// http.Server (httptest.NewServer is one), which closes the connection.
	FaultCommitThenDrop = faults.CommitThenDrop
	// FaultHold holds the call for Fault.Delay and then handles it in full,
	// whether or not the caller is still waiting: a slow server or a
	// congested network, where a request the client gave up on is executed
	// later. The call is authenticated when it is handled, after the hold
	// (so a token that expired meanwhile is refused), as are the PIN's time
	// and iterator. WaitHeld waits for the calls being held.
	FaultHold = faults.Hold
)

// Fault is one injected fault: its Kind; Times, how many matching calls it
// applies to (zero means one); Delay, the wait of FaultDelay and the hold
// of FaultHold; Status, the HTTP status of FaultServerError, 500 to 599
// (zero means 500).
type Fault = faults.Fault

// InjectFault makes the next f.Times calls whose method equals method (""
// matches any) and whose path starts with pathPrefix suffer f. Faults apply
// in the order injected, one per call. A fault of an unknown kind is
// ignored.
func (s *Server) InjectFault(method, pathPrefix string, f Fault) {
	s.faults.Inject(method, pathPrefix, f)
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// WaitHeld waits until every call held by FaultHold so far has been
// handled.
func (s *Server) WaitHeld() { s.faults.WaitHeld() }
