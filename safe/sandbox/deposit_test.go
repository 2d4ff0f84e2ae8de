package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

// TestDepositsSaySo: a deposit's snapshot has a deposit object (a chain
// hash, which the API answers), a payment's has none; a world saved before
// deposits said so gets them back when it is loaded.
func TestDepositsSaySo(t *testing.T) {
	srv, w, err := sandbox.NewWorld(sandbox.Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := operatorClient(t, w, hs.URL)
	p := safe.Payment{RequestID: uuid.NewString(), AssetID: btcID, Recipient: w.Users[0].UserID, Amount: "0.3", Memo: "paid"}
	send(t, c, p)
	page, err := c.Snapshots(context.Background(), safe.SnapshotsQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	deposits := 0
	for _, s := range page {
		switch {
		case s.RequestID == p.RequestID:
			if s.Deposit != nil || len(s.TransactionHash) != 64 {
				t.Fatalf("the payment's snapshot %+v", s)
			}
		case s.Deposit == nil || len(s.Deposit.DepositHash) != 64 || s.Deposit.DepositHash == s.TransactionHash || s.OpponentID != "" || s.IsOut():
			t.Fatalf("a deposit's snapshot %+v (deposit %+v)", s, s.Deposit)
		default:
			deposits++
		}
	}
	if deposits != 10 { // 3 BTC, 3 ETH, 4 USDT
		t.Fatalf("%d deposits, want 10", deposits)
	}
	// Received by the user: no deposit.
	for _, s := range srv.Snapshots(w.Users[0].UserID) {
		if s.RequestID == p.RequestID && (s.Deposit != nil || s.IsOut()) {
			t.Fatalf("the payment received: %+v", s)
		}
	}

	// The same world as saved before deposits had their object.
	saved := save(t, srv)
	var st map[string]any
	if err := json.Unmarshal(saved, &st); err != nil {
		t.Fatal(err)
	}
	for _, sn := range st["snapshots"].([]any) {
		delete(sn.(map[string]any), "deposit")
	}
	old, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := sandbox.Load(bytes.NewReader(old), sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	before, after := srv.Snapshots(w.OperatorUser.UserID), loaded.Snapshots(w.OperatorUser.UserID)
	if len(before) != len(after) {
		t.Fatalf("%d snapshots loaded, want %d", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if (b.Deposit == nil) != (a.Deposit == nil) || b.Deposit != nil && *b.Deposit != *a.Deposit {
			t.Fatalf("snapshot %d: %+v loaded as %+v", i, b.Deposit, a.Deposit)
		}
	}
}
