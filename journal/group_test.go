package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestJournalGroupAppend: a group of intents is written whole, with one
// fsync, or not at all; deferred done outcomes are in the index at once,
// durable after SyncDeferred, and a lost one leaves its intent in doubt.
func TestJournalGroupAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, _, err := Open(path, WithOperator("op"), WithHost("h"))
	if err != nil {
		t.Fatal(err)
	}
	var fsyncs int
	j.fsync = func(f *os.File) error { fsyncs++; return f.Sync() }
	in := func(i int) Intent {
		return Intent{Trace: tid(i), AssetID: testAsset, RecipientID: rcp(i), Amount: "1.5", BatchID: "b-00", RowKey: fmt.Sprint("k", i)}
	}
	if _, err := j.AppendIntents([]Intent{in(1), in(2), in(3)}); err != nil || fsyncs != 1 || j.Len() != 3 {
		t.Fatalf("AppendIntents: %v, %d fsyncs, %d entries", err, fsyncs, j.Len())
	}
	size := fileSize(t, path)
	// A group is written whole or not at all.
	for _, bad := range [][]Intent{{in(4), in(4)}, {in(5), in(2)}, {in(6), {Trace: "x"}}} {
		if _, err := j.AppendIntents(bad); err == nil {
			t.Fatalf("AppendIntents(%v) accepted", bad)
		}
		if fileSize(t, path) != size || j.Len() != 3 {
			t.Fatal("a refused group left something behind")
		}
	}
	if _, err := j.AppendIntents([]Intent{in(2)}); !errors.Is(err, ErrDuplicateTrace) {
		t.Fatalf("repeat intent: %v", err)
	}
	done := func(i int) Done { return Done{Trace: tid(i), SnapshotID: sid(i), Via: ViaSend} }
	if _, err := j.AppendDonesDeferred([]Done{done(1), done(2)}); err != nil || fsyncs != 1 || !j.deferred {
		t.Fatalf("deferred: %v, %d fsyncs", err, fsyncs)
	}
	if e, _ := j.Lookup(tid(2)); e.State != StateDone {
		t.Fatal("a deferred outcome is not in the index")
	}
	// A repeat of a recorded outcome is harmless and writes nothing.
	written := fileSize(t, path)
	if es, err := j.AppendDonesDeferred([]Done{done(1)}); err != nil || es[0].State != StateDone || fileSize(t, path) != written {
		t.Fatalf("repeat: %v", err)
	}
	if err := j.SyncDeferred(); err != nil || fsyncs != 2 || j.deferred {
		t.Fatalf("SyncDeferred: %v, %d fsyncs", err, fsyncs)
	}
	if err := j.SyncDeferred(); err != nil || fsyncs != 2 {
		t.Fatal("a second sync with nothing deferred fsynced")
	}
	if j.Syncs() != uint64(fsyncs) {
		t.Fatalf("Syncs = %d after %d fsyncs", j.Syncs(), fsyncs)
	}
	if _, err := j.AppendDonesDeferred([]Done{done(3)}); err != nil {
		t.Fatal(err)
	}
	// A done record lost in a crash leaves its intent in doubt.
	lost := fileSize(t, path)
	j.Close()
	if err := os.Truncate(path, written); err != nil {
		t.Fatal(err)
	}
	j, rep, err := Open(path)
	if err != nil || !rep.Intact() || rep.Count != 5 {
		t.Fatalf("reopen: %v %s", err, rep)
	}
	defer j.Close()
	if e, _ := j.Lookup(tid(3)); e.State != StateInDoubt || lost <= written {
		t.Fatalf("the lost outcome: %+v", e)
	}
	if e, _ := j.Lookup(tid(1)); e.State != StateDone || e.Intent.BatchID != "b-00" || e.Intent.RowKey != "k1" {
		t.Fatalf("entry 1: %+v", e)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
