package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout"
)

// explain turns an error into one line: what happened and what the operator
// can do. It never includes a secret (errors carry none).
func explain(err error) string {
	return clean(explainRaw(err))
}

func explainRaw(err error) string {
	if err == nil {
		return ""
	}
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		return capitalize(fe.Field) + ": " + fe.Reason + "."
	}
	var me *mixin.Error
	if errors.As(err, &me) {
		switch me.Code {
		case mixin.CodeInsufficientBalance:
			return "Insufficient balance: nothing was sent. Refresh the balances and review again."
		case mixin.CodePINIncorrect:
			return "PIN incorrect (or the PIN's time or counter was refused): nothing was sent. Five wrong PINs in 24 hours lock it."
		case mixin.CodePINFormat:
			return "The server refused the PIN's format: nothing was sent. Check the PIN token of this profile."
		case mixin.CodeTooManyRequests:
			return "Too many tries: the PIN is locked for up to 24 hours, or the API is rate-limiting. Nothing was sent."
		case mixin.CodeUnauthorized:
			if d, skew := mixin.ClockSkew(err, time.Now()); skew {
				return fmt.Sprintf("Session rejected: this machine's clock is %s off the server's. Fix the clock and retry.", d.Round(time.Second))
			}
			return "Session rejected: the session may have been replaced in the dashboard (a new session expires the old ones). Set the profile up again."
		case mixin.CodeForbidden:
			return "Forbidden: the API refused this for this session."
		case mixin.CodeNotFound:
			return "Not found."
		case mixin.CodeInvalidField:
			if f := me.Field(); f != "" {
				return "The server refused the field " + f + ": nothing was sent."
			}
			return "The server refused a field: nothing was sent."
		case mixin.CodeAmountTooSmall:
			return "Amount too small for this asset: nothing was sent."
		case mixin.CodeTraceUsed:
			return "This trace id was already used: " + me.Description + "."
		}
		return fmt.Sprintf("The API answered %d %s.", me.Code, me.Description)
	}
	var ke *keystore.Error
	if errors.As(err, &ke) {
		return ke.Error()
	}
	var se *mixin.ServerError
	if errors.As(err, &se) {
		return fmt.Sprintf("The API failed (HTTP %d). Try again in a moment.", se.StatusCode)
	}
	var te *mixin.TransportError
	if errors.As(err, &te) {
		if errors.Is(err, context.DeadlineExceeded) {
			return "No answer from the API in time: check the network, then retry."
		}
		return "Cannot reach the API (" + oneLine(te.Err.Error()) + "): check the network, then retry."
	}
	if errors.Is(err, payout.ErrNeedPIN) {
		return "Not executed yet; it is re-posted with its trace when the PIN is given."
	}
	msg := oneLine(err.Error())
	for _, p := range []string{"payout: ", "mixin: ", "journal: ", "keystore: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return capitalize(msg)
}

// doubtCause says why a payout's outcome is unknown, without advice to try
// again: an in-doubt payout is settled by its trace, never sent again by hand.
func doubtCause(err error) string {
	var te *mixin.TransportError
	var se *mixin.ServerError
	var pe *mixin.ProtocolError
	switch {
	case err == nil:
		return "no answer was recorded"
	case errors.Is(err, payout.ErrNeedPIN):
		return "it was not executed yet, and posting it again with its trace needs the PIN"
	case errors.As(err, &te) && errors.Is(err, context.DeadlineExceeded):
		return "no answer arrived in time"
	case errors.As(err, &te):
		return "the connection failed before an answer arrived (" + oneLine(te.Err.Error()) + ")"
	case errors.As(err, &se):
		return "the API failed (HTTP " + itoa(se.StatusCode) + ") while handling it"
	case errors.As(err, &pe):
		return "the answer was broken (" + oneLine(pe.Reason) + ")"
	case errors.Is(err, context.Canceled):
		return "the send was interrupted"
	}
	return oneLine(err.Error())
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return truncate(s, 200)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	if r[0] >= 'a' && r[0] <= 'z' {
		r[0] -= 'a' - 'A'
	}
	return string(r)
}
