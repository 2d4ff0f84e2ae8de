package payreq

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"mixdesk/mixin"
	"mixdesk/safe"
	"mixdesk/safe/paylink"
)

// Form is the form of a request's payment link. A request keeps the form
// it was made with for good: its link is the one that was shared, whatever
// the profile becomes later.
type Form string

// The forms of a payment link.
const (
	// FormLegacy is the legacy link, https://mixin.one/pay?recipient=…,
	// paid with a legacy transfer. It is the zero Form: a request written
	// before forms were recorded is a legacy one.
	FormLegacy Form = ""
	// FormSafe is the Safe link, https://mixin.one/pay/<recipient>?…
	// (package paylink), paid with a Safe transaction whose request id is
	// the trace.
	FormSafe Form = "safe"
)

// check refuses a form this version does not know.
func (f Form) check() error {
	if f != FormLegacy && f != FormSafe {
		return fmt.Errorf("unknown link form %q (want %q, or none for the legacy link)", printable(string(f)), FormSafe)
	}
	return nil
}

// CheckMemo checks a memo by the rules of the form's payment: at most 140
// characters, none of them a control, invisible or direction-changing one,
// and for a Safe link at most 256 bytes (the kernel's extra).
func (f Form) CheckMemo(memo string) error {
	if f == FormSafe {
		return safe.ValidateMemo(memo)
	}
	return mixin.ValidateMemo(memo)
}

// State is where a payment request stands.
type State string

// The states of a payment request.
const (
	// StateOpen: the link has not been paid (as far as the last check
	// knows).
	StateOpen State = "open"
	// StatePaid: a transfer with the request's trace, asset, amount and
	// memo reached the recipient.
	StatePaid State = "paid"
	// StateSpent: the request's trace was used by a transfer that is not
	// the payment asked for (another amount, asset or memo). A trace pays
	// once, so the link can never be paid now: the request is closed, and
	// Reason says what was paid instead.
	StateSpent State = "spent"
)

// Request is a payment request: a payment link (MIXIN-API.md §7) that asks
// someone to pay the recipient, with the trace id that the payment will
// carry. A trace can be paid once, so the request keeps its trace for good,
// and whether it was paid is learnt by looking the trace up.
type Request struct {
	TraceID   string    `json:"trace_id"`
	AssetID   string    `json:"asset_id"`
	Amount    string    `json:"amount"` // canonical decimal string
	Memo      string    `json:"memo,omitempty"`
	Recipient string    `json:"recipient"` // the profile's own client id
	CreatedAt time.Time `json:"created_at"`
	State     State     `json:"state"`
	// Form is the form of the link (none: the legacy link).
	Form Form `json:"form,omitempty"`
	// Set when paid: when the payment was made, its snapshot (the
	// recipient's view) and who paid.
	PaidAt     time.Time `json:"paid_at,omitzero"`
	SnapshotID string    `json:"snapshot_id,omitempty"`
	PayerID    string    `json:"payer_id,omitempty"`
	// Reason is set when spent: what used the trace instead.
	Reason string `json:"reason,omitempty"`
}

// Paid reports whether the request was paid.
func (r Request) Paid() bool { return r.State == StatePaid }

// Spent reports whether the request's trace was used by another transfer,
// so that its link can never be paid.
func (r Request) Spent() bool { return r.State == StateSpent }

// Closed reports whether the request can no longer be paid (paid or spent).
func (r Request) Closed() bool { return r.Paid() || r.Spent() }

// PayRequest is the request as a payment link's fields.
func (r Request) PayRequest() mixin.PayRequest {
	return mixin.PayRequest{Recipient: r.Recipient, AssetID: r.AssetID, Amount: r.Amount, TraceID: r.TraceID, Memo: r.Memo}
}

// SafeRequest is the request as a Safe payment link's fields.
func (r Request) SafeRequest() paylink.Request {
	return paylink.Request{Recipient: r.Recipient, AssetID: r.AssetID, Amount: r.Amount, TraceID: r.TraceID, Memo: r.Memo}
}

// Link is the request's payment link, in the request's form.
func (r Request) Link() (string, error) {
	if r.Form == FormSafe {
		return paylink.Build(r.SafeRequest())
	}
	return mixin.PayURL(r.PayRequest())
}

// validate checks a request as read from the book's file.
func (r Request) validate() error {
	if err := r.Form.check(); err != nil {
		return err
	}
	if _, err := checkFields(r.Form, r.PayRequest()); err != nil {
		return err
	}
	if _, canon, _ := mixin.ParseAmount(r.Amount); canon != r.Amount {
		return fmt.Errorf("amount %q is not written canonically (%s)", r.Amount, canon)
	}
	if r.CreatedAt.IsZero() {
		return errors.New("no creation time")
	}
	switch r.State {
	case StateOpen:
		if !r.PaidAt.IsZero() || r.SnapshotID != "" || r.PayerID != "" || r.Reason != "" {
			return errors.New("open, yet it holds payment details")
		}
	case StateSpent:
		if r.Reason == "" || len(r.Reason) > 1024 || !utf8.ValidString(r.Reason) {
			return errors.New("spent, without a readable reason")
		}
		if r.SnapshotID != "" {
			if _, err := mixin.ParseUUID("snapshot id", r.SnapshotID); err != nil {
				return fmt.Errorf("spent, but its %w", err)
			}
		}
	case StatePaid:
		if r.PaidAt.IsZero() {
			return errors.New("paid, but with no payment time")
		}
		if _, err := mixin.ParseUUID("snapshot id", r.SnapshotID); err != nil {
			return fmt.Errorf("paid, but its %w", err)
		}
		if r.PayerID != "" {
			if _, err := mixin.ParseUUID("payer id", r.PayerID); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown state %q (want open, paid or spent)", r.State)
	}
	return nil
}

// checkFields checks a request's fields by the rules of its form's link
// and returns them in canonical form. The recipient is a user id in both
// forms (a request pays this wallet).
func checkFields(f Form, p mixin.PayRequest) (mixin.PayRequest, error) {
	if f != FormSafe {
		return p.Validate()
	}
	if _, err := mixin.ParseUUID(mixin.FieldRecipient, p.Recipient); err != nil {
		return p, err
	}
	s, err := paylink.Request{Recipient: p.Recipient, AssetID: p.AssetID, Amount: p.Amount, TraceID: p.TraceID, Memo: p.Memo}.Check()
	if err != nil {
		return p, err
	}
	return mixin.PayRequest{Recipient: s.Recipient, AssetID: s.AssetID, Amount: s.Amount, TraceID: s.TraceID, Memo: s.Memo}, nil
}
