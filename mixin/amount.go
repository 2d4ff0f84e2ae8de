package mixin

import (
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// MaxMemoRunes is the longest memo the console sends (MIXIN-API.md §4).
const MaxMemoRunes = 140

// MaxAmountDecimals is the most digits allowed after the point.
const MaxAmountDecimals = 8

// maxAmountLen bounds the text of an amount so that nothing absurd reaches
// the decimal parser: 20 integer digits, the point and 8 decimals.
const maxAmountLen = 29

// ParseAmount checks an amount as typed or received: digits with at most one
// point and at most 8 digits after it, greater than zero, no sign, exponent,
// spaces, grouping or leading zeros. It returns the value and its canonical
// string (trailing zeros after the point removed: "1.50" gives "1.5"). It
// never uses floats and never panics.
func ParseAmount(s string) (decimal.Decimal, string, error) {
	if s == "" {
		return decimal.Zero, "", fieldErr(FieldAmount, "empty")
	}
	if len(s) > maxAmountLen {
		return decimal.Zero, "", fieldErr(FieldAmount, "too long (at most 20 digits before the point and 8 after)")
	}
	intPart, frac, hasPoint := strings.Cut(s, ".")
	if intPart == "" {
		if _, _, err := ParseAmount("0" + s); err == nil {
			return decimal.Zero, "", fieldErr(FieldAmount, "needs a digit before the point (write 0%s)", s)
		}
		return decimal.Zero, "", fieldErr(FieldAmount, "needs a digit before the point")
	}
	if hasPoint && frac == "" {
		return decimal.Zero, "", fieldErr(FieldAmount, "needs a digit after the point")
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return decimal.Zero, "", fieldErr(FieldAmount, "%s", badAmountChar(c))
			}
		}
	}
	if len(intPart) > 20 {
		return decimal.Zero, "", fieldErr(FieldAmount, "at most 20 digits before the point")
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return decimal.Zero, "", leadingZero(intPart, frac, hasPoint)
	}
	if len(frac) > MaxAmountDecimals {
		return decimal.Zero, "", fieldErr(FieldAmount, "at most 8 digits after the point (got %d)", len(frac))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, "", fieldErr(FieldAmount, "not a decimal number")
	}
	if !d.IsPositive() {
		return decimal.Zero, "", fieldErr(FieldAmount, "must be greater than zero")
	}
	return d, d.String(), nil
}

// leadingZero is the error of an amount written with leading zeros. It
// suggests the amount without them only when that amount is accepted;
// otherwise it says what is still wrong once they are gone ("00" is zero).
func leadingZero(intPart, frac string, hasPoint bool) error {
	fixed := strings.TrimLeft(intPart, "0")
	if fixed == "" {
		fixed = "0"
	}
	fixed += pointFrac(frac, hasPoint)
	if _, _, err := ParseAmount(fixed); err != nil {
		return err
	}
	return fieldErr(FieldAmount, "leading zero (write %s)", fixed)
}

func pointFrac(frac string, hasPoint bool) string {
	if hasPoint {
		return "." + frac
	}
	return ""
}

func badAmountChar(c byte) string {
	switch {
	case c == '-' || c == '+':
		return "no sign allowed; the amount is what leaves the wallet"
	case c == 'e' || c == 'E':
		return "no exponent allowed; write the digits out"
	case c == ',' || c == '_' || c == '\'':
		return "no digit grouping allowed; type digits and one point"
	case c == ' ' || c == '\t':
		return "no spaces allowed"
	case c == '.':
		return "only one decimal point allowed"
	}
	return "only digits and one decimal point allowed"
}

// ValidateMemo checks a memo: valid UTF-8, at most 140 runes, nothing that
// DisplayText would remove or change: no control characters (they would
// corrupt a screen, a CSV or a log line), no invisible or direction-changing
// characters (U+202E, U+200B, U+2028...). So a memo read back from the
// server is the memo that was sent.
func ValidateMemo(memo string) error {
	if !utf8.ValidString(memo) {
		return fieldErr(FieldMemo, "not valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(memo); n > MaxMemoRunes {
		return fieldErr(FieldMemo, "%d characters; at most %d", n, MaxMemoRunes)
	}
	pos := 0
	for _, r := range memo {
		pos++
		if p := memoCharProblem(r, pos); p != "" {
			return fieldErr(FieldMemo, "%s", p)
		}
	}
	return nil
}
