package rail

import "errors"

// Reason is what a refusal means to the money logic.
type Reason int

// The reasons of a refusal.
const (
	// Other: refused for a reason the money logic does not act on (the
	// operator is told the rail's words).
	Other Reason = iota
	// PINRefused: the PIN was refused (wrong, malformed, or locked): no
	// request carrying it is sent again.
	PINRefused
	// Insufficient: the account does not hold enough of the asset.
	Insufficient
	// KeyUsed: the key already names a payment, possibly with other
	// content; the payment is looked up by its key to tell which.
	KeyUsed
)

// RefusedError is a definite refusal by the rail: the request did not
// execute, and this request never will. Code and Description are what the
// journal records (Rail.Refusal rebuilds the error from them); Err is the
// rail's own error, kept inside so that what explains it (errors.As on the
// rail's types) keeps working. Its text is Err's.
type RefusedError struct {
	Reason      Reason
	Code        int    // the rail's code
	Description string // the rail's words, display-safe
	Err         error  // the rail's own error; nil: Description stands alone
}

func (e *RefusedError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Description
}

func (e *RefusedError) Unwrap() error { return e.Err }

// IsRefused reports whether err is (or wraps) a *RefusedError: the request
// did not execute.
func IsRefused(err error) bool {
	var re *RefusedError
	return errors.As(err, &re)
}

func reasonOf(err error) (Reason, bool) {
	var re *RefusedError
	if errors.As(err, &re) {
		return re.Reason, true
	}
	return Other, false
}

// IsPINRefused: the rail refused the PIN; a request carrying it must not be
// sent again.
func IsPINRefused(err error) bool {
	r, ok := reasonOf(err)
	return ok && r == PINRefused
}

// IsInsufficient: the account does not hold enough of the asset.
func IsInsufficient(err error) bool {
	r, ok := reasonOf(err)
	return ok && r == Insufficient
}

// IsKeyUsed: the payment's key already names a payment, possibly another.
func IsKeyUsed(err error) bool {
	r, ok := reasonOf(err)
	return ok && r == KeyUsed
}

// The kinds of a look-up's definite answers. A rail's error carries one
// with Mark, so that errors.Is finds it while the rail's own error stays
// inside.
var (
	// ErrNotFound: no such record; for PaymentByKey, nothing was executed
	// under the key so far.
	ErrNotFound = errors.New("not found")
	// ErrNotOurs: the key belongs to a payment this account is not part
	// of; no payment of this account can ever be made under it.
	ErrNotOurs = errors.New("the key belongs to a payment this account is not part of")
	// ErrInvalid: the rail refused the request as malformed (an id it does
	// not take); asking again will not change the answer.
	ErrInvalid = errors.New("refused as malformed")
)

// Mark returns err marked with kind (ErrNotFound, ErrNotOurs, ErrInvalid):
// errors.Is(result, kind) holds, errors.As still finds the rail's own
// error, and the text is err's.
func Mark(err, kind error) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, kind: kind}
}

type marked struct{ err, kind error }

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() []error { return []error{m.err, m.kind} }
