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

// An amount with leading zeros or no digit before the point is refused; an
// amount suggested in its place is one that ParseAmount accepts, or there is
// no suggestion and the reason is what remains wrong once it is fixed.
func TestAmountSuggestionsAreAccepted(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"007", "leading zero (write 7)"},
		{"00.5", "leading zero (write 0.5)"},
		{"0010.50", "leading zero (write 10.50)"},
		{"01.12345678", "leading zero (write 1.12345678)"},
		{"00", "must be greater than zero"},
		{"000.000", "must be greater than zero"},
		{"00.000000001", "at most 8 digits after the point (got 9)"},
		{".5", "needs a digit before the point (write 0.5)"},
		{".000000001", "needs a digit before the point"},
		{".", "needs a digit before the point"},
	} {
		_, _, err := ParseAmount(c.in)
		if err == nil || err.Error() != "amount: "+c.want {
			t.Errorf("ParseAmount(%q) = %v, want %q", c.in, err, c.want)
		}
		checkSuggestion(t, c.in, err)
	}
}

// checkSuggestion fails when err suggests an amount that is refused.
func checkSuggestion(t *testing.T, in string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	_, rest, ok := strings.Cut(err.Error(), "(write ")
	if !ok {
		return
	}
	sugg, _, _ := strings.Cut(rest, ")")
	if sugg == in {
		t.Fatalf("ParseAmount(%q) suggests the same amount", in)
	}
	if _, _, err := ParseAmount(sugg); err != nil {
		t.Fatalf("ParseAmount(%q) suggests %q, which is refused: %v", in, sugg, err)
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
	for _, s := range []string{"1", "0.00000001", "1e5", "-0", "00.1", "00", "000.0", "1.", ".1", "99999999999999999999.99999999", "١"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, canon, err := ParseAmount(s)
		if err != nil {
			checkSuggestion(t, s, err)
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
