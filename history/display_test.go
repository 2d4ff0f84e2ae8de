package history

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/payout/payouttest"
)

// hostileTexts are names, memos and descriptions a hostile server (or a file
// written by one) may hand the desk.
var hostileTexts = []string{
	"Mallory\x1b]52;c;SGVsbG8=\x07", "Mallory\x1b]52;c;SGVsbG8=\x1b\\", "Eve\x1b[2J\x1b[H", "Reset\x1bc",
	"Red\u009b31m", "Red\x9b31m", "Bob\u202egnp.exe", "Zed\u200bWidth", "Word\u2060Joiner", "\ufeffBom",
	"Soft\u00adHyphen", "Line\u2028Sep", "Bob \u200b(37160001)", "\t=cmd", "\n@x",
}

// unsafeText names the first thing in s that must never reach a file a
// terminal may show, or "".
func unsafeText(s string) string {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return fmt.Sprintf("the byte %#x at %d", s[i], i)
		case r == 0x1b, r == 0x07, r >= 0x80 && r <= 0x9f,
			r == 0x202e, r == 0x200b, r == 0x2060, r == 0xfeff, r == 0x00ad, r == 0x2028:
			return fmt.Sprintf("U+%04X at %d", r, i)
		}
		i += n
	}
	return ""
}

// TestExportsAreDisplaySafe: whatever text the rows and records hold, the
// history and journal exports carry nothing a terminal would act on or
// hide, and no cell starts a formula.
func TestExportsAreDisplaySafe(t *testing.T) {
	var rows []Row
	var recs []journal.Record
	for i, s := range hostileTexts {
		rows = append(rows, Row{SnapshotID: s, TraceID: s, AssetID: s, OpponentID: s, Amount: decimal.RequireFromString("-1.5"),
			Memo: s, Time: time.Unix(int64(i), 0), State: State(s), Closing: s, Operator: s, Reason: s})
		recs = append(recs,
			journal.Record{Seq: uint64(3*i + 1), Kind: journal.KindIntent, Prev: s, Intent: &journal.Intent{Trace: s, AssetID: s, RecipientID: s, Amount: s, Memo: s,
				Operator: s, Host: s, BatchID: s, RowKey: s, Hash: s}},
			journal.Record{Seq: uint64(3*i + 2), Kind: journal.KindDone, Done: &journal.Done{Trace: s, SnapshotID: s, ClosingBalance: s, Via: journal.Via(s)}},
			journal.Record{Seq: uint64(3*i + 3), Kind: journal.KindFailed, Failed: &journal.Failed{Trace: s, Code: 20117, Description: s}})
	}
	each := func(string) string { return hostileTexts[0] + hostileTexts[6] }
	var hist, jour bytes.Buffer
	if err := WriteCSV(&hist, rows, each, each); err != nil {
		t.Fatal(err)
	}
	if err := journal.WriteCSV(&jour, recs); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"the history export": hist.String(), "the journal export": jour.String()} {
		if bad := unsafeText(text); bad != "" {
			t.Errorf("%s holds %s:\n%q", name, bad, text)
		}
		for _, cell := range []string{",=cmd", ", =cmd", ",@x", ", @x"} {
			if strings.Contains(text, cell) {
				t.Errorf("%s has a cell %q that a spreadsheet may run", name, cell)
			}
		}
	}
	// Read back: the text as DisplayText makes it.
	got, err := ReadCSV(&hist)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range got {
		if want := mixin.DisplayText(hostileTexts[i]); c.Memo != want {
			t.Errorf("memo %d read back %q, want %q", i, c.Memo, want)
		}
	}
}

// TestNamesKeepTheMixinID: the name cache keeps the Mixin ID number the
// server gave with the name, and the name on one line.
func TestNamesKeepTheMixinID(t *testing.T) {
	r := payouttest.New(t, payouttest.Options{Seed: 62})
	u := r.Srv.AddUser("Alice Ng" + strings.Repeat(" ", 150) + "x")
	names := NewNames(r.Desk.Rail(), r.Config.Clock)
	if got := names.MixinID(u.UserID); got != "" {
		t.Fatalf("MixinID before a look-up: %q", got)
	}
	if err := names.Resolve(context.Background(), []string{u.UserID}); err != nil {
		t.Fatal(err)
	}
	if got := names.MixinID(strings.ToUpper(u.UserID)); got != u.IdentityNumber {
		t.Errorf("MixinID = %q, want %s", got, u.IdentityNumber)
	}
	if got := names.Name(u.UserID); got != "Alice Ng x" {
		t.Errorf("Name = %q, want it on one line", got)
	}
	var nilNames *Names
	if nilNames.MixinID(u.UserID) != "" {
		t.Error("a nil cache knows a Mixin ID")
	}
}
