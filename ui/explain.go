package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"mixdesk/account"
	"mixdesk/keystore"
	"mixdesk/payout"
	"mixdesk/payout/rail"
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
	var fe *account.FieldError
	if errors.As(err, &fe) {
		return capitalize(fe.Field) + ": " + fe.Reason + "."
	}
	d := account.Diagnose(err)
	// A rail's refusal: the payment (or the PIN check) did not execute.
	switch {
	case rail.IsInsufficient(err):
		return "Insufficient balance: nothing was sent. Refresh the balances and review again."
	case rail.IsKeyUsed(err):
		return "This trace id was already used: " + refusalWords(err, d) + "."
	case rail.IsPINRefused(err) && d.Problem != account.PINFormat && d.Problem != account.TooManyTries:
		return pinIncorrect
	}
	switch d.Problem {
	case account.PINWrong:
		return pinIncorrect
	case account.PINFormat:
		return "The server refused the PIN's format: nothing was sent. Check the PIN token of this profile."
	case account.TooManyTries:
		if !rail.IsPINRefused(err) {
			// No PIN went with it (a read, or the Safe rail, which has
			// none): the API is only rate-limiting.
			return "Too many requests: the API is rate-limiting (429). Nothing was sent; wait a minute and try again."
		}
		return "Too many tries: the PIN is locked for up to 24 hours, or the API is rate-limiting. Nothing was sent."
	case account.SessionRejected:
		if d.Skew != 0 {
			return fmt.Sprintf("Session rejected: this machine's clock is %s off the server's. Fix the clock and retry.", d.Skew.Round(time.Second))
		}
		return "Session rejected: the session may have been replaced in the dashboard (a new session expires the old ones). Set the profile up again."
	case account.Forbidden:
		return "Forbidden: the API refused this for this session."
	case account.NotFound:
		return "Not found."
	case account.FieldRefused:
		if d.Field != "" {
			return "The server refused the field " + d.Field + ": nothing was sent."
		}
		return "The server refused a field: nothing was sent."
	case account.AmountTooSmall:
		return "Amount too small for this asset: nothing was sent."
	case account.Answered:
		return fmt.Sprintf("The API answered %d %s.", d.Code, strings.TrimRight(d.Description, ". "))
	}
	var ke *keystore.Error
	if errors.As(err, &ke) {
		return ke.Error()
	}
	switch d.Problem {
	case account.ServerFailed:
		return fmt.Sprintf("The API failed (HTTP %d). Try again in a moment.", d.Status)
	case account.NoAnswer:
		return "No answer from the API in time: check the network, then retry."
	case account.Unreachable:
		return "Cannot reach the API (" + oneLine(d.Detail) + "): check the network, then retry."
	}
	if errors.Is(err, payout.ErrNeedPIN) {
		return "Not executed yet; it is re-posted with its trace when the PIN is given."
	}
	msg := oneLine(err.Error())
	for _, p := range []string{"payout: ", "payreq: ", "history: ", "mixin: ", "journal: ", "keystore: ", "sandboxpay: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return capitalize(msg)
}

const pinIncorrect = "PIN incorrect (or the PIN's time or counter was refused): nothing was sent. Five wrong PINs in 24 hours lock it."

// refusalWords are a refusal's own words: the rail's description.
func refusalWords(err error, d account.Diagnosis) string {
	var re *rail.RefusedError
	if errors.As(err, &re) && re.Description != "" {
		return re.Description
	}
	return d.Description
}

// doubtCause says why a payout's outcome is unknown, without advice to try
// again: an in-doubt payout is settled by its trace, never sent again by hand.
func doubtCause(err error) string {
	d := account.Diagnose(err)
	switch {
	case err == nil:
		return "no answer was recorded"
	case errors.Is(err, payout.ErrNeedPIN):
		return "it was not executed yet, and posting it again with its trace needs the PIN"
	case d.Problem == account.NoAnswer:
		return "no answer arrived in time"
	case d.Problem == account.Unreachable:
		return "the connection failed before an answer arrived (" + oneLine(d.Detail) + ")"
	case d.Problem == account.ServerFailed:
		return "the API failed (HTTP " + itoa(d.Status) + ") while handling it"
	case d.Problem == account.BrokenAnswer:
		return "the answer was broken (" + oneLine(d.Detail) + ")"
	case errors.Is(err, context.Canceled):
		return "the send was interrupted"
	}
	return oneLine(err.Error())
}

// fieldMessage is an error as it reads under a form's field, in the one
// style of every field message (see fieldText): a field error's reason
// without the field's name (the label is on the line above), any other
// error as explain words it.
func fieldMessage(err error) string {
	if err == nil {
		return ""
	}
	var fe *account.FieldError
	if errors.As(err, &fe) {
		return fieldText(fe.Reason)
	}
	return fieldText(explain(err))
}

// fieldText puts a message shown under a form's field in the style all
// field messages share: it starts in lower case (a word in capitals, such
// as PIN or API, is kept), and a message of one sentence ends without a
// full stop (one of several sentences keeps its stops).
func fieldText(s string) string {
	s = strings.TrimSpace(s)
	r := []rune(s)
	if len(r) > 0 && unicode.IsUpper(r[0]) && (len(r) == 1 || !unicode.IsUpper(r[1]) && !unicode.IsDigit(r[1])) {
		r[0] = unicode.ToLower(r[0])
		s = string(r)
	}
	if body, ok := strings.CutSuffix(s, "."); ok && !strings.HasSuffix(body, ".") && !strings.Contains(body, ". ") {
		s = body
	}
	return s
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
