package account

import (
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
)

// The checks the console's forms make as the operator types, before
// anything is sent: the rules of amounts, memos, ids and PINs that every
// payment follows (the rail's Validate checks a payment again before it is
// recorded). A bad field is a *FieldError naming it.

// FieldError is a field that is not valid: which one, and why. The errors
// of these checks, of the rails' validation and of the domain packages'
// (payout's address book and batches, payreq's requests) are of this type.
type FieldError = mixin.FieldError

// Names of the fields a *FieldError of a payment names.
const (
	FieldAsset     = mixin.FieldAsset
	FieldRecipient = mixin.FieldRecipient
	FieldAmount    = mixin.FieldAmount
	FieldMemo      = mixin.FieldMemo
)

// MaxMemoRunes is the longest memo, in characters.
const MaxMemoRunes = mixin.MaxMemoRunes

// ParseAmount checks an amount as typed (a plain decimal, > 0, at most 8
// digits after the point) and returns it with its canonical text.
func ParseAmount(s string) (decimal.Decimal, string, error) { return mixin.ParseAmount(s) }

// CheckMemo checks a memo: at most MaxMemoRunes characters, none of them a
// control, invisible or direction-changing one.
func CheckMemo(memo string) error { return mixin.ValidateMemo(memo) }

// CheckPIN checks a PIN's form: six digits.
func CheckPIN(pin string) error { return mixin.ValidatePIN(pin) }

// ParseID checks an id (a UUID) of the field named and returns it in
// canonical form.
func ParseID(field, s string) (string, error) { return mixin.ParseUUID(field, s) }

// DisplayText is text from a server or a file made safe to draw: escape
// sequences, control characters, bidirectional and other invisible
// characters, line separators and bad UTF-8 are taken out.
func DisplayText(s string) string { return mixin.DisplayText(s) }
