package sandbox

import (
	"errors"

	"mixdesk/mixin"
)

// statusAccepted is the `status` of every application error body.
const statusAccepted = 202

func apiError(code int, description string, extra map[string]any) *mixin.Error {
	return &mixin.Error{Status: statusAccepted, Code: code, Description: description, Extra: extra}
}

// withReason adds extra.reason when reason is not empty. Reasons name what
// was wrong, never a submitted value.
func withReason(reason string) map[string]any {
	if reason == "" {
		return nil
	}
	return map[string]any{"reason": reason}
}

func errBadRequest(reason string) *mixin.Error {
	return apiError(mixin.CodeBadRequest, "The request body can't be parsed as valid data.", withReason(reason))
}

func errUnauthorized(reason string) *mixin.Error {
	return apiError(mixin.CodeUnauthorized, "Unauthorized, maybe invalid token.", withReason(reason))
}

func errForbidden(reason string) *mixin.Error {
	return apiError(mixin.CodeForbidden, "Access denied.", withReason(reason))
}

func errNotFound(reason string) *mixin.Error {
	return apiError(mixin.CodeNotFound, "The endpoint is not found.", withReason(reason))
}

func errTooManyRequests(reason string) *mixin.Error {
	return apiError(mixin.CodeTooManyRequests, "Too many requests.", withReason(reason))
}

// errInvalidField is 10002 with extra.field naming the refused field.
func errInvalidField(field, reason string) *mixin.Error {
	extra := map[string]any{"field": field}
	if reason != "" {
		extra["reason"] = reason
	}
	return apiError(mixin.CodeInvalidField, "The request data has invalid field.", extra)
}

func errInsufficientBalance() *mixin.Error {
	return apiError(mixin.CodeInsufficientBalance, "Insufficient balance.", nil)
}

func errPINFormat(reason string) *mixin.Error {
	return apiError(mixin.CodePINFormat, "Invalid PIN format.", withReason(reason))
}

func errPINIncorrect(reason string) *mixin.Error {
	return apiError(mixin.CodePINIncorrect, "PIN incorrect.", withReason(reason))
}

func errTraceUsed() *mixin.Error {
	return apiError(mixin.CodeTraceUsed, "The trace has already been paid, or was used with other parameters.", nil)
}

// Errors of the world-building methods. They never quote secrets.
var (
	ErrUnknownUser   = errors.New("sandbox: unknown user")
	ErrUnknownAsset  = errors.New("sandbox: unknown asset")
	ErrInvalidAmount = errors.New("sandbox: invalid amount")
)
