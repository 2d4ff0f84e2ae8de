package ui

import (
	"github.com/google/uuid"
	"strings"
	"testing"
	"unicode/utf8"

	"rsc.io/qr"

	"mixdesk/internal/qrscan"
	"mixdesk/mixin"
)

// payLink builds a payment link for the QR tests.
func payLink(t *testing.T, memo string) string {
	t.Helper()
	link, err := mixin.PayURL(mixin.PayRequest{
		Recipient: "8dcf823d-9eb3-4da2-8734-f0aad50c0da6", AssetID: usdtID, Amount: "1234.56789",
		TraceID: "0b4f49dc-8fb4-4539-9a89-fb3afc613747", Memo: memo,
	})
	if err != nil {
		t.Fatal(err)
	}
	return link
}

func TestQRTextDecodesToTheLink(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, memo string }{
		{"no memo", ""},
		{"memo with spaces and non-ASCII", "invoice 42 · café, 茶 & more + 100% ✓"},
		{"long memo", strings.Repeat("é", mixin.MaxMemoRunes)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			link := payLink(t, tc.memo)
			text, err := QRText(link)
			if err != nil {
				t.Fatal(err)
			}
			got, err := qrscan.Decode(text)
			if err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			if got != link {
				t.Fatalf("decoded %q\nwant    %q", got, link)
			}
			if p, err := mixin.ParsePayURL(got); err != nil || p.Memo != tc.memo {
				t.Fatalf("the decoded link reads back as %+v, %v", p, err)
			}
		})
	}
}

func TestQRTextShape(t *testing.T) {
	t.Parallel()
	link := payLink(t, "invoice 42")
	if n := len(link); n < 160 || n > 200 {
		t.Fatalf("the typical link is %d characters; the test wants about 170", n)
	}
	text, err := QRText(link)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(text, "\n") {
		t.Error("the text does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) > QRMaxRows {
		t.Errorf("%d rows for a %d-character link; want at most %d", len(lines), len(link), QRMaxRows)
	}
	w := utf8.RuneCountInString(lines[0])
	for i, l := range lines {
		if utf8.RuneCountInString(l) != w {
			t.Fatalf("line %d is not %d wide", i+1, w)
		}
		if strings.Trim(l, "█▀▄ ") != "" {
			t.Fatalf("line %d holds other characters: %q", i+1, l)
		}
		if strings.HasSuffix(l, " ") || strings.HasPrefix(l, " ") {
			t.Fatalf("line %d starts or ends dark: the quiet zone is missing", i+1)
		}
	}
	// The quiet zone: four light modules all round, so the first two rows
	// and the first and last four columns are full blocks.
	for _, l := range lines[:2] {
		if strings.Trim(l, "█") != "" {
			t.Fatalf("the top quiet zone is not light: %q", l)
		}
	}
	for i, l := range lines {
		rs := []rune(l)
		if string(rs[:4]) != "████" || string(rs[len(rs)-4:]) != "████" {
			t.Fatalf("line %d lacks the side quiet zone: %q", i+1, l)
		}
	}
	last := lines[len(lines)-1]
	if strings.Trim(last, "█▀") != "" {
		t.Fatalf("the bottom quiet zone is not light: %q", last)
	}
	// The modules are square: as many module rows as columns.
	light, err := qrscan.Modules(text)
	if err != nil {
		t.Fatal(err)
	}
	if d := len(light) - len(light[0]); d != 0 && d != 1 {
		t.Errorf("%d module rows for %d columns", len(light), len(light[0]))
	}
}

func TestQRTextLongLinkFallsBackToLevelL(t *testing.T) {
	t.Parallel()
	// 140 three-byte runes, escaped: a link of about 1,400 characters.
	link := payLink(t, strings.Repeat("茶", mixin.MaxMemoRunes))
	text, err := QRText(link)
	if err != nil {
		t.Fatal(err)
	}
	medium, err := qrBitmap(link, qr.M)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(text, "\n"); got >= rows(medium) {
		t.Errorf("%d rows; level M alone needs %d, level L should be smaller", got, rows(medium))
	}
	if got, err := qrscan.Decode(text); err != nil || got != link {
		t.Fatalf("decoded %q, %v", got, err)
	}
}

func TestQRTextRefusesWhatCannotBeDrawn(t *testing.T) {
	t.Parallel()
	if _, err := QRText(""); err == nil {
		t.Error("an empty link was drawn")
	}
	if _, err := QRText(strings.Repeat("x", 8000)); err == nil {
		t.Error("a link beyond any QR code's capacity was drawn")
	}
}

func FuzzQRText(f *testing.F) {
	f.Add("https://mixin.one/pay?recipient=x")
	f.Add("")
	f.Add("\x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		text, err := QRText(s)
		if err != nil {
			return
		}
		if strings.Trim(text, "█▀▄ \n") != "" {
			t.Fatalf("unexpected characters in %q", text)
		}
	})
}

// TestQRTextEveryCodeReads draws many links that differ only in their trace
// (so in their mask and error-correction bytes) and reads each back: a
// drawn code that does not scan is a request nobody can pay. An earlier
// encoder produced an unreadable code for about one link in forty.
func TestQRTextEveryCodeReads(t *testing.T) {
	t.Parallel()
	n := 200
	if testing.Short() {
		n = 40
	}
	for i := 0; i < n; i++ {
		link, err := mixin.PayURL(mixin.PayRequest{Recipient: "8dcf823d-9eb3-4da2-8734-f0aad50c0da6", AssetID: "4d8c508b-91c5-375b-92b0-ee702ed2dac5",
			Amount: "1234.5", TraceID: uuid.NewString(), Memo: "invoice 42 · café"})
		if err != nil {
			t.Fatal(err)
		}
		text, err := QRText(link)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := qrscan.Decode(text); err != nil || got != link {
			t.Fatalf("the code of %s does not read back: %q, %v", link, got, err)
		}
	}
}
