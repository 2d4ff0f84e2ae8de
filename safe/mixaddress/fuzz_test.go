package mixaddress

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/MixinNetwork/mixin/common"

	"mixdesk/mixin"
)

// FuzzParse feeds arbitrary text to Parse: it never panics, it refuses
// with one *mixin.FieldError line, and what it accepts is its own text,
// rebuilt by New from its threshold and members.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		sdkUser1of1, sdkThreshold64, sdkRepeated, sdkKernel1of, sdkKernel2of,
		vec1of1, vec2of3, " " + vec2of3 + "\n", vec1of1[:20], vec1of1 + "1",
		"", "MIX", "MIX1", "MIX111111111111111111111111", "XIN", sdkKernel, "MIX0OIl", "MIX\xff\xfe",
		sealed(3, 1, 1, make([]byte, 16)), sealed(2, 0, 1, []byte("0123456789abcdef")),
		sealed(2, 3, 2, []byte("0123456789abcdef0123456789abcdeg")),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			var fe *mixin.FieldError
			if !errors.As(err, &fe) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %T %q", err, err)
			}
			return
		}
		text := a.String()
		if text != strings.TrimSpace(s) {
			t.Fatalf("Parse(%q).String() = %q", s, text)
		}
		b, err := New(a.Threshold(), a.Members()...)
		if err != nil {
			t.Fatalf("New refuses what Parse accepted: %v", err)
		}
		if b.String() != text || !b.Equal(a) || !slices.Equal(b.Members(), a.Members()) {
			t.Fatalf("New gives %q for %q", b, text)
		}
	})
}

// FuzzParseKernel: the same for XIN addresses, and the kernel library
// agrees on every address accepted.
func FuzzParseKernel(f *testing.F) {
	for _, s := range []string{kernelVec, sdkKernel, kernelVec[:95] + "7", "XIN", "XIN1", "", vec1of1} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ka, kerr := common.NewAddressFromString(strings.TrimSpace(s))
		k, err := ParseKernel(s)
		if err != nil {
			var fe *mixin.FieldError
			if !errors.As(err, &fe) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %T %q", err, err)
			}
			if kerr == nil {
				t.Fatalf("the kernel accepts %q: %v", s, err)
			}
			return
		}
		if kerr != nil || k.Spend != [32]byte(ka.PublicSpendKey) || k.View != [32]byte(ka.PublicViewKey) {
			t.Fatalf("the kernel reads %q otherwise: %v", s, kerr)
		}
		if k.String() != strings.TrimSpace(s) {
			t.Fatalf("ParseKernel(%q).String() = %q", s, k)
		}
	})
}
