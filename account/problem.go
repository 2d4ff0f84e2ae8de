package account

import (
	"context"
	"errors"
	"time"

	"mixdesk/mixin"
	"mixdesk/payout/rail"
)

// Problem is what an error of a request to a rail's server means to the
// operator, beyond what the rail's refusal predicates say
// (rail.IsInsufficient, rail.IsPINRefused, rail.IsKeyUsed): a session
// refused, a server that failed or could not be reached, an answer that
// broke the contract, and which refusal of the PIN it was.
type Problem int

// The problems Diagnose tells.
const (
	// Unclassified: not an answer of a server (a local check, a file): the
	// error's own words stand.
	Unclassified Problem = iota
	// SessionRejected: the server refused the session (Skew tells whether
	// this machine's clock is the cause).
	SessionRejected
	// Forbidden: the server refused this for this session.
	Forbidden
	// NotFound: no such record.
	NotFound
	// FieldRefused: the server refused a field of the request (Field names
	// it when the server did).
	FieldRefused
	// AmountTooSmall: the amount is below the asset's minimum.
	AmountTooSmall
	// PINWrong: the PIN was refused as wrong (or its time or counter).
	PINWrong
	// PINFormat: the server refused the PIN's form: the profile's PIN token
	// is suspect.
	PINFormat
	// TooManyTries: the PIN is locked for a while, or the server is
	// rate-limiting; the same PIN may be right.
	TooManyTries
	// Answered: any other answer of the server (Code, Description).
	Answered
	// ServerFailed: the server failed (Status is the HTTP status).
	ServerFailed
	// NoAnswer: no answer arrived in time.
	NoAnswer
	// Unreachable: the connection failed before an answer (Detail says how).
	Unreachable
	// BrokenAnswer: the answer broke the API's contract (Detail says how).
	BrokenAnswer
)

// Diagnosis is what Diagnose found: the problem and its particulars.
type Diagnosis struct {
	Problem     Problem
	Code        int           // Answered and the refusals: the server's code
	Description string        // Answered and the refusals: the server's words, display-safe
	Field       string        // FieldRefused: the field the server named, or ""
	Skew        time.Duration // SessionRejected: how far this clock is off the server's (0: it is not)
	Status      int           // ServerFailed: the HTTP status
	Detail      string        // Unreachable, BrokenAnswer: what failed, display-safe
}

// Transient reports whether the answer is unknown for a reason that may
// pass (a server failure, no answer, no connection): asking again later
// may answer.
func (d Diagnosis) Transient() bool {
	return d.Problem == ServerFailed || d.Problem == NoAnswer || d.Problem == Unreachable
}

// Diagnose tells what err, the error of a request to a rail's server, means
// to the operator.
func Diagnose(err error) Diagnosis {
	if err == nil {
		return Diagnosis{}
	}
	var (
		me *mixin.Error
		se *mixin.ServerError
		te *mixin.TransportError
		pe *mixin.ProtocolError
		re *rail.RefusedError
	)
	switch {
	case errors.As(err, &me):
		d := answered(me, err)
		if d.Problem == Answered && errors.As(err, &re) && re.Description != "" {
			// An answer no class above covers, which the rail put in its
			// own words (a Safe recipient not on Safe): the rail's words.
			d.Description = mixin.DisplayText(re.Description)
		}
		return d
	case errors.As(err, &se):
		return Diagnosis{Problem: ServerFailed, Status: se.StatusCode}
	case errors.As(err, &te) && errors.Is(err, context.DeadlineExceeded):
		return Diagnosis{Problem: NoAnswer}
	case errors.As(err, &te):
		return Diagnosis{Problem: Unreachable, Detail: mixin.DisplayText(te.Err.Error())}
	case errors.As(err, &pe):
		return Diagnosis{Problem: BrokenAnswer, Detail: mixin.DisplayText(pe.Reason)}
	case errors.As(err, &re):
		// A rail's refusal without the legacy client's error inside.
		return Diagnosis{Problem: Answered, Code: re.Code, Description: mixin.DisplayText(re.Description)}
	}
	return Diagnosis{}
}

// answered classifies an application error of the legacy API (the Safe
// API answers with the same errors).
func answered(me *mixin.Error, err error) Diagnosis {
	d := Diagnosis{Problem: Answered, Code: me.Code, Description: mixin.DisplayText(me.Description)}
	switch me.Code {
	case mixin.CodeUnauthorized:
		d.Problem = SessionRejected
		if skew, off := mixin.ClockSkew(err, time.Now()); off {
			d.Skew = skew
		}
	case mixin.CodeForbidden:
		d.Problem = Forbidden
	case mixin.CodeNotFound:
		d.Problem = NotFound
	case mixin.CodeInvalidField:
		d.Problem, d.Field = FieldRefused, mixin.DisplayText(me.Field())
	case mixin.CodeAmountTooSmall:
		d.Problem = AmountTooSmall
	case mixin.CodePINIncorrect:
		d.Problem = PINWrong
	case mixin.CodePINFormat:
		d.Problem = PINFormat
	case mixin.CodeTooManyRequests:
		d.Problem = TooManyTries
	}
	return d
}

// PINRejected reports whether err says that the server refused the PIN
// itself: wrong, or in a form it refuses; not a lock or a rate limit, after
// which the same PIN may be right.
func PINRejected(err error) bool {
	switch Diagnose(err).Problem {
	case PINWrong, PINFormat:
		return true
	case TooManyTries:
		return false
	}
	return rail.IsPINRefused(err)
}

// WrongPIN reports whether err says that the server refused the PIN as
// wrong.
func WrongPIN(err error) bool {
	switch Diagnose(err).Problem {
	case PINWrong:
		return true
	case PINFormat, TooManyTries:
		return false
	}
	return rail.IsPINRefused(err)
}
