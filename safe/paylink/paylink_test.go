package paylink

import (
	"errors"
	"strings"
	"testing"

	"mixdesk/mixin"
	"mixdesk/safe/mixaddress"
)

// Values of the project's Safe research: ../shared/safe-vectors/output.txt
// ("payment link and MIN invoice asking for 0.42 BTC with memo hello").
const (
	vSender = "00000000-0000-4000-8000-000000000001"
	vAsset  = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"
	vTrace  = "5f2f0c3e-6a1b-4c9d-8e7f-0123456789ab"
	vMIX    = "MIX3QEdEFTPwUosfeXvS6o5KYtEo1aic8a" // 1 of vSender
	// Those links were written with url.Values.Encode (keys sorted).
	vLinkUUID = "https://mixin.one/pay/00000000-0000-4000-8000-000000000001?amount=0.42&asset=c6d0c728-2624-429b-8e0d-d9d19b6592fa&memo=hello&trace=5f2f0c3e-6a1b-4c9d-8e7f-0123456789ab"
	vLinkMIX  = "https://mixin.one/pay/MIX3QEdEFTPwUosfeXvS6o5KYtEo1aic8a?amount=0.42&asset=c6d0c728-2624-429b-8e0d-d9d19b6592fa&memo=hello&trace=5f2f0c3e-6a1b-4c9d-8e7f-0123456789ab"

	// A 2-of-3 MIX address of the same research ("MIX 2-of-3").
	v2of3 = "MIXiSg7pS5dmBmhh3qFPT2qEoWDf8CKx2itAUgwkxuZFDkjVs4CTmZPCAP178d9fkbNfLw2AJFb3N"
	// The kernel's own XIN vector (github.com/MixinNetwork/mixin v0.18.26,
	// common/address_test.go).
	vXIN = "XIN8AJMgQUD11jZYN9ggbQDqkmozrha3zPEZxEkKxVFBufZpEVMtrR6PjtmgtNAH6jrg8dTUQFb9waqqw9euU7Ea8AC6DEu8"
)

var base = Request{Recipient: vSender, AssetID: vAsset, Amount: "0.42", TraceID: vTrace, Memo: "hello"}

func TestParseResearchLinks(t *testing.T) {
	for link, rec := range map[string]string{vLinkUUID: vSender, vLinkMIX: vMIX} {
		r, err := Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		want := base
		want.Recipient = rec
		if r != want {
			t.Fatalf("%s:\n got %+v\nwant %+v", link, r, want)
		}
	}
}

// TestBuild: the parameters in the order asset, amount, memo, trace, as the
// official Node SDK writes them (buildMixinOneSafePaymentUri).
func TestBuild(t *testing.T) {
	for _, c := range []struct {
		r    Request
		want string
	}{
		{base, "https://mixin.one/pay/" + vSender + "?asset=" + vAsset + "&amount=0.42&memo=hello&trace=" + vTrace},
		{Request{Recipient: " " + strings.ToUpper(vSender), AssetID: strings.ToUpper(vAsset), Amount: "0.4200", TraceID: vTrace},
			"https://mixin.one/pay/" + vSender + "?asset=" + vAsset + "&amount=0.42&trace=" + vTrace},
		{Request{Recipient: v2of3, AssetID: vAsset, Amount: "12", TraceID: vTrace, Memo: "invoice 7 + VAT & co 100% ✓"},
			"https://mixin.one/pay/" + v2of3 + "?asset=" + vAsset + "&amount=12&memo=invoice%207%20%2B%20VAT%20%26%20co%20100%25%20%E2%9C%93&trace=" + vTrace},
		{Request{Recipient: vXIN, AssetID: vAsset, Amount: "0.00000001", TraceID: vTrace, Memo: "a=b?c/d#e;f"},
			"https://mixin.one/pay/" + vXIN + "?asset=" + vAsset + "&amount=0.00000001&memo=a%3Db%3Fc%2Fd%23e%3Bf&trace=" + vTrace},
	} {
		link, err := Build(c.r)
		if err != nil {
			t.Fatal(err)
		}
		if link != c.want {
			t.Errorf("\n got %s\nwant %s", link, c.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	memos := []string{"", "hello", "a b+c&d=e%f#g?h/i;j", "付款 ✓ – “quoted”", "'!*()~._-", strings.Repeat("x", 140),
		strings.Repeat("€", 85)}
	for _, rec := range []string{vSender, vMIX, v2of3, vXIN} {
		for _, memo := range memos {
			r := Request{Recipient: rec, AssetID: vAsset, Amount: "99999999999999999999.99999999", TraceID: vTrace, Memo: memo}
			link, err := Build(r)
			if err != nil {
				t.Fatalf("%q: %v", memo, err)
			}
			if strings.ContainsAny(link, "+ ") {
				t.Fatalf("raw plus or space: %s", link)
			}
			back, err := Parse(link)
			if err != nil {
				t.Fatalf("%s: %v", link, err)
			}
			if back != r {
				t.Fatalf("round trip\n got %+v\nwant %+v", back, r)
			}
			mixinScheme, err := Parse(strings.Replace(link, "https://", "mixin://", 1))
			if err != nil || mixinScheme != r {
				t.Fatalf("mixin:// form: %v", err)
			}
		}
	}
}

func TestReceivers(t *testing.T) {
	for rec, want := range map[string]string{
		vSender: vMIX,
		vMIX:    vMIX,
		v2of3:   v2of3,
	} {
		a, err := (Request{Recipient: rec}).Receivers()
		if err != nil || a.String() != want {
			t.Fatalf("%s: %s %v", rec, a, err)
		}
	}
	a, err := (Request{Recipient: vXIN}).Receivers()
	if err != nil || a.Kind() != mixaddress.KernelMembers || a.Threshold() != 1 || a.Members()[0] != vXIN {
		t.Fatalf("XIN: %v %v", a.Members(), err)
	}
	if _, err := (Request{Recipient: "nobody"}).Receivers(); err == nil {
		t.Fatal("bad recipient has receivers")
	}
}

func TestBuildRefuses(t *testing.T) {
	for _, c := range []struct {
		mut  func(*Request)
		want string
	}{
		{func(r *Request) { r.Recipient = "" }, "recipient: neither a user id (a UUID) nor a MIX or XIN address"},
		{func(r *Request) { r.Recipient = "8dcf823d-9eb3-4da2-8734-f0aad50c0dzz" }, "recipient: not a UUID"},
		{func(r *Request) { r.Recipient = vMIX[:len(vMIX)-1] + "b" }, "MIX address: checksum does not match (mistyped or cut short?)"},
		{func(r *Request) { r.Recipient = vXIN[:len(vXIN)-1] + "7" }, "XIN address: checksum does not match (mistyped or cut short?)"},
		{func(r *Request) { r.Recipient = "MINAAATAgEBAAAAAAAAQACAAAAAAAAAAQFfLww" }, "recipient: MIN invoices are not supported"},
		{func(r *Request) { r.AssetID = "btc" }, "asset: not a UUID (want 36 characters like 8dcf823d-9eb3-4da2-8734-f0aad50c0da6, got 3)"},
		{func(r *Request) { r.Amount = "0" }, "amount: must be greater than zero"},
		{func(r *Request) { r.Amount = "1e3" }, "amount: no exponent allowed; write the digits out"},
		{func(r *Request) { r.Amount = "0.123456789" }, "amount: at most 8 digits after the point (got 9)"},
		{func(r *Request) { r.TraceID = "" }, "trace id: empty"},
		{func(r *Request) { r.Memo = strings.Repeat("x", 141) }, "memo: 141 characters; at most 140"},
		{func(r *Request) { r.Memo = strings.Repeat("€", 86) }, "memo: 258 bytes of UTF-8; at most 256"},
		{func(r *Request) { r.Memo = "a\nb" }, ""},
	} {
		r := base
		c.mut(&r)
		link, err := Build(r)
		if err == nil {
			t.Errorf("%+v built %s", r, link)
			continue
		}
		if c.want != "" && err.Error() != c.want {
			t.Errorf("\n got %q\nwant %q", err, c.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	ok := "https://mixin.one/pay/" + vSender + "?asset=" + vAsset + "&amount=0.42&memo=hello&trace=" + vTrace
	q := "?asset=" + vAsset + "&amount=1&trace=" + vTrace
	for _, c := range []struct{ in, want string }{
		{"", "not a URL"},
		{"::", "not a URL"},
		{"http://mixin.one/pay/" + vSender + q, "not a https://mixin.one/pay/… link"},
		{"https://mixin.one.evil.example/pay/" + vSender + q, "not a https://mixin.one/pay/… link"},
		{"https://mixin.one:8443/pay/" + vSender + q, "not a https://mixin.one/pay/… link"},
		{"https://mixin.one/send/" + vSender + q, "not a https://mixin.one/pay/… link"},
		{"https:mixin.one/pay/" + vSender + q, "not a https://mixin.one/pay/… link"},
		{"https://me@mixin.one/pay/" + vSender + q, "unexpected parts in the link (user name or #fragment)"},
		{ok + "#x", "unexpected parts in the link (user name or #fragment)"},
		{ok + "#", "unexpected parts in the link (user name or #fragment)"},
		{"https://mixin.one/pay?recipient=" + vSender + "&asset=" + vAsset + "&amount=1&trace=" + vTrace, "a legacy link (/pay?recipient=…); this reads Safe links, /pay/<recipient>?…"},
		{"https://mixin.one/pay/" + q, "no recipient after /pay/"},
		{"https://mixin.one/pay/" + vSender + "/" + q, "unexpected path after the recipient"},
		{"https://mixin.one/pay/" + vSender[:35] + "%61" + q, "recipient: unexpected character '%'"},
		{"https://mixin.one/pay/" + strings.ToUpper(vTrace) + q, "recipient: must be a lower-case UUID (" + vTrace + ")"},
		{"https://mixin.one/pay/" + vSender[:35] + "z" + q, "recipient: not a UUID"},
		{"https://mixin.one/pay/alice" + q, "recipient: neither a user id (a UUID) nor a MIX or XIN address"},
		{"https://mixin.one/pay/MIX3QEdEFTPwUosfeXvS6o5KYtEo1aic8b" + q, "recipient: MIX address: checksum does not match (mistyped or cut short?)"},
		{"https://mixin.one/pay/" + vXIN[:50] + q, "recipient: XIN address: too short (35 bytes; at least 68)"},
		{"https://mixin.one/pay/MINAAATAgEBAAAA" + q, "recipient: MIN invoices are not supported"},
		{"https://mixin.one/pay/" + vSender, "no query: asset, amount and trace are required"},
		{"https://mixin.one/pay/" + vSender + "?", "no query: asset, amount and trace are required"},
		{ok + "&return_to=https%3A%2F%2Fexample.com", `unknown parameter "return_to"`},
		{ok + "&amount=2", "parameter amount given more than once"},
		{ok + "&", "an empty parameter (&& or a trailing &)"},
		{ok + "&\u202eevil-parameter-name-that-is-long=1", `unknown parameter "\u202eevil-parameter-na"…`},
		{strings.Replace(ok, "&trace="+vTrace, "", 1), "missing trace"},
		{strings.Replace(ok, "asset="+vAsset+"&", "", 1), "missing asset"},
		{strings.Replace(ok, "amount=0.42&", "", 1), "missing amount"},
		{strings.Replace(ok, "hello", "hello+world", 1), "memo: a raw '+' reads as a space to some apps and as '+' to others; write %20 or %2B"},
		{strings.Replace(ok, "hello", "hello world", 1), "memo: character ' ' must be percent-escaped"},
		{strings.Replace(ok, "hello", "héllo", 1), `memo: character '\u00e9' must be percent-escaped`},
		{strings.Replace(ok, "hello", "100%", 1), "memo: badly percent-escaped"},
		{strings.Replace(ok, "hello", "%0A", 1), "memo: contains a control character (U+000A) at position 1; use plain text on one line"},
		{strings.Replace(ok, "hello", "%FF", 1), "memo: not valid UTF-8 text"},
		{strings.Replace(ok, "hello", strings.Repeat("x", 141), 1), "memo: 141 characters; at most 140"},
		{strings.Replace(ok, "hello", strings.Repeat("%E2%82%AC", 86), 1), "memo: 258 bytes of UTF-8; at most 256"},
		{strings.Replace(ok, vAsset, strings.ToUpper(vAsset), 1), "asset: must be a lower-case UUID (" + vAsset + ")"},
		{strings.Replace(ok, vAsset, "btc", 1), "asset: not a UUID (want 36 characters like 8dcf823d-9eb3-4da2-8734-f0aad50c0da6, got 3)"},
		{strings.Replace(ok, "asset="+vAsset, "asset", 1), "asset: empty"},
		{strings.Replace(ok, vTrace, vTrace[:35], 1), "trace: not a UUID (want 36 characters like 8dcf823d-9eb3-4da2-8734-f0aad50c0da6, got 35)"},
		{strings.Replace(ok, "0.42", "0", 1), "amount: must be greater than zero"},
		{strings.Replace(ok, "0.42", "-1", 1), "amount: no sign allowed; the amount is what leaves the wallet"},
		{strings.Replace(ok, "0.42", "1e3", 1), "amount: no exponent allowed; write the digits out"},
		{strings.Replace(ok, "0.42", "0.123456789", 1), "amount: at most 8 digits after the point (got 9)"},
		{strings.Replace(ok, "0.42", ".5", 1), "amount: needs a digit before the point (write 0.5)"},
		{strings.Replace(ok, "0.42", "%31", 1), ""}, // escaped digits are still digits: accepted below
		{"https://mixin.one/pay/" + vSender + "?" + strings.Repeat("a", maxLinkLen), "too long (8251 characters; at most 8192)"},
	} {
		r, err := Parse(c.in)
		if c.want == "" {
			if err != nil || r.Amount != "1" {
				t.Errorf("%.80q: %v", c.in, err)
			}
			continue
		}
		wantErr(t, c.in, err, FieldLink+": "+c.want)
	}
}

// wantErr checks err is one *mixin.FieldError line saying want.
func wantErr(t *testing.T, name string, err error, want string) {
	t.Helper()
	var fe *mixin.FieldError
	switch {
	case err == nil:
		t.Errorf("%.80q: accepted, want %q", name, want)
	case !errors.As(err, &fe):
		t.Errorf("%.80q: error of type %T: %v", name, err, err)
	case err.Error() != want:
		t.Errorf("%.80q:\n got %q\nwant %q", name, err.Error(), want)
	}
}
