package saferail_test

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/MixinNetwork/mixin/common"

	"mixdesk/mixin"
	"mixdesk/payout/rail"
	"mixdesk/payout/saferail"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

// TestUsersAndAssets: users are read with the legacy calls on the Safe
// session; an asset's balance is the exact sum of the wallet's unspent
// outputs of it; unknown users and assets are "not found".
func TestUsersAndAssets(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	u, err := w.rail.User(ctx, aliceID)
	if err != nil || u.UserID != aliceID || u.IdentityNumber != "7000102" || u.FullName != "Alice Liddell" {
		t.Fatalf("User = %+v, %v", u, err)
	}
	u, err = w.rail.UserByMixinID(ctx, "7000103")
	if err != nil || u.UserID != bobID || u.FullName != "Bob Bell" {
		t.Fatalf("UserByMixinID = %+v, %v", u, err)
	}
	if _, err := w.rail.User(ctx, "00000000-0000-4000-8000-0000000000ff"); !errors.Is(err, rail.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := w.rail.UserByMixinID(ctx, "7999999"); !errors.Is(err, rail.ErrNotFound) {
		t.Fatalf("unknown Mixin ID: %v", err)
	}
	a, err := w.rail.Asset(ctx, btcID)
	if err != nil || a.AssetID != btcID || a.Symbol != "BTC" || a.Name != "Bitcoin" || a.Balance != "2.5" || a.PriceUSD != "60000" {
		t.Fatalf("Asset = %+v, %v", a, err)
	}
	a, err = w.rail.Asset(ctx, ethID)
	if err != nil || a.Balance != "0" {
		t.Fatalf("an asset the wallet holds none of = %+v, %v", a, err)
	}
	if _, err := w.rail.Asset(ctx, "00000000-0000-4000-8000-0000000000ee"); !errors.Is(err, rail.ErrNotFound) {
		t.Fatalf("unknown asset: %v", err)
	}
	if w.rail.NeedsPIN() || w.rail.CheckPIN("") != nil || w.rail.Self() != deskID {
		t.Fatal("the Safe rail asks for a PIN, or is not the desk's")
	}
	if err := w.rail.CheckAccount(ctx); err != nil {
		t.Fatalf("CheckAccount: %v", err)
	}
	if me, err := w.rail.Me(ctx); err != nil || me.UserID != deskID || me.FullName != "Treasury Desk" || me.IdentityNumber != "7000101" {
		t.Fatalf("Me = %+v, %v", me, err)
	}
	if _, err := w.srv.Deposit(deskID, ethID, "0.125"); err != nil {
		t.Fatal(err)
	}
	hs, err := w.rail.Holdings(ctx)
	if err != nil || len(hs) != 2 || hs[0].AssetID != ethID || hs[0].Balance != "0.125" || hs[0].Symbol != "ETH" ||
		hs[1].AssetID != btcID || hs[1].Balance != "2.5" || hs[1].PriceUSD != "60000" {
		t.Fatalf("Holdings = %+v, %v", hs, err)
	}
}

// TestCheckAccountNotRegistered: a wallet whose spend key is not the one
// registered, or that is not registered at all, cannot pay; a keystore
// with a bad field is refused in one line naming it.
func TestCheckAccountNotRegistered(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	other := w.ks
	other.SpendPrivateKey = strings.Repeat("09", 32)
	r, err := saferail.Dial(w.url, other, saferail.WithRetry(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	var fe *mixin.FieldError
	if err := r.CheckAccount(ctx); !errors.As(err, &fe) || fe.Field != safe.FieldSpendPrivateKey {
		t.Fatalf("another spend key: %v", err)
	}
	bobKS := keystore(t, w.srv, bobID, 0x03, 0x13)
	r, err = saferail.Dial(w.url, bobKS, saferail.WithRetry(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Me(ctx); !errors.Is(err, safe.ErrNotRegistered) {
		t.Fatalf("not registered: %v", err)
	}
	bad := w.ks
	bad.SessionPrivateKey = "zz"
	if _, err := saferail.Dial(w.url, bad); !errors.As(err, &fe) || fe.Field != safe.FieldSessionPrivateKey || strings.Contains(err.Error(), "zz") {
		t.Fatalf("a bad keystore: %v", err)
	}
	if _, err := saferail.Dial("http://example.com", w.ks); err == nil {
		t.Fatal("plain http to another host was taken")
	}
}

// TestValidate: the Safe rules, each in one line naming the field; the
// payment comes back canonical.
func TestValidate(t *testing.T) {
	w := newWorld(t)
	ok := rail.Payment{Key: strings.ToUpper(payment("1", "").Key), AssetID: strings.ToUpper(btcID), RecipientID: aliceID, Amount: "1.50", Memo: strings.Repeat("é", 128)}
	got, err := w.rail.Validate(ok)
	if err != nil || got.Key != strings.ToLower(ok.Key) || got.AssetID != btcID || got.Amount != "1.5" || got.Memo != ok.Memo {
		t.Fatalf("Validate = %+v, %v", got, err)
	}
	for _, c := range []struct {
		name  string
		edit  func(*rail.Payment)
		field string
	}{
		{"memo over 256 bytes", func(p *rail.Payment) { p.Memo = strings.Repeat("é", 129) }, mixin.FieldMemo},
		{"memo over 140 characters", func(p *rail.Payment) { p.Memo = strings.Repeat("a", 141) }, mixin.FieldMemo},
		{"memo with a control character", func(p *rail.Payment) { p.Memo = "a\x1bb" }, mixin.FieldMemo},
		{"nine decimals", func(p *rail.Payment) { p.Amount = "0.000000001" }, mixin.FieldAmount},
		{"zero", func(p *rail.Payment) { p.Amount = "0" }, mixin.FieldAmount},
		{"to the wallet itself", func(p *rail.Payment) { p.RecipientID = deskID }, mixin.FieldRecipient},
		{"no key", func(p *rail.Payment) { p.Key = "" }, mixin.FieldTrace},
	} {
		p := ok
		c.edit(&p)
		_, err := w.rail.Validate(p)
		var fe *mixin.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestPayKeepsEachStageFirst: one input paid whole, then several inputs
// with change: the unsigned transaction is kept before the sandbox has
// seen it, the signed bytes after it was verified and before it was
// submitted; the movement is the payment; the balance moves exactly.
func TestPayKeepsEachStageFirst(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, c := range []struct {
		name, amount, memo string
		inputs             int
		left               []string
	}{
		{"one input, no change", "1.25", "rent", 1, []string{"0.75", "0.5"}},
		{"several inputs and change", "1.1", "bonus ✓", 2, []string{"0.15"}},
	} {
		p := payment(c.amount, c.memo)
		k := &keeper{}
		k.before = func(stage string, data []byte) error {
			q := w.request(p.Key)
			switch {
			case stage == saferail.StageUnsigned && q != nil:
				t.Errorf("%s: the sandbox saw the transaction before it was kept", c.name)
			case stage == saferail.StageSigned && (q == nil || q.State != safe.StateUnspent):
				t.Errorf("%s: the signed bytes were kept at request %+v", c.name, q)
			}
			return nil
		}
		mv, err := w.rail.PayKept(ctx, p, "", k)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if mv.Key != p.Key || mv.AssetID != btcID || mv.OpponentID != aliceID || mv.Amount != "-"+c.amount || mv.Memo != c.memo || mv.SnapshotID == "" || mv.CreatedAt.IsZero() {
			t.Fatalf("%s: movement %+v", c.name, mv)
		}
		if got := k.stages(); !slices.Equal(got, []string{saferail.StageUnsigned, saferail.StageSigned}) {
			t.Fatalf("%s: kept %v", c.name, got)
		}
		q := w.request(p.Key)
		signed, _ := hex.DecodeString(q.RawTransaction)
		ver, err := common.UnmarshalVersionedTransaction(signed)
		if err != nil || q.State != safe.StateSpent || string(k.kept[1].Data) != string(signed) || len(ver.Inputs) != c.inputs {
			t.Fatalf("%s: request %+v (%d inputs), kept signed bytes are the submitted ones: %v", c.name, q.State, len(ver.Inputs), string(k.kept[1].Data) == string(signed))
		}
		if !w.rail.Sent(k.kept) || w.rail.Sent(k.kept[:1]) {
			t.Fatalf("%s: Sent is wrong", c.name)
		}
		if got := w.unspent(); !slices.Equal(got, c.left) {
			t.Fatalf("%s: unspent %v, want %v", c.name, got, c.left)
		}
		found, err := w.rail.PaymentByKey(ctx, p.Key)
		if err != nil || *found != *mv {
			t.Fatalf("%s: PaymentByKey = %+v, %v; paid %+v", c.name, found, err, mv)
		}
	}
	if a, _ := w.rail.Asset(ctx, btcID); a.Balance != "0.15" {
		t.Fatalf("balance %s, want 0.15", a.Balance)
	}
	// The history is the sandbox's, newest first.
	mv, err := w.rail.Movements(ctx, rail.Query{Limit: 10})
	if err != nil || len(mv) != 5 || mv[0].Amount != "-1.1" || mv[1].Amount != "-1.25" || mv[4].Amount != "1.25" {
		t.Fatalf("Movements = %+v, %v", mv, err)
	}
	if mv, err := w.rail.Movements(ctx, rail.Query{Opponent: aliceID}); err != nil || len(mv) != 2 || mv[0].Memo != "bonus ✓" {
		t.Fatalf("Movements to Alice = %+v, %v", mv, err)
	}
}

// TestPayRefusedBeforeSending: not enough outputs (also because payouts in
// doubt hold them), a recipient not on Safe, a Pay without a keeper: each
// refused before anything was kept or sent to verify.
func TestPayRefusedBeforeSending(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	k := &keeper{}
	p := payment("2.6", "")
	_, err := w.rail.PayKept(ctx, p, "", k)
	var re *rail.RefusedError
	if !errors.As(err, &re) || !rail.IsInsufficient(err) || re.Code != saferail.CodeInsufficient || !strings.Contains(err.Error(), "2.6 asked, 2.5 spendable") {
		t.Fatalf("too much: %v", err)
	}
	// A payout in doubt holds the two oldest outputs.
	held := &keeper{}
	hp := payment("1.9", "")
	held.before = func(stage string, _ []byte) error {
		if stage == saferail.StageSigned {
			return errKeep
		}
		return nil
	}
	if _, err := w.rail.PayKept(ctx, hp, "", held); err == nil || rail.IsRefused(err) || errors.Is(err, rail.ErrNotSent) {
		t.Fatalf("keeping the signed bytes failed: %v; want an unknown outcome", err)
	}
	k.unsettled = [][]rail.Kept{held.kept}
	_, err = w.rail.PayKept(ctx, payment("0.6", ""), "", k)
	if !rail.IsInsufficient(err) || !strings.Contains(err.Error(), "0.5 spendable (2 more held by payouts not yet settled)") {
		t.Fatalf("with outputs held: %v", err)
	}
	if mv, err := w.rail.PayKept(ctx, payment("0.5", ""), "", k); err != nil || mv.Amount != "-0.5" {
		t.Fatalf("paying with what is not held: %+v, %v", mv, err)
	}

	// Bob is not on Safe: 10404 from the ghost keys, in the rail's words.
	bob := rail.Payment{Key: payment("0.1", "").Key, AssetID: btcID, RecipientID: bobID, Amount: "0.1"}
	k2 := &keeper{}
	_, err = w.rail.PayKept(ctx, bob, "", k2)
	if !errors.As(err, &re) || re.Code != safe.CodeNotRegistered || err.Error() != "the recipient has not upgraded to Mixin Safe, so no Safe payment can reach them; nothing was sent" ||
		!safe.IsRecipientNotRegistered(err) || len(k2.kept) != 0 || w.request(bob.Key) != nil {
		t.Fatalf("to a user not on Safe: %v (kept %v)", err, k2.stages())
	}
	if r := w.rail.Refusal(re.Code, re.Description); r.Error() != err.Error() || !safe.IsRecipientNotRegistered(r) {
		t.Fatalf("rebuilt: %v", r)
	}

	// Pay without a keeper sends nothing.
	np := payment("0.1", "")
	if _, err := w.rail.Pay(ctx, np, ""); !errors.Is(err, rail.ErrNotSent) || w.request(np.Key) != nil {
		t.Fatalf("Pay: %v", err)
	}
	// Reads failing: nothing kept, nothing sent, closed as not sent.
	w.srv.InjectFault("GET", "/safe/outputs", sandbox.Fault{Kind: sandbox.FaultServerError, Times: 3})
	k3 := &keeper{}
	if _, err := w.rail.PayKept(ctx, payment("0.1", ""), "", k3); !errors.Is(err, rail.ErrNotSent) || len(k3.kept) != 0 {
		t.Fatalf("outputs unreadable: %v", err)
	}
}

// TestRepeatedKey: a key paid already, asked again with the same content
// or with other content, builds another transaction under it, which the
// Sequencer will not take: IsKeyUsed, and the look-up by key tells the
// money logic what was paid.
func TestRepeatedKey(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := payment("0.3", "invoice 7")
	first, err := w.rail.PayKept(ctx, p, "", &keeper{})
	if err != nil {
		t.Fatal(err)
	}
	other := p
	other.Amount = "0.4"
	for _, q := range []rail.Payment{p, other} {
		k := &keeper{}
		_, err := w.rail.PayKept(ctx, q, "", k)
		if !rail.IsKeyUsed(err) || !slices.Equal(k.stages(), []string{saferail.StageUnsigned}) {
			t.Fatalf("key paid again (%s): %v, kept %v", q.Amount, err, k.stages())
		}
	}
	found, err := w.rail.PaymentByKey(ctx, p.Key)
	if err != nil || *found != *first {
		t.Fatalf("PaymentByKey = %+v, %v", found, err)
	}
	if got := w.unspent(); !slices.Equal(got, []string{"0.75", "0.5", "0.95"}) {
		t.Fatalf("unspent %v: something moved twice", got)
	}
	if r := w.rail.KeyTaken("taken"); !rail.IsKeyUsed(r) || r.Code != safe.CodeRequestUsed {
		t.Fatalf("KeyTaken = %+v", r)
	}
}

// TestPaymentByKey: not found (never submitted, or only verified) is told
// from an unknown answer; a request of another wallet is not ours.
func TestPaymentByKey(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.rail.PaymentByKey(ctx, payment("1", "").Key); !errors.Is(err, rail.ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	// Verified only.
	k := &keeper{before: func(stage string, _ []byte) error {
		if stage == saferail.StageSigned {
			return errKeep
		}
		return nil
	}}
	p := payment("0.2", "")
	if _, err := w.rail.PayKept(ctx, p, "", k); err == nil {
		t.Fatal("paid without keeping the signed bytes")
	}
	if q := w.request(p.Key); q == nil || q.State != safe.StateUnspent {
		t.Fatalf("request %+v", q)
	}
	if _, err := w.rail.PaymentByKey(ctx, p.Key); !errors.Is(err, rail.ErrNotFound) {
		t.Fatalf("verified only: %v", err)
	}
	// A 5xx is unknown.
	w.srv.InjectFault("GET", "/safe/transactions/", sandbox.Fault{Kind: sandbox.FaultServerError, Times: 3})
	if _, err := w.rail.PaymentByKey(ctx, p.Key); err == nil || errors.Is(err, rail.ErrNotFound) || !mixin.IsServerOrTransport(err) {
		t.Fatalf("a 5xx: %v", err)
	}
	// Alice's payment under a key.
	alice := safe.Payment{RequestID: payment("1", "").Key, AssetID: btcID, Recipient: carlID, Amount: "0.5"}
	u, err := w.alice.Prepare(ctx, alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := w.alice.VerifyAndSign(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.alice.Submit(ctx, alice.RequestID, signed, u.Hash); err != nil {
		t.Fatal(err)
	}
	if _, err := w.rail.PaymentByKey(ctx, alice.RequestID); !errors.Is(err, rail.ErrNotOurs) {
		t.Fatalf("Alice's key: %v", err)
	}
	// Paying under Alice's key is refused as a key used.
	taken := payment("0.1", "")
	taken.Key = alice.RequestID
	if _, err := w.rail.PayKept(ctx, taken, "", &keeper{}); !rail.IsKeyUsed(err) {
		t.Fatalf("paying under Alice's key: %v", err)
	}
}

// TestRefusalRebuilt: a refusal recorded by the journal (code and
// description) reads back as the rail's refusal, with its reason.
func TestRefusalRebuilt(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		code  int
		check func(error) bool
	}{
		{saferail.CodeInsufficient, rail.IsInsufficient},
		{safe.CodeRequestUsed, rail.IsKeyUsed},
		{safe.CodeNotRegistered, safe.IsRecipientNotRegistered},
		{mixin.CodeTooManyRequests, mixin.IsTooManyRequests},
		{safe.CodeOutputsLocked, safe.IsOutputsLocked},
	} {
		r := w.rail.Refusal(c.code, "in the journal's words")
		if r.Code != c.code || !c.check(r) || !strings.Contains(r.Error(), "in the journal's words") || rail.IsPINRefused(r) {
			t.Errorf("code %d rebuilt as %+v", c.code, r)
		}
	}
}
