package safe

import (
	"context"
	"errors"
	"testing"

	"mixdesk/mixin"
)

func fund(f *fakeSafe, w wallet, n int, amount string) {
	for _, o := range manyInputs(w, n, amount) {
		o.OutputID = UniqueObjectID("fund", o.Ref())
		f.outputs = append(f.outputs, o)
	}
}

func payment(trace, amount string) Payment {
	return Payment{RequestID: trace, AssetID: btcID, Recipient: recipientID, Amount: amount, Memo: "payroll"}
}

const trace2 = "7a1d3c55-2b8e-4f7a-9c1d-5e6f7a8b9c0d"

// TestPayEndToEnd: prepare, verify, sign, submit against the fake; the
// answer echoes the bytes, the inputs are then locked, and the look-up
// says submitted.
func TestPayEndToEnd(t *testing.T) {
	f, c := newFake(t)
	fund(f, sender(t), 5, "0.1")
	ctx := context.Background()
	if _, err := c.CheckRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := c.Prepare(ctx, payment(goldenTrace, "0.25"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Inputs) != 3 || u.Change != "0.05" {
		t.Fatalf("%d inputs, change %s", len(u.Inputs), u.Change)
	}
	signed, err := c.VerifyAndSign(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Submit(ctx, u.RequestID, signed, u.Hash)
	if err != nil || r.State != StateSigned {
		t.Fatalf("submit: %v %v", err, r)
	}
	if out, _, err := c.Settle(ctx, u.RequestID, u.Hash); err != nil || out != Pending {
		t.Fatalf("settle: %v %v", out, err)
	}
	bal, err := c.Balances(ctx)
	if err != nil || len(bal) != 1 || bal[0].Amount != "0.2" || bal[0].Outputs != 2 {
		t.Fatalf("balance after: %v %v", bal, err)
	}

	// The same request id again, same content: the existing request, no
	// second spend.
	if _, err := c.VerifyAndSign(ctx, u); !takenOurs(err, true) {
		t.Fatalf("verify again: %v", err)
	}
	if r, err := c.Submit(ctx, u.RequestID, signed, u.Hash); err != nil || r.State != StateSigned {
		t.Fatalf("submit again: %v", err)
	}
	// Other content under the same id: refused, whatever the outputs.
	u2, err := c.Prepare(ctx, payment(goldenTrace, "0.15"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyAndSign(ctx, u2); !takenOurs(err, false) {
		t.Fatalf("other content: %v", err)
	}
	if out, _, _ := c.Settle(ctx, goldenTrace, u2.Hash); out != Taken {
		t.Fatalf("settle other content: %v", out)
	}
}

func takenOurs(err error, ours bool) bool {
	var te *RequestTakenError
	return errors.As(err, &te) && te.Ours == ours
}

// TestDifferentContentBeforeSubmit: an id verified (not submitted) with one
// transaction refuses another (20125).
func TestDifferentContentBeforeSubmit(t *testing.T) {
	f, c := newFake(t)
	fund(f, sender(t), 5, "0.1")
	ctx := context.Background()
	u, _ := c.Prepare(ctx, payment(trace2, "0.25"), nil)
	if _, err := c.VerifyAndSign(ctx, u); err != nil {
		t.Fatal(err)
	}
	u2, _ := c.Prepare(ctx, payment(trace2, "0.3"), nil)
	if _, err := c.VerifyAndSign(ctx, u2); !IsRequestUsed(err) {
		t.Fatalf("%v", err)
	}
	if out, _, err := c.Settle(ctx, trace2, u.Hash); err != nil || out != NotSubmitted {
		t.Fatalf("verified only: %v %v", out, err)
	}
}

// TestSubmitNeverRetried: a 500 on submit is one call and an unknown
// outcome; the look-up says not submitted and the same bytes go again.
func TestSubmitNeverRetried(t *testing.T) {
	f, c := newFake(t)
	fund(f, sender(t), 2, "1")
	ctx := context.Background()
	u, err := c.Prepare(ctx, payment(goldenTrace, "1.5"), nil)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := c.VerifyAndSign(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	f.fail["/safe/transactions"] = 1
	_, err = c.Submit(ctx, u.RequestID, signed, u.Hash)
	if !mixin.IsServerOrTransport(err) || f.hits["POST /safe/transactions"] != 1 {
		t.Fatalf("%v after %d calls", err, f.hits["POST /safe/transactions"])
	}
	if out, _, err := c.Settle(ctx, u.RequestID, u.Hash); err != nil || out != NotSubmitted {
		t.Fatalf("%v %v", out, err)
	}
	if _, err := c.Submit(ctx, u.RequestID, signed, u.Hash); err != nil {
		t.Fatal(err)
	}
	// Reads are retried: two 500s, then the answer.
	f.fail["/safe/me"] = 2
	if _, err := c.Me(ctx); err != nil || f.hits["GET /safe/me"] != 3 {
		t.Fatalf("%v after %d", err, f.hits["GET /safe/me"])
	}
}

func TestPrepareRefusals(t *testing.T) {
	f, c := newFake(t)
	fund(f, sender(t), 3, "0.1")
	ctx := context.Background()
	// Insufficient: no ghost keys asked.
	_, err := c.Prepare(ctx, payment(goldenTrace, "0.5"), nil)
	if !errors.As(err, new(*InsufficientError)) || f.hits["POST /safe/keys"] != 0 {
		t.Fatalf("insufficient: %v", err)
	}
	// Held outputs are not spendable.
	held := map[string]bool{f.outputs[0].Ref(): true}
	if _, err := c.Prepare(ctx, payment(goldenTrace, "0.25"), held); !errors.As(err, new(*InsufficientError)) {
		t.Fatalf("held: %v", err)
	}
	// A recipient not on Safe.
	p := payment(goldenTrace, "0.1")
	p.Recipient = "00000000-0000-4000-8000-000000000009"
	if _, err := c.Prepare(ctx, p, nil); !IsRecipientNotRegistered(err) {
		t.Fatalf("unregistered: %v", err)
	}
}

// TestOutputsPagingInclusiveOffset: 1200 outputs, offset inclusive: each
// comes once, in three pages.
func TestOutputsPagingInclusiveOffset(t *testing.T) {
	f, c := newFake(t)
	fund(f, sender(t), 1200, "0.001")
	outs, err := c.UnspentOutputs(context.Background(), btcID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range outs {
		seen[o.OutputID] = true
	}
	if len(outs) != 1200 || len(seen) != 1200 || f.hits["GET /safe/outputs"] != 3 {
		t.Fatalf("%d outputs, %d distinct, %d pages", len(outs), len(seen), f.hits["GET /safe/outputs"])
	}
}

func TestCheckRegistered(t *testing.T) {
	f, c := newFake(t)
	ctx := context.Background()
	f.me.SpendPublicKey = recipient(t).spend.Public().String()
	if _, err := c.CheckRegistered(ctx); fieldOf(err) != FieldSpendPrivateKey {
		t.Fatalf("other spend key: %v", err)
	}
	f.me.SpendPublicKey = ""
	if _, err := c.CheckRegistered(ctx); err != nil {
		t.Fatalf("no spend key shown: %v", err)
	}
	f.me.HasSafe = false
	if _, err := c.CheckRegistered(ctx); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("not registered: %v", err)
	}
}

func TestErrorPredicates(t *testing.T) {
	for _, c := range []struct {
		err    error
		locked bool
	}{
		{&mixin.Error{Code: CodeOutputsLocked, Description: "x"}, true},
		{&mixin.Error{Code: 10002, Description: "Inputs locked by another transaction"}, true},
		{&mixin.Error{Code: 500, Description: "spent by other transaction"}, true},
		{&mixin.Error{Code: 10002, Description: "raw"}, false},
		{errors.New("locked by another transaction"), false},
	} {
		if IsOutputsLocked(c.err) != c.locked {
			t.Errorf("%v: %v", c.err, !c.locked)
		}
	}
}
