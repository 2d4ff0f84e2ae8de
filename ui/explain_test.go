package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/rail"
)

// TestExplainWordsEachError: the line of each error the operator meets,
// from the legacy rail, from a rail that carries no legacy error (its
// refusal's reason is enough), and from the client.
func TestExplainWordsEachError(t *testing.T) {
	t.Parallel()
	lr := legacyrail.New(nil)
	other := func(reason rail.Reason, desc string) error {
		return &rail.RefusedError{Reason: reason, Code: 7, Description: desc}
	}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"insufficient", lr.Refusal(mixin.CodeInsufficientBalance, "Insufficient balance."), "Insufficient balance: nothing was sent. Refresh the balances and review again."},
		{"insufficient, another rail", other(rail.Insufficient, "not enough outputs"), "Insufficient balance: nothing was sent. Refresh the balances and review again."},
		{"PIN wrong", lr.Refusal(mixin.CodePINIncorrect, "PIN incorrect"), "PIN incorrect (or the PIN's time or counter was refused): nothing was sent. Five wrong PINs in 24 hours lock it."},
		{"PIN wrong, wrapped", fmt.Errorf("payout: %w", lr.Refusal(mixin.CodePINIncorrect, "PIN incorrect")), "PIN incorrect (or the PIN's time or counter was refused)"},
		{"PIN refused, another rail", other(rail.PINRefused, "no"), "PIN incorrect (or the PIN's time or counter was refused)"},
		{"PIN format", lr.Refusal(mixin.CodePINFormat, "PIN format"), "The server refused the PIN's format: nothing was sent. Check the PIN token of this profile."},
		{"PIN locked", lr.Refusal(mixin.CodeTooManyRequests, "Too many"), "Too many tries: the PIN is locked for up to 24 hours, or the API is rate-limiting. Nothing was sent."},
		{"rate limited, Safe rail (no PIN)", &rail.RefusedError{Reason: rail.Other, Code: mixin.CodeTooManyRequests, Err: &mixin.Error{Code: mixin.CodeTooManyRequests, Description: "Too many"}}, "Too many requests: the API is rate-limiting (429). Nothing was sent; wait a minute and try again."},
		{"rate limited read", &mixin.Error{Code: mixin.CodeTooManyRequests}, "Too many requests: the API is rate-limiting (429). Nothing was sent; wait a minute and try again."},
		{"key used", lr.KeyTaken("the trace belongs to another payout"), "This trace id was already used: the trace belongs to another payout."},
		{"key used, another rail", other(rail.KeyUsed, "request id taken"), "This trace id was already used: request id taken."},
		{"refusal of another rail", other(rail.Other, "kernel said no"), "The API answered 7 kernel said no."},
		{"too small", lr.Refusal(mixin.CodeAmountTooSmall, "small"), "Amount too small for this asset: nothing was sent."},
		{"session", &mixin.Error{Code: mixin.CodeUnauthorized}, "Session rejected: the session may have been replaced in the dashboard"},
		{"clock", &mixin.Error{Code: mixin.CodeUnauthorized, ServerTime: time.Now().Add(-2 * time.Hour).UnixNano()}, "Session rejected: this machine's clock is 2h0m0s off the server's. Fix the clock and retry."},
		{"forbidden", &mixin.Error{Code: mixin.CodeForbidden}, "Forbidden: the API refused this for this session."},
		{"not found", rail.Mark(&mixin.Error{Code: mixin.CodeNotFound}, rail.ErrNotFound), "Not found."},
		{"field", &mixin.Error{Code: mixin.CodeInvalidField, Extra: map[string]any{"field": "memo"}}, "The server refused the field memo: nothing was sent."},
		{"a field", &mixin.Error{Code: mixin.CodeInvalidField}, "The server refused a field: nothing was sent."},
		{"other code", &mixin.Error{Code: 10404, Description: "gone"}, "The API answered 10404 gone."},
		{"5xx", &mixin.ServerError{StatusCode: 502}, "The API failed (HTTP 502). Try again in a moment."},
		{"timeout", &mixin.TransportError{Op: "GET /me", Err: context.DeadlineExceeded}, "No answer from the API in time: check the network, then retry."},
		{"no connection", &mixin.TransportError{Op: "GET /me", Err: errors.New("dial tcp: connection refused")}, "Cannot reach the API (dial tcp: connection refused): check the network, then retry."},
		{"broken", &mixin.ProtocolError{Op: "GET /me", Reason: "no data"}, "GET /me: no data"},
		{"form field", &mixin.FieldError{Field: "amount", Reason: "more than 8 decimals"}, "Amount: more than 8 decimals."},
		{"PIN needed", payout.ErrNeedPIN, "Not executed yet; it is re-posted with its trace when the PIN is given."},
		{"local", errors.New("payout: over the daily cap"), "Over the daily cap"},
	}
	for _, c := range cases {
		if got := explain(c.err); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: explain = %q, want %q", c.name, got, c.want)
		}
	}
	// A description ending in a period gets no second one.
	if got := explain(&mixin.Error{Code: 10404, Description: "The user has not registered to the latest API."}); got != "The API answered 10404 The user has not registered to the latest API." {
		t.Errorf("explain = %q", got)
	}
}

// TestFieldMessagesOneStyle: a message under a field names no field, starts
// in lower case (a word in capitals kept) and has no full stop after one
// sentence; several sentences keep theirs.
func TestFieldMessagesOneStyle(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"Recipient: no such user.", "recipient: no such user"},
		{"no such user", "no such user"},
		{"Not a UUID (want 36 characters, got 3)", "not a UUID (want 36 characters, got 3)"},
		{"A profile with this name exists.", "a profile with this name exists"},
		{"PIN incorrect: nothing was sent. Five wrong PINs in 24 hours lock it.", "PIN incorrect: nothing was sent. Five wrong PINs in 24 hours lock it."},
		{"API down.", "API down"},
		{"wait...", "wait..."},
		{"", ""},
	} {
		if got := fieldText(c.in); got != c.want {
			t.Errorf("fieldText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{&mixin.FieldError{Field: "recipient", Reason: "no such user"}, "no such user"},
		{fmt.Errorf("looking up: %w", &mixin.FieldError{Field: "amount", Reason: "more than 8 decimals"}), "more than 8 decimals"},
		{&mixin.TransportError{Op: "GET /me", Err: context.DeadlineExceeded}, "no answer from the API in time: check the network, then retry"},
		{nil, ""},
	} {
		if got := fieldMessage(c.err); got != c.want {
			t.Errorf("fieldMessage(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestDoubtCauseWordsEachError: why a payout is in doubt, without advice to
// send it again.
func TestDoubtCauseWordsEachError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		want string
	}{
		{nil, "no answer was recorded"},
		{payout.ErrNeedPIN, "it was not executed yet, and posting it again with its trace needs the PIN"},
		{&mixin.TransportError{Op: "POST /transfers", Err: context.DeadlineExceeded}, "no answer arrived in time"},
		{&mixin.TransportError{Op: "POST /transfers", Err: errors.New("connection reset")}, "the connection failed before an answer arrived (connection reset)"},
		{&mixin.ServerError{StatusCode: 503}, "the API failed (HTTP 503) while handling it"},
		{&mixin.ProtocolError{Op: "POST /transfers", Reason: "no snapshot"}, "the answer was broken (no snapshot)"},
		{context.Canceled, "the send was interrupted"},
		{errors.New("odd"), "odd"},
	}
	for _, c := range cases {
		if got := doubtCause(c.err); got != c.want {
			t.Errorf("doubtCause(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
