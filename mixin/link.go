package mixin

import (
	"net/url"
	"strings"
)

// PayURLBase is the payment link prefix of MIXIN-API.md §7.
const PayURLBase = "https://mixin.one/pay"

// PayRequest is what a payment link asks for.
type PayRequest struct {
	Recipient string // user id that receives
	AssetID   string
	Amount    string // canonical decimal string
	TraceID   string // the payment's idempotency key: a link can be paid once
	Memo      string
}

// Validate checks every field of the request.
func (p PayRequest) Validate() (PayRequest, error) {
	var err error
	if p.Recipient, err = ParseUUID(FieldRecipient, p.Recipient); err != nil {
		return p, err
	}
	if p.AssetID, err = ParseUUID(FieldAsset, p.AssetID); err != nil {
		return p, err
	}
	if _, p.Amount, err = ParseAmount(p.Amount); err != nil {
		return p, err
	}
	if p.TraceID, err = ParseUUID(FieldTrace, p.TraceID); err != nil {
		return p, err
	}
	if err = ValidateMemo(p.Memo); err != nil {
		return p, err
	}
	return p, nil
}

// PayURL builds the link. Spaces are escaped as %20, never '+'. The fields
// are validated first; an invalid request gives an error and no link.
func PayURL(p PayRequest) (string, error) {
	p, err := p.Validate()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(PayURLBase)
	b.WriteString("?recipient=")
	b.WriteString(p.Recipient)
	b.WriteString("&asset=")
	b.WriteString(p.AssetID)
	b.WriteString("&amount=")
	b.WriteString(p.Amount)
	b.WriteString("&trace=")
	b.WriteString(p.TraceID)
	if p.Memo != "" {
		b.WriteString("&memo=")
		b.WriteString(escapeQuery(p.Memo))
	}
	return b.String(), nil
}

// escapeQuery percent-encodes a query value with %20 for spaces.
func escapeQuery(s string) string {
	// QueryEscape turns a literal '+' into %2B, so every '+' left stands for
	// a space.
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// ParsePayURL reads a payment link back. It accepts the https link and the
// mixin://pay scheme, requires recipient, asset, amount and trace, refuses
// repeated or unknown parameters, and validates every value.
func ParsePayURL(link string) (PayRequest, error) {
	var p PayRequest
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil {
		return p, &FieldError{Field: "payment link", Reason: "not a URL"}
	}
	switch {
	case u.Scheme == "https" && u.Host == "mixin.one" && u.Path == "/pay":
	case u.Scheme == "mixin" && u.Host == "pay" && (u.Path == "" || u.Path == "/"):
	default:
		return p, &FieldError{Field: "payment link", Reason: "not a https://mixin.one/pay link"}
	}
	if u.Fragment != "" || u.User != nil {
		return p, &FieldError{Field: "payment link", Reason: "unexpected parts in the link"}
	}
	// '+' in the query means a space to url.ParseQuery; links here escape
	// spaces as %20, and a literal '+' arrives as %2B, so decoding with
	// ParseQuery is exact for both.
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return p, &FieldError{Field: "payment link", Reason: "the query is badly escaped"}
	}
	for k, v := range q {
		switch k {
		case "recipient", "asset", "amount", "trace", "memo":
		default:
			return p, &FieldError{Field: "payment link", Reason: "unknown parameter " + quoteShort(k)}
		}
		if len(v) != 1 {
			return p, &FieldError{Field: "payment link", Reason: "parameter " + k + " given more than once"}
		}
	}
	for _, k := range []string{"recipient", "asset", "amount", "trace"} {
		if _, ok := q[k]; !ok {
			return p, &FieldError{Field: "payment link", Reason: "missing " + k}
		}
	}
	p = PayRequest{Recipient: q.Get("recipient"), AssetID: q.Get("asset"), Amount: q.Get("amount"), TraceID: q.Get("trace"), Memo: q.Get("memo")}
	return p.Validate()
}

func quoteShort(s string) string {
	if len(s) > 20 {
		s = s[:20] + "..."
	}
	return strings.ToValidUTF8(`"`+s+`"`, "?")
}
