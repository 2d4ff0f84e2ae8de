package history

import (
	"runtime"
	"testing"

	"mixdesk/journal"
)

// loadBytesPerRow loads n snapshot rows page by page into a history over j,
// with a screen holding the rows after each page, and returns the bytes
// allocated per row (the snapshots themselves are made beforehand).
func loadBytesPerRow(t *testing.T, j *journal.Journal, n int) float64 {
	t.Helper()
	snaps := benchSnapshots(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h := New(nil, j)
	fillHistory(h, snaps, holdRows)
	runtime.ReadMemStats(&after)
	if h.Len() != n+len(h.jrows) {
		t.Fatalf("%d rows, want %d", h.Len(), n+len(h.jrows))
	}
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
}

// TestHistoryLoadIsLinear: loading ten times the rows allocates about ten
// times the bytes, also with a refused payout older than every page and a
// screen holding the rows after each page. Rows copied again on each page
// would make the bytes per row grow with the number of rows (about 2.6 KB
// a row at 2,000 rows and 24 KB at 20,000 when each page copied them all).
// This counts bytes, not time, so a slow machine does not fail it.
func TestHistoryLoadIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 22,000 rows")
	}
	const small, large = 2_000, 20_000
	j := oldRefusedJournal(t, t.TempDir(), benchSnapshots(large))
	for _, c := range []struct {
		name string
		j    *journal.Journal
	}{{"snapshots only", nil}, {"old refused payout", j}} {
		s, l := loadBytesPerRow(t, c.j, small), loadBytesPerRow(t, c.j, large)
		t.Logf("%s: %.0f B a row at %d rows, %.0f B a row at %d rows", c.name, s, small, l, large)
		if l > 2*s {
			t.Errorf("%s: %.0f B a row at %d rows, %.0f B at %d: loading grows faster than the rows", c.name, l, large, s, small)
		}
	}
}
