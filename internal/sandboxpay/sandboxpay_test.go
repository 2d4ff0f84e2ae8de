package sandboxpay_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"mixdesk/internal/sandboxpay"
	"mixdesk/mixin"
	mixsandbox "mixdesk/mixin/sandbox"
	"mixdesk/safe/mixaddress"
	"mixdesk/safe/paylink"
	safesandbox "mixdesk/safe/sandbox"
)

func safeLink(t *testing.T, recipient, asset, amount, memo, trace string) string {
	t.Helper()
	l, err := paylink.Build(paylink.Request{Recipient: recipient, AssetID: asset, Amount: amount, Memo: memo, TraceID: trace})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// find returns the request of a trace in srv, or nil.
func find(srv *safesandbox.Server, trace string) (sender string, to []string, state string) {
	for _, q := range srv.Requests() {
		if q.RequestID == trace {
			for _, r := range q.Receivers {
				to = append(to, r.Members...)
			}
			return q.UserID, to, q.State
		}
	}
	return "", nil, ""
}

// TestSafePaysAsAnotherUser: a Safe link is paid by the first other user
// of the world who can, as a Safe transaction under the link's trace,
// once; the world keeps its payers across a save and a load.
func TestSafePaysAsAnotherUser(t *testing.T) {
	srv, w, err := safesandbox.NewWorld(safesandbox.Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Payers) != 4 {
		t.Fatalf("%d payers, want the 4 users on Safe", len(w.Payers))
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx := context.Background()
	op, usdt := w.OperatorUser.UserID, w.Assets[2].AssetID
	before := len(srv.Outputs(op))

	trace := uuid.NewString()
	p, err := sandboxpay.Safe(ctx, hs.URL, w, safeLink(t, op, usdt, "12.5", "invoice · 茶", trace))
	if err != nil {
		t.Fatal(err)
	}
	if p.PayerID != w.Users[0].UserID || p.PayerName != w.Users[0].FullName || !p.Safe || p.TraceID != trace || p.Amount != "12.5" {
		t.Fatalf("paid %+v", p)
	}
	if !strings.Contains(p.String(), w.Users[0].FullName+" paid 12.5 USDT under trace") {
		t.Fatalf("said %q", p)
	}
	sender, to, state := find(srv, trace)
	if sender != p.PayerID || state != "spent" || len(to) == 0 || to[0] != op {
		t.Fatalf("request: sender %s, receivers %v, %s", sender, to, state)
	}
	if n := len(srv.Outputs(op)); n != before+1 {
		t.Fatalf("the operator has %d outputs, want %d", n, before+1)
	}
	// A trace pays once.
	if _, err := sandboxpay.Safe(ctx, hs.URL, w, safeLink(t, op, usdt, "12.5", "invoice · 茶", trace)); err == nil {
		t.Fatal("a link was paid twice")
	}

	// The recipient does not pay itself: a link to the first user is paid
	// by the second. A MIX address of one user is paid to that user.
	first := w.Users[0].UserID
	if p, err := sandboxpay.Safe(ctx, hs.URL, w, safeLink(t, first, usdt, "1", "", uuid.NewString())); err != nil || p.PayerID != w.Users[1].UserID {
		t.Fatalf("a link to the first user: %+v %v", p, err)
	}
	addr, err := mixaddress.New(1, op)
	if err != nil {
		t.Fatal(err)
	}
	mixTrace := uuid.NewString()
	if _, err := sandboxpay.Safe(ctx, hs.URL, w, safeLink(t, addr.String(), usdt, "2", "", mixTrace)); err != nil {
		t.Fatal(err)
	}
	if _, to, _ := find(srv, mixTrace); len(to) == 0 || to[0] != op {
		t.Fatalf("a MIX address of the operator paid %v", to)
	}
	group, _ := mixaddress.New(1, op, first)
	if _, err := sandboxpay.Safe(ctx, hs.URL, w, safeLink(t, group.String(), usdt, "2", "", uuid.NewString())); err == nil || !strings.Contains(err.Error(), "one user") {
		t.Fatalf("a group: %v", err)
	}
	// Nobody holds that much; a world without payers says what to do.
	if _, err := sandboxpay.Safe(ctx, hs.URL, w, safeLink(t, op, usdt, "1000000", "", uuid.NewString())); !errors.Is(err, sandboxpay.ErrNoPayer) || !strings.Contains(err.Error(), "none holds 1000000 USDT") || strings.Contains(err.Error(), "sandboxpay:") {
		t.Fatalf("too much: %v", err)
	}
	old := w
	old.Payers = nil
	if _, err := sandboxpay.Safe(ctx, hs.URL, old, safeLink(t, op, usdt, "1", "", uuid.NewString())); !errors.Is(err, sandboxpay.ErrNoPayer) || !strings.Contains(err.Error(), "move its world.json away") {
		t.Fatalf("an old world: %v", err)
	}
	if _, err := sandboxpay.Safe(ctx, hs.URL, w, "https://example.com/pay"); err == nil {
		t.Fatal("paid a link that is not one")
	}

	// Saved and loaded, the world keeps its payers, who still pay.
	var buf bytes.Buffer
	if err := srv.Save(&buf); err != nil {
		t.Fatal(err)
	}
	srv2, err := safesandbox.Load(&buf, safesandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w2, _ := srv2.World()
	if len(w2.Payers) != 4 || w2.Payers[0] != w.Payers[0] {
		t.Fatal("the payers were not kept")
	}
	hs2 := httptest.NewServer(srv2)
	defer hs2.Close()
	if _, err := sandboxpay.Safe(ctx, hs2.URL, w2, safeLink(t, op, usdt, "3", "", uuid.NewString())); err != nil {
		t.Fatalf("after a load: %v", err)
	}
}

// TestLegacyPaysAsAnotherUser: on the legacy sandbox a link (of either
// form) is paid by a transfer from the first other user who can.
func TestLegacyPaysAsAnotherUser(t *testing.T) {
	srv, w, err := mixsandbox.NewWorld(mixsandbox.Options{Seed: 3, Operator: mixsandbox.SessionOptions{Kind: mixin.KeyEd25519}})
	if err != nil {
		t.Fatal(err)
	}
	op, usdt := w.OperatorUser.UserID, w.Assets[len(w.Assets)-1].AssetID
	trace := uuid.NewString()
	link, err := mixin.PayURL(mixin.PayRequest{Recipient: op, AssetID: usdt, Amount: "4.5", TraceID: trace, Memo: "tea"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := sandboxpay.Legacy(srv, w, link)
	if err != nil {
		t.Fatal(err)
	}
	var e *mixsandbox.Entry
	for _, x := range srv.Ledger() {
		if x.TraceID == trace {
			e = &x
		}
	}
	if e == nil || e.From != w.Users[0].UserID || e.To != op || e.Amount != "4.5" || e.Memo != "tea" || p.Ref != e.SnapshotID || p.Safe {
		t.Fatalf("paid %+v; ledger %+v", p, e)
	}
	// A Safe link to a user id is paid the same way.
	safeTrace := uuid.NewString()
	if _, err := sandboxpay.Legacy(srv, w, safeLink(t, op, usdt, "1", "", safeTrace)); err != nil {
		t.Fatal(err)
	}
	// A trace pays once: the same link again answers the first transfer
	// and moves nothing.
	again, err := sandboxpay.Legacy(srv, w, link)
	n := 0
	for _, x := range srv.Ledger() {
		if x.TraceID == trace {
			n++
		}
	}
	if err != nil || again.Ref != p.Ref || n != 1 {
		t.Fatalf("paid again: %+v %v, %d transfers", again, err, n)
	}
}
