package payout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mixdesk/payout/rail"
)

// TestBatchRerunElsewhereTellsPaidBefore: the same file run again an hour
// later from another journal (a fresh data directory). The server answers
// every row's post with the transfer its trace paid the first time, and
// nothing moves: no row is counted as paid now, in the progress or in the
// report.
func TestBatchRerunElsewhereTellsPaidBefore(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	r := newRig(t, 51, withClock(start))
	text := r.manyRows(3)
	b := r.mustPrepare(text)
	p, err := r.runBatch(b, r.pin, nil, nil)
	if err != nil || p.Done != 3 || p.Found != 0 || p.Left() != 0 {
		t.Fatalf("first run = %+v, %v; want 3 paid now", p, err)
	}
	dir := t.TempDir()
	rep := readReport(t, mustReport(t, filepath.Join(dir, "first.csv"), b))
	for _, row := range rep[1:] {
		if row[14] != ReportPaidNow {
			t.Errorf("first run's report: paid %q, want %q: %q", row[14], ReportPaidNow, row)
		}
	}
	ledger := len(r.srv.Ledger())

	r.clock.Advance(time.Hour)
	r.path = filepath.Join(t.TempDir(), "elsewhere", "journal.jsonl")
	r.restart()
	again := r.mustPrepare(text)
	if c := again.Counts(); c.Left() != 3 {
		t.Fatalf("a fresh journal knows the rows: %+v", c)
	}
	var last BatchProgress
	p, err = r.runBatch(again, r.pin, nil, func(p BatchProgress) { last = p })
	if err != nil || p.Done != 0 || p.Found != 3 || p.Left() != 0 || last != p {
		t.Fatalf("re-run = %+v, %v (last progress %+v); want 0 paid now, 3 found paid before", p, err, last)
	}
	if n := len(r.srv.Ledger()); n != ledger {
		t.Fatalf("the re-run moved money: %d transfers, %d before", n, ledger)
	}
	r.wantEachPaidOnce(again, 0)
	for _, it := range items(again) {
		if !it.Found || it.Already {
			t.Errorf("line %d: found %v already %v; want found on the server", it.Row.Line, it.Found, it.Already)
		}
	}
	rep = readReport(t, mustReport(t, filepath.Join(dir, "again.csv"), again))
	for _, row := range rep[1:] {
		if row[11] != "done" || row[14] != ReportPaidFound {
			t.Errorf("re-run's report: state %q paid %q, want done, %q", row[11], row[14], ReportPaidFound)
		}
	}

	// A third run from this journal: done before, as the journal says.
	third := r.mustPrepare(text)
	if p, err := r.runBatch(third, r.pin, nil, nil); err != nil || p.Skipped != 3 || p.Done+p.Found != 0 {
		t.Fatalf("third run = %+v, %v; want 3 done before", p, err)
	}
	rep = readReport(t, mustReport(t, filepath.Join(dir, "third.csv"), third))
	for _, row := range rep[1:] {
		if row[14] != ReportPaidJournal {
			t.Errorf("third run's report: paid %q, want %q", row[14], ReportPaidJournal)
		}
	}
}

// TestBatchPaidBeforeMargin: a transfer counts as paid before only when it
// is older than the run's first post of it by more than a clock skew can
// explain; a row this run never posted was found by a trace look-up.
func TestBatchPaidBeforeMargin(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	r := &batchRun{posted: map[string]time.Time{"posted": at}}
	snap := func(d time.Duration) *rail.Movement { return &rail.Movement{CreatedAt: at.Add(d)} }
	for _, c := range []struct {
		name      string
		trace     string
		created   *rail.Movement
		traceUsed bool
		want      bool
	}{
		{"made by the post", "posted", snap(time.Second), false, false},
		{"server clock behind by 5 minutes", "posted", snap(-5 * time.Minute), false, false},
		{"an hour before the post", "posted", snap(-time.Hour), false, true},
		{"no time in the answer", "posted", &rail.Movement{}, false, false},
		{"answered as a trace used", "posted", snap(time.Second), true, true},
		{"never posted by this run", "looked-up", snap(time.Second), false, true},
	} {
		if got := r.paidBefore(c.trace, c.created, c.traceUsed); got != c.want {
			t.Errorf("%s: paidBefore = %v, want %v", c.name, got, c.want)
		}
	}
}

func mustReport(t *testing.T, input string, b *Batch) string {
	t.Helper()
	path, err := WriteBatchReport(input, b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, ".report.csv") {
		t.Fatalf("report at %s", path)
	}
	return path
}

// TestBatchReportIsDisplaySafe: text of the file and of the server reaches
// the report without escape sequences, controls or invisible characters,
// so that showing the report in a terminal replays nothing.
func TestBatchReportIsDisplaySafe(t *testing.T) {
	r := newRig(t, 52)
	u := r.users
	b := r.mustPrepare(csvOf("recipient,asset,amount,memo",
		"Mallory\x1b]52;c;aGk=\x07,USDT,1,x",
		u[0].UserID+",USDT\x1b[2J,2,",
		u[1].UserID+",USDT,3,\u202eevil\u200b",
	))
	path := mustReport(t, filepath.Join(t.TempDir(), "bad.csv"), b)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"\x1b", "\x07", "\u202e", "\u200b"} {
		if strings.Contains(string(raw), bad) {
			t.Errorf("the report holds %q:\n%q", bad, raw)
		}
	}
	if !strings.Contains(string(raw), "Mallory") || !strings.Contains(string(raw), "evil") {
		t.Errorf("the visible text is gone:\n%s", raw)
	}
}
