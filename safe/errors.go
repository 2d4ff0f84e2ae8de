package safe

import (
	"errors"
	"fmt"
	"strings"

	"mixdesk/mixin"
)

// Error codes of the Safe API beside the legacy ones (docs/safe-api.md §5).
const (
	CodeOutputsLocked  = 10105 // locked by another transaction
	CodeInvalidUTXO    = 10106 // an input is not an unspent output of the caller
	CodeNotRegistered  = 10404 // the user has not registered to Safe
	CodeRequestUsed    = 20125 // the request id names another transaction
	CodeBadReceivers   = 20150 // receivers contain duplicate or invalid data
	lockedTextAnother  = "locked by another transaction"
	lockedTextOther    = "locked by other transaction"
	spentTextOther     = "spent by other transaction"
	notRegisteredSetup = "in the developer dashboard open the app, Secret, App Wallet, and register its spend key"
)

func apiError(err error) *mixin.Error {
	var e *mixin.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// IsOutputsLocked: an input is held by another transaction (10105, or one
// of the descriptions official clients match). This transaction can never
// be accepted (docs/safe-api.md §6.3).
func IsOutputsLocked(err error) bool {
	e := apiError(err)
	if e == nil {
		return false
	}
	d := strings.ToLower(e.Description)
	return e.Code == CodeOutputsLocked || strings.Contains(d, lockedTextAnother) ||
		strings.Contains(d, lockedTextOther) || strings.Contains(d, spentTextOther)
}

// IsInvalidUTXO: an input is not an unspent output of the caller (10106).
func IsInvalidUTXO(err error) bool { e := apiError(err); return e != nil && e.Code == CodeInvalidUTXO }

// IsRecipientNotRegistered: a receiver has not upgraded to Safe (10404).
func IsRecipientNotRegistered(err error) bool {
	e := apiError(err)
	return e != nil && e.Code == CodeNotRegistered
}

// IsRequestUsed: the request id already names another transaction (20125).
func IsRequestUsed(err error) bool { e := apiError(err); return e != nil && e.Code == CodeRequestUsed }

// ErrNotRegistered: this app's wallet is not registered for Safe.
var ErrNotRegistered = errors.New("safe: this app is not registered for Safe: " + notRegisteredSetup)

// RequestTakenError: verifying found the request id already holding a
// transaction: submitted before (State signed or spent), or another
// unsigned one. Ours tells whether it is this very transaction (the same
// hash). Nothing is to be signed; the payout is settled by its request id
// (docs/safe-api.md §6.2).
type RequestTakenError struct {
	Request *TransactionRequest
	Ours    bool
}

func (e *RequestTakenError) Error() string {
	whose := "another transaction"
	if e.Ours {
		whose = "this transaction"
	}
	return fmt.Sprintf("safe: request %s already holds %s (state %s)", e.Request.RequestID, whose, e.Request.State)
}
