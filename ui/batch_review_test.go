package ui

import (
	"encoding/csv"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/payout"
)

// badBatchBody is a file of 30 rows, 5 of them with a problem (lines 5,
// 10, 16, 22 and 29): an unknown label, a Mixin ID nobody has, the
// profile's own account, an unknown symbol, an amount that is no number.
func badBatchBody(r *rig) string {
	us := r.world.Users
	bad := map[int]string{
		3:  "nobody-label,USDT,5,March payroll",
		8:  "99999999,USDT,2,March payroll",
		14: r.world.OperatorUser.IdentityNumber + ",USDT,1,March payroll",
		20: us[0].UserID + ",DOGE,3,March payroll",
		27: us[1].UserID + ",USDT,abc,March payroll and a memo long enough to be cut in the table",
	}
	var b strings.Builder
	b.WriteString("recipient,asset,amount,memo\n")
	n := 0
	for i := 0; i < 30; i++ {
		if row, ok := bad[i]; ok {
			b.WriteString(row + "\n")
			continue
		}
		n++
		fmt.Fprintf(&b, "%s,USDT,%d.25,March payroll %d\n", us[n%len(us)].IdentityNumber, n, n)
	}
	return b.String()
}

// sizedBatch is a batch screen on a w×h terminal, showing the review of
// the file body.
func sizedBatch(t *testing.T, r *rig, body string, w, h int) *batchScreen {
	t.Helper()
	ctx, s := batchComponent(t, r)
	ctx.width, ctx.height = w, h
	press(s, "type:"+writeBatch(t, r, body))
	runUntil(t, s, s.update(keyPress("enter")), "review", func() bool { return s.mode == bmReview })
	return s
}

// fitsScreen fails when the view is wider or taller than the terminal.
func fitsScreen(t *testing.T, v string, w, h int) {
	t.Helper()
	fitsWidth(t, v, w)
	if n := strings.Count(strings.TrimRight(v, "\n"), "\n") + 1; n > h {
		t.Errorf("the view is %d lines on a body of %d: the end is lost\n%s", n, h, v)
	}
}

// TestBatchProblemsReadable: every problem of a batch that cannot be sent
// can be read in full on screen, at 80, 120 and 200 columns (n selects each
// row with a problem and writes it whole under the table), and in the
// report written for it, whose path the review shows.
func TestBatchProblemsReadable(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	for _, size := range []struct{ w, h int }{{80, 24}, {120, 40}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			s := sizedBatch(t, r, badBatchBody(r), size.w, size.h)
			body := size.h - 4
			v := safeView(s.view(body))
			fitsScreen(t, v, size.w, body)
			checkGolden(t, "review", v, size.w)
			if len(s.issues) != 5 {
				t.Fatalf("%d rows with a problem, want 5", len(s.issues))
			}
			mustContain(t, flat(v), "✗ 5 problems", "in full under the table", "Every row with its problem:")
			if !slices.ContainsFunc(s.keys(), func(k key.Binding) bool { return k.Help().Key == "n/N" }) {
				t.Error("the help line does not offer n/N")
			}
			if s.checkReport == "" || !strings.Contains(flat(v), s.checkReport) {
				t.Fatalf("the review does not say where the report is (%q, %q)", s.checkReport, s.checkReportEr)
			}
			for k, want := range []int{5, 10, 16, 22, 29} {
				press(s, "n")
				it, _ := s.b.Row(s.sel)
				if it.Row.Line != want {
					t.Fatalf("n %d times selects line %d, want %d", k+1, it.Row.Line, want)
				}
				v = safeView(s.view(body))
				fitsScreen(t, v, size.w, body)
				mustContain(t, flat(v), "line "+itoa(want)+" · INVALID: "+flat(clean(it.Problem())))
				if want == 22 {
					checkGolden(t, "fourth-problem", v, size.w)
				}
			}
			press(s, "n")
			if it, _ := s.b.Row(s.sel); it.Row.Line != 5 {
				t.Fatalf("n after the last problem selects line %d, want 5 again", it.Row.Line)
			}
			press(s, "N", "N")
			if it, _ := s.b.Row(s.sel); it.Row.Line != 22 {
				t.Fatalf("N twice from line 5 selects line %d, want 22", it.Row.Line)
			}
		})
	}

	// The report has every row: each problem whole, and the rows that are
	// fine say why they were not sent.
	s := sizedBatch(t, r, badBatchBody(r), 120, 40)
	rep := readCSV(t, s.checkReport)
	if len(rep) != 31 || rep[0][11] != "state" || rep[0][13] != "error" {
		t.Fatalf("report of %d lines: %q", len(rep), rep[0])
	}
	for k, it := range s.b.Rows(0, s.b.Len()) {
		row := rep[k+1]
		if row[0] != itoa(it.Row.Line) {
			t.Fatalf("report line %d is of line %s", k+2, row[0])
		}
		switch it.State {
		case payout.ItemInvalid:
			if row[11] != "invalid" || row[13] != it.Problem() {
				t.Errorf("report of line %d: %q, want the problem %q", it.Row.Line, row, it.Problem())
			}
		default:
			if row[11] != "new" || row[13] != "not sent: the batch cannot be sent until the rows marked invalid are fixed" {
				t.Errorf("report of line %d: %q", it.Row.Line, row)
			}
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestBatchTableMovesLikeOtherLists: j/k move the selection as ↓/↑ do,
// pgdown/pgup by a page; the table scrolls to keep the selected row on
// screen; the row is marked and written out under the table. In the total
// field j and k are typed, not taken as keys.
func TestBatchTableMovesLikeOtherLists(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	s := sizedBatch(t, r, badBatchBody(r), 80, 24)
	body := 24 - 4
	press(s, "j", "j")
	if s.sel != 2 {
		t.Fatalf("j twice: row %d, want 2", s.sel)
	}
	press(s, "k")
	if s.sel != 1 {
		t.Fatalf("k: row %d, want 1", s.sel)
	}
	press(s, "k", "k")
	if s.sel != 0 || s.top != 0 {
		t.Fatalf("k at the first row: row %d, top %d", s.sel, s.top)
	}
	rows := s.pageRows()
	for range rows + 2 {
		press(s, "j")
	}
	if s.sel != rows+2 || s.top != 3 {
		t.Fatalf("j %d times on %d rows shown: row %d, top %d; want row %d, top 3", rows+2, rows, s.sel, s.top, rows+2)
	}
	v := safeView(s.view(body))
	fitsScreen(t, v, 80, body)
	it, _ := s.b.Row(s.sel)
	if l := lineWith(v, listMark+itoa(it.Row.Line)+" "); l == "" {
		t.Fatalf("the selected line %d is not marked:\n%s", it.Row.Line, v)
	}
	mustContain(t, flat(v), "line "+itoa(it.Row.Line)+" · "+itemLabel[it.State], fmt.Sprintf("3 rows above, %d rows below", 30-rows-3))
	checkGolden(t, "scrolled", v, 80)

	// A page is the rows shown (fewer under a longer detail).
	from, rows := s.sel, s.pageRows()
	s.update(tea.KeyMsg{Type: tea.KeyPgDown})
	if s.sel != from+rows {
		t.Fatalf("pgdown: row %d, want %d", s.sel, from+rows)
	}
	for range 30 {
		s.update(tea.KeyMsg{Type: tea.KeyPgDown})
	}
	if rows = s.pageRows(); s.sel != 29 || s.top != 30-rows {
		t.Fatalf("pgdown to the end: row %d, top %d; want 29, %d", s.sel, s.top, 30-rows)
	}
	s.update(tea.KeyMsg{Type: tea.KeyPgUp})
	if s.sel != 29-rows {
		t.Fatalf("pgup: row %d, want %d", s.sel, 29-rows)
	}
	// The terminal grows: every row fits, none is left scrolled away.
	s.ctx.width, s.ctx.height = 200, 60
	if v := s.view(60 - 4); strings.Contains(v, "rows above") || !strings.Contains(v, "\n  2     ") {
		t.Fatalf("on a taller terminal the first rows stay scrolled away:\n%s", v)
	}

	// A batch that can be sent: in the total field j and k are typed.
	s = sizedBatch(t, newRig(t, rigOpts{}), batchBody(r), 80, 24)
	press(s, "tab", "type:1j2k")
	if s.focus != bcTotal || s.total.Value() != "1j2k" || s.sel != 0 {
		t.Fatalf("focus %d, total %q, row %d: j and k were taken as keys in the total field", s.focus, s.total.Value(), s.sel)
	}
	s.update(tea.KeyMsg{Type: tea.KeyDown})
	if s.sel != 1 {
		t.Fatalf("↓ in the total field: row %d, want 1", s.sel)
	}
}

// TestBatchPausedSaysSo: a paused batch with rows left says it is paused
// and how long the rows left take once resumed, never a time counting
// down; without an estimate yet it says only that it is paused.
func TestBatchPausedSaysSo(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	_, s := batchComponent(t, r)
	press(s, "type:"+writeBatch(t, r, batchBody(r)))
	runUntil(t, s, s.update(keyPress("enter")), "review", func() bool { return s.mode == bmReview })
	s.mode, s.ctl = bmRunning, &payout.BatchControl{}
	s.ctl.Pause()
	s.prog = payout.BatchProgress{Total: 30, Done: 19, Rate: 1.7, Remaining: 6470 * time.Millisecond, Paused: true}
	v := safeView(s.view(bodyH))
	checkGolden(t, "paused", v, termW)
	mustContain(t, v, "rate 1.7 rows/s · paused: the 11 rows left take about 6s once resumed", "Paused (p resumes)", "left 11")
	mustNotContain(t, v, "time left", "0s")

	s.prog = payout.BatchProgress{Total: 30, Done: 29, Rate: 120, Remaining: 8 * time.Millisecond, Paused: true}
	mustContain(t, s.view(bodyH), "paused: the 1 row left takes under 1s once resumed")
	s.prog = payout.BatchProgress{Total: 30, Paused: true}
	v = s.view(bodyH)
	mustContain(t, v, "rate — · paused\n")
	mustNotContain(t, v, "time left")

	s.ctl.Resume()
	s.prog = payout.BatchProgress{Total: 30, Done: 19, Rate: 1.7, Remaining: 6470 * time.Millisecond}
	mustContain(t, s.view(bodyH), "rate 1.7 rows/s · time left 6s")
}

// TestBatchManyDuplicatesFit: a file paying the same few people the same
// few amounts again and again makes many duplicate groups; their line is
// wrapped to the terminal, each group's lines shortened, never run past
// the edge.
func TestBatchManyDuplicatesFit(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		r := newRig(t, rigOpts{})
		us := r.world.Users
		var b strings.Builder
		b.WriteString("recipient,asset,amount,memo,key\n")
		for i := 0; i < 120; i++ {
			fmt.Fprintf(&b, "%s,USDT,%d.5,row %d,k%d\n", us[i%4].IdentityNumber, 1+i%7, i, i)
		}
		s := sizedBatch(t, r, b.String(), size[0], size[1])
		v := s.view(size[1])
		fitsScreen(t, v, size[0], size[1])
		mustContain(t, flat(v), "28 duplicate groups", "more", "press A to acknowledge them", "Acknowledge the duplicate groups above with A to send")
		mustNotContain(t, flat(v), "Fix the file")
	}
}

// TestBatchEnterInTheTotalDoesNotSend: as on a payout's confirmation, enter
// in the typed total moves on to Send, and only enter on Send sends; enter
// on Send before the total matches says what is missing.
func TestBatchEnterInTheTotalDoesNotSend(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	us := r.world.Users
	body := "recipient,asset,amount,memo\n" + us[0].IdentityNumber + ",USDT,1.5,a\n" + us[1].IdentityNumber + ",USDT,2,b\n"
	s := sizedBatch(t, r, body, termW, termH)
	if !s.b.Ready() {
		t.Fatalf("the batch is not ready: %v", s.b.Errors())
	}
	press(s, "tab")
	if s.focus != bcTotal {
		t.Fatalf("focus %v, want the total", s.focus)
	}
	press(s, "type:3.5", "enter")
	if s.mode != bmReview || s.focus != bcSend {
		t.Fatalf("enter in a matching total: mode %v focus %v; want the review, on Send", s.mode, s.focus)
	}
	hint := func() string {
		var hs []string
		for _, k := range s.keys() {
			hs = append(hs, k.Help().Key+" "+k.Help().Desc)
		}
		return strings.Join(hs, " · ")
	}
	mustContain(t, hint(), "enter send the batch")

	press(s, "shift+tab")
	mustContain(t, hint(), "enter next")
	for range 3 {
		press(s, "backspace")
	}
	press(s, "type:3.4", "tab", "enter")
	if s.mode != bmReview {
		t.Fatal("enter on Send with a wrong total sent the batch")
	}
	if !strings.Contains(s.ctx.status, "Not yet: the total to type as shown") {
		t.Fatalf("status %q; want what is missing", s.ctx.status)
	}
}
