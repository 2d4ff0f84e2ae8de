package mixin

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// injections are hostile strings a server (or a file) may send as a name,
// a symbol, a memo or an error description.
var injections = map[string]string{
	"Mallory\x1b]52;c;ZWNobyBoaQ==\a":        "Mallory",    // OSC 52: writes the clipboard
	"Mallory\x1b]52;c;ZWNobyBoaQ==\x1b\\ Ng": "Mallory Ng", // OSC ended by ST
	"\x1b[2J\x1b[HUSDT":                      "USDT",       // clears the screen
	"US\x1b[31mDT\x1b[0m":                    "USDT",       // colours
	"\x1b[38;2;255;0;0mred":                  "red",        // truecolour
	"\x1bP1$qm\x1b\\DCS":                     "DCS",        // DCS request
	"a\x1b_apc payload\x1b\\b":               "ab",         // APC
	"a\x1b^pm\x07b":                          "ab",         // PM ended by BEL
	"a\x1bXsos\x1b\\b":                       "ab",         // SOS
	"\x1b(0lqk\x1b(B":                        "lqk",        // charset designation
	"\x1bcreset":                             "reset",      // RIS
	"\x1b7save\x1b8":                         "save",       // save and restore cursor
	"tail\x1b":                               "tail",       // lone ESC at the end
	"open\x1b]0;title never ended":           "open",       // unended OSC runs to the end
	"a\u009b31mb":                            "ab",         // C1 CSI
	"a\u009d0;title\u009cb":                  "ab",         // C1 OSC ended by C1 ST
	"a\u0085b":                               "a b",        // NEL
	"bell\a\a":                               "bell",       // BEL
	"del\x7f":                                "del",        // DEL
	"nul\x00byte":                            "nulbyte",    // NUL
	"back\bspace":                            "backspace",  // BS
	"line\nbreak\r\ntab\there":               "line break  tab here",
	"Alice\u2028Bob\u2029":                   "Alice Bob ", // line and paragraph separators
	"abc\u202edcba":                          "abcdcba",    // RLO
	"\u2066isolate\u2069\u2067\u2068\u202a\u202b\u202c\u202d": "isolate",
	"\u200emark\u200f\u061c":                                  "mark",           // LRM, RLM, ALM
	"Bob \u200b(37160001)":                                    "Bob (37160001)", // zero-width space
	"Bob\u2060\ufeff\u00ad\u200c\u200d":                       "Bob",            // word joiner, BOM, soft hyphen, ZWNJ, ZWJ
	"\u3164\u115f\u1160\uffa0Eve":                             "Eve",            // Hangul fillers
	"tag\U000E0041\U000E007F":                                 "tag",            // tag characters
	"bad\xffutf8\xc3":                                         "bad\ufffdutf8\ufffd",
	"raw C1 byte \x9b31m":                                     "raw C1 byte \ufffd31m",
	"支付 ✓ é 👍":                                                "支付 ✓ é 👍", // visible text is kept
	"  spaces  kept  ":                                        "  spaces  kept  ",
	"":                                                        "",
}

func TestDisplayText(t *testing.T) {
	for in, want := range injections {
		if got := DisplayText(in); got != want {
			t.Errorf("DisplayText(%q) = %q, want %q", in, got, want)
		}
	}
}

// checkDisplaySafe fails when s has anything a terminal could act on or
// that draws nothing.
func checkDisplaySafe(t *testing.T, in, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("DisplayText(%q) = %q is not UTF-8", in, s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			t.Fatalf("DisplayText(%q) = %q has byte %#x", in, s, s[i])
		}
	}
	for _, r := range s {
		if r >= 0x80 && r < 0xa0 || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029 ||
			r == 0x061c || r >= 0x200e && r <= 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			t.Fatalf("DisplayText(%q) = %q has %U", in, s, r)
		}
	}
}

func FuzzDisplayText(f *testing.F) {
	for in := range injections {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := DisplayText(in)
		checkDisplaySafe(t, in, out)
		if again := DisplayText(out); again != out {
			t.Fatalf("cleaning twice changed %q to %q", out, again)
		}
		// A memo the client sends comes back from the server unchanged.
		if ValidateMemo(in) == nil && out != in {
			t.Fatalf("memo %q is accepted but shown as %q", in, out)
		}
	})
}

// Every character that DisplayText removes is refused in a memo, with its
// code point and position.
func TestMemoRefusesWhatDisplayTextRemoves(t *testing.T) {
	for _, c := range []struct {
		memo string
		want string
	}{
		{"pay\u202eyap", "invisible or direction-changing character (U+202E) at position 4"},
		{"a\u2028b", "(U+2028) at position 2"},
		{"a\u2029b", "(U+2029) at position 2"},
		{"\u200bx", "(U+200B) at position 1"},
		{"x\u2066y", "(U+2066) at position 2"},
		{"x\u061c", "(U+061C) at position 2"},
		{"soft\u00adhyphen", "(U+00AD) at position 5"},
		{"bom\ufeff", "(U+FEFF) at position 4"},
		{"\u3164", "(U+3164) at position 1"},
		{"é\u200d", "(U+200D) at position 2"},
		{"tab\there", "control character (U+0009) at position 4"},
		{"esc\x1b[31m", "control character (U+001B) at position 4"},
		{"c1\u0085", "control character (U+0085) at position 3"},
	} {
		err := ValidateMemo(c.memo)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "memo: contains ") {
			t.Errorf("ValidateMemo(%q) = %v, want %q", c.memo, err, c.want)
		}
		if _, err := ValidateTransfer(TransferInput{AssetID: tAsset, OpponentID: tRecipient, Amount: "1", TraceID: tTrace, Memo: c.memo}); err == nil {
			t.Errorf("ValidateTransfer accepted memo %q", c.memo)
		}
	}
	for in := range injections {
		if ValidateMemo(in) == nil && DisplayText(in) != in {
			t.Errorf("memo %q accepted but shown as %q", in, DisplayText(in))
		}
	}
}
