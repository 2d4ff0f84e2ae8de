package saferail_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mixdesk/journal"
	"mixdesk/payout"
	"mixdesk/payout/saferail"
)

// TestSafeConsolesShareTheDailyCap: two consoles (two journals, two rails)
// on one Safe account: the first one's payouts count against the second
// one's daily cap, and the duplicate warning fires across them.
func TestSafeConsolesShareTheDailyCap(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cfg := payout.Config{Self: w.rail.Self(), PostWindow: time.Nanosecond,
		Limits: map[string]payout.AssetLimit{btcID: {Daily: "1"}}}
	open := func(dir string, r *saferail.Rail) *payout.Desk {
		j, _, err := journal.Open(filepath.Join(t.TempDir(), dir, "journal.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		d, err := payout.NewDeskOn(r, j, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	first := open("first", w.rail)
	r2, err := saferail.Dial(w.url, w.ks, saferail.WithRetry(fastRetry), saferail.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	second := open("second", r2)

	pay := func(d *payout.Desk, amount string) {
		t.Helper()
		rv, err := d.Review(ctx, payout.Draft{AssetID: btcID, Recipient: aliceID, Amount: amount}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := d.Send(ctx, rv, ""); err != nil || res.State != journal.StateDone {
			t.Fatalf("Send = %+v, %v", res, err)
		}
	}
	pay(first, "0.3")
	_, err = second.Review(ctx, payout.Draft{AssetID: btcID, Recipient: carlID, Amount: "0.8"}, nil)
	if err == nil || !strings.Contains(err.Error(), "used 0.3 (0.3 of it by other consoles), left 0.7") {
		t.Fatalf("second console's review: %v, want the daily cap with the first one's payout", err)
	}
	rv, err := second.Review(ctx, payout.Draft{AssetID: btcID, Recipient: aliceID, Amount: "0.3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dup := false
	for _, wn := range rv.Warnings {
		dup = dup || (wn.Kind == payout.WarnDuplicate && strings.Contains(wn.Text, "another console"))
	}
	if !dup || !rv.Caps.UsedElsewhere.Equal(rv.Caps.Used) {
		t.Fatalf("warnings %+v caps %+v: want a duplicate from another console", rv.Warnings, rv.Caps)
	}
	// The first console pays up to the cap; the second's send refuses.
	pay(first, "0.5")
	var ce *payout.CapError
	if _, err := second.Send(ctx, rv, ""); !errors.As(err, &ce) || second.Journal().Len() != 0 {
		t.Fatalf("Send = %v (%d recorded), want a cap refusal with nothing recorded", err, second.Journal().Len())
	}
}
