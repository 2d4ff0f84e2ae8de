package payout

import (
	"context"
	"testing"
)

// TestDeskLooksUpUserAndAsset reads a user (the payer of a request) and an
// asset by id through the desk, in the console's shape.
func TestDeskLooksUpUserAndAsset(t *testing.T) {
	r := newRig(t, 7)
	ctx := context.Background()
	payer := r.users[1]
	u, err := r.desk.LookupUser(ctx, payer.UserID)
	if err != nil || u.FullName != payer.FullName {
		t.Fatalf("payer: %+v %v", u, err)
	}
	if as, err := r.desk.LookupAsset(ctx, usdtID); err != nil || as.Symbol != "USDT" {
		t.Fatalf("asset: %+v %v", as, err)
	}
	if _, err := r.desk.LookupUser(ctx, "x"); err == nil {
		t.Fatal("looked up a malformed user id")
	}
}
