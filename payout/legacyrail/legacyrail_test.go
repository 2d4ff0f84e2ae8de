package legacyrail_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/rail"
)

const usdtID = "4d8c508b-91c5-375b-92b0-ee702ed2dac5"

type fixture struct {
	srv   *sandbox.Server
	world sandbox.World
	rail  rail.Rail
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv, w, err := sandbox.NewWorld(sandbox.Options{Seed: 7, Operator: sandbox.SessionOptions{Kind: mixin.KeyEd25519}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	sess, err := mixin.NewSession(w.Operator)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mixin.NewClient(hs.URL, sess, mixin.WithTimeout(5*time.Second),
		mixin.WithRetry(mixin.RetryPolicy{Attempts: 1, Base: time.Millisecond, Max: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, world: w, rail: legacyrail.New(c)}
}

func (f *fixture) payment(i int, amount string) rail.Payment {
	return rail.Payment{Key: uuid.NewString(), AssetID: usdtID, RecipientID: f.world.Users[i].UserID, Amount: amount, Memo: "rail test"}
}

// wantMixinCode: the rail's error keeps the legacy client's *mixin.Error inside,
// so that what explains it today keeps working.
func wantMixinCode(t *testing.T, what string, err error, code int) {
	t.Helper()
	var me *mixin.Error
	if !errors.As(err, &me) || me.Code != code {
		t.Errorf("%s: %v; want a *mixin.Error %d inside", what, err, code)
	}
}

func TestLegacyRailPaysAndLooksUpByKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if !f.rail.NeedsPIN() {
		t.Fatal("the legacy rail says it needs no PIN")
	}
	if _, ok := f.rail.(rail.PINVerifier); !ok {
		t.Fatal("the legacy rail on *mixin.Client cannot check a PIN")
	}
	p := f.payment(0, "1.5")

	_, err := f.rail.PaymentByKey(ctx, p.Key)
	if !errors.Is(err, rail.ErrNotFound) {
		t.Fatalf("look-up before paying = %v; want not found", err)
	}
	wantMixinCode(t, "not found", err, mixin.CodeNotFound)

	m, err := f.rail.Pay(ctx, p, f.world.Operator.PIN)
	if err != nil {
		t.Fatal(err)
	}
	if m.Key != p.Key || m.AssetID != p.AssetID || m.OpponentID != p.RecipientID || m.Amount != "-1.5" || m.Memo != p.Memo ||
		m.SnapshotID == "" || m.OpeningBalance == "" || m.ClosingBalance == "" || m.CreatedAt.IsZero() {
		t.Fatalf("Pay answered %+v", m)
	}
	found, err := f.rail.PaymentByKey(ctx, p.Key)
	if err != nil || *found != *m {
		t.Fatalf("look-up after paying = %+v, %v; want %+v", found, err, m)
	}

	// The same key with the same content moves nothing; with other
	// content it is refused as a key used.
	again, err := f.rail.Pay(ctx, p, f.world.Operator.PIN)
	if err != nil || again.SnapshotID != m.SnapshotID {
		t.Fatalf("paying the same key again = %+v, %v", again, err)
	}
	other := p
	other.Amount = "2"
	_, err = f.rail.Pay(ctx, other, f.world.Operator.PIN)
	if !rail.IsKeyUsed(err) || !rail.IsRefused(err) {
		t.Fatalf("the key with other content = %v; want a key-used refusal", err)
	}
	wantMixinCode(t, "key used", err, mixin.CodeTraceUsed)

	moves, err := f.rail.Movements(ctx, rail.Query{Opponent: p.RecipientID})
	if err != nil || len(moves) != 1 || moves[0].SnapshotID != m.SnapshotID {
		t.Fatalf("Movements with the recipient = %+v, %v", moves, err)
	}
}

func TestLegacyRailRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pin := f.world.Operator.PIN

	_, err := f.rail.Pay(ctx, f.payment(0, "1"), wrongPIN(pin))
	if !rail.IsPINRefused(err) || !rail.IsRefused(err) {
		t.Fatalf("a wrong PIN = %v; want a PIN refusal", err)
	}
	if !mixin.IsPINIncorrect(err) {
		t.Errorf("a wrong PIN: mixin.IsPINIncorrect no longer holds for %v", err)
	}

	_, err = f.rail.Pay(ctx, f.payment(0, "999999999"), pin)
	if !rail.IsInsufficient(err) || rail.IsPINRefused(err) {
		t.Fatalf("more than the balance = %v; want an insufficient-balance refusal", err)
	}
	wantMixinCode(t, "insufficient", err, mixin.CodeInsufficientBalance)

	// A 5xx leaves the outcome unknown: not a refusal.
	f.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultServerError})
	_, err = f.rail.Pay(ctx, f.payment(0, "1"), pin)
	if err == nil || rail.IsRefused(err) {
		t.Fatalf("a 5xx = %v; want an unknown outcome", err)
	}

	// A trace paid between two other users is not this account's.
	key := uuid.NewString()
	if _, err := f.srv.Transfer(f.world.Users[0].UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: f.world.Users[1].UserID,
		Amount: "0.5", TraceID: key}); err != nil {
		t.Fatal(err)
	}
	_, err = f.rail.PaymentByKey(ctx, key)
	if !errors.Is(err, rail.ErrNotOurs) || errors.Is(err, rail.ErrNotFound) {
		t.Fatalf("a trace of others = %v; want ErrNotOurs", err)
	}
	wantMixinCode(t, "not ours", err, mixin.CodeForbidden)

	if _, err := f.rail.User(ctx, uuid.NewString()); !errors.Is(err, rail.ErrNotFound) {
		t.Fatalf("an unknown user = %v; want not found", err)
	}
	if _, err := f.rail.Asset(ctx, uuid.NewString()); !errors.Is(err, rail.ErrNotFound) {
		t.Fatalf("an unknown asset = %v; want not found", err)
	}
	u, err := f.rail.UserByMixinID(ctx, f.world.Users[2].IdentityNumber)
	if err != nil || u.UserID != f.world.Users[2].UserID || u.FullName != f.world.Users[2].FullName {
		t.Fatalf("UserByMixinID = %+v, %v", u, err)
	}
	a, err := f.rail.Asset(ctx, usdtID)
	if err != nil || a.AssetID != usdtID || a.Symbol != "USDT" || a.Balance == "" {
		t.Fatalf("Asset = %+v, %v", a, err)
	}

	pv := f.rail.(rail.PINVerifier)
	if err := pv.VerifyPIN(ctx, pin); err != nil {
		t.Fatalf("VerifyPIN with the right PIN = %v", err)
	}
	if err := pv.VerifyPIN(ctx, wrongPIN(pin)); !rail.IsPINRefused(err) {
		t.Fatalf("VerifyPIN with a wrong PIN = %v; want a PIN refusal", err)
	}
	f.srv.InjectFault("POST", "/pin/verify", sandbox.Fault{Kind: sandbox.FaultServerError})
	if err := pv.VerifyPIN(ctx, pin); err == nil || rail.IsRefused(err) {
		t.Fatalf("VerifyPIN with a 5xx = %v; want an unknown answer", err)
	}
}

// TestLegacyRailRebuildsRecordedRefusals: a refusal rebuilt from what the
// journal recorded has the reason and the text of the fresh one.
func TestLegacyRailRebuildsRecordedRefusals(t *testing.T) {
	r := legacyrail.New(nil)
	for _, c := range []struct {
		code   int
		reason rail.Reason
	}{
		{mixin.CodePINIncorrect, rail.PINRefused},
		{mixin.CodePINFormat, rail.PINRefused},
		{mixin.CodeTooManyRequests, rail.PINRefused},
		{mixin.CodeInsufficientBalance, rail.Insufficient},
		{mixin.CodeTraceUsed, rail.KeyUsed},
		{mixin.CodeAmountTooSmall, rail.Other},
		{mixin.CodeInvalidField, rail.Other},
	} {
		re := r.Refusal(c.code, "recorded words")
		if re.Reason != c.reason || re.Code != c.code || re.Description != "recorded words" {
			t.Errorf("Refusal(%d) = %+v; want reason %v", c.code, re, c.reason)
		}
		wantMixinCode(t, "rebuilt", re, c.code)
		if want := (&mixin.Error{Code: c.code, Description: "recorded words"}).Error(); re.Error() != want {
			t.Errorf("Refusal(%d) reads %q; want %q", c.code, re.Error(), want)
		}
	}
	kt := r.KeyTaken("taken by another payout")
	if !rail.IsKeyUsed(kt) || kt.Code != mixin.CodeTraceUsed || !strings.Contains(kt.Error(), "taken by another payout") {
		t.Errorf("KeyTaken = %+v", kt)
	}
	if _, ok := r.(rail.PINVerifier); ok {
		t.Error("a rail on a client without VerifyPIN says it can check a PIN")
	}
}

// wrongPIN is a 6-digit PIN other than pin.
func wrongPIN(pin string) string {
	if pin == "000000" {
		return "111111"
	}
	return "000000"
}
