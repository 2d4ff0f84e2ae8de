package payout

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestBatchGrownFileDoesNotPayEarlierRowsAgain: a keyed batch is paid; a
// row is added to the file days later (so the batch id changes); the rows
// paid before are recognised by their keys and skipped, only the new row is
// paid. The same holds for a file without keys, whose rows are keyed by
// their content.
func TestBatchGrownFileDoesNotPayEarlierRowsAgain(t *testing.T) {
	for _, keyed := range []bool{true, false} {
		name := "keyed"
		if !keyed {
			name = "no key column"
		}
		t.Run(name, func(t *testing.T) {
			r := newRig(t, 51, withClock(reviewStart))
			row := func(i int, amount, key string) string {
				if keyed {
					return r.users[i].UserID + "," + usdtID + "," + amount + ",nov," + key + "\n"
				}
				return r.users[i].UserID + "," + usdtID + "," + amount + ",nov\n"
			}
			header := "recipient,asset,amount,memo\n"
			if keyed {
				header = "recipient,asset,amount,memo,key\n"
			}
			first := header + row(0, "10", "nov-a") + row(1, "20", "nov-b")
			runFile(t, r, first)
			posts := r.count.Posts()

			r.clock.Advance(7 * 24 * time.Hour)
			grown := first + row(2, "30", "nov-c")
			b := prepareFile(t, r, grown)
			if b.ID == "" {
				t.Fatal("no batch id")
			}
			c := b.Counts()
			if c.Skipped != 2 {
				t.Fatalf("counts %+v: the two rows paid before are not recognised", c)
			}
			if _, err := r.desk.RunBatch(context.Background(), b, r.pin, nil, nil); err != nil {
				t.Fatal(err)
			}
			if got := r.count.Posts() - posts; got != 1 {
				t.Fatalf("%d posts for the grown file, want 1 (the new row)", got)
			}
			r.wantBal("operator", r.self.UserID, usdtID, "49940")
		})
	}
}

// TestBatchKeyReusedWithOtherValuesInAnotherBatch: a key paid in one batch
// and reused with another amount in a different file is refused, not paid.
func TestBatchKeyReusedWithOtherValuesInAnotherBatch(t *testing.T) {
	r := newRig(t, 52, withClock(reviewStart))
	runFile(t, r, "recipient,asset,amount,key\n"+r.users[0].UserID+","+usdtID+",10,k1\n")
	posts := r.count.Posts()
	b := prepareFile(t, r, "recipient,asset,amount,key\n"+r.users[0].UserID+","+usdtID+",11,k1\n"+r.users[1].UserID+","+usdtID+",5,k2\n")
	it, _ := b.Row(0)
	if it.State != ItemFailed || !strings.Contains(it.Problem(), "other values") {
		t.Fatalf("row %+v: %s", it.State, it.Problem())
	}
	if _, err := r.desk.RunBatch(context.Background(), b, r.pin, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := r.count.Posts() - posts; got != 1 {
		t.Fatalf("%d posts, want 1 (k2 only)", got)
	}
}

func prepareFile(t *testing.T, r *rig, body string) *Batch {
	t.Helper()
	f, err := ParseBatch(strings.NewReader(body), "payouts.csv")
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.desk.PrepareBatchWith(context.Background(), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Ready() {
		b.AckDuplicates()
	}
	if !b.Ready() {
		t.Fatalf("not ready: %+v", b.Errors())
	}
	return b
}

func runFile(t *testing.T, r *rig, body string) {
	t.Helper()
	b := prepareFile(t, r, body)
	if _, err := r.desk.RunBatch(context.Background(), b, r.pin, nil, nil); err != nil {
		t.Fatal(err)
	}
}
