package payout

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/rail"
)

func TestNewDeskOn(t *testing.T) {
	_, w, err := sandbox.NewWorld(sandbox.Options{Seed: 51, Operator: sandbox.SessionOptions{Kind: mixin.KeyEd25519}})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := mixin.NewSession(w.Operator)
	if err != nil {
		t.Fatal(err)
	}
	client, err := mixin.NewClient("http://127.0.0.1:1", sess)
	if err != nil {
		t.Fatal(err)
	}
	rl := legacyrail.New(client)
	j, _, err := journal.Open(filepath.Join(t.TempDir(), "j.jsonl"), journal.WithOperator("tester"), journal.WithHost("h"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	self := w.OperatorUser.UserID

	bad := []struct {
		name string
		rail rail.Rail
		j    *journal.Journal
		cfg  Config
	}{
		{"no rail", nil, j, Config{Self: self}},
		{"no journal", rl, nil, Config{Self: self}},
		{"no self", rl, j, Config{}},
		{"self not a UUID", rl, j, Config{Self: "treasury"}},
		{"threshold not a number", rl, j, Config{Self: self, LargeUSD: "lots"}},
		{"negative threshold", rl, j, Config{Self: self, LargeUSD: "-5"}},
		{"threshold with exponent", rl, j, Config{Self: self, LargeUSD: "1e3"}},
	}
	for _, c := range bad {
		if d, err := NewDeskOn(c.rail, c.j, c.cfg); err == nil || d != nil {
			t.Errorf("%s: NewDeskOn = %v, %v; want an error", c.name, d, err)
		}
	}

	d, err := NewDeskOn(rl, j, Config{Self: " " + strings.ToUpper(self) + " "})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Config(); got.Self != self || got.DuplicateWindow != DefaultDuplicateWindow || got.LargeUSD != "" {
		t.Errorf("Config() = %+v, want canonical self and the 6 h window", got)
	}
	if d.Journal() != j {
		t.Error("Journal() is not the journal given")
	}
	for _, th := range []string{"0", "2500", "0.5"} {
		if _, err := NewDeskOn(rl, j, Config{Self: self, LargeUSD: th, DuplicateWindow: time.Hour}); err != nil {
			t.Errorf("threshold %q refused: %v", th, err)
		}
	}
}

// TestDeskDuplicateWindow: a configured window replaces the 6 hours.
func TestDeskDuplicateWindow(t *testing.T) {
	r := newRig(t, 52, withClock(reviewStart), withConfig(Config{DuplicateWindow: time.Hour}))
	r.send(r.review(r.draft(0, "5", ""), nil))
	r.clock.Advance(59 * time.Minute)
	if rv := r.review(r.draft(0, "5", ""), nil); !hasWarning(rv, WarnDuplicate) {
		t.Fatalf("59 min later: warnings %v", warningKinds(rv))
	}
	r.clock.Advance(2 * time.Minute)
	if rv := r.review(r.draft(0, "5", ""), nil); hasWarning(rv, WarnDuplicate) {
		t.Fatalf("61 min later with a 1 h window: warnings %v", warningKinds(rv))
	}
}

// TestDeskSendsAcrossRestarts: what an operator does in a day, with the
// console closed and opened between payouts; the journal and the server
// agree at the end.
func TestDeskSendsAcrossRestarts(t *testing.T) {
	r := newRig(t, 53)
	ctx := context.Background()
	var sent []*Review
	for i := range 6 {
		rv := r.review(r.draft(i%4, "1.5", "day"), nil)
		if res := r.send(rv); res.State != journal.StateDone {
			t.Fatalf("payout %d: %+v", i, res)
		}
		sent = append(sent, rv)
		if i%2 == 1 {
			rep := r.restart()
			if !rep.Intact() || len(rep.Records) != 2*(i+1) {
				t.Fatalf("report after %d payouts: %s", i+1, rep)
			}
			if out, err := r.desk.Recover(ctx, ""); err != nil || len(out) != 0 {
				t.Fatalf("start-up recovery = %+v, %v", out, err)
			}
		}
	}
	for _, rv := range sent {
		r.wantOneDebit(rv)
		r.wantState(rv.TraceID, journal.StateDone)
	}
	if len(r.srv.Ledger()) != 6 || r.count.Posts() != 6 {
		t.Fatalf("ledger %d, posts %d; want 6 and 6", len(r.srv.Ledger()), r.count.Posts())
	}
	r.wantBal("operator", r.self.UserID, usdtID, "49991")
}
