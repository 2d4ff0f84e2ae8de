package journal

import (
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// checkUnderTest is what BenchmarkJournalCheck measures.
var checkUnderTest = CheckFile

// hashFile is the yardstick of BenchmarkJournalCheck: the SHA-256 of the
// file, read as sha256sum reads it.
func hashFile(tb testing.TB, path string) {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		tb.Fatal(err)
	}
	h.Sum(nil)
}

// peakHeap runs do while sampling the bytes of heap objects (live, and
// dead not yet swept) every 50 µs, and returns the most seen above the
// level before.
func peakHeap(do func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			peak = max(peak, read())
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Microsecond):
			}
		}
	}()
	do()
	close(stop)
	<-done
	peak = max(peak, read())
	return peak - min(peak, base)
}

// BenchmarkJournalCheck verifies a journal of 100,000 records (about 40 MB)
// from its file, as `mixdesk journal verify` does, beside hashing the same
// file (SHA-256, read in pieces as sha256sum does): the two take turns, so
// that both see the same machine, and the medians and their ratio are
// reported (ns/op covers one of each), wall and CPU (the process's, as
// the OS counts it, where it can be read). Budget: at most twice the hash.
// Then one more check runs with the heap sampled: MB-peak-heap is the most
// heap it used (objects live or not yet swept).
//
// MIXDESK_BENCH_JOURNAL=PATH keeps the journal at PATH (written when
// missing), for measuring the command itself.
func BenchmarkJournalCheck(b *testing.B) {
	path := os.Getenv("MIXDESK_BENCH_JOURNAL")
	if path == "" {
		path = filepath.Join(b.TempDir(), "journal-bench.jsonl")
	}
	if _, err := os.Stat(path); err != nil {
		writeBenchJournal(b, path, benchRecords)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	check := func() {
		rep, err := checkUnderTest(path)
		if err != nil {
			b.Fatal(err)
		}
		if !rep.Intact() || rep.Count != benchRecords {
			b.Fatalf("bench journal: %s", rep)
		}
	}
	hash := func() { hashFile(b, path) }
	var wall, cpu [2][]time.Duration // [0] check, [1] hash
	timed := func(k int, do func()) {
		c0, t0 := processCPU(), time.Now()
		do()
		wall[k] = append(wall[k], time.Since(t0))
		cpu[k] = append(cpu[k], processCPU()-c0)
	}
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			timed(0, check)
			timed(1, hash)
		} else {
			timed(1, hash)
			timed(0, check)
		}
		i++
	}
	b.StopTimer()
	mc, mh := median(wall[0]), median(wall[1])
	b.ReportMetric(float64(mc.Microseconds())/1e3, "check-p50-ms")
	b.ReportMetric(float64(mh.Microseconds())/1e3, "sha256-p50-ms")
	b.ReportMetric(float64(mc)/float64(mh), "check/sha256")
	if cc, ch := median(cpu[0]), median(cpu[1]); ch > 0 {
		b.ReportMetric(float64(cc.Microseconds())/1e3, "check-cpu-ms")
		b.ReportMetric(float64(ch.Microseconds())/1e3, "sha256-cpu-ms")
	}
	b.ReportMetric(float64(fi.Size())/1e6, "MB-file")
	b.ReportMetric(float64(peakHeap(check))/1e6, "MB-peak-heap")
}

// TestCheckFileKeepsLittle: what the check of a journal keeps while it
// reads (the state of each trace) does not grow with the size of the
// records: a journal whose memos and descriptions fill 4 KB each leaves
// about the same heap as one with short ones, far less than the file.
func TestCheckFileKeepsLittle(t *testing.T) {
	const n = 1500
	kept := func(memo string) (heap uint64, size int64) {
		path := filepath.Join(t.TempDir(), "j.jsonl")
		j, _, err := Open(path, WithClock(newClock().now))
		if err != nil {
			t.Fatal(err)
		}
		j.fsync = func(*os.File) error { return nil }
		for i := 1; i <= n; i++ {
			in := testIntent(i)
			in.Memo = memo
			must(t)(j.AppendIntent(in))
			if i%2 == 0 {
				must(t)(j.AppendFailed(Failed{Trace: tid(i), Code: 20117, Description: memo}))
			}
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		v, err := verifyStream(path, f, fi.Size(), false, pieceBytes, maxLineBytes)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if !v.report.Intact() || v.report.Count != n+n/2 {
			t.Fatalf("%s", v.report)
		}
		runtime.KeepAlive(v)
		return after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc), fi.Size()
	}
	short, shortSize := kept("row")
	long, longSize := kept(strings.Repeat("m", MaxTextLen))
	t.Logf("state kept: %d B for a %d B journal, %d B for a %d B journal", short, shortSize, long, longSize)
	if long > 2*short+(1<<20) || long > uint64(longSize)/10 {
		t.Fatalf("the check keeps %d B of a %d B journal with long memos, %d B of one with short memos", long, longSize, short)
	}
}
