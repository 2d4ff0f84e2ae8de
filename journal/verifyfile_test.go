package journal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// holdInOtherProcess opens the journal at path in a child process (the
// lock helper of journal_test.go) until the test ends.
func holdInOtherProcess(t *testing.T, path string) {
	t.Helper()
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
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		t.Fatalf("lock helper: %q", line)
	}
	if _, _, err := Open(path); !errors.Is(err, ErrInUse) {
		t.Fatalf("the journal is not held: %v", err)
	}
}

func TestVerifyFileGoodWhileLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal-main.jsonl")
	good := fillJournal(t, path, 6)
	if runtime.GOOS == "windows" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		openT(t, path) // held in this process
	} else {
		holdInOtherProcess(t, path)
	}
	rep, err := VerifyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Intact() || rep.Count != 10 || len(rep.Records) != 10 || rep.HeadSeq != 10 || rep.TornTail || rep.IntactLines() != 10 {
		t.Fatalf("report %s\n%+v", rep, rep)
	}
	lines := strings.SplitAfter(string(good), "\n")
	if want := sha256Hex(strings.TrimSuffix(lines[9], "\n")); rep.HeadHash != want {
		t.Fatalf("head hash %s, want %s", rep.HeadHash, want)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, good) {
		t.Fatal("VerifyFile changed the file")
	}
}

func TestVerifyFileTampered(t *testing.T) {
	good := fillJournal(t, filepath.Join(t.TempDir(), "good.jsonl"), 6)
	// Lines: 1 intent#1, 2 failed#1, 3 intent#2, 4 intent#3, 5 done#3, ...
	cases := []struct {
		name   string
		change func([]string) []string
		line   int
		reason Reason
		intact int
	}{
		{"amount edited", func(l []string) []string {
			l[3] = strings.Replace(l[3], `"amount":"1.5"`, `"amount":"9.5"`, 1)
			return l
		}, 4, ReasonContentHash, 3},
		{"snapshot edited", func(l []string) []string {
			l[4] = strings.Replace(l[4], sid(3), sid(99), 1)
			return l
		}, 6, ReasonChain, 4},
		{"record deleted", func(l []string) []string { return append(l[:4:4], l[5:]...) }, 5, ReasonSeq, 3},
		{"line damaged", func(l []string) []string {
			l[2] = l[2][:30] + "\n"
			return l
		}, 3, ReasonMalformed, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := tamper(t, good, c.change)
			before, _ := os.ReadFile(path)
			openT(t, path) // a console holds it
			rep, err := VerifyFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Intact() || rep.FirstBad.Line != c.line || rep.FirstBad.Reason != c.reason {
				t.Fatalf("report %s", rep)
			}
			if got := rep.IntactLines(); got != c.intact {
				t.Fatalf("IntactLines = %d, want %d", got, c.intact)
			}
			if !errors.Is(rep.Err(), ErrBroken) {
				t.Fatalf("Err = %v", rep.Err())
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Fatal("VerifyFile changed the file")
			}
		})
	}
}

// TestVerifyFileTornTail: a torn last line is reported and left in place
// (Open would cut it off before its next append; VerifyFile never does).
func TestVerifyFileTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	good := fillJournal(t, path, 3)
	torn := append(bytes.Clone(good), `{"seq":6,"prev":"ab`...)
	if err := os.WriteFile(path, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	openT(t, path)
	rep, err := VerifyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Intact() || !rep.TornTail || rep.TornOffset != int64(len(good)) || rep.Count != 5 || rep.HeadSeq != 5 {
		t.Fatalf("report %s\n%+v", rep, rep)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, torn) {
		t.Fatal("VerifyFile cut the torn line off")
	}
}

// TestCheckFile: CheckFile gives VerifyFile's report without the records.
func TestCheckFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	fillJournal(t, path, 7)
	want, err := VerifyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := CheckFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Records != nil || got.Valid != 12 || !got.Intact() {
		t.Fatalf("CheckFile: %s\n%+v", got, got)
	}
	if diff := sameReport(got, want); diff != "" {
		t.Fatal(diff)
	}
	if got.String() != want.String() {
		t.Fatalf("CheckFile says %q, VerifyFile %q", got, want)
	}
	if _, err := CheckFile(filepath.Join(t.TempDir(), "none.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestVerifyFileErrors(t *testing.T) {
	if _, err := VerifyFile(filepath.Join(t.TempDir(), "none.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := VerifyFile(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("directory: %v", err)
	}
	if _, err := VerifyFile(""); err == nil {
		t.Fatal("empty path accepted")
	}
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	os.WriteFile(empty, nil, 0o600)
	if rep, err := VerifyFile(empty); err != nil || !rep.Intact() || rep.Count != 0 || rep.HeadHash != genesisPrev {
		t.Fatalf("empty journal: %v %+v", err, rep)
	}
}

func TestJournalCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, _ := openT(t, path, WithClock(newClock().now))
	in := testIntent(1)
	in.Memo = "=HYPERLINK(\"http://x\")"
	in.BatchID, in.RowKey = "b-1", "+row"
	must(t)(j.AppendIntent(in))
	must(t)(j.AppendDone(Done{Trace: tid(1), SnapshotID: sid(1), ClosingBalance: "98.5", Via: ViaSend}))
	must(t)(j.AppendIntent(testIntent(2)))
	must(t)(j.AppendFailed(Failed{Trace: tid(2), Code: 20117, Description: "-Insufficient, balance."}))
	j.Close()
	rep, err := VerifyFile(path)
	if err != nil || !rep.Intact() {
		t.Fatal(err, rep)
	}

	out := filepath.Join(t.TempDir(), "audit.csv")
	if err := SaveCSV(out, rep.Records); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v", fi.Mode())
		}
	}
	f, _ := os.Open(out)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 5 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	if got := strings.Join(rows[0], ","); got != "seq,time,kind,trace_id,asset_id,recipient_id,amount,memo,operator,host,snapshot_id,closing_balance,code,description,hash,prev,via,batch_id,row_key,stage,data_sha256" {
		t.Fatalf("header %s", got)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	intent, done, failed := rows[1], rows[2], rows[4]
	checks := []struct{ got, want string }{
		{intent[col["seq"]], "1"}, {intent[col["kind"]], "intent"}, {intent[col["trace_id"]], tid(1)},
		{intent[col["asset_id"]], testAsset}, {intent[col["recipient_id"]], in.RecipientID}, {intent[col["amount"]], "1.5"},
		{intent[col["memo"]], "'" + in.Memo}, {intent[col["operator"]], "alice"}, {intent[col["host"]], "desk-1"},
		{intent[col["hash"]], in.ContentHash()}, {intent[col["prev"]], genesisPrev}, {intent[col["batch_id"]], "b-1"},
		{intent[col["row_key"]], "'+row"}, {intent[col["snapshot_id"]], ""}, {intent[col["time"]], rep.Records[0].Time.Format("2006-01-02T15:04:05.999999999Z07:00")},
		{done[col["kind"]], "done"}, {done[col["snapshot_id"]], sid(1)}, {done[col["closing_balance"]], "98.5"}, {done[col["via"]], "send"},
		{done[col["amount"]], ""}, {done[col["trace_id"]], tid(1)},
		{failed[col["seq"]], "4"}, {failed[col["code"]], "20117"}, {failed[col["description"]], "'-Insufficient, balance."},
		{failed[col["prev"]], rep.Records[3].Prev},
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("check %d: %q, want %q", i, c.got, c.want)
		}
	}
	if err := SaveCSV(out, rep.Records); !errors.Is(err, os.ErrExist) {
		t.Fatalf("second export to the same file: %v", err)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// journalVariants are the good journal and damaged copies of it: lines
// deleted, repeated, swapped, edited, and ends cut short, padded with
// zeros, or followed by garbage, with or without a newline.
func journalVariants(good []byte) map[string][]byte {
	lines := strings.SplitAfter(string(good), "\n")
	lines = lines[:len(lines)-1]
	join := func(ls []string) []byte { return []byte(strings.Join(ls, "")) }
	with := func(change func(ls []string) []string) []byte { return join(change(slices.Clone(lines))) }
	n := len(lines)
	out := map[string][]byte{"good": good, "empty": nil, "newline only": []byte("\n")}
	for k := range n {
		out[fmt.Sprintf("line %d deleted", k+1)] = with(func(ls []string) []string { return slices.Delete(ls, k, k+1) })
		out[fmt.Sprintf("line %d twice", k+1)] = with(func(ls []string) []string { return slices.Insert(ls, k, ls[k]) })
		out[fmt.Sprintf("line %d moved to the end", k+1)] = with(func(ls []string) []string { return append(slices.Delete(ls, k, k+1), ls[k]) })
		out[fmt.Sprintf("line %d zeros", k+1)] = with(func(ls []string) []string {
			ls[k] = strings.Repeat("\x00", len(ls[k])-1) + "\n"
			return ls
		})
		out[fmt.Sprintf("line %d cut", k+1)] = with(func(ls []string) []string {
			ls[k] = ls[k][:len(ls[k])/2] + "\n"
			return ls
		})
		out[fmt.Sprintf("line %d byte changed", k+1)] = with(func(ls []string) []string {
			b := []byte(ls[k])
			b[len(b)/3] ^= 1
			ls[k] = string(b)
			return ls
		})
	}
	last := lines[n-1]
	for _, cut := range []int{1, 3, 7, 20, len(last) / 2, len(last) - 2, len(last) - 1} {
		out[fmt.Sprintf("last line cut at %d", cut)] = append(join(lines[:n-1]), last[:cut]...)
		out[fmt.Sprintf("last line cut at %d, zeros", cut)] = append(append(join(lines[:n-1]), last[:cut]...), make([]byte, 50)...)
		out[fmt.Sprintf("last line cut at %d, zeros, newline", cut)] = append(append(join(lines[:n-1]), last[:cut]...), "\x00\x00\n"...)
	}
	out["zeros at the end"] = append(bytes.Clone(good), make([]byte, 300)...)
	out["zeros and newline at the end"] = append(bytes.Clone(good), "\x00\x00\x00\n"...)
	out["garbage at the end"] = append(bytes.Clone(good), "hello"...)
	out["garbage line at the end"] = append(bytes.Clone(good), "hello\n"...)
	out["blank line at the end"] = append(bytes.Clone(good), '\n')
	out["line 1 alone, cut"] = []byte(lines[0][:25])
	out["not a journal"] = []byte("a,b,c\n1,2,3\n")
	return out
}

// sameReport reports how got differs from want, "" when it does not.
// Records are compared when both reports keep them.
func sameReport(got, want *Report) string {
	g, w := *got, *want
	if g.Records != nil && w.Records != nil && !reflect.DeepEqual(g.Records, w.Records) {
		return "records differ"
	}
	if g.Valid != len(w.Records) {
		return fmt.Sprintf("%d valid records, want %d", g.Valid, len(w.Records))
	}
	g.Records, w.Records, g.Valid, w.Valid = nil, nil, 0, 0
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("got  %+v\nwant %+v", g, w)
	}
	return ""
}

// TestVerifyStreamAsOpen: read a piece at a time, with the records kept or
// not, every damaged journal gets the report Open's verification (the
// whole file at once) gives, wherever the pieces end.
func TestVerifyStreamAsOpen(t *testing.T) {
	good := fillJournal(t, filepath.Join(t.TempDir(), "good.jsonl"), 12)
	// A journal whose refusals have long descriptions, which a check
	// without the records keeps as digests.
	path := filepath.Join(t.TempDir(), "long.jsonl")
	j, _ := openT(t, path, WithClock(newClock().now))
	for i := 1; i <= 4; i++ {
		must(t)(j.AppendIntent(testIntent(i)))
		must(t)(j.AppendFailed(Failed{Trace: tid(i), Code: 20117, Description: strings.Repeat("insufficient balance ", 3+i%2)}))
	}
	j.Close()
	long, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	variants := journalVariants(good)
	for name, data := range journalVariants(long) {
		variants["long descriptions, "+name] = data
	}
	lines := strings.SplitAfter(string(long), "\n")
	// After line 6, trace 3's refusal, a refusal of trace 3 with another
	// description (trace 2's).
	other := []byte(strings.Join(slices.Insert(lines[:len(lines)-1], 6, strings.Replace(lines[3], tid(2), tid(3), 1)), ""))
	if rep := verify("j", other).report; !slices.ContainsFunc(rep.Problems, func(p Problem) bool { return p.Reason == ReasonConflictingOutcome }) {
		t.Fatalf("no conflicting outcome found: %s", rep)
	}
	variants["long descriptions, another refusal"] = other
	for name, data := range variants {
		want := verify("j", data).report
		if want.Valid != len(want.Records) {
			t.Fatalf("%s: verify counts %d valid records and keeps %d", name, want.Valid, len(want.Records))
		}
		for _, piece := range []int{1, 5, 64, 333, 1 << 20} {
			for _, keep := range []bool{true, false} {
				v, err := verifyStream("j", bytes.NewReader(data), int64(len(data)), keep, piece, maxLineBytes)
				if err != nil {
					t.Fatal(err)
				}
				if diff := sameReport(v.report, want); diff != "" {
					t.Fatalf("%s, pieces of %d, keep %v: %s", name, piece, keep, diff)
				}
				if keep != (v.report.Records != nil) && len(want.Records) > 0 {
					t.Fatalf("%s: records kept %v, want %v", name, v.report.Records != nil, keep)
				}
			}
		}
	}
}

// TestVerifyStreamLongLines: a line longer than any record is not read
// whole: it is a malformed line (the chain goes on past it), and at the
// end of the file it is never taken for a crash remnant.
func TestVerifyStreamLongLines(t *testing.T) {
	good := fillJournal(t, filepath.Join(t.TempDir(), "good.jsonl"), 3)
	lines := strings.SplitAfter(string(good), "\n")
	const maxLine = 1000
	long := `{"seq":3,` + strings.Repeat("x", 5000)
	for _, c := range []struct {
		name     string
		data     string
		problems []Problem
		count    int
		tornTail bool
	}{
		{"in the middle", lines[0] + lines[1] + long + "\n" + lines[2] + lines[3], []Problem{
			{Line: 3, Reason: ReasonMalformed}, {Line: 4, Reason: ReasonChain}}, 5, false},
		{"last, with newline", lines[0] + lines[1] + long + "\n", []Problem{{Line: 3, Reason: ReasonMalformed}}, 3, false},
		{"last, without newline", lines[0] + lines[1] + long, []Problem{{Line: 3, Reason: ReasonMalformed}}, 2, false},
	} {
		for _, piece := range []int{7, 100, 4096} {
			for _, keep := range []bool{true, false} {
				data := []byte(c.data)
				v, err := verifyStream("j", bytes.NewReader(data), int64(len(data)), keep, piece, maxLine)
				if err != nil {
					t.Fatal(err)
				}
				rep := v.report
				var got []Problem
				for _, p := range rep.Problems {
					got = append(got, Problem{Line: p.Line, Reason: p.Reason})
				}
				if !slices.Equal(got, c.problems) || rep.Count != c.count || rep.TornTail != c.tornTail || rep.Size != int64(len(data)) {
					t.Fatalf("%s, pieces of %d: %s\n%+v", c.name, piece, rep, rep)
				}
				if c.name == "in the middle" && rep.HeadSeq != 4 {
					t.Fatalf("%s: head seq %d, want 4", c.name, rep.HeadSeq)
				}
			}
		}
	}
}
