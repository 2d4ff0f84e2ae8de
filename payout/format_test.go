package payout

import "testing"

func TestGroupDigits(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", "999": "999", "1000": "1,000", "1250.5": "1,250.5", "-1234567.00000001": "-1,234,567.00000001",
		"123456": "123,456", "+12345": "+12,345", "0.12345678": "0.12345678",
	} {
		if got := GroupDigits(in); got != want {
			t.Errorf("GroupDigits(%q) = %q, want %q", in, got, want)
		}
	}
}
