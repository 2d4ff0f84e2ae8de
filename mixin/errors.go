package mixin

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes of MIXIN-API.md §6.
const (
	CodeBadRequest          = 400
	CodeUnauthorized        = 401
	CodeForbidden           = 403
	CodeNotFound            = 404
	CodeTooManyRequests     = 429
	CodeInvalidField        = 10002
	CodeInsufficientBalance = 20117
	CodePINFormat           = 20118
	CodePINIncorrect        = 20119
	CodeAmountTooSmall      = 20120
	CodeTraceUsed           = 20125
	CodeServer              = 500
)

// Error is an application error the API answered with (an `error` object in
// a 2xx body). It never carries request data such as the PIN.
type Error struct {
	Status      int            `json:"status"`
	Code        int            `json:"code"`
	Description string         `json:"description"`
	Extra       map[string]any `json:"extra,omitempty"`
	// ServerTime is the X-Server-Time header of the answer, when present
	// (Unix nanoseconds); used to tell a clock skew from a bad session.
	ServerTime int64 `json:"-"`
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mixin: %d %s", e.Code, e.Description)
	if f := e.Field(); f != "" {
		fmt.Fprintf(&b, " (field %s)", f)
	}
	return b.String()
}

// Field names the invalid field of a 10002 error, or "".
func (e *Error) Field() string {
	if e == nil || e.Extra == nil {
		return ""
	}
	s, _ := e.Extra["field"].(string)
	return s
}

func codeOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// IsUnauthorized: the session or token was rejected (401).
func IsUnauthorized(err error) bool { return codeOf(err) == CodeUnauthorized }

// IsForbidden: the record is not the caller's (403).
func IsForbidden(err error) bool { return codeOf(err) == CodeForbidden }

// IsNotFound: no such record (404); for a trace look-up, "not executed".
func IsNotFound(err error) bool { return codeOf(err) == CodeNotFound }

// IsTooManyRequests: rate limited, or on a PIN call the PIN is locked (429).
func IsTooManyRequests(err error) bool { return codeOf(err) == CodeTooManyRequests }

// IsInvalidField: a request field was refused (10002); see Error.Field.
func IsInvalidField(err error) bool { return codeOf(err) == CodeInvalidField }

// IsInsufficientBalance: not enough of the asset (20117).
func IsInsufficientBalance(err error) bool { return codeOf(err) == CodeInsufficientBalance }

// IsPINFormat: the PIN was not an encrypted PIN (20118). Never retried.
func IsPINFormat(err error) bool { return codeOf(err) == CodePINFormat }

// IsPINIncorrect: wrong PIN, or a stale iterator or timestamp (20119). Never retried.
func IsPINIncorrect(err error) bool { return codeOf(err) == CodePINIncorrect }

// IsAmountTooSmall: the amount is below the minimum (20120).
func IsAmountTooSmall(err error) bool { return codeOf(err) == CodeAmountTooSmall }

// IsTraceUsed: the trace id was already paid, possibly with other fields (20125).
func IsTraceUsed(err error) bool { return codeOf(err) == CodeTraceUsed }

// IsPINError: any answer after which a PIN-bearing request must not be sent again.
func IsPINError(err error) bool {
	c := codeOf(err)
	return c == CodePINFormat || c == CodePINIncorrect || c == CodeTooManyRequests
}

// ServerError is an HTTP 5xx answer. The body may not be JSON.
type ServerError struct {
	StatusCode int
	Body       string // at most 200 bytes of the body, for the operator
}

func (e *ServerError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("mixin: server error: HTTP %d", e.StatusCode)
	}
	return fmt.Sprintf("mixin: server error: HTTP %d: %s", e.StatusCode, e.Body)
}

// TransportError is a failure to get any answer: refused, reset, timed out,
// or a connection dropped before a full response arrived. Whether a POST
// took effect is unknown.
type TransportError struct {
	Op  string // "GET /me"
	Err error
}

// Error is display-safe: the failure's text may quote what the other end
// sent (a certificate's names, a malformed answer).
func (e *TransportError) Error() string { return "mixin: " + e.Op + ": " + DisplayText(e.Err.Error()) }
func (e *TransportError) Unwrap() error { return e.Err }

// ProtocolError is an answer that breaks the contract: a wrong X-Request-Id
// echo, a body that is neither data nor error, an unexpected HTTP status,
// a redirect (Err is ErrRedirect), an id that is not a UUID. Something
// answered, but not as the API does, so whether a write took effect is
// unknown (IsServerOrTransport).
type ProtocolError struct {
	Op     string
	Reason string
	Err    error // a sentinel such as ErrRedirect, or nil
}

func (e *ProtocolError) Error() string { return "mixin: " + e.Op + ": " + e.Reason }
func (e *ProtocolError) Unwrap() error { return e.Err }

// ErrRedirect is wrapped by the ProtocolError of an answer that redirected
// the request elsewhere. The client never follows a redirect: the API never
// redirects, and following one would send the bearer token (and, for a
// transfer, the encrypted PIN) to another address.
//
// A redirect is not a proof that nothing was done: whatever answered may
// have passed the request on before redirecting (a proxy), and a server may
// redirect after acting (303 See Other is exactly that). So a redirected
// transfer counts as outcome unknown, like any broken answer, and is
// settled by its trace; a look-up costs one read, paying twice costs money.
var ErrRedirect = errors.New("mixin: the API answered with a redirect")

// IsServerOrTransport reports whether err left the outcome unknown: a 5xx,
// a transport failure or a broken answer (ProtocolError, a redirect
// included). A transfer that failed this way is
// in doubt and must be settled by its trace.
func IsServerOrTransport(err error) bool {
	var se *ServerError
	var te *TransportError
	var pe *ProtocolError
	return errors.As(err, &se) || errors.As(err, &te) || errors.As(err, &pe)
}
