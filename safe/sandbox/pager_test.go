package sandbox_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"mixdesk/safe"
)

// TestSnapshotPagerOnSandbox: the desk's history, money in (deposits, a
// payment from alice) and out (payouts), read back through the pager in
// small pages against the sandbox's inclusive offset, equals the
// sandbox's own list, each snapshot once.
func TestSnapshotPagerOnSandbox(t *testing.T) {
	w := newWorld(t)
	for range 20 {
		w.deposit(t, "0.1")
	}
	for range 4 {
		send(t, w.desk, pay(uuid.NewString(), "0.15", "out"))
	}
	if _, err := w.srv.Deposit(aliceID, btcID, "1"); err != nil {
		t.Fatal(err)
	}
	in := safe.Payment{RequestID: uuid.NewString(), AssetID: btcID, Recipient: deskID, Amount: "0.3", Memo: "in"}
	send(t, w.alice, in)

	want := w.srv.Snapshots(deskID)
	for _, order := range []string{"DESC", "ASC"} {
		p := w.desk.NewSnapshotPager(safe.SnapshotsQuery{Limit: 7, Order: order, AssetID: btcID})
		var got []string
		for !p.Done() {
			page, err := p.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page {
				got = append(got, s.SnapshotID)
			}
		}
		var exp []string
		outs := 0
		for _, s := range want {
			exp = append(exp, s.SnapshotID)
			if s.IsOut() {
				outs++
			}
		}
		if order == "DESC" {
			slices.Reverse(exp)
		}
		if !slices.Equal(got, exp) || outs != 4 || len(exp) != 25 {
			t.Fatalf("%s: got %d snapshots, want %d (%d out):\n%v\n%v", order, len(got), len(exp), outs, got, exp)
		}
	}
}
