package payout

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/rail"
)

// secondConsole is another console on the rig's account: its own journal
// (another data directory, another machine) and its own client and desk,
// with the rig's configuration.
func secondConsole(t *testing.T, r *rig) *Desk {
	t.Helper()
	j, _, err := journal.Open(filepath.Join(t.TempDir(), "other-machine", "journal.jsonl"), journal.WithOperator("bob"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	d, err := NewDeskOn(legacyrail.New(r.newClient()), j, r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDailyCapCountsOtherConsoles: two consoles hold profiles of one
// account; what the first paid counts against the second's daily cap, on
// review and again on send, and the confirmation says how much came from
// elsewhere. Each movement is counted once.
func TestDailyCapCountsOtherConsoles(t *testing.T) {
	r := newRig(t, 301, withConfig(usdtCaps("", "100")))
	ctx := context.Background()
	other := secondConsole(t, r)

	r.send(r.review(r.draft(0, "60", ""), nil))
	r.send(r.review(r.draft(1, "30", ""), nil))

	// Only the first console's payouts push the second over its cap.
	_, err := other.Review(ctx, r.draft(2, "10.5", ""), nil)
	wantCapRefusal(t, err, "daily cap 100 USDT", "used 90 (90 of it by other consoles)", "left 10")
	rv, err := other.Review(ctx, r.draft(2, "10", ""), nil)
	if err != nil {
		t.Fatalf("the rest of the cap: %v", err)
	}
	if !rv.Caps.Used.Equal(decimal.NewFromInt(90)) || !rv.Caps.UsedElsewhere.Equal(decimal.NewFromInt(90)) {
		t.Fatalf("caps %+v, want used 90, all of it elsewhere", rv.Caps)
	}

	// The first console pays again after the second's review: the second's
	// send sees it and refuses, nothing posted, nothing recorded.
	r.send(r.review(r.draft(0, "5", ""), nil))
	posts := r.count.Posts()
	_, err = other.Send(ctx, rv, r.pin)
	var ce *CapError
	if !errors.As(err, &ce) || ce.Kind != CapDaily || !ce.Used.Equal(decimal.NewFromInt(95)) {
		t.Fatalf("Send = %v, want a daily cap refusal with 95 used", err)
	}
	if r.count.Posts() != posts || other.Journal().Len() != 0 {
		t.Fatalf("a refused send posted %d, recorded %d", r.count.Posts()-posts, other.Journal().Len())
	}

	// The second console pays 5; the first now counts it from the rail and
	// its own payouts once each.
	rv2, err := other.Review(ctx, r.draft(2, "5", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := other.Send(ctx, rv2, r.pin); err != nil || res.State != journal.StateDone {
		t.Fatalf("second console's payout: %+v, %v", res, err)
	}
	_, err = r.desk.Review(ctx, r.draft(1, "0.00000001", ""), nil)
	wantCapRefusal(t, err, "used 100 (5 of it by other consoles)", "left 0")
}

// TestDuplicateWarningAcrossConsoles: the same amount to the same person
// paid by another console is a duplicate, said to come from elsewhere, in
// a review and in a batch.
func TestDuplicateWarningAcrossConsoles(t *testing.T) {
	r := newRig(t, 302)
	ctx := context.Background()
	other := secondConsole(t, r)
	r.send(r.review(r.draft(0, "42", "March"), nil))

	rv, err := other.Review(ctx, r.draft(0, "42", "again"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var text string
	for _, w := range rv.Warnings {
		if w.Kind == WarnDuplicate {
			text = w.Text
		}
	}
	if !strings.Contains(text, "42 USDT was already sent to") || !strings.Contains(text, "another console") {
		t.Fatalf("warnings %+v, want a duplicate from another console", rv.Warnings)
	}

	f, err := ParseBatch(strings.NewReader(csvOf("recipient,asset,amount",
		r.users[0].UserID+",USDT,42", r.users[1].UserID+",USDT,42")), "b.csv")
	if err != nil {
		t.Fatal(err)
	}
	held, err := other.Rail().Asset(ctx, usdtID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := other.PrepareBatchWith(ctx, f, []rail.Asset{*held})
	if err != nil {
		t.Fatal(err)
	}
	dups := b.Duplicates()
	if len(dups) != 1 || dups[0].Kind != DupRecent || !dups[0].Elsewhere || dups[0].UserID != r.users[0].UserID {
		t.Fatalf("duplicates %+v, want row 1 like a payout of another console", dups)
	}
}

// TestDailyCapCountsALateExecution: a payout confirmed at T0, left in doubt
// and re-posted by the recovery two hours later moved at T0+2h; 24 hours
// after its intent it is still inside the window by its movement, and
// counts (it once stopped counting when its intent left the window).
func TestDailyCapCountsALateExecution(t *testing.T) {
	r := newRig(t, 303, withClock(reviewStart), withConfig(usdtCaps("", "100")))
	ctx := context.Background()
	rv := r.review(r.draft(0, "80", ""), nil)
	r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultServerError, Status: 500, Times: 10})
	res, _ := r.desk.Send(ctx, rv, r.pin)
	if res.State != journal.StateInDoubt || len(r.debits(res.TraceID)) != 0 {
		t.Fatalf("state %v; want in doubt, nothing moved", res.State)
	}
	r.srv.ClearFaults()
	r.clock.Advance(2 * time.Hour)
	if out, err := r.desk.Recover(ctx, r.pin); err != nil || len(out) != 1 || out[0].State != journal.StateDone {
		t.Fatalf("recover %+v %v", out, err)
	}
	r.clock.Advance(22*time.Hour + 30*time.Minute)
	_, err := r.desk.Review(ctx, r.draft(1, "90", ""), nil)
	wantCapRefusal(t, err, "used 80", "left 20")
}

// TestDailyCapCountsAMovementWithoutTime: a movement out that the rail
// lists without a time cannot be shown to be outside the window: it
// counts, rather than letting a payout past the cap.
func TestDailyCapCountsAMovementWithoutTime(t *testing.T) {
	j, _, err := journal.Open(filepath.Join(t.TempDir(), "j.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	now := time.Now()
	f := &fakeSnaps{snaps: []rail.Movement{
		{SnapshotID: fakeID(1, 1), AssetID: usdtID, OpponentID: fakeID(2, 1), Amount: "-10", CreatedAt: now.Add(-time.Hour)},
		{SnapshotID: fakeID(1, 2), AssetID: usdtID, OpponentID: fakeID(2, 2), Amount: "-50"},
	}}
	d, err := NewDeskOn(f, j, Config{Self: fakeID(5, 1), Limits: map[string]AssetLimit{usdtID: {Daily: "100"}}})
	if err != nil {
		t.Fatal(err)
	}
	st, over, err := d.checkCaps(context.Background(), usdtID, decimal.NewFromInt(80), now, "")
	if err != nil || over == nil || !over.Used.Equal(decimal.NewFromInt(60)) {
		t.Fatalf("checkCaps = %+v, %v, %v; want 80 refused with 60 used", st, over, err)
	}
}
