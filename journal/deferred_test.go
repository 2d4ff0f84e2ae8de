package journal

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
)

// TestAppendRailDeferred: a rail state appended without waiting for the
// disk is in the entry at once, costs no fsync, is made durable by the next
// durable append, and is refused where AppendRail refuses one.
func TestAppendRailDeferred(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, _ := openT(t, path, WithClock(newClock().now))
	must(t)(j.AppendIntent(testIntent(1)))
	syncs := j.Syncs()
	e, err := j.AppendRailDeferred(RailState{Trace: tid(1), Stage: "unsigned", Data: []byte("tx of 1")})
	if err != nil || len(e.Rail) != 1 || string(e.Rail[0].Data) != "tx of 1" || e.State != StateInDoubt {
		t.Fatalf("AppendRailDeferred = %+v, %v", e, err)
	}
	if j.Syncs() != syncs {
		t.Fatal("a deferred rail state was fsynced")
	}
	must(t)(j.AppendRail(RailState{Trace: tid(1), Stage: "signed", Data: []byte("signed tx of 1")}))
	if j.Syncs() != syncs+1 {
		t.Fatalf("%d fsyncs for the durable state", j.Syncs()-syncs)
	}
	if _, err := j.AppendRailDeferred(RailState{Trace: tid(2), Stage: "unsigned", Data: []byte("x")}); !errors.Is(err, ErrNoIntent) {
		t.Fatalf("a state without an intent: %v", err)
	}
	if _, err := j.AppendRailDeferred(RailState{Trace: tid(1), Stage: "Unsigned", Data: []byte("x")}); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("a bad stage: %v", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j, rep := openT(t, path)
	defer j.Close()
	e, _ = j.Lookup(tid(1))
	if !rep.Intact() || len(e.Rail) != 2 || !slices.Equal([]string{e.Rail[0].Stage, e.Rail[1].Stage}, []string{"unsigned", "signed"}) {
		t.Fatalf("after a reopen: %s %+v", rep, e.Rail)
	}
}
