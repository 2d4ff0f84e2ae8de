package saferail_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"mixdesk/mixin"
	"mixdesk/payout/rail"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

// alicePays pays amount BTC from Alice to recipient under key, through
// the Safe client; with submit false it is only verified.
func (w *world) alicePays(t *testing.T, key, recipient, amount, memo string, submit bool) *safe.Unsigned {
	t.Helper()
	ctx := context.Background()
	u, err := w.alice.Prepare(ctx, safe.Payment{RequestID: key, AssetID: btcID, Recipient: recipient, Amount: amount, Memo: memo}, nil)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := w.alice.VerifyAndSign(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if submit {
		if _, err := w.alice.Submit(ctx, key, signed, u.Hash); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// TestIncomingFindsAPaymentToThisWallet: Incoming finds another wallet's
// payment to this one by its request id, as this wallet received it, and
// tells apart nothing yet, a payment to someone else, this wallet's own
// payment and an unknown answer.
func TestIncomingFindsAPaymentToThisWallet(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	in := w.rail.Incoming()

	if _, err := in.PaymentByKey(ctx, uuid.NewString()); !errors.Is(err, rail.ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	verified := uuid.NewString()
	w.alicePays(t, verified, deskID, "0.1", "", false)
	if _, err := in.PaymentByKey(ctx, verified); !errors.Is(err, rail.ErrNotFound) {
		t.Fatalf("verified only: %v", err)
	}

	key := uuid.NewString()
	u := w.alicePays(t, key, deskID, "0.3", "invoice 9 · 茶", true)
	m, err := in.PaymentByKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if m.Key != key || m.Amount != "0.3" || m.AssetID != btcID || m.OpponentID != aliceID || m.Memo != "invoice 9 · 茶" ||
		m.TxHash != u.Hash.String() || m.CreatedAt.IsZero() {
		t.Fatalf("movement %+v", m)
	}
	var snap *safe.Snapshot
	for _, s := range w.srv.Snapshots(deskID) {
		if s.TransactionHash == u.Hash.String() {
			snap = &s
		}
	}
	if snap == nil || m.SnapshotID != snap.SnapshotID || snap.Amount != "0.3" {
		t.Fatalf("snapshot %s; the desk's %+v", m.SnapshotID, snap)
	}
	// The desk's payout look-up still refuses another wallet's request.
	if _, err := w.rail.PaymentByKey(ctx, key); !errors.Is(err, rail.ErrNotOurs) {
		t.Fatalf("PaymentByKey: %v", err)
	}

	// A payment of Alice to Carl under the key reached nothing of ours.
	toCarl := uuid.NewString()
	w.alicePays(t, toCarl, carlID, "0.2", "", true)
	if _, err := in.PaymentByKey(ctx, toCarl); !errors.Is(err, rail.ErrNotOurs) || errors.Is(err, rail.ErrNotFound) {
		t.Fatalf("a payment to Carl: %v", err)
	}

	// The desk's own payout under a key: its movement, money out.
	p := payment("0.25", "")
	if _, err := w.rail.PayKept(ctx, p, "", &keeper{}); err != nil {
		t.Fatal(err)
	}
	if m, err := in.PaymentByKey(ctx, p.Key); err != nil || m.Amount != "-0.25" || m.OpponentID != aliceID {
		t.Fatalf("the desk's own payout: %+v %v", m, err)
	}

	// A 5xx is unknown.
	w.srv.InjectFault("GET", "/safe/transactions/", sandbox.Fault{Kind: sandbox.FaultServerError, Times: 3})
	if _, err := in.PaymentByKey(ctx, key); err == nil || errors.Is(err, rail.ErrNotFound) || !mixin.IsServerOrTransport(err) {
		t.Fatalf("a 5xx: %v", err)
	}
}
