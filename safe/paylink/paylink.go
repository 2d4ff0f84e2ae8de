// Package paylink builds and reads Safe payment links:
//
//	https://mixin.one/pay/<recipient>?asset=<uuid>&amount=<decimal>&memo=<text>&trace=<uuid>
//
// The recipient is a Mixin user id, a MIX address or a XIN kernel address
// (package mixaddress). Whoever opens the link in Mixin Messenger pays the
// amount of the asset to the recipient in one transaction whose request
// id is the trace, so the payee can look the payment up by it.
//
// Sources: the official Node SDK, MixinNetwork/bot-api-nodejs-client
// src/client/utils/safe.ts buildMixinOneSafePaymentUri (b9024ebf24); Mixin
// Messenger iOS, MixinNetwork/ios-app Mixin/UserInterface/Controllers/
// Wallet/Payment/SafePaymentURL.swift (2c62c53f6d), which requires the asset and trace
// to be lower-case UUIDs and the amount to be above zero with at most 8
// decimals, and reads "+" in the query as "+"; the mixin.one pay page,
// MixinNetwork/mixin.one src/app.js route /pay/:address and
// src/pay/index.js (a4cdd7cebc), which reads "+" as a space and refuses
// memos over 200 characters. The developers' docs describe only the
// legacy link (MixinNetwork/developers.mixin.one
// developers-docs/docs/schema.md, "Invoke payment page", at 99a7514bf9).
//
// The rules are strict so that every reader sees the same payment: asset,
// amount and trace are required; the memo is optional and obeys the memo
// rules of a Safe payment (safe.ValidateMemo: at most 140 characters and
// 256 bytes, the kernel's extra limit, so also below the page's 200);
// spaces are written %20 and a raw "+" is refused; unknown or repeated
// parameters, fragments and MIN invoices are refused.
package paylink

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"mixdesk/mixin"
	"mixdesk/safe"
	"mixdesk/safe/mixaddress"
)

// Base is the start of every link this package builds.
const Base = "https://mixin.one/pay/"

// FieldLink is the field of the errors of Parse.
const FieldLink = "payment link"

// maxLinkLen bounds a link: the largest MIX address (5,607 characters),
// a memo of 256 bytes all percent-escaped and the rest, with room.
const maxLinkLen = 8192

// Request is what a payment link asks for.
type Request struct {
	Recipient string // a user id, a MIX address or a XIN kernel address
	AssetID   string
	Amount    string // canonical decimal string, above zero, at most 8 decimals
	TraceID   string // the request id of the payer's transaction
	Memo      string
}

// Check returns the request with its recipient, ids and amount in
// canonical form, or the first bad field in one line.
func (r Request) Check() (Request, error) {
	var err error
	if r.Recipient, err = checkRecipient(r.Recipient); err != nil {
		return r, err
	}
	if r.AssetID, err = mixin.ParseUUID(mixin.FieldAsset, r.AssetID); err != nil {
		return r, err
	}
	if _, r.Amount, err = mixin.ParseAmount(r.Amount); err != nil {
		return r, err
	}
	if r.TraceID, err = mixin.ParseUUID(mixin.FieldTrace, r.TraceID); err != nil {
		return r, err
	}
	if err = safe.ValidateMemo(r.Memo); err != nil {
		return r, err
	}
	return r, nil
}

// checkRecipient reads a user id, a MIX or a XIN address, and returns it
// in canonical form (a user id in lower case).
func checkRecipient(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, mixaddress.Prefix):
		a, err := mixaddress.Parse(s)
		return a.String(), err
	case strings.HasPrefix(s, mixaddress.KernelPrefix):
		k, err := mixaddress.ParseKernel(s)
		return k.String(), err
	case strings.HasPrefix(s, "MIN"):
		return "", &mixin.FieldError{Field: mixin.FieldRecipient, Reason: "MIN invoices are not supported"}
	case len(s) != 36:
		return "", &mixin.FieldError{Field: mixin.FieldRecipient, Reason: "neither a user id (a UUID) nor a MIX or XIN address"}
	}
	return mixin.ParseUUID(mixin.FieldRecipient, s)
}

// Receivers is the group the payment goes to: the recipient's MIX
// address, or a 1-of-1 address of the user id or kernel address. The
// payee checks a transaction found under the trace against it.
func (r Request) Receivers() (mixaddress.Address, error) {
	rec, err := checkRecipient(r.Recipient)
	if err != nil {
		return mixaddress.Address{}, err
	}
	if strings.HasPrefix(rec, mixaddress.Prefix) {
		return mixaddress.Parse(rec)
	}
	return mixaddress.New(1, rec)
}

// Build makes the link of a request, its fields checked first: an
// invalid request gives an error and no link. The parameters come in the
// order asset, amount, memo (only when there is one), trace.
func Build(r Request) (string, error) {
	r, err := r.Check()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(Base)
	b.WriteString(r.Recipient)
	b.WriteString("?asset=")
	b.WriteString(r.AssetID)
	b.WriteString("&amount=")
	b.WriteString(r.Amount)
	if r.Memo != "" {
		b.WriteString("&memo=")
		b.WriteString(escape(r.Memo))
	}
	b.WriteString("&trace=")
	b.WriteString(r.TraceID)
	return b.String(), nil
}

// escape percent-encodes every byte but the unreserved characters of RFC
// 3986, so a space is %20 and a plus %2B.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0
}

// Parse reads a payment link: https://mixin.one/pay/<recipient>?… or the
// same under the mixin:// scheme, as Messenger opens both. Spaces around
// the link are ignored. Errors name the part of the link that is wrong.
func Parse(link string) (Request, error) {
	link = strings.TrimSpace(link)
	if len(link) > maxLinkLen {
		return Request{}, linkErr("too long (%d characters; at most %d)", len(link), maxLinkLen)
	}
	u, err := url.Parse(link)
	if err != nil || link == "" {
		return Request{}, linkErr("not a URL")
	}
	if (u.Scheme != "https" && u.Scheme != "mixin") || !strings.EqualFold(u.Host, "mixin.one") || u.Opaque != "" {
		return Request{}, linkErr("not a %s… link", Base)
	}
	if u.User != nil || u.Fragment != "" || strings.Contains(link, "#") {
		return Request{}, linkErr("unexpected parts in the link (user name or #fragment)")
	}
	var r Request
	if r.Recipient, err = parseRecipient(u); err != nil {
		return Request{}, err
	}
	values, err := parseQuery(u.RawQuery)
	if err != nil {
		return Request{}, err
	}
	if r.AssetID, err = lowerUUID("asset", values["asset"]); err != nil {
		return Request{}, err
	}
	if _, r.Amount, err = mixin.ParseAmount(values["amount"]); err != nil {
		return Request{}, partErr("amount", err)
	}
	if r.TraceID, err = lowerUUID("trace", values["trace"]); err != nil {
		return Request{}, err
	}
	r.Memo = values["memo"]
	if err = safe.ValidateMemo(r.Memo); err != nil {
		return Request{}, partErr("memo", err)
	}
	return r, nil
}

// parseRecipient reads the path: /pay/ and the recipient, unescaped.
func parseRecipient(u *url.URL) (string, error) {
	path := u.EscapedPath()
	rec, ok := strings.CutPrefix(path, "/pay/")
	switch {
	case path == "/pay" || path == "/pay/":
		if strings.Contains(u.RawQuery, "recipient=") {
			return "", linkErr("a legacy link (/pay?recipient=…); this reads Safe links, /pay/<recipient>?…")
		}
		return "", linkErr("no recipient after /pay/")
	case !ok:
		return "", linkErr("not a %s… link", Base)
	case strings.Contains(rec, "/"):
		return "", linkErr("unexpected path after the recipient")
	}
	for i := 0; i < len(rec); i++ {
		if c := rec[i]; !unreserved(c) || c == '.' || c == '_' || c == '~' {
			r, _ := utf8.DecodeRuneInString(rec[i:])
			return "", linkErr("recipient: unexpected character %s", strconv.QuoteRuneToASCII(r))
		}
	}
	switch {
	case strings.HasPrefix(rec, mixaddress.Prefix):
		if _, err := mixaddress.Parse(rec); err != nil {
			return "", linkErr("recipient: %v", err)
		}
		return rec, nil
	case strings.HasPrefix(rec, mixaddress.KernelPrefix):
		if _, err := mixaddress.ParseKernel(rec); err != nil {
			return "", linkErr("recipient: %v", err)
		}
		return rec, nil
	case strings.HasPrefix(rec, "MIN"):
		return "", linkErr("recipient: MIN invoices are not supported")
	case len(rec) != 36:
		return "", linkErr("recipient: neither a user id (a UUID) nor a MIX or XIN address")
	}
	return lowerUUID("recipient", rec)
}

// queryParams are the parameters a link may carry; asset, amount and
// trace are required.
var queryParams = []string{"asset", "amount", "memo", "trace"}

// parseQuery splits the raw query into its parameters, unescaped. It
// refuses unknown, repeated and empty-named parameters, a raw "+" and
// characters that must be escaped.
func parseQuery(raw string) (map[string]string, error) {
	values := make(map[string]string)
	if raw == "" {
		return nil, linkErr("no query: asset, amount and trace are required")
	}
	for part := range strings.SplitSeq(raw, "&") {
		key, value, _ := strings.Cut(part, "=")
		if !knownParam(key) {
			if key == "" {
				return nil, linkErr("an empty parameter (&& or a trailing &)")
			}
			return nil, linkErr("unknown parameter %s", quoteShort(key))
		}
		if _, dup := values[key]; dup {
			return nil, linkErr("parameter %s given more than once", key)
		}
		if i := strings.IndexFunc(value, mustEscape); i >= 0 {
			if value[i] == '+' {
				return nil, linkErr("%s: a raw '+' reads as a space to some apps and as '+' to others; write %%20 or %%2B", key)
			}
			r, _ := utf8.DecodeRuneInString(value[i:])
			return nil, linkErr("%s: character %s must be percent-escaped", key, strconv.QuoteRuneToASCII(r))
		}
		v, err := url.PathUnescape(value)
		if err != nil {
			return nil, linkErr("%s: badly percent-escaped", key)
		}
		values[key] = v
	}
	for _, k := range []string{"asset", "amount", "trace"} {
		if _, ok := values[k]; !ok {
			return nil, linkErr("missing %s", k)
		}
	}
	return values, nil
}

func knownParam(key string) bool {
	for _, k := range queryParams {
		if key == k {
			return true
		}
	}
	return false
}

// mustEscape is true for a character a query value may not carry raw:
// anything but the unreserved characters, percent escapes, the
// sub-delimiters other than '&' and '+', and ':', '@', '/', '?'.
func mustEscape(r rune) bool {
	if r < 0x80 && unreserved(byte(r)) {
		return false
	}
	return !strings.ContainsRune("%!$'()*,;=:@/?", r)
}

// lowerUUID checks a user, asset or trace id of a link: a UUID in
// canonical lower case, as Messenger requires.
func lowerUUID(part, s string) (string, error) {
	id, err := mixin.ParseUUID(part, s)
	if err != nil {
		return "", partErr(part, err)
	}
	if id != s {
		return "", linkErr("%s: must be a lower-case UUID (%s)", part, id)
	}
	return id, nil
}

func linkErr(format string, a ...any) error {
	return &mixin.FieldError{Field: FieldLink, Reason: fmt.Sprintf(format, a...)}
}

// partErr names the part of the link a field error is about.
func partErr(part string, err error) error {
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		return linkErr("%s: %s", part, fe.Reason)
	}
	return linkErr("%s: %v", part, err)
}

// quoteShort quotes text of the link for an error: ASCII only, cut at 20
// bytes.
func quoteShort(s string) string {
	if len(s) > 20 {
		return strconv.QuoteToASCII(s[:20]) + "…"
	}
	return strconv.QuoteToASCII(s)
}
