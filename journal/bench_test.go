package journal

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// benchRecords is the size of the journal BenchmarkJournalOpen verifies.
const benchRecords = 100_000

// writeBenchJournal writes a journal of n records through the journal
// itself (fsync switched off to save time): intents with realistic memos,
// most done, some failed, one in ten in doubt.
func writeBenchJournal(b *testing.B, path string, n int) {
	b.Helper()
	j, _, err := Open(path, WithOperator("treasury-alice"), WithHost("desk-01.example"), WithClock(newClock().now))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	j.fsync = func(*os.File) error { return nil }
	written := 0
	for i := 1; written < n; i++ {
		in := Intent{Trace: tid(i), AssetID: testAsset, RecipientID: rcp(i % 500), Amount: "1234.56789012",
			Memo: "payroll 2025-11 row " + strings.Repeat("x", i%40)}
		if _, err := j.AppendIntent(in); err != nil {
			b.Fatal(err)
		}
		written++
		if written == n {
			break
		}
		switch {
		case i%10 == 9:
		case i%10 == 8:
			_, err = j.AppendFailed(Failed{Trace: tid(i), Code: 20117, Description: "Insufficient balance."})
			written++
		default:
			_, err = j.AppendDone(Done{Trace: tid(i), SnapshotID: sid(i), ClosingBalance: "98765.4321", Via: ViaSend})
			written++
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJournalOpen opens and verifies a journal of 100,000 records:
// reading, hashing every line, decoding, chain and state checks, and the
// index. Budget: 300 ms per open on a 2-core machine.
func BenchmarkJournalOpen(b *testing.B) {
	path := filepath.Join(b.TempDir(), "journal-bench.jsonl")
	writeBenchJournal(b, path, benchRecords)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	for b.Loop() {
		j, rep, err := Open(path, WithOperator("o"), WithHost("h"))
		if err != nil {
			b.Fatal(err)
		}
		if !rep.Intact() || len(rep.Records) != benchRecords {
			b.Fatalf("bench journal: %s", rep)
		}
		j.Close()
	}
	perOpen := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(perOpen*1e3, "ms/open")
	b.ReportMetric(perOpen*1e9/benchRecords, "ns/record")
}

// BenchmarkJournalAppend compares one durable append (an intent, with its
// fsync) with a bare write and fsync of the same bytes to a file in the same
// directory. Budget: journal at most 1.5 times bare. "interleaved" runs the
// two alternately, so that both see the same disk weather, and reports the
// medians and their ratio (ns/op there covers one of each).
func BenchmarkJournalAppend(b *testing.B) {
	newIntent := func(i int) Intent {
		return Intent{Trace: tid(i), AssetID: testAsset, RecipientID: rcp(i % 500), Amount: "1234.56789012", Memo: "payroll 2025-11 row 17"}
	}
	// sampleLine is a journal line of the size the journal writes.
	sampleLine := func(b *testing.B, dir string) []byte {
		path := filepath.Join(dir, "sample.jsonl")
		j, _, err := Open(path, WithOperator("treasury-alice"), WithHost("desk-01.example"))
		if err != nil {
			b.Fatal(err)
		}
		defer j.Close()
		if _, err := j.AppendIntent(newIntent(1)); err != nil {
			b.Fatal(err)
		}
		line, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		return line
	}
	openJournal := func(b *testing.B, dir string) *Journal {
		j, _, err := Open(filepath.Join(dir, "journal.jsonl"), WithOperator("treasury-alice"), WithHost("desk-01.example"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { j.Close() })
		return j
	}
	openBare := func(b *testing.B, dir string) *os.File {
		f, err := os.OpenFile(filepath.Join(dir, "bare.jsonl"), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	}
	bare := func(b *testing.B, f *os.File, line []byte) {
		if _, err := f.Write(line); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("journal", func(b *testing.B) {
		j := openJournal(b, b.TempDir())
		i := 0
		for b.Loop() {
			i++
			if _, err := j.AppendIntent(newIntent(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		dir := b.TempDir()
		line := sampleLine(b, dir)
		f := openBare(b, dir)
		for b.Loop() {
			bare(b, f, line)
		}
	})
	b.Run("interleaved", func(b *testing.B) {
		dir := b.TempDir()
		line := sampleLine(b, dir)
		j := openJournal(b, dir)
		f := openBare(b, dir)
		var inJournal, inBare []time.Duration
		i := 0
		timed := func(do func()) time.Duration {
			t0 := time.Now()
			do()
			return time.Since(t0)
		}
		appendOne := func() {
			i++
			if _, err := j.AppendIntent(newIntent(i)); err != nil {
				b.Fatal(err)
			}
		}
		bareOne := func() { bare(b, f, line) }
		for b.Loop() {
			// Take turns going first: the second fsync of a pair may
			// find the file system's journal already committed.
			if i%2 == 0 {
				inJournal = append(inJournal, timed(appendOne))
				inBare = append(inBare, timed(bareOne))
			} else {
				inBare = append(inBare, timed(bareOne))
				inJournal = append(inJournal, timed(appendOne))
			}
		}
		// Medians: an fsync now and then stalls for milliseconds, which
		// would swamp a mean.
		mj, mb := median(inJournal), median(inBare)
		b.ReportMetric(float64(mj.Nanoseconds()), "journal-p50-ns")
		b.ReportMetric(float64(mb.Nanoseconds()), "bare-p50-ns")
		b.ReportMetric(float64(mj)/float64(mb), "journal/bare")
	})
}

// median returns the middle value of d (d is reordered).
func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}
