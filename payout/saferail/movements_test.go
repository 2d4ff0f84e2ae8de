package saferail_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"mixdesk/payout/rail"
	"mixdesk/safe"
)

// TestMovementsTellDepositsAndHashes: each movement carries its kernel
// transaction's hash; a deposit is told apart from a payment received
// from a user (Deposit set, no opponent), and a payment in or out has no
// Deposit.
func TestMovementsTellDepositsAndHashes(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	out := payment("0.4", "rent")
	paid, err := w.rail.PayKept(ctx, out, "", &keeper{})
	if err != nil {
		t.Fatal(err)
	}
	in := safe.Payment{RequestID: uuid.NewString(), AssetID: btcID, Recipient: deskID, Amount: "0.25", Memo: "refund"}
	u, err := w.alice.Prepare(ctx, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := w.alice.VerifyAndSign(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.alice.Submit(ctx, u.RequestID, signed, u.Hash); err != nil {
		t.Fatal(err)
	}
	mv, err := w.rail.Movements(ctx, rail.Query{})
	if err != nil || len(mv) != 5 {
		t.Fatalf("Movements = %+v, %v", mv, err)
	}
	byKey := map[string]rail.Movement{}
	deposits := 0
	for _, m := range mv {
		if len(m.TxHash) != 64 {
			t.Errorf("movement %s has transaction hash %q", m.SnapshotID, m.TxHash)
		}
		if m.Deposit != nil {
			deposits++
			if m.OpponentID != "" || m.Key != "" || len(m.Deposit.Hash) != 64 || m.Amount[0] == '-' {
				t.Errorf("deposit %+v (%+v)", m, *m.Deposit)
			}
			continue
		}
		byKey[m.Key] = m
	}
	if deposits != 3 {
		t.Errorf("%d deposits, want the world's 3", deposits)
	}
	if m := byKey[out.Key]; m.TxHash != paid.TxHash || m.Amount != "-0.4" || m.OpponentID != aliceID {
		t.Errorf("the payout reads %+v; paid %+v", m, paid)
	}
	if m := byKey[in.RequestID]; m.TxHash != u.Hash.String() || m.Amount != "0.25" || m.OpponentID != aliceID || m.Memo != "refund" {
		t.Errorf("the payment received reads %+v, want transaction %s", m, u.Hash)
	}
}
