package account

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"mixdesk/mixin"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/rail"
)

// TestDiagnose: what each error of a server means, whether it comes raw
// from the client, wrapped, or inside a rail's refusal.
func TestDiagnose(t *testing.T) {
	t.Parallel()
	lr := legacyrail.New(nil)
	skewed := &mixin.Error{Code: mixin.CodeUnauthorized, Description: "Unauthorized", ServerTime: time.Now().Add(-time.Hour).UnixNano()}
	field := &mixin.Error{Code: mixin.CodeInvalidField, Description: "invalid field", Extra: map[string]any{"field": "amount"}}
	cases := []struct {
		name string
		err  error
		want Diagnosis
	}{
		{"nil", nil, Diagnosis{}},
		{"local", errors.New("payout: over the daily cap"), Diagnosis{}},
		{"unauthorized", &mixin.Error{Code: mixin.CodeUnauthorized, Description: "Unauthorized"},
			Diagnosis{Problem: SessionRejected, Code: 401, Description: "Unauthorized"}},
		{"forbidden wrapped", fmt.Errorf("reading: %w", &mixin.Error{Code: mixin.CodeForbidden, Description: "Forbidden"}),
			Diagnosis{Problem: Forbidden, Code: 403, Description: "Forbidden"}},
		{"not found", &mixin.Error{Code: mixin.CodeNotFound, Description: "Not found"}, Diagnosis{Problem: NotFound, Code: 404, Description: "Not found"}},
		{"field", field, Diagnosis{Problem: FieldRefused, Code: 10002, Description: "invalid field", Field: "amount"}},
		{"too small", lr.Refusal(mixin.CodeAmountTooSmall, "Amount too small"), Diagnosis{Problem: AmountTooSmall, Code: 20120, Description: "Amount too small"}},
		{"PIN wrong", lr.Refusal(mixin.CodePINIncorrect, "PIN incorrect"), Diagnosis{Problem: PINWrong, Code: 20119, Description: "PIN incorrect"}},
		{"PIN wrong raw", &mixin.Error{Code: mixin.CodePINIncorrect}, Diagnosis{Problem: PINWrong, Code: 20119}},
		{"PIN format", lr.Refusal(mixin.CodePINFormat, "PIN format"), Diagnosis{Problem: PINFormat, Code: 20118, Description: "PIN format"}},
		{"too many", lr.Refusal(mixin.CodeTooManyRequests, "Too many"), Diagnosis{Problem: TooManyTries, Code: 429, Description: "Too many"}},
		{"insufficient", lr.Refusal(mixin.CodeInsufficientBalance, "Insufficient"), Diagnosis{Problem: Answered, Code: 20117, Description: "Insufficient"}},
		{"other answer", &mixin.Error{Code: 10404, Description: "x\x1b[31m"}, Diagnosis{Problem: Answered, Code: 10404, Description: "x"}},
		{"an answer in the rail's words", &rail.RefusedError{Reason: rail.Other, Code: 10404, Description: "the recipient has not upgraded to Mixin Safe",
			Err: fmt.Errorf("saferail: %w", &mixin.Error{Code: 10404, Description: "The user has not registered to the latest API."})},
			Diagnosis{Problem: Answered, Code: 10404, Description: "the recipient has not upgraded to Mixin Safe"}},
		{"refusal of another rail", &rail.RefusedError{Reason: rail.Insufficient, Code: 7, Description: "short"},
			Diagnosis{Problem: Answered, Code: 7, Description: "short"}},
		{"5xx", &mixin.ServerError{StatusCode: 503}, Diagnosis{Problem: ServerFailed, Status: 503}},
		{"timeout", &mixin.TransportError{Op: "GET /me", Err: context.DeadlineExceeded}, Diagnosis{Problem: NoAnswer}},
		{"no connection", &mixin.TransportError{Op: "GET /me", Err: errors.New("connection refused")},
			Diagnosis{Problem: Unreachable, Detail: "connection refused"}},
		{"broken", &mixin.ProtocolError{Op: "GET /me", Reason: "no data"}, Diagnosis{Problem: BrokenAnswer, Detail: "no data"}},
	}
	for _, c := range cases {
		if got := Diagnose(c.err); got != c.want {
			t.Errorf("%s: Diagnose = %+v, want %+v", c.name, got, c.want)
		}
	}
	if d := Diagnose(skewed); d.Problem != SessionRejected || d.Skew < 59*time.Minute {
		t.Errorf("a skewed clock: %+v", d)
	}
	for _, err := range []error{&mixin.ServerError{StatusCode: 500}, &mixin.TransportError{Op: "x", Err: context.DeadlineExceeded}, &mixin.TransportError{Op: "x", Err: errors.New("reset")}} {
		if !Diagnose(err).Transient() {
			t.Errorf("%v is not transient", err)
		}
	}
	for _, err := range []error{nil, field, &mixin.ProtocolError{Op: "x", Reason: "y"}, errors.New("x")} {
		if Diagnose(err).Transient() {
			t.Errorf("%v is transient", err)
		}
	}
}

// TestPINRefusals: which refusals of a PIN are a wrong PIN, and which make
// a kept PIN go.
func TestPINRefusals(t *testing.T) {
	t.Parallel()
	lr := legacyrail.New(nil)
	noCode := &rail.RefusedError{Reason: rail.PINRefused, Description: "PIN refused"}
	cases := []struct {
		name            string
		err             error
		wrong, rejected bool
	}{
		{"wrong", lr.Refusal(mixin.CodePINIncorrect, "PIN incorrect"), true, true},
		{"format", lr.Refusal(mixin.CodePINFormat, "PIN format"), false, true},
		{"locked", lr.Refusal(mixin.CodeTooManyRequests, "Too many"), false, false},
		{"another rail's", noCode, true, true},
		{"insufficient", lr.Refusal(mixin.CodeInsufficientBalance, "Insufficient"), false, false},
		{"5xx", &mixin.ServerError{StatusCode: 500}, false, false},
		{"nil", nil, false, false},
	}
	for _, c := range cases {
		if got := WrongPIN(c.err); got != c.wrong {
			t.Errorf("%s: WrongPIN = %v", c.name, got)
		}
		if got := PINRejected(c.err); got != c.rejected {
			t.Errorf("%s: PINRejected = %v", c.name, got)
		}
	}
}
