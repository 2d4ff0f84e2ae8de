package mixin

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	good := map[string]string{
		"1": "1", "0.5": "0.5", "10.50": "10.5", "0.00000001": "0.00000001",
		"12345678901234567890.12345678": "12345678901234567890.12345678", "100": "100", "7.0": "7",
	}
	for in, want := range good {
		d, canon, err := ParseAmount(in)
		if err != nil {
			t.Errorf("%q refused: %v", in, err)
			continue
		}
		if canon != want || d.String() != want {
			t.Errorf("%q → %q, want %q", in, canon, want)
		}
	}
	bad := map[string]string{
		"":                       "empty",
		"0":                      "greater than zero",
		"0.00000000":             "greater than zero",
		"-1":                     "sign",
		"+1":                     "sign",
		"1e3":                    "exponent",
		"1E-3":                   "exponent",
		" 1":                     "spaces",
		"1 ":                     "spaces",
		"1,000":                  "grouping",
		"1_000":                  "grouping",
		".5":                     "before the point",
		"5.":                     "after the point",
		"1.2.3":                  "one decimal point",
		"0.000000001":            "8 digits",
		"007":                    "leading zero",
		"NaN":                    "only digits",
		"Infinity":               "only digits",
		"0x10":                   "only digits",
		"１":                      "only digits",
		strings.Repeat("9", 21):  "20 digits",
		strings.Repeat("1", 100): "too long",
	}
	for in, frag := range bad {
		_, _, err := ParseAmount(in)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != FieldAmount {
			t.Errorf("%q: want an amount FieldError, got %v", in, err)
			continue
		}
		if !strings.Contains(fe.Reason, frag) {
			t.Errorf("%q: reason %q lacks %q", in, fe.Reason, frag)
		}
	}
}

func TestValidateMemo(t *testing.T) {
	ok := []string{"", "salary", strings.Repeat("é", 140), "支付 ✓"}
	for _, m := range ok {
		if err := ValidateMemo(m); err != nil {
			t.Errorf("%q refused: %v", m, err)
		}
	}
	bad := []string{strings.Repeat("a", 141), "line\nbreak", "tab\there", string([]byte{0xff, 0xfe})}
	for _, m := range bad {
		if err := ValidateMemo(m); err == nil {
			t.Errorf("%q accepted", m)
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1", "0.00000001", "1e5", "-0", "00.1", "1.", ".1", "99999999999999999999.99999999", "١"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, canon, err := ParseAmount(s)
		if err != nil {
			return
		}
		if !d.IsPositive() || d.Exponent() < -8 {
			t.Fatalf("%q accepted as %s", s, d)
		}
		d2, canon2, err := ParseAmount(canon)
		if err != nil || !d2.Equal(d) || canon2 != canon {
			t.Fatalf("canonical %q of %q does not parse back: %v", canon, s, err)
		}
	})
}
