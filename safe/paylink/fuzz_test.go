package paylink

import (
	"errors"
	"strings"
	"testing"

	"mixdesk/mixin"
)

// FuzzParse feeds arbitrary text to Parse: it never panics, it refuses
// with one *mixin.FieldError line, and what it accepts Build writes again
// as a link that Parse reads back to the same request, with no raw '+' or
// space.
func FuzzParse(f *testing.F) {
	ok := "https://mixin.one/pay/" + vSender + "?asset=" + vAsset + "&amount=0.42&memo=hello&trace=" + vTrace
	for _, s := range []string{
		vLinkUUID, vLinkMIX, ok, strings.Replace(ok, "https", "mixin", 1),
		strings.Replace(ok, vSender, v2of3, 1), strings.Replace(ok, vSender, vXIN, 1),
		strings.Replace(ok, "hello", "a%20b%2Bc%26d%3De%25%E2%9C%93", 1), strings.Replace(ok, "hello", "a+b", 1),
		strings.Replace(ok, "hello", "%ZZ", 1), strings.Replace(ok, "0.42", "1.50", 1), ok + "&", ok + "#f",
		"https://mixin.one/pay?recipient=" + vSender, "https://mixin.one/pay/", "mixin://pay", "", " ", "::",
		"https://mixin.one/pay/MIX?asset=&amount=&trace=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			var fe *mixin.FieldError
			if !errors.As(err, &fe) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %T %q", err, err)
			}
			return
		}
		link, err := Build(r)
		if err != nil {
			t.Fatalf("Build refuses what Parse accepted (%+v): %v", r, err)
		}
		if strings.ContainsAny(link, "+ ") {
			t.Fatalf("raw plus or space in %q", link)
		}
		back, err := Parse(link)
		if err != nil || back != r {
			t.Fatalf("%q read back as %+v, %v; want %+v", link, back, err, r)
		}
	})
}
