package journal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// railJournal writes intents 1 to 4 at path: 1 with two rail states and
// done, 2 with one state and failed, 3 with two states in doubt, 4 in doubt
// without any. It returns the file's bytes.
func railJournal(t *testing.T, path string) []byte {
	t.Helper()
	j, _ := openT(t, path, WithClock(newClock().now))
	for i := 1; i <= 4; i++ {
		must(t)(j.AppendIntent(testIntent(i)))
	}
	must(t)(j.AppendRail(RailState{Trace: tid(1), Stage: "unsigned", Data: []byte("tx of 1")}))
	must(t)(j.AppendRail(RailState{Trace: tid(1), Stage: "signed", Data: []byte("signed tx of 1")}))
	must(t)(j.AppendDone(Done{Trace: tid(1), SnapshotID: sid(1), Via: ViaSend}))
	must(t)(j.AppendRail(RailState{Trace: tid(2), Stage: "unsigned", Data: []byte{0, 1, 2, 0xff}}))
	must(t)(j.AppendFailed(Failed{Trace: tid(2), Code: 429, Description: "rate limited"}))
	must(t)(j.AppendRail(RailState{Trace: tid(3), Stage: "unsigned", Data: []byte("tx of 3")}))
	must(t)(j.AppendPost(tid(3)))
	must(t)(j.AppendRail(RailState{Trace: tid(3), Stage: "signed", Data: bytes.Repeat([]byte{0xab}, 1000)}))
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestJournalRailRecords: a rail record is written as documented, kept in
// order with its entry while the entry is in doubt, handed back after a
// reopen, dropped from the index once the entry is settled (the file keeps
// it), and verified like every record.
func TestJournalRailRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	good := railJournal(t, path)
	lines := strings.Split(strings.TrimSuffix(string(good), "\n"), "\n")
	if len(lines) != 12 {
		t.Fatalf("%d lines", len(lines))
	}
	want := `,"kind":"rail","time":"2025-11-26T12:00:05.123456789Z","trace_id":"` + tid(1) +
		`","stage":"unsigned","data":"` + base64.StdEncoding.EncodeToString([]byte("tx of 1")) + `"}`
	if !strings.HasSuffix(lines[4], want) || !strings.HasPrefix(lines[4], `{"seq":5,"prev":"`) {
		t.Fatalf("rail line:\n%s\nwant it to end with\n%s", lines[4], want)
	}

	j, rep := openT(t, path)
	if !rep.Intact() || rep.TornTail || rep.Count != 12 {
		t.Fatalf("report: %s", rep)
	}
	var kinds []Kind
	for _, r := range rep.Records {
		kinds = append(kinds, r.Kind)
	}
	if r := rep.Records[11]; r.Kind != KindRail || r.Trace() != tid(3) || r.Rail.Stage != "signed" || r.Rail.Seq != 12 || len(r.Rail.Data) != 1000 {
		t.Fatalf("last record: %+v (kinds %v)", r, kinds)
	}
	for trace, states := range map[string][]string{tid(1): nil, tid(2): nil, tid(4): nil, tid(3): {"unsigned", "signed"}} {
		e, ok := j.Lookup(trace)
		if !ok {
			t.Fatalf("%s not found", trace)
		}
		var got []string
		for _, s := range e.Rail {
			got = append(got, s.Stage)
		}
		if !slices.Equal(got, states) {
			t.Fatalf("%s: states %v, want %v", trace, got, states)
		}
	}
	doubt := j.InDoubtEntries()
	if len(doubt) != 2 || doubt[0].Intent.Trace != tid(3) || len(doubt[0].Rail) != 2 || string(doubt[0].Rail[0].Data) != "tx of 3" ||
		!bytes.Equal(doubt[0].Rail[1].Data, bytes.Repeat([]byte{0xab}, 1000)) || doubt[0].Posts != 2 || len(doubt[1].Rail) != 0 {
		t.Fatalf("in doubt: %+v", doubt)
	}
	// A rail record is not a post: the last post is the post record's.
	if doubt[0].LastPost != rep.Records[10].Time || rep.Records[10].Kind != KindPost {
		t.Fatalf("last post %v, want the post record's %v", doubt[0].LastPost, rep.Records[10].Time)
	}

	// Appended now, the data is the journal's own copy.
	data := []byte("more")
	must(t)(j.AppendRail(RailState{Trace: tid(4), Stage: "x-1", Data: data}))
	data[0] = 'M'
	if e, _ := j.Lookup(tid(4)); len(e.Rail) != 1 || string(e.Rail[0].Data) != "more" || e.Rail[0].Seq != 13 {
		t.Fatalf("entry 4: %+v", e)
	}
	// Settled, the entry keeps no states in memory.
	must(t)(j.AppendDone(Done{Trace: tid(3), SnapshotID: sid(3)}))
	if e, _ := j.Lookup(tid(3)); len(e.Rail) != 0 || e.State != StateDone {
		t.Fatalf("settled entry: %+v", e)
	}
	j.Close()

	for _, check := range []func(string) (*Report, error){VerifyFile, CheckFile} {
		rep, err := check(path)
		if err != nil || !rep.Intact() || rep.Valid != 14 {
			t.Fatalf("verify: %v %s", err, rep)
		}
	}
}

// TestJournalRailRefusals: a rail record for a trace without an intent,
// after an outcome, with a bad stage or bad data is refused, and nothing is
// written.
func TestJournalRailRefusals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	railJournal(t, path)
	j, _ := openT(t, path)
	seq, _ := j.Head()
	for _, c := range []struct {
		name  string
		s     RailState
		check func(error) bool
	}{
		{"no intent", RailState{Trace: tid(9), Stage: "unsigned", Data: []byte("x")}, func(err error) bool { return errors.Is(err, ErrNoIntent) }},
		{"after done", RailState{Trace: tid(1), Stage: "signed", Data: []byte("x")}, func(err error) bool {
			var oc *OutcomeConflictError
			return errors.As(err, &oc) && oc.Refused == KindRail && strings.Contains(err.Error(), "a rail outcome is refused")
		}},
		{"after failed", RailState{Trace: tid(2), Stage: "signed", Data: []byte("x")}, func(err error) bool { return errors.Is(err, ErrConflictingOutcome) }},
		{"no stage", RailState{Trace: tid(3), Data: []byte("x")}, fieldIs("stage")},
		{"upper-case stage", RailState{Trace: tid(3), Stage: "Signed", Data: []byte("x")}, fieldIs("stage")},
		{"stage with a space", RailState{Trace: tid(3), Stage: "to sign", Data: []byte("x")}, fieldIs("stage")},
		{"long stage", RailState{Trace: tid(3), Stage: strings.Repeat("s", MaxStageLen+1), Data: []byte("x")}, fieldIs("stage")},
		{"no data", RailState{Trace: tid(3), Stage: "signed"}, fieldIs("data")},
		{"too much data", RailState{Trace: tid(3), Stage: "signed", Data: make([]byte, MaxRailData+1)}, fieldIs("data")},
		{"bad trace", RailState{Trace: "nope", Stage: "signed", Data: []byte("x")}, fieldIs("trace_id")},
	} {
		if _, err := j.AppendRail(c.s); err == nil || !c.check(err) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if s, _ := j.Head(); s != seq {
		t.Fatalf("refusals wrote records: seq %d -> %d", seq, s)
	}
	// The largest state is taken, and reads back.
	big := bytes.Repeat([]byte("0123456789abcdef"), MaxRailData/16)
	must(t)(j.AppendRail(RailState{Trace: tid(4), Stage: strings.Repeat("s", MaxStageLen), Data: big}))
	j.Close()
	j2, rep := openT(t, path)
	if e, _ := j2.Lookup(tid(4)); !rep.Intact() || len(e.Rail) != 1 || !bytes.Equal(e.Rail[0].Data, big) {
		t.Fatalf("big state after reopen: %s", rep)
	}
	j2.Close()
	if rep, err := CheckFile(path); err != nil || !rep.Intact() {
		t.Fatalf("check: %v %s", err, rep)
	}
}

// TestJournalRailTampering: a rail line that is edited, not canonical
// base64, out of place or of the wrong shape is found by verification.
func TestJournalRailTampering(t *testing.T) {
	good := railJournal(t, filepath.Join(t.TempDir(), "good.jsonl"))
	// Lines: 1-4 intents, 5 rail#1, 6 rail#1, 7 done#1, 8 rail#2, 9 failed#2,
	// 10 rail#3, 11 post#3, 12 rail#3.
	data1 := base64.StdEncoding.EncodeToString([]byte("tx of 1"))
	replace := func(line int, old, new string) func([]string) []string {
		return func(l []string) []string {
			if !strings.Contains(l[line-1], old) {
				t.Fatalf("line %d has no %q", line, old)
			}
			l[line-1] = strings.Replace(l[line-1], old, new, 1)
			return l
		}
	}
	for _, c := range []struct {
		name    string
		change  func([]string) []string
		line    int
		reason  Reason
		mention string
	}{
		{"data edited", replace(5, data1, base64.StdEncoding.EncodeToString([]byte("tx of 9"))), 6, ReasonChain, "line 5 was edited"},
		{"data with a line break", replace(12, `"data":"`, `"data":"\n`), 12, ReasonMalformed, "data not standard base64"},
		{"data not base64", replace(12, `"data":"`, `"data":"*`), 12, ReasonMalformed, "data not standard base64"},
		{"data without padding", replace(5, data1, strings.TrimRight(data1, "=")), 5, ReasonMalformed, "data not standard base64"},
		{"empty data", replace(8, base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff}), ""), 8, ReasonMalformed, "data missing"},
		{"stage missing", replace(5, `"stage":"unsigned",`, ``), 5, ReasonMalformed, `needs the field "stage"`},
		{"bad stage", replace(5, `"stage":"unsigned"`, `"stage":"Unsigned"`), 5, ReasonMalformed, "stage not lower-case"},
		{"memo on a rail record", replace(5, `"stage"`, `"memo":"m","stage"`), 5, ReasonMalformed, `has no field "memo"`},
		{"rail after the outcome", func(l []string) []string {
			// Line 12 (trace 3) made about trace 1, done at line 7.
			return replace(12, tid(3), tid(1))(l)
		}, 12, ReasonConflictingOutcome, "rail outcome is refused"},
		{"rail without intent", replace(12, tid(3), tid(9)), 12, ReasonOrphanOutcome, "no intent"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := tamper(t, good, c.change)
			for _, check := range []func(string) (*Report, error){VerifyFile, CheckFile} {
				rep, err := check(path)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Intact() || rep.FirstBad.Line != c.line || rep.FirstBad.Reason != c.reason || !strings.Contains(rep.FirstBad.Detail, c.mention) {
					t.Fatalf("report: %s\nfirst %+v", rep, rep.FirstBad)
				}
			}
			j, rep, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if _, err := j.AppendRail(RailState{Trace: tid(4), Stage: "unsigned", Data: []byte("x")}); !errors.Is(err, ErrBroken) || rep.Intact() {
				t.Fatalf("append on a broken journal: %v", err)
			}
		})
	}
}

// TestVerifyStreamAsOpenRail: a journal with rail records, and every
// damaged copy of it, gets the same report read a piece at a time, with or
// without the records, as Open's verification gives.
func TestVerifyStreamAsOpenRail(t *testing.T) {
	good := railJournal(t, filepath.Join(t.TempDir(), "good.jsonl"))
	for name, data := range journalVariants(good) {
		want := verify("j", data).report
		for _, piece := range []int{1, 64, 1 << 20} {
			for _, keep := range []bool{true, false} {
				v, err := verifyStream("j", bytes.NewReader(data), int64(len(data)), keep, piece, maxLineBytes)
				if err != nil {
					t.Fatal(err)
				}
				if diff := sameReport(v.report, want); diff != "" {
					t.Fatalf("%s, pieces of %d, keep %v: %s", name, piece, keep, diff)
				}
			}
		}
	}
}

// TestJournalCSVRail: a rail record is exported with its stage and the
// SHA-256 of its data, never the data itself.
func TestJournalCSVRail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	railJournal(t, path)
	rep, err := VerifyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteCSV(&b, rep.Records); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if !strings.HasSuffix(rows[0], ",row_key,stage,data_sha256") {
		t.Fatalf("header %q", rows[0])
	}
	row := strings.Split(rows[5], ",")
	if row[2] != "rail" || row[3] != tid(1) || row[19] != "unsigned" || row[20] != sha256Hex("tx of 1") {
		t.Fatalf("rail row %q", rows[5])
	}
	if strings.Contains(b.String(), base64.StdEncoding.EncodeToString([]byte("tx of 1"))) {
		t.Fatal("the export holds the data")
	}
}
