package saferail_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"mixdesk/mixin"
	"mixdesk/payout/rail"
	"mixdesk/payout/saferail"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

// unknown fails the test unless err is an unknown outcome: neither a
// refusal nor "not sent".
func unknown(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || rail.IsRefused(err) || errors.Is(err, rail.ErrNotSent) {
		t.Fatalf("%s: %v; want an unknown outcome", what, err)
	}
}

// TestResumeFromKept: a payout in doubt is settled from what was kept,
// never with a new transaction: the unsigned one verified and signed again
// (its signed bytes kept before the submit), the signed bytes sent again,
// or nothing sent when the look-up finds it done.
func TestResumeFromKept(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()

	// The verify failed (5xx): only the unsigned transaction was kept.
	p := payment("0.4", "verify lost")
	k := &keeper{}
	w.srv.InjectFault("POST", "/safe/transaction/requests", sandbox.Fault{Kind: sandbox.FaultServerError})
	_, err := w.rail.PayKept(ctx, p, "", k)
	unknown(t, "verify 5xx", err)
	if !slices.Equal(k.stages(), []string{saferail.StageUnsigned}) || w.rail.Sent(k.kept) {
		t.Fatalf("kept %v", k.stages())
	}
	var ku struct{ Raw string }
	if err := json.Unmarshal(k.kept[0].Data, &ku); err != nil {
		t.Fatal(err)
	}
	mv, err := w.rail.Resume(ctx, p, k.kept, "", k)
	if err != nil || mv.Amount != "-0.4" || mv.Key != p.Key {
		t.Fatalf("Resume = %+v, %v", mv, err)
	}
	if !slices.Equal(k.stages(), []string{saferail.StageUnsigned, saferail.StageSigned}) {
		t.Fatalf("kept %v", k.stages())
	}
	if q := w.request(p.Key); q == nil || q.State != safe.StateSpent || !strings.HasPrefix(q.RawTransaction, ku.Raw[:40]) {
		t.Fatalf("request %+v is not the kept transaction", q)
	}

	// The submit executed and its answer was lost: the look-up finds it;
	// nothing is submitted again (a submit would meet the 5xx below).
	p2 := payment("0.3", "")
	k2 := &keeper{}
	w.srv.InjectFault("POST", "/safe/transactions", sandbox.Fault{Kind: sandbox.FaultCommitThenDrop})
	_, err = w.rail.PayKept(ctx, p2, "", k2)
	unknown(t, "answer lost", err)
	if !w.rail.Sent(k2.kept) {
		t.Fatal("not Sent after the signed bytes were kept")
	}
	w.srv.InjectFault("POST", "/safe/transactions", sandbox.Fault{Kind: sandbox.FaultServerError})
	if mv, err := w.rail.Resume(ctx, p2, k2.kept, "", k2); err != nil || mv.Amount != "-0.3" {
		t.Fatalf("Resume after a lost answer = %+v, %v", mv, err)
	}
	w.srv.ClearFaults()

	// The submit failed before anything (5xx, then 429 on the next): in
	// doubt, never refused; sent again as the same bytes.
	p3 := payment("0.2", "")
	k3 := &keeper{}
	w.srv.InjectFault("POST", "/safe/transactions", sandbox.Fault{Kind: sandbox.FaultServerError})
	w.srv.InjectFault("POST", "/safe/transactions", sandbox.Fault{Kind: sandbox.FaultTooManyRequests})
	_, err = w.rail.PayKept(ctx, p3, "", k3)
	unknown(t, "submit 5xx", err)
	_, err = w.rail.Resume(ctx, p3, k3.kept, "", k3)
	unknown(t, "re-submit 429", err)
	if !mixin.IsTooManyRequests(err) {
		t.Fatalf("the 429 is not inside: %v", err)
	}
	mv, err = w.rail.Resume(ctx, p3, k3.kept, "", k3)
	if err != nil || mv.Amount != "-0.2" || len(k3.kept) != 2 {
		t.Fatalf("Resume = %+v, %v (kept %v)", mv, err, k3.stages())
	}
	if q := w.request(p3.Key); q.RawTransaction != hexOf(k3.kept[1].Data) {
		t.Fatal("the submitted transaction is not the kept signed bytes")
	}
	if got := w.unspent(); !slices.Equal(got, []string{"0.85", "0.45", "0.3"}) {
		t.Fatalf("unspent %v", got)
	}
}

// TestResumeRefusals: before anything was signed a refusal of the verify
// fails the payout; nothing kept closes it as not sent; a kept
// transaction that is not the payment's, or signed bytes without their
// transaction, are never sent.
func TestResumeRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()

	p := payment("0.4", "")
	k := &keeper{}
	w.srv.InjectFault("POST", "/safe/transaction/requests", sandbox.Fault{Kind: sandbox.FaultTooManyRequests})
	_, err := w.rail.PayKept(ctx, p, "", k)
	var re *rail.RefusedError
	if !errors.As(err, &re) || re.Code != mixin.CodeTooManyRequests || !mixin.IsTooManyRequests(err) || len(k.kept) != 1 {
		t.Fatalf("verify 429: %v (kept %v)", err, k.stages())
	}
	w.srv.InjectFault("POST", "/safe/transaction/requests", sandbox.Fault{Kind: sandbox.FaultTooManyRequests})
	if _, err := w.rail.Resume(ctx, p, k.kept, "", k); !errors.As(err, &re) || len(k.kept) != 1 {
		t.Fatalf("verify 429 while resuming: %v", err)
	}
	if _, err := w.rail.Resume(ctx, p, nil, "", k); !errors.Is(err, rail.ErrNotSent) {
		t.Fatalf("nothing kept: %v", err)
	}
	other := p
	other.Amount = "0.5"
	if _, err := w.rail.Resume(ctx, other, k.kept, "", k); err == nil || rail.IsRefused(err) || errors.Is(err, rail.ErrNotSent) || !strings.Contains(err.Error(), "another amount") {
		t.Fatalf("a kept transaction of another amount: %v", err)
	}
	if _, err := w.rail.Resume(ctx, p, []rail.Kept{{Stage: saferail.StageSigned, Data: []byte{1}}}, "", k); err == nil || errors.Is(err, rail.ErrNotSent) || rail.IsRefused(err) {
		t.Fatalf("signed bytes alone: %v", err)
	}
	if _, err := w.rail.Resume(ctx, p, []rail.Kept{{Stage: saferail.StageUnsigned, Data: []byte(`{"raw":"00"}`)}}, "", k); err == nil || errors.Is(err, rail.ErrNotSent) {
		t.Fatalf("a broken kept transaction: %v", err)
	}
	if q := w.request(p.Key); q != nil || len(w.srv.Snapshots(aliceID)) != 1 {
		t.Fatalf("something was verified (%+v) or paid", q)
	}

	// Keeping the unsigned transaction fails: nothing reaches the API.
	bad := &keeper{before: func(string, []byte) error { return errKeep }}
	p2 := payment("0.1", "")
	_, err = w.rail.PayKept(ctx, p2, "", bad)
	unknown(t, "keep failed", err)
	if !errors.Is(err, errKeep) || w.request(p2.Key) != nil {
		t.Fatalf("keep failed: %v", err)
	}
	// Keeping the signed bytes fails while resuming: nothing submitted.
	k3 := &keeper{}
	w.srv.InjectFault("POST", "/safe/transaction/requests", sandbox.Fault{Kind: sandbox.FaultServerError})
	p3 := payment("0.1", "")
	_, err = w.rail.PayKept(ctx, p3, "", k3)
	unknown(t, "verify 5xx", err)
	k3.before = func(string, []byte) error { return errKeep }
	_, err = w.rail.Resume(ctx, p3, k3.kept, "", k3)
	unknown(t, "keep failed while resuming", err)
	if q := w.request(p3.Key); q == nil || q.State != safe.StateUnspent {
		t.Fatalf("request %+v", q)
	}
}

// TestKeptSizeOf256Inputs: the largest transaction (256 inputs) kept
// before verify fits a journal record, and is paid.
func TestKeptSizeOf256Inputs(t *testing.T) {
	if testing.Short() {
		t.Skip("256 deposits and signatures")
	}
	w := newWorld(t)
	for range 300 {
		if _, err := w.srv.Deposit(deskID, ethID, "0.01"); err != nil {
			t.Fatal(err)
		}
	}
	k := &keeper{}
	p := rail.Payment{Key: payment("1", "").Key, AssetID: ethID, RecipientID: aliceID, Amount: "2.56", Memo: strings.Repeat("m", 140)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mv, err := w.rail.PayKept(ctx, p, "", k)
	if err != nil || mv.Amount != "-2.56" {
		t.Fatalf("PayKept = %+v, %v", mv, err)
	}
	u, s := len(k.kept[0].Data), len(k.kept[1].Data)
	if u > rail.MaxKept || s > rail.MaxKept {
		t.Fatalf("kept %d and %d bytes; at most %d", u, s, rail.MaxKept)
	}
	t.Logf("256 inputs: unsigned kept in %d bytes, signed in %d (limit %d)", u, s, rail.MaxKept)
}
