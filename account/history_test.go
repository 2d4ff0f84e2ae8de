package account

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout/rail"
)

// TestHistoryAndNames: an open account reads its history on its rail,
// joined with its journal, a new one each time, and keeps one cache of
// counterparty names while it is open; each account has its own.
func TestHistoryAndNames(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := testCtx(t)
	a, err := w.env.Open(ctx, "treasury", keystore.Profile{Credentials: w.w.Operator}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := w.env.Open(ctx, "reserve", keystore.Profile{Credentials: w.w.Operator}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	names := a.Names()
	if a.Names() != names || b.Names() == names {
		t.Fatal("Names is not one cache per account")
	}
	peer := w.w.Users[0]
	if err := names.Resolve(ctx, []string{peer.UserID}); err != nil {
		t.Fatal(err)
	}
	if got, ok := a.Names().Get(peer.UserID); !ok || got != peer.FullName {
		t.Fatalf("name %q, %v; want %q", got, ok, peer.FullName)
	}

	const usdt = "4d8c508b-91c5-375b-92b0-ee702ed2dac5"
	in := mixin.TransferInput{AssetID: usdt, OpponentID: peer.UserID, Amount: "1.5", TraceID: uuid.NewString(), Memo: "paid elsewhere"}
	if _, err := w.srv.Transfer(w.w.OperatorUser.UserID, in); err != nil {
		t.Fatal(err)
	}
	h := a.History()
	if a.History() == h {
		t.Fatal("History gave the same history twice")
	}
	for !h.Done() {
		if _, err := h.LoadMore(ctx); err != nil {
			t.Fatal(err)
		}
	}
	found := false
	for _, r := range h.Rows() {
		found = found || r.TraceID == in.TraceID && r.Memo == "paid elsewhere" && r.Outgoing()
	}
	if !found {
		t.Fatalf("the payout is not in the history: %+v", h.Rows())
	}
}

// TestHistoryWithoutDesk: an account made without a desk has a history
// that cannot load and names that cannot be looked up, and nothing panics.
func TestHistoryWithoutDesk(t *testing.T) {
	a := New("t", keystore.Profile{}, rail.User{}, nil)
	if _, err := a.History().LoadMore(context.Background()); err == nil {
		t.Fatal("LoadMore without a server did not fail")
	}
	names := a.Names()
	if a.Names() != names {
		t.Fatal("Names is not one cache per account")
	}
	if err := names.Resolve(context.Background(), []string{uuid.NewString()}); err == nil {
		t.Fatal("Resolve without a server did not fail")
	}
}
