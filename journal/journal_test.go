package journal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const testAsset = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"

// tid returns a distinct canonical UUID for n.
func tid(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

// rcp returns recipient n.
func rcp(n int) string { return fmt.Sprintf("7b3f0a3e-1c2d-4e5f-8a9b-%012x", n) }

// sid returns snapshot id n.
func sid(n int) string { return fmt.Sprintf("5a5a5a5a-0000-4000-8000-%012x", n) }

// testClock ticks one second on every reading.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock {
	return &testClock{t: time.Date(2025, 11, 26, 12, 0, 0, 123456789, time.UTC)}
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func testIntent(n int) Intent {
	return Intent{Trace: tid(n), AssetID: testAsset, RecipientID: rcp(n % 3), Amount: "1.5", Memo: fmt.Sprintf("row %d", n)}
}

// openT opens a journal that is closed when the test ends.
func openT(t testing.TB, path string, opts ...Option) (*Journal, *Report) {
	t.Helper()
	opts = append([]Option{WithOperator("alice"), WithHost("desk-1")}, opts...)
	j, rep, err := Open(path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j, rep
}

// must fails the test when an append fails: must(t)(j.AppendIntent(in)).
func must(t testing.TB) func(Entry, error) Entry {
	return func(e Entry, err error) Entry {
		t.Helper()
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		return e
	}
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(string(b), "\n")
}

func writeLines(t testing.TB, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// fillJournal writes n intents at path: every third done, every third
// failed, the rest in doubt. It returns the file's bytes.
func fillJournal(t testing.TB, path string, n int) []byte {
	t.Helper()
	j, _ := openT(t, path, WithClock(newClock().now))
	for i := 1; i <= n; i++ {
		must(t)(j.AppendIntent(testIntent(i)))
		switch i % 3 {
		case 0:
			must(t)(j.AppendDone(Done{Trace: tid(i), SnapshotID: sid(i), ClosingBalance: "100", Via: ViaSend}))
		case 1:
			must(t)(j.AppendFailed(Failed{Trace: tid(i), Code: 20117, Description: "Insufficient balance."}))
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJournalRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal-main.jsonl")
	clock := newClock()
	j, rep := openT(t, path, WithClock(clock.now))
	if !rep.Intact() || len(rep.Records) != 0 || rep.TornTail || rep.HeadSeq != 0 || rep.HeadHash != genesisPrev {
		t.Fatalf("new journal report: %+v", rep)
	}

	memos := []string{
		"",
		`quotes " and \ backslash`,
		"new\nline\ttab\rcr\x01\x1f",
		"unicode: 工资 café 🎉 \u2028 <b>&</b>",
		"pipes|in|memo|",
	}
	var want []Record
	for i, memo := range memos {
		in := Intent{Trace: tid(i + 1), AssetID: testAsset, RecipientID: rcp(i), Amount: fmt.Sprintf("%d.00000001", i+1), Memo: memo}
		if i == 2 {
			in.BatchID, in.RowKey, in.Operator, in.Host = "batch-7", "row 12", "bob", "desk-2"
		}
		e := must(t)(j.AppendIntent(in))
		if e.State != StateInDoubt || e.Intent.Hash != in.ContentHash() || e.Intent.Seq != uint64(len(want)+1) {
			t.Fatalf("intent entry %d: %+v", i, e)
		}
		if in.Operator == "" && (e.Intent.Operator != "alice" || e.Intent.Host != "desk-1") {
			t.Fatalf("defaults not applied: %+v", e.Intent)
		}
		want = append(want, Record{Kind: KindIntent, Intent: &e.Intent})
	}
	d := must(t)(j.AppendDone(Done{Trace: tid(1), SnapshotID: sid(1), ClosingBalance: "98.5", Via: ViaSend}))
	want = append(want, Record{Kind: KindDone, Done: &d.Done})
	d2 := must(t)(j.AppendDone(Done{Trace: tid(2), SnapshotID: sid(2), Via: ViaRecovery}))
	want = append(want, Record{Kind: KindDone, Done: &d2.Done})
	d3 := must(t)(j.AppendDone(Done{Trace: tid(5), SnapshotID: sid(5)}))
	want = append(want, Record{Kind: KindDone, Done: &d3.Done})
	f := must(t)(j.AppendFailed(Failed{Trace: tid(3), Code: 20117, Description: "Insufficient balance. \"quoted\""}))
	want = append(want, Record{Kind: KindFailed, Failed: &f.Failed})
	f2 := must(t)(j.AppendFailed(Failed{Trace: tid(4), Code: -1}))
	want = append(want, Record{Kind: KindFailed, Failed: &f2.Failed})
	headSeq, headHash := j.Head()
	entriesBefore := j.Entries()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	// Every line is plain JSON with the documented field names.
	lines := readLines(t, path)
	if lines[len(lines)-1] != "" {
		t.Fatalf("file does not end with a newline")
	}
	for i, l := range lines[:len(lines)-1] {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		if m["seq"] != float64(i+1) || m["kind"] == nil || m["trace_id"] == nil || m["time"] == nil {
			t.Fatalf("line %d lacks common fields: %s", i+1, l)
		}
	}
	if !strings.HasPrefix(lines[0], `{"seq":1,"prev":"`+genesisPrev+`","kind":"intent","time":"2025-11-26T12:00:01.123456789Z","trace_id":"`) {
		t.Fatalf("first line: %s", lines[0])
	}

	j2, rep2 := openT(t, path)
	if !rep2.Intact() || rep2.TornTail || rep2.Count != len(want) || len(rep2.Records) != len(want) {
		t.Fatalf("reopen report: %s", rep2)
	}
	if rep2.HeadSeq != headSeq || rep2.HeadHash != headHash {
		t.Fatalf("head %d %s, want %d %s", rep2.HeadSeq, rep2.HeadHash, headSeq, headHash)
	}
	for i, r := range rep2.Records {
		w := want[i]
		if r.Line != i+1 || r.Seq != uint64(i+1) || r.Kind != w.Kind {
			t.Fatalf("record %d: line %d seq %d kind %s", i, r.Line, r.Seq, r.Kind)
		}
		got := [3]any{r.Intent, r.Done, r.Failed}
		exp := [3]any{w.Intent, w.Done, w.Failed}
		if !reflect.DeepEqual(got, exp) {
			t.Fatalf("record %d:\n got %+v %+v %+v\nwant %+v %+v %+v", i, r.Intent, r.Done, r.Failed, w.Intent, w.Done, w.Failed)
		}
		if !r.Time.Equal(clock.t.Add(time.Duration(i+1-len(want)) * time.Second)) {
			t.Fatalf("record %d time %v", i, r.Time)
		}
	}
	if got := j2.Entries(); !reflect.DeepEqual(got, entriesBefore) {
		t.Fatalf("entries after reopen differ:\n%+v\n%+v", got, entriesBefore)
	}
	for trace, state := range map[string]State{tid(1): StateDone, tid(2): StateDone, tid(3): StateFailed, tid(4): StateFailed, tid(5): StateDone} {
		if e, ok := j2.Lookup(trace); !ok || e.State != state {
			t.Fatalf("Lookup(%s) = %v %v, want %v", trace, e.State, ok, state)
		}
	}
	if e, _ := j2.Lookup(tid(1)); e.Done.ClosingBalance != "98.5" || e.Done.Via != ViaSend || e.Intent.Amount != "1.00000001" {
		t.Fatalf("entry 1: %+v", e)
	}
	if e, _ := j2.Lookup(tid(3)); e.Intent.BatchID != "batch-7" || e.Intent.RowKey != "row 12" || e.Intent.Operator != "bob" || e.Intent.Memo != memos[2] {
		t.Fatalf("entry 3: %+v", e)
	}
}

func TestJournalFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	dir := filepath.Join(t.TempDir(), "state", "mixdesk")
	path := filepath.Join(dir, "journal-main.jsonl")
	j, _ := openT(t, path)
	must(t)(j.AppendIntent(testIntent(1)))
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
	j.Close()

	// An existing journal readable by others is made private.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	openT(t, path)
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after open %v, want 0600", fi.Mode().Perm())
	}
}

func TestJournalOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Open(""); err == nil {
		t.Error("empty path accepted")
	}
	if _, _, err := Open(dir); err == nil {
		t.Error("directory accepted as a journal")
	}
}

func TestJournalFsync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, _ := openT(t, path)
	var syncs int
	var failWith error
	j.fsync = func(f *os.File) error {
		syncs++
		if failWith != nil {
			return failWith
		}
		return f.Sync()
	}

	must(t)(j.AppendIntent(testIntent(1)))
	must(t)(j.AppendDone(Done{Trace: tid(1), SnapshotID: sid(1)}))
	must(t)(j.AppendDone(Done{Trace: tid(1), SnapshotID: sid(1)})) // no-op: no write, no fsync
	if _, err := j.AppendIntent(testIntent(1)); !errors.Is(err, ErrDuplicateTrace) {
		t.Fatalf("duplicate: %v", err)
	}
	if syncs != 2 {
		t.Fatalf("%d fsyncs for 2 records written", syncs)
	}
	before, _ := os.ReadFile(path)

	// A failed fsync is reported, taken back and blocks further appends.
	failWith = errors.New("disk on fire")
	if _, err := j.AppendIntent(testIntent(2)); !errors.Is(err, ErrWrite) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("append with failing fsync: %v", err)
	}
	if _, ok := j.Lookup(tid(2)); ok {
		t.Fatal("failed append reached the index")
	}
	failWith = nil
	if _, err := j.AppendIntent(testIntent(3)); !errors.Is(err, ErrWrite) {
		t.Fatalf("append after a failed fsync: %v", err)
	}
	if !errors.Is(j.Err(), ErrWrite) {
		t.Fatalf("Err() = %v", j.Err())
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatalf("failed append left bytes behind:\n%s", after[len(before):])
	}
	j.Close()

	j2, rep := openT(t, path)
	if !rep.Intact() || len(rep.Records) != 2 {
		t.Fatalf("after failed append: %s", rep)
	}
	must(t)(j2.AppendIntent(testIntent(2)))
}

func TestJournalClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, _ := openT(t, path)
	must(t)(j.AppendIntent(testIntent(1)))
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := j.AppendDone(Done{Trace: tid(1), SnapshotID: sid(1)}); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after Close: %v", err)
	}
	if _, ok := j.Lookup(tid(1)); !ok {
		t.Fatal("queries should still answer after Close")
	}
}

func TestJournalTornTail(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.jsonl")
	good := fillJournal(t, base, 3) // 5 records

	// The line the next append would have written, for cutting.
	next := `{"seq":6,"prev":"` + strings.Repeat("ab", 32) + `","kind":"intent","time":"2025-11-26T12:00:09Z","trace_id":"` + tid(9) + `"`
	complete := func() string {
		lines := strings.SplitAfter(string(good), "\n")
		sum := sha256.Sum256([]byte(strings.TrimSuffix(lines[len(lines)-2], "\n")))
		in := testIntent(9)
		w := toWire(6, hex.EncodeToString(sum[:]), KindIntent, time.Date(2025, 11, 26, 13, 0, 0, 0, time.UTC), &Intent{
			Trace: in.Trace, AssetID: in.AssetID, RecipientID: in.RecipientID, Amount: in.Amount, Memo: in.Memo, Hash: in.ContentHash(),
		}, nil, nil, nil, nil)
		return string(w.appendLine(nil))
	}()

	tests := []struct {
		name     string
		tail     string
		complete bool
	}{
		{"cut mid-record", next[:len(next)/2], false},
		{"cut after the prefix", `{"se`, false},
		{"one byte", `{`, false},
		{"zeros after a crash", "\x00\x00\x00\x00\x00\x00\x00\x00", false},
		{"cut record then zeros", next[:40] + "\x00\x00\x00", false},
		{"whole record without newline", complete, true},
		{"lost page at the start of the line", strings.Repeat("\x00", 40) + complete[40:] + "\n", false},
		{"lost page inside the line", complete[:40] + strings.Repeat("\x00", 30) + complete[70:] + "\n", false},
		{"zeros with a newline", "\x00\x00\x00\x00\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".jsonl")
			if err := os.WriteFile(path, append(bytes.Clone(good), tt.tail...), 0o600); err != nil {
				t.Fatal(err)
			}
			j, rep := openT(t, path)
			if !rep.Intact() || !rep.TornTail || rep.TornOffset != int64(len(good)) || rep.TornLen != int64(len(tt.tail)) {
				t.Fatalf("report: %s\n%+v", rep, rep)
			}
			if string(rep.TornBytes) != tt.tail || rep.TornComplete != tt.complete {
				t.Fatalf("torn bytes %q complete %v", rep.TornBytes, rep.TornComplete)
			}
			if len(rep.Records) != 5 || rep.Count != 5 || j.Len() != 3 {
				t.Fatalf("complete records: %d (count %d)", len(rep.Records), rep.Count)
			}
			if !strings.Contains(rep.String(), "never acknowledged") {
				t.Fatalf("report does not explain the torn line: %s", rep)
			}
			if _, ok := j.Lookup(tid(9)); ok {
				t.Fatal("torn record reached the index")
			}
			// Opening alone changes nothing.
			if b, _ := os.ReadFile(path); len(b) != len(good)+len(tt.tail) {
				t.Fatal("Open changed the file")
			}
			must(t)(j.AppendIntent(testIntent(7)))
			must(t)(j.AppendDone(Done{Trace: tid(7), SnapshotID: sid(7)}))
			j.Close()

			b, _ := os.ReadFile(path)
			if !bytes.HasPrefix(b, good) || !bytes.HasPrefix(b[len(good):], []byte(`{"seq":6,`)) {
				t.Fatalf("append did not start on a fresh line:\n%s", b[len(good):])
			}
			_, rep2 := openT(t, path)
			if !rep2.Intact() || rep2.TornTail || len(rep2.Records) != 7 || rep2.HeadSeq != 7 {
				t.Fatalf("after repair: %s", rep2)
			}
		})
	}
}

// edit applies change to the lines of a copy of good (each line with its
// newline) and writes it to a new file.
func tamper(t *testing.T, good []byte, change func([]string) []string) string {
	t.Helper()
	lines := strings.SplitAfter(string(good), "\n")
	lines = lines[:len(lines)-1]
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	writeLines(t, path, change(lines))
	return path
}

func TestJournalTampering(t *testing.T) {
	good := fillJournal(t, filepath.Join(t.TempDir(), "good.jsonl"), 6)
	// Lines: 1 intent#1, 2 failed#1, 3 intent#2, 4 intent#3, 5 done#3,
	// 6 intent#4, 7 failed#4, 8 intent#5, 9 intent#6, 10 done#6.
	tests := []struct {
		name    string
		change  func([]string) []string
		line    int
		reason  Reason
		mention string
		records int
		inspect func(*testing.T, *Report)
	}{
		{
			name: "amount edited", line: 4, reason: ReasonContentHash, mention: "edited", records: 10,
			inspect: func(t *testing.T, rep *Report) {
				// The edited record is shown as it now reads.
				if r := rep.Records[3]; r.Line != 4 || r.Intent == nil || r.Intent.Amount != "9.5" {
					t.Fatalf("edited record: %+v", r)
				}
			},
			change: func(l []string) []string {
				l[3] = strings.Replace(l[3], `"amount":"1.5"`, `"amount":"9.5"`, 1)
				return l
			},
		},
		{
			name: "amount edited and hash recomputed", line: 5, reason: ReasonChain, mention: "line 4 was edited", records: 10,
			change: func(l []string) []string {
				in := testIntent(3)
				old := `"hash":"` + in.ContentHash() + `"`
				in.Amount = "9.5"
				l[3] = strings.Replace(l[3], `"amount":"1.5"`, `"amount":"9.5"`, 1)
				l[3] = strings.Replace(l[3], old, `"hash":"`+in.ContentHash()+`"`, 1)
				return l
			},
		},
		{
			name: "snapshot edited", line: 6, reason: ReasonChain, mention: "line 5", records: 10,
			change: func(l []string) []string {
				l[4] = strings.Replace(l[4], sid(3), sid(99), 1)
				return l
			},
		},
		{
			name: "middle record deleted", line: 5, reason: ReasonSeq, mention: "deleted", records: 9,
			change: func(l []string) []string { return append(l[:4:4], l[5:]...) },
		},
		{
			name: "first record deleted", line: 1, reason: ReasonSeq, mention: "deleted", records: 9,
			change: func(l []string) []string { return l[1:] },
		},
		{
			name: "records swapped", line: 4, reason: ReasonSeq, mention: "", records: 10,
			change: func(l []string) []string {
				l[3], l[4] = l[4], l[3]
				return l
			},
		},
		{
			name: "record copied", line: 5, reason: ReasonSeq, mention: "inserted", records: 11,
			change: func(l []string) []string { return append(l[:4:4], append([]string{l[3]}, l[4:]...)...) },
		},
		{
			name: "cut-short line in the middle", line: 3, reason: ReasonMalformed, mention: "not a crash remnant", records: 9,
			change: func(l []string) []string {
				l[2] = l[2][:30] + "\n"
				return l
			},
		},
		{
			name: "blank line in the middle", line: 3, reason: ReasonMalformed, mention: "", records: 10,
			change: func(l []string) []string { return append(l[:2:2], append([]string{"\n"}, l[2:]...)...) },
		},
		{
			name: "garbage last line with newline", line: 11, reason: ReasonMalformed, mention: "", records: 10,
			change: func(l []string) []string { return append(l, "hello world\n") },
		},
		{
			name: "blank last line", line: 11, reason: ReasonMalformed, mention: "", records: 10,
			change: func(l []string) []string { return append(l, "\n") },
		},
		{
			name: "edited last line without its newline", line: 11, reason: ReasonMalformed, mention: "mixdesk journal", records: 10,
			change: func(l []string) []string { return append(l, `{"kind":"done"}`) },
		},
		{
			name: "foreign last line without newline", line: 11, reason: ReasonMalformed, mention: "mixdesk journal", records: 10,
			change: func(l []string) []string { return append(l, "PRIVATE KEY") },
		},
		{
			name: "unknown field added", line: 2, reason: ReasonMalformed, mention: "unknown field", records: 9,
			change: func(l []string) []string {
				l[1] = strings.Replace(l[1], `{"seq":2,`, `{"seq":2,"pin":"123456",`, 1)
				return l
			},
		},
		{
			name: "outcome kind flipped", line: 3, reason: ReasonChain, mention: "line 2", records: 10,
			change: func(l []string) []string {
				l[1] = strings.Replace(l[1], `"kind":"failed"`, `"kind":"done"`, 1)
				l[1] = strings.Replace(l[1], `"code":20117,"description":"Insufficient balance."`, `"snapshot_id":"`+sid(1)+`"`, 1)
				return l
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tamper(t, good, tt.change)
			before, _ := os.ReadFile(path)
			j, rep := openT(t, path)
			if rep.Intact() || rep.FirstBad == nil {
				t.Fatalf("tampering not detected: %s", rep)
			}
			if rep.FirstBad.Line != tt.line || rep.FirstBad.Reason != tt.reason || !strings.Contains(rep.FirstBad.Detail, tt.mention) {
				t.Fatalf("first problem %+v, want line %d reason %s mentioning %q\n%s", *rep.FirstBad, tt.line, tt.reason, tt.mention, rep)
			}
			if len(rep.Records) != tt.records {
				t.Fatalf("%d readable records, want %d", len(rep.Records), tt.records)
			}
			if rep.TornTail {
				t.Fatal("tampering taken for a torn tail")
			}
			if tt.inspect != nil {
				tt.inspect(t, rep)
			}
			if !errors.Is(rep.Err(), ErrBroken) || !errors.Is(j.Err(), ErrBroken) {
				t.Fatalf("Err: %v / %v", rep.Err(), j.Err())
			}
			var be *BrokenError
			if _, err := j.AppendIntent(testIntent(50)); !errors.As(err, &be) || be.First.Line != tt.line {
				t.Fatalf("append on a broken journal: %v", err)
			}
			if _, err := j.AppendDone(Done{Trace: tid(2), SnapshotID: sid(2)}); !errors.Is(err, ErrBroken) {
				t.Fatalf("outcome on a broken journal: %v", err)
			}
			if !strings.Contains(be.Error(), fmt.Sprintf("line %d", tt.line)) || !strings.Contains(rep.String(), "appends are refused") {
				t.Fatalf("messages do not name the line: %v\n%s", be, rep)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Fatal("a broken journal was changed")
			}
		})
	}
}

func TestJournalGarbageFiles(t *testing.T) {
	inputs := map[string][]byte{
		"binary":          {0xff, 0xfe, 0x00, 0x01, '\n', 0x80, 0x81, '\n'},
		"json array":      []byte("[1,2,3]\n"),
		"null":            []byte("null\n"),
		"number":          []byte("{\"seq\":1e3}\n"),
		"deep":            []byte(strings.Repeat("[", 10000) + "\n"),
		"huge seq":        []byte(`{"seq":99999999999999999999999}` + "\n"),
		"bad utf8":        []byte("{\"seq\":1,\"memo\":\"\xff\"}\n"),
		"lone surrogate":  []byte(`{"seq":1,"memo":"\ud800"}` + "\n"),
		"empty object":    []byte("{}\n"),
		"text":            []byte("dear diary\n"),
		"zeros then text": []byte("\x00\x00abc"),
		"no newline":      []byte("PRIVATE KEY"),
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.jsonl")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			j, rep := openT(t, path)
			if rep.Intact() || rep.FirstBad == nil || rep.FirstBad.Line != 1 || rep.FirstBad.Reason != ReasonMalformed {
				t.Fatalf("report: %s", rep)
			}
			if _, err := j.AppendIntent(testIntent(1)); !errors.Is(err, ErrBroken) {
				t.Fatalf("append: %v", err)
			}
		})
	}
}

func TestJournalGuards(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, _ := openT(t, path)
	must(t)(j.AppendIntent(testIntent(1)))
	must(t)(j.AppendIntent(testIntent(2)))
	must(t)(j.AppendIntent(testIntent(3)))
	must(t)(j.AppendDone(Done{Trace: tid(1), SnapshotID: sid(1)}))
	must(t)(j.AppendFailed(Failed{Trace: tid(2), Code: 20119, Description: "PIN incorrect"}))
	seq, _ := j.Head()

	other := testIntent(1)
	other.Amount = "2"
	dupSame := testIntent(1)
	dupSame.BatchID = "b" // not part of the content hash

	var dup *DuplicateTraceError
	var conflict *OutcomeConflictError
	tests := []struct {
		name  string
		do    func() (Entry, error)
		check func(error) bool
	}{
		{"duplicate trace, same content", func() (Entry, error) { return j.AppendIntent(dupSame) },
			func(err error) bool {
				return errors.As(err, &dup) && dup.SameContent && dup.Existing.State == StateDone && dup.Existing.Done.SnapshotID == sid(1)
			}},
		{"duplicate trace, other amount", func() (Entry, error) { return j.AppendIntent(other) },
			func(err error) bool {
				return errors.As(err, &dup) && !dup.SameContent && errors.Is(err, ErrDuplicateTrace)
			}},
		{"done without intent", func() (Entry, error) { return j.AppendDone(Done{Trace: tid(9), SnapshotID: sid(9)}) },
			func(err error) bool { return errors.Is(err, ErrNoIntent) }},
		{"failed without intent", func() (Entry, error) { return j.AppendFailed(Failed{Trace: tid(9), Code: 1}) },
			func(err error) bool { return errors.Is(err, ErrNoIntent) }},
		{"failed after done", func() (Entry, error) { return j.AppendFailed(Failed{Trace: tid(1), Code: 500}) },
			func(err error) bool {
				return errors.As(err, &conflict) && conflict.Refused == KindFailed && errors.Is(err, ErrConflictingOutcome)
			}},
		{"done with another snapshot", func() (Entry, error) { return j.AppendDone(Done{Trace: tid(1), SnapshotID: sid(2)}) },
			func(err error) bool { return errors.As(err, &conflict) && conflict.Existing.Done.SnapshotID == sid(1) }},
		{"done after failed", func() (Entry, error) { return j.AppendDone(Done{Trace: tid(2), SnapshotID: sid(2)}) },
			func(err error) bool { return errors.Is(err, ErrConflictingOutcome) }},
		{"failed with another code", func() (Entry, error) { return j.AppendFailed(Failed{Trace: tid(2), Code: 20117}) },
			func(err error) bool { return errors.Is(err, ErrConflictingOutcome) }},
		{"bad trace", func() (Entry, error) { in := testIntent(4); in.Trace = "ABC"; return j.AppendIntent(in) },
			fieldIs("trace_id")},
		{"upper-case trace", func() (Entry, error) {
			in := testIntent(4)
			in.Trace = strings.ToUpper(tid(0xabcdef))
			return j.AppendIntent(in)
		}, fieldIs("trace_id")},
		{"bad asset", func() (Entry, error) { in := testIntent(4); in.AssetID = ""; return j.AppendIntent(in) }, fieldIs("asset_id")},
		{"bad recipient", func() (Entry, error) { in := testIntent(4); in.RecipientID = "x"; return j.AppendIntent(in) }, fieldIs("recipient_id")},
		{"zero amount", func() (Entry, error) { in := testIntent(4); in.Amount = "0.000"; return j.AppendIntent(in) }, fieldIs("amount")},
		{"negative amount", func() (Entry, error) { in := testIntent(4); in.Amount = "-1"; return j.AppendIntent(in) }, fieldIs("amount")},
		{"exponent amount", func() (Entry, error) { in := testIntent(4); in.Amount = "1e3"; return j.AppendIntent(in) }, fieldIs("amount")},
		{"point without digits", func() (Entry, error) { in := testIntent(4); in.Amount = "1."; return j.AppendIntent(in) }, fieldIs("amount")},
		{"memo not UTF-8", func() (Entry, error) { in := testIntent(4); in.Memo = "\xff"; return j.AppendIntent(in) }, fieldIs("memo")},
		{"memo too long", func() (Entry, error) {
			in := testIntent(4)
			in.Memo = strings.Repeat("x", MaxTextLen+1)
			return j.AppendIntent(in)
		}, fieldIs("memo")},
		{"hash not matching", func() (Entry, error) {
			in := testIntent(4)
			in.Hash = strings.Repeat("0", 64)
			return j.AppendIntent(in)
		}, fieldIs("hash")},
		{"done without snapshot", func() (Entry, error) { return j.AppendDone(Done{Trace: tid(3)}) }, fieldIs("snapshot_id")},
		{"bad closing balance", func() (Entry, error) {
			return j.AppendDone(Done{Trace: tid(3), SnapshotID: sid(3), ClosingBalance: "1,5"})
		}, fieldIs("closing_balance")},
		{"bad via", func() (Entry, error) {
			return j.AppendDone(Done{Trace: tid(3), SnapshotID: sid(3), Via: "carrier pigeon"})
		}, fieldIs("via")},
		{"failed without code", func() (Entry, error) { return j.AppendFailed(Failed{Trace: tid(3)}) }, fieldIs("code")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := tt.do()
			if err == nil || !tt.check(err) {
				t.Fatalf("got %v (%T)", err, err)
			}
			if !reflect.DeepEqual(e, Entry{}) {
				t.Fatalf("refusal returned an entry: %+v", e)
			}
		})
	}
	if s, _ := j.Head(); s != seq {
		t.Fatalf("refusals wrote records: seq %d -> %d", seq, s)
	}

	// Repeating an outcome changes nothing and returns the entry.
	if e, err := j.AppendDone(Done{Trace: tid(1), SnapshotID: sid(1), Via: ViaRecovery}); err != nil || e.State != StateDone || e.Done.Via != "" {
		t.Fatalf("repeated done: %+v %v", e, err)
	}
	if e, err := j.AppendFailed(Failed{Trace: tid(2), Code: 20119, Description: "PIN incorrect"}); err != nil || e.State != StateFailed {
		t.Fatalf("repeated failed: %+v %v", e, err)
	}
	if s, _ := j.Head(); s != seq {
		t.Fatalf("no-ops wrote records: seq %d -> %d", seq, s)
	}
	// The journal is still writable after refusals.
	must(t)(j.AppendDone(Done{Trace: tid(3), SnapshotID: sid(3), Via: ViaRecovery}))
}

func fieldIs(name string) func(error) bool {
	return func(err error) bool {
		var fe *FieldError
		return errors.As(err, &fe) && fe.Field == name && errors.Is(err, ErrInvalidRecord)
	}
}

func TestJournalIndexAfterReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	clock := newClock()
	j, _ := openT(t, path, WithClock(clock.now))
	for i := 1; i <= 6; i++ {
		must(t)(j.AppendIntent(testIntent(i)))
	}
	must(t)(j.AppendDone(Done{Trace: tid(2), SnapshotID: sid(2)}))
	must(t)(j.AppendFailed(Failed{Trace: tid(4), Code: 20117}))
	// The clock jumps back: Since must still find the entry.
	clock.set(time.Date(2025, 11, 26, 11, 0, 0, 0, time.UTC))
	must(t)(j.AppendIntent(testIntent(7)))

	check := func(j *Journal) {
		t.Helper()
		var inDoubt []string
		for _, in := range j.InDoubt() {
			inDoubt = append(inDoubt, in.Trace)
		}
		if want := []string{tid(1), tid(3), tid(5), tid(6), tid(7)}; !reflect.DeepEqual(inDoubt, want) {
			t.Fatalf("in doubt %v, want %v", inDoubt, want)
		}
		if j.Len() != 7 || len(j.Entries()) != 7 || j.Entries()[6].Intent.Trace != tid(7) {
			t.Fatalf("entries: %d", j.Len())
		}
		// testIntent(2) went to recipient 2; 4 (failed) to recipient 1.
		if !j.HasPaid(rcp(2)) || j.HasPaid(rcp(1)) || j.HasPaid(rcp(0)) {
			t.Fatal("HasPaid")
		}
		since := j.Since(time.Date(2025, 11, 26, 12, 0, 4, 0, time.UTC))
		var got []string
		for _, e := range since {
			got = append(got, e.Intent.Trace)
		}
		if want := []string{tid(4), tid(5), tid(6)}; !reflect.DeepEqual(got, want) {
			t.Fatalf("Since: %v, want %v", got, want)
		}
		if all := j.Since(time.Time{}); len(all) != 7 || all[0].Intent.Trace != tid(7) {
			t.Fatalf("Since(zero): %d entries, first %s", len(all), all[0].Intent.Trace)
		}
		if len(j.Since(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))) != 0 {
			t.Fatal("Since(future) not empty")
		}
		if e, ok := j.Lookup(tid(4)); !ok || e.State != StateFailed || e.Failed.Code != 20117 {
			t.Fatalf("Lookup: %+v", e)
		}
		if _, ok := j.Lookup(tid(99)); ok {
			t.Fatal("Lookup of an unknown trace")
		}
	}
	check(j)
	j.Close()
	j2, rep := openT(t, path)
	if !rep.Intact() {
		t.Fatal(rep)
	}
	check(j2)
}

func TestJournalSecondOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, _ := openT(t, path)
	if _, _, err := Open(path); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "in use by another mixdesk") {
		t.Fatalf("second Open: %v", err)
	}
	must(t)(j.AppendIntent(testIntent(1))) // the first is unharmed
	j.Close()
	j2, rep := openT(t, path)
	if !rep.Intact() || j2.Len() != 1 {
		t.Fatal(rep)
	}
}

// TestJournalLockHelper holds a journal open in a child process for
// TestJournalLockAcrossProcesses.
func TestJournalLockHelper(t *testing.T) {
	path := os.Getenv("MIXDESK_JOURNAL_LOCK_HELPER")
	if path == "" {
		t.Skip("helper process only")
	}
	j, _, err := Open(path)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin) // hold until the parent closes stdin
	j.Close()
}

func TestJournalLockAcrossProcesses(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("needs a child process with flock")
	}
	path := filepath.Join(t.TempDir(), "j.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^TestJournalLockHelper$")
	cmd.Env = append(os.Environ(), "MIXDESK_JOURNAL_LOCK_HELPER="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		stdin.Close()
		cmd.Wait()
		t.Fatalf("helper: %q", line)
	}
	_, _, err = Open(path)
	stdin.Close()
	cmd.Wait()
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("Open while another process holds the journal: %v", err)
	}
	openT(t, path) // released when the other process let go
}

func TestJournalConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, _ := openT(t, path)
	const writers, each = 8, 40
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() { // readers run beside the writers
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			j.InDoubt()
			j.Since(time.Now().Add(-time.Hour))
			j.Lookup(tid(1))
			j.HasPaid(rcp(1))
			j.Head()
		}
	}()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				n := w*1000 + i + 1
				if _, err := j.AppendIntent(testIntent(n)); err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 {
					if _, err := j.AppendDone(Done{Trace: tid(n), SnapshotID: sid(n)}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	if got := len(j.InDoubt()); got != writers*each/2 {
		t.Fatalf("in doubt: %d", got)
	}
	j.Close()
	_, rep := openT(t, path)
	if !rep.Intact() || len(rep.Records) != writers*each*3/2 || rep.HeadSeq != uint64(writers*each*3/2) {
		t.Fatalf("after concurrent appends: %s", rep)
	}
}

func TestContentHash(t *testing.T) {
	in := testIntent(1)
	enc := "mixdesk-intent-v1:36:" + testAsset + ",36:" + rcp(1) + ",3:1.5,5:row 1,36:" + tid(1) + ","
	sum := sha256.Sum256([]byte(enc))
	if got := in.ContentHash(); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("ContentHash = %s, want sha256(%q)", got, enc)
	}
	// Moving bytes between fields changes the hash.
	a := ContentHash("a", "b|c", "1", "", "t")
	b := ContentHash("a|b", "c", "1", "", "t")
	c := ContentHash("a", "b", "1", "c", "t")
	if a == b || a == c || b == c {
		t.Fatal("content hash is ambiguous")
	}
}

func TestLineCodec(t *testing.T) {
	// Everything the journal writes reads back unchanged, and agrees with
	// encoding/json.
	strs := []string{"", "plain", `"\`, "\x00\x01\x1f\x7f", "\u2028\u2029", "é工🎉", "</script>&"}
	for _, s := range strs {
		w := wireRecord{Seq: 1, Prev: genesisPrev, Kind: "failed", Time: "2025-01-01T00:00:00Z", Trace: tid(1), Code: -7, Desc: s}
		line := w.appendLine(nil)
		var back wireRecord
		if err := decodeLine(string(line), &back); err != nil || !back.sameValues(&w) {
			t.Fatalf("%q: %v %+v", s, err, back)
		}
		var m struct {
			Description string `json:"description"`
		}
		if err := json.Unmarshal(line, &m); err != nil || m.Description != s {
			t.Fatalf("%q: encoding/json reads %q, %v", s, m.Description, err)
		}
	}
	// Every byte value at every place of a string, against encoding/json
	// (the reader skips plain bytes eight at a time).
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 17; pos++ {
			v := []byte(strings.Repeat("a", 17))
			v[pos] = byte(c)
			line := `{"memo":"` + string(v) + `"}`
			var w wireRecord
			err := decodeLine(line, &w)
			plain := c >= 0x20 && c < 0x80 && c != '"' && c != '\\'
			if plain != (err == nil) {
				t.Fatalf("byte %#x at %d: %v", c, pos, err)
			}
			var m struct {
				Memo string `json:"memo"`
			}
			if err == nil && (json.Unmarshal([]byte(line), &m) != nil || m.Memo != w.Memo) {
				t.Fatalf("byte %#x at %d read as %q, encoding/json %q", c, pos, w.Memo, m.Memo)
			}
		}
	}
	// The reader takes JSON the journal itself would not write.
	var w wireRecord
	if err := decodeLine(` { "seq" : 12 , "memo" : "a\/b\u00e9\ud83c\udf89\n" } `, &w); err != nil || w.Seq != 12 || w.Memo != "a/bé🎉\n" {
		t.Fatalf("%v %+v", err, w)
	}
	bad := []string{
		``, `{`, `{"seq":1`, `{"seq":01}`, `{"seq":-1}`, `{"seq":1.0}`, `{"seq":"1"}`, `{"memo":1}`,
		`{"memo":"a}`, `{"memo":"\x"}`, `{"memo":"\u12"}`, `{"memo":"\udc00"}`, `{"memo":"\ud800\u0041"}`,
		`{"memo":"a","memo":"b"}`, `{"seq":1}x`, `{"seq":1,}`, `{,}`, `{"code":--1}`, "{\"memo\":\"\t\"}",
		`{"code":99999999999999999999}`, `{"seq":1 "kind":"x"}`, `{"x":1}`,
	}
	for _, s := range bad {
		var w wireRecord
		if err := decodeLine(s, &w); !errors.Is(err, errSyntax) {
			t.Errorf("decodeLine(%q) = %v", s, err)
		}
	}
}

// FuzzJournalLine checks that the line reader never panics and accepts only
// JSON that encoding/json reads the same way.
func FuzzJournalLine(f *testing.F) {
	seed := fillJournal(f, filepath.Join(f.TempDir(), "seed.jsonl"), 3)
	for _, l := range strings.Split(string(seed), "\n") {
		f.Add(l)
	}
	f.Add(`{"seq":1,"memo":"\ud83c\udf89\"\\"}`)
	f.Fuzz(func(t *testing.T, line string) {
		var w wireRecord
		if decodeLine(line, &w) != nil {
			return
		}
		var std struct {
			Seq       *uint64 `json:"seq"`
			Memo      *string `json:"memo"`
			Trace     *string `json:"trace_id"`
			Code      *int64  `json:"code"`
			Amount    *string `json:"amount"`
			Recipient *string `json:"recipient_id"`
		}
		if err := json.Unmarshal([]byte(line), &std); err != nil {
			t.Fatalf("accepted %q, encoding/json: %v", line, err)
		}
		if std.Memo != nil && *std.Memo != w.Memo || std.Seq != nil && *std.Seq != w.Seq ||
			std.Code != nil && *std.Code != w.Code || std.Trace != nil && *std.Trace != w.Trace {
			t.Fatalf("%q read differently: %+v", line, w)
		}
		var scratch []byte
		w.toRecord(&scratch)
	})
}

// FuzzJournalOpen checks that no file content makes Open panic or append
// to a journal that did not verify.
func FuzzJournalOpen(f *testing.F) {
	seed := fillJournal(f, filepath.Join(f.TempDir(), "seed.jsonl"), 3)
	f.Add(seed)
	f.Add(seed[:len(seed)-10])
	f.Add([]byte("{\"seq\":1}\n\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "j.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		j, rep, err := Open(path, WithOperator("o"), WithHost("h"))
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		_ = rep.String()
		_, err = j.AppendIntent(testIntent(1000))
		if !rep.Intact() {
			if !errors.Is(err, ErrBroken) {
				t.Fatalf("append to a broken journal: %v", err)
			}
			return
		}
		if err != nil && !errors.Is(err, ErrDuplicateTrace) {
			t.Fatal(err)
		}
		j.Close()
		j2, rep2, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		j2.Close()
		if !rep2.Intact() || rep2.TornTail {
			t.Fatalf("append on a verified journal left it broken: %s", rep2)
		}
	})
}
