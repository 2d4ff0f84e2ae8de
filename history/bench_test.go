package history

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout/rail"
)

// benchRows is the size of the histories the benchmarks build.
const benchRows = 100_000

// benchCounterparties is how many distinct people the benchmark account
// deals with.
const benchCounterparties = 2_000

var benchMonths = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

// benchSnapshots makes n snapshots, newest first, one a minute, each with
// its own strings as the JSON decoder would make them.
func benchSnapshots(n int) []rail.Movement {
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	people := make([]string, benchCounterparties)
	for i := range people {
		people[i] = uuid.NewString()
	}
	assets := []string{usdtID, btcID, ethID}
	out := make([]rail.Movement, n)
	for i := range out {
		amount := fmt.Sprintf("%d.%02d", 1+i%5000, i%100)
		if i%3 != 0 {
			amount = "-" + amount
		}
		out[i] = rail.Movement{
			SnapshotID:     uuid.NewString(),
			Key:            uuid.NewString(),
			AssetID:        strings.Clone(assets[i%len(assets)]),
			OpponentID:     strings.Clone(people[(i*7)%len(people)]),
			Amount:         amount,
			OpeningBalance: fmt.Sprintf("%d.%08d", 100000+i, i),
			ClosingBalance: fmt.Sprintf("%d.%08d", 100000+i, i+1),
			Memo:           fmt.Sprintf("Invoice %d, %s payroll", i, benchMonths[i%12]),
			CreatedAt:      start.Add(-time.Duration(i) * time.Minute),
		}
	}
	return out
}

// fillHistory adds snapshots (newest first) to h page by page, through the
// same steps as LoadMore, without a server; view, when not nil, is called
// after each page (a screen showing each page as it comes).
func fillHistory(h *History, snaps []rail.Movement, view func(*History)) {
	for len(snaps) > 0 {
		n := min(PageSize, len(snaps))
		page := snaps[:n]
		snaps = snaps[n:]
		h.mu.Lock()
		offset, boundary := h.offset, h.boundary
		h.mu.Unlock()
		fresh, next, nextBoundary := siftPage(page, offset, boundary)
		h.commitPage(fresh, next, nextBoundary, len(snaps) == 0)
		if view != nil {
			view(h)
		}
	}
}

// benchHistory builds a history of n rows in memory.
func benchHistory(n int) *History {
	h := New(nil, nil)
	fillHistory(h, benchSnapshots(n), nil)
	return h
}

// BenchmarkHistoryFilter measures one filter change over 100,000 rows (the
// budget is 50 ms): the operator types into the search box.
func BenchmarkHistoryFilter(b *testing.B) {
	benchFilter(b, benchHistory(benchRows), nil)
}

// filterCase is a benchmark of a filter change: each iteration applies the
// next of f.
type filterCase struct {
	name string
	f    []Filter
}

// benchFilter runs the filter benchmarks on h, and the cases more.
func benchFilter(b *testing.B, h *History, more []filterCase) {
	names := make(map[string]string)
	for i, id := range h.Counterparties() {
		names[id] = fmt.Sprintf("%s %s", firstNames[i%len(firstNames)], lastNames[i%len(lastNames)])
	}
	name := func(id string) string { return names[id] }
	rows := h.Rows()
	mid := len(rows) / 2
	for rows[mid].TraceID == "" { // a deposit has none
		mid++
	}
	cases := []filterCase{
		{"text", []Filter{{Text: "invoice 4"}, {Text: "inv"}, {Text: "MARCH PAY"}, {Text: "lindq"}, {Text: rows[mid].TraceID[:8]}}},
		{"text-no-match", []Filter{{Text: "no such memo anywhere"}}},
		{"asset-direction", []Filter{{AssetID: btcID, Direction: DirOut}, {AssetID: usdtID, Direction: DirIn}}},
		{"range-and-text", []Filter{{From: rows[60_000].Time, To: rows[10_000].Time, Text: "may"}}},
		{"everything", []Filter{{}}},
	}
	for _, c := range append(cases, more...) {
		b.Run(c.name, func(b *testing.B) {
			var matched int
			i := 0
			for b.Loop() {
				matched = len(h.Filter(c.f[i%len(c.f)], name))
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/filter")
			_ = matched
		})
	}
}

// firstNames and lastNames make counterparty names for the benchmark.
var (
	firstNames = []string{"Amara", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kofi", "Lena"}
	lastNames  = []string{"Abara", "Berg", "Costa", "Dimitrov", "Eze", "Fischer", "Guerra", "Haddad", "Ito", "Jensen", "Lindqvist"}
)

// BenchmarkHistoryMemory reports the live heap of a history of 100,000
// rows (the budget is 64 MB), measured after a collection.
func BenchmarkHistoryMemory(b *testing.B) {
	benchMemory(b, benchSnapshots)
}

// benchMemory reports the live heap of a history of the 100,000 movements
// that movements makes (made inside the measure: the rows keep their
// strings, as they keep those the rail decoded).
func benchMemory(b *testing.B, movements func(n int) []rail.Movement) {
	var live uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		h := New(nil, nil)
		fillHistory(h, movements(benchRows), nil)
		runtime.GC()
		runtime.ReadMemStats(&after)
		live = after.HeapAlloc - before.HeapAlloc
		if h.Len() != benchRows {
			b.Fatalf("%d rows, want %d", h.Len(), benchRows)
		}
		runtime.KeepAlive(h)
	}
	b.ReportMetric(float64(live)/1e6, "MB-live")
	b.ReportMetric(float64(live)/benchRows, "B/row")
}

// oldRefusedJournal opens a journal in dir holding one payout refused an
// hour before the oldest of snaps: a journal-only row older than every page
// but the last, which each page puts rows before.
func oldRefusedJournal(tb testing.TB, dir string, snaps []rail.Movement) *journal.Journal {
	tb.Helper()
	clock := sandbox.NewClock(snaps[len(snaps)-1].CreatedAt.Add(-time.Hour))
	j, _, err := journal.Open(filepath.Join(dir, "journal.jsonl"), journal.WithClock(clock.Now))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { j.Close() })
	trace := uuid.NewString()
	if _, err := j.AppendIntent(journal.Intent{Trace: trace, AssetID: usdtID, RecipientID: uuid.NewString(), Amount: "1"}); err != nil {
		tb.Fatal(err)
	}
	if _, err := j.AppendFailed(journal.Failed{Trace: trace, Code: mixin.CodeInsufficientBalance, Description: "Insufficient balance."}); err != nil {
		tb.Fatal(err)
	}
	return j
}

// holdRows is a screen that takes the rows after each page and keeps them
// while the next page loads, without filtering them (an asset that no row
// has): what the history itself costs.
func holdRows(h *History) { _, _ = h.Query(Filter{AssetID: "no-such-asset"}, nil) }

// refilterRows is the history screen as it is: after each page it reads
// the rows again through its filter (here: none), which scans every row.
func refilterRows(h *History) { _, _ = h.Query(Filter{}, nil) }

// BenchmarkHistoryLoad measures adding 1,000, 10,000 and 100,000 rows page
// by page, with a screen holding the rows after each page ("hold") or
// filtering them all again after each page, as the history screen does
// ("refilter"). With a refused payout older than everything loaded, each
// page puts rows before it.
func BenchmarkHistoryLoad(b *testing.B) {
	all := benchSnapshots(benchRows)
	for _, withOld := range []bool{false, true} {
		name := "snapshots-only"
		if withOld {
			name = "old-refused-payout"
		}
		for _, n := range []int{1_000, 10_000, 100_000} {
			for _, screen := range []struct {
				name string
				view func(*History)
			}{{"hold", holdRows}, {"refilter", refilterRows}} {
				b.Run(fmt.Sprintf("%s/rows=%d/%s", name, n, screen.name), func(b *testing.B) {
					snaps := all[:n]
					var j *journal.Journal
					if withOld {
						j = oldRefusedJournal(b, b.TempDir(), snaps)
					}
					b.ReportAllocs()
					for b.Loop() {
						h := New(nil, j)
						fillHistory(h, snaps, screen.view)
						if want := n + len(h.jrows); h.Len() != want {
							b.Fatalf("%d rows, want %d", h.Len(), want)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
				})
			}
		}
	}
}
