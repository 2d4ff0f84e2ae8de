package mixin

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DisplayText makes text that came from outside (the server, a file, a
// link) safe to draw in a terminal or to write to a file that a terminal
// may show later. Every answer of the API has its free text put through it
// when it is decoded; route any other outside text through it too.
//
// It removes terminal escape sequences whole (CSI, OSC, DCS, SOS, PM, APC
// and the short ESC forms, introduced by ESC or by their C1 codes), every
// other C0 and C1 control, DEL, and every invisible character: Unicode
// format characters (category Cf: the bidirectional controls U+200E, U+200F,
// U+061C, U+202A to U+202E, U+2066 to U+2069, and U+200B, U+2060, U+FEFF,
// U+00AD...) and the other default-ignorable characters (the Hangul
// fillers, U+034F...). Tab, line breaks and the line and paragraph
// separators U+2028 and U+2029 become a space. Bytes that are not UTF-8
// become U+FFFD. Visible text, spaces included, is kept as it is, so text
// that ValidateMemo accepts comes back unchanged, and cleaning twice
// changes nothing more.
func DisplayText(s string) string {
	if plainASCII(s) || !needsCleaning(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c == 0x1b {
			i = skipEscape(s, i+1)
			continue
		}
		if c < utf8.RuneSelf {
			switch {
			case c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
				b.WriteByte(' ')
			case c >= 0x20 && c != 0x7f:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case r == 0x9b: // CSI
			n = skipCSI(s, i+n) - i
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // DCS, SOS, OSC, PM, APC
			n = skipString(s, i+n) - i
		case r == 0x85 || r == 0x2028 || r == 0x2029: // NEL, line and paragraph separators
			b.WriteByte(' ')
		case invisible(r):
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// plainASCII reports whether s is printable ASCII only, which DisplayText
// leaves as it is.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// needsCleaning reports whether DisplayText would change s: it has a byte
// that is not UTF-8, a control character or an invisible one.
func needsCleaning(s string) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || invisible(r) {
			return true
		}
		i += n
	}
	return false
}

// invisible reports whether r is a control character or draws nothing
// while it may change how the text around it reads.
func invisible(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	case r < 0xad:
		return false
	}
	return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point)
}

// skipEscape returns the index after the escape sequence whose ESC was just
// before i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipCSI(s, i+1)
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		return skipString(s, i+1)
	case c >= 0x20 && c <= 0x2f: // intermediates, then one final byte
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	case c >= 0x30 && c <= 0x7e:
		return i + 1
	}
	return i // a lone ESC
}

// skipCSI returns the index after a control sequence's parameters,
// intermediates and final byte, starting after its introducer.
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString returns the index after a control string (OSC, DCS...)
// starting after its introducer: up to BEL, ST (ESC \ or U+009C), CAN or
// SUB; another ESC ends it and starts a sequence of its own. An unended
// string runs to the end of the text, as a terminal would take it.
func skipString(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case 0x07, 0x18, 0x1a:
			return i + 1
		case 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i
		case 0xc2:
			if i+1 < len(s) && s[i+1] == 0x9c {
				return i + 2
			}
		}
		i++
	}
	return i
}

// memoCharProblem says why a memo may not carry r, or "" when it may: a
// memo must come back from the server unchanged by DisplayText.
func memoCharProblem(r rune, pos int) string {
	switch {
	case unicode.IsControl(r):
		return fmt.Sprintf("contains a control character (U+%04X) at position %d; use plain text on one line", r, pos)
	case invisible(r):
		return fmt.Sprintf("contains an invisible or direction-changing character (U+%04X) at position %d", r, pos)
	}
	return ""
}
