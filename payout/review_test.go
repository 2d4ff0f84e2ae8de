package payout

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/payout/rail"
)

// reviewStart is the clock of the review tests.
var reviewStart = time.Date(2025, 11, 26, 9, 0, 0, 0, time.UTC)

func TestReviewShowsWhatWillBePaid(t *testing.T) {
	r := newRig(t, 31, withClock(reviewStart))
	u := r.users[0]
	rv, err := r.desk.Review(context.Background(), Draft{AssetID: strings.ToUpper(usdtID), Recipient: " " + u.UserID + " ", Amount: " 12.50 ", Memo: "invoice 7"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rv.Recipient.UserID != u.UserID || rv.Recipient.FullName != u.FullName || rv.Recipient.IdentityNumber != u.IdentityNumber {
		t.Errorf("recipient %+v, want %+v", rv.Recipient, u)
	}
	if rv.Asset.AssetID != usdtID || rv.Asset.Symbol != "USDT" {
		t.Errorf("asset %+v", rv.Asset)
	}
	wantDec := func(name string, got decimal.Decimal, want string) {
		t.Helper()
		if !got.Equal(decimal.RequireFromString(want)) {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	if rv.AmountText != "12.5" {
		t.Errorf("AmountText %q, want the canonical 12.5", rv.AmountText)
	}
	wantDec("Amount", rv.Amount, "12.5")
	wantDec("Balance", rv.Balance, "50000")
	wantDec("BalanceAfter", rv.BalanceAfter, "49987.5")
	wantDec("PriceUSD", rv.PriceUSD, "1.0002")
	wantDec("ValueUSD", rv.ValueUSD, "12.5025") // exact, no float
	if rv.Memo != "invoice 7" {
		t.Errorf("memo %q", rv.Memo)
	}
	if id, err := uuid.Parse(rv.TraceID); err != nil || id.String() != rv.TraceID || rv.NewTrace {
		t.Errorf("trace %q (new %v), want a fresh canonical UUID", rv.TraceID, rv.NewTrace)
	}
	if want := journal.ContentHash(usdtID, u.UserID, "12.5", "invoice 7", rv.TraceID); rv.ContentHash != want {
		t.Errorf("content hash %s, want %s", rv.ContentHash, want)
	}
	if in := rv.Payment(); in != (rail.Payment{AssetID: usdtID, RecipientID: u.UserID, Amount: "12.5", Key: rv.TraceID, Memo: "invoice 7"}) {
		t.Errorf("Payment() = %+v", in)
	}
	if !rv.ReviewedAt.Equal(reviewStart) {
		t.Errorf("ReviewedAt %v, want %v", rv.ReviewedAt, reviewStart)
	}
	if r.j.Len() != 0 || r.count.Posts() != 0 {
		t.Error("a review wrote to the journal or posted")
	}
}

func TestReviewFieldErrors(t *testing.T) {
	r := newRig(t, 32)
	u := r.users[0].UserID
	ok := Draft{AssetID: usdtID, Recipient: u, Amount: "1", Memo: "ok"}
	with := func(f func(*Draft)) Draft { d := ok; f(&d); return d }
	cases := []struct {
		name  string
		draft Draft
		field string
	}{
		{"no asset", with(func(d *Draft) { d.AssetID = "" }), mixin.FieldAsset},
		{"asset not a UUID", with(func(d *Draft) { d.AssetID = "USDT" }), mixin.FieldAsset},
		{"unknown asset", with(func(d *Draft) { d.AssetID = "00000000-0000-4000-8000-000000000001" }), mixin.FieldAsset},
		{"no recipient", with(func(d *Draft) { d.Recipient = "  " }), mixin.FieldRecipient},
		{"recipient by name", with(func(d *Draft) { d.Recipient = "Amara Berg" }), mixin.FieldRecipient},
		{"recipient phone-like", with(func(d *Draft) { d.Recipient = "+123" }), mixin.FieldRecipient},
		{"unknown recipient UUID", with(func(d *Draft) { d.Recipient = "00000000-0000-4000-8000-000000000002" }), mixin.FieldRecipient},
		{"unknown Mixin ID", with(func(d *Draft) { d.Recipient = "1" }), mixin.FieldRecipient},
		{"self by UUID", with(func(d *Draft) { d.Recipient = r.self.UserID }), mixin.FieldRecipient},
		{"self by Mixin ID", with(func(d *Draft) { d.Recipient = r.self.IdentityNumber }), mixin.FieldRecipient},
		{"self upper case", with(func(d *Draft) { d.Recipient = strings.ToUpper(r.self.UserID) }), mixin.FieldRecipient},
		{"no amount", with(func(d *Draft) { d.Amount = "" }), mixin.FieldAmount},
		{"zero", with(func(d *Draft) { d.Amount = "0" }), mixin.FieldAmount},
		{"zero decimals", with(func(d *Draft) { d.Amount = "0.00000000" }), mixin.FieldAmount},
		{"negative", with(func(d *Draft) { d.Amount = "-1" }), mixin.FieldAmount},
		{"exponent", with(func(d *Draft) { d.Amount = "1e3" }), mixin.FieldAmount},
		{"nine decimals", with(func(d *Draft) { d.Amount = "1.123456789" }), mixin.FieldAmount},
		{"grouping", with(func(d *Draft) { d.Amount = "1,000" }), mixin.FieldAmount},
		{"leading point", with(func(d *Draft) { d.Amount = ".5" }), mixin.FieldAmount},
		{"words", with(func(d *Draft) { d.Amount = "ten" }), mixin.FieldAmount},
		{"over the balance", with(func(d *Draft) { d.Amount = "50000.00000001" }), mixin.FieldAmount},
		{"memo too long", with(func(d *Draft) { d.Memo = strings.Repeat("é", 141) }), mixin.FieldMemo},
		{"memo newline", with(func(d *Draft) { d.Memo = "a\nb" }), mixin.FieldMemo},
		{"memo not UTF-8", with(func(d *Draft) { d.Memo = "\xff" }), mixin.FieldMemo},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rv, err := r.desk.Review(context.Background(), c.draft, nil)
			fe := fieldErr(err)
			if fe == nil || fe.Field != c.field {
				t.Fatalf("Review = %+v, %v; want a *mixin.FieldError for %s", rv, err, c.field)
			}
			if rv != nil {
				t.Fatalf("a review came with the error")
			}
		})
	}
	// The balance itself and 140 characters are allowed.
	for _, d := range []Draft{with(func(d *Draft) { d.Amount = "50000" }), with(func(d *Draft) { d.Memo = strings.Repeat("é", 140) })} {
		if _, err := r.desk.Review(context.Background(), d, nil); err != nil {
			t.Errorf("Review(%+v): %v", d, err)
		}
	}
	if r.j.Len() != 0 || r.count.Posts() != 0 {
		t.Fatal("a review wrote to the journal or posted")
	}
}

func TestReviewRecipientByMixinID(t *testing.T) {
	r := newRig(t, 33)
	u := r.users[2]
	rv := r.review(Draft{AssetID: usdtID, Recipient: " " + u.IdentityNumber + " ", Amount: "1"}, nil)
	if rv.Recipient.UserID != u.UserID || rv.Recipient.FullName != u.FullName {
		t.Fatalf("recipient %+v, want %+v", rv.Recipient, u)
	}
	if res := r.send(rv); res.State != journal.StateDone {
		t.Fatalf("%+v", res)
	}
	if got := r.wantOneDebit(rv); got.To != u.UserID {
		t.Fatalf("paid %s", got.To)
	}
}

func TestReviewWarnings(t *testing.T) {
	ctx := context.Background()
	t.Run("first payout", func(t *testing.T) {
		r := newRig(t, 34, withClock(reviewStart))
		rv := r.review(r.draft(0, "5", ""), nil)
		if ks := warningKinds(rv); len(ks) != 1 || ks[0] != WarnFirstTime {
			t.Fatalf("warnings %v, want only %s", ks, WarnFirstTime)
		}
		if w := rv.Warnings[0].Text; !strings.Contains(w, r.users[0].FullName) || !strings.Contains(w, r.users[0].IdentityNumber) {
			t.Errorf("warning %q does not name the recipient and Mixin ID", w)
		}
		r.send(rv)
		next := r.review(r.draft(0, "6", ""), nil)
		if len(next.Warnings) != 0 {
			t.Fatalf("after a payout, warnings %v, want none", warningKinds(next))
		}
		// Still first for another recipient.
		if other := r.review(r.draft(1, "6", ""), nil); !hasWarning(other, WarnFirstTime) {
			t.Fatalf("warnings %v for a new recipient", warningKinds(other))
		}
	})
	t.Run("duplicate from the journal", func(t *testing.T) {
		r := newRig(t, 35, withClock(reviewStart))
		r.send(r.review(r.draft(0, "5", "first"), nil))
		r.clock.Advance(2 * time.Hour)
		rv := r.review(r.draft(0, "5.00", "second"), nil)
		if ks := warningKinds(rv); len(ks) != 1 || ks[0] != WarnDuplicate {
			t.Fatalf("warnings %v, want only %s", ks, WarnDuplicate)
		}
		if w := rv.Warnings[0].Text; !strings.Contains(w, "5 USDT") || !strings.Contains(w, r.users[0].FullName) || !strings.Contains(w, "2h00m") {
			t.Errorf("warning %q", w)
		}
		for name, d := range map[string]Draft{
			"other amount":    r.draft(0, "5.01", ""),
			"other recipient": r.draft(1, "5", ""),
			"other asset":     {AssetID: ethID, Recipient: r.users[0].UserID, Amount: "5"},
		} {
			if rv := r.review(d, nil); hasWarning(rv, WarnDuplicate) {
				t.Errorf("%s: duplicate warning %v", name, rv.Warnings)
			}
		}
		r.clock.Advance(3*time.Hour + 59*time.Minute) // 5h59m after
		if rv := r.review(r.draft(0, "5", ""), nil); !hasWarning(rv, WarnDuplicate) {
			t.Errorf("5h59m later: warnings %v, want %s", warningKinds(rv), WarnDuplicate)
		}
		r.clock.Advance(2 * time.Minute) // 6h01m after
		if rv := r.review(r.draft(0, "5", ""), nil); hasWarning(rv, WarnDuplicate) {
			t.Errorf("6h01m later: duplicate warning %v", rv.Warnings)
		}
	})
	t.Run("duplicate in doubt counts, failed does not", func(t *testing.T) {
		r := newRig(t, 36, withClock(reviewStart))
		if res, err := r.desk.Send(ctx, r.review(r.draft(1, "6", ""), nil), wrongPIN(r.pin)); err != nil || res.State != journal.StateFailed {
			t.Fatalf("%+v, %v", res, err)
		}
		if rv := r.review(r.draft(1, "6", ""), nil); hasWarning(rv, WarnDuplicate) || !hasWarning(rv, WarnFirstTime) {
			t.Errorf("after a failed payout: warnings %v, want first and no duplicate", warningKinds(rv))
		}
		crashOnce(t)
		r.send(r.review(r.draft(2, "8", ""), nil))
		rv := r.review(r.draft(2, "8", ""), nil)
		for _, k := range []WarningKind{WarnDuplicate, WarnFirstTime, WarnInDoubt} {
			if !hasWarning(rv, k) {
				t.Errorf("with the same payout in doubt: warnings %v, want %s", warningKinds(rv), k)
			}
		}
	})
	t.Run("duplicate from the server", func(t *testing.T) {
		// Paid from this account by another tool: not in the journal.
		r := newRig(t, 37, withClock(reviewStart))
		if _, err := r.srv.Transfer(r.self.UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.users[3].UserID, Amount: "9", TraceID: NewTraceID()}); err != nil {
			t.Fatal(err)
		}
		r.clock.Advance(31 * time.Minute)
		rv := r.review(r.draft(3, "9", ""), nil)
		if ks := warningKinds(rv); len(ks) != 1 || ks[0] != WarnDuplicate {
			t.Fatalf("warnings %v, want only %s (and not first: the server shows a payout)", ks, WarnDuplicate)
		}
		if w := rv.Warnings[0].Text; !strings.Contains(w, "9 USDT") || !strings.Contains(w, "30 min ago") {
			t.Errorf("warning %q", w)
		}
		// A payment received from that user is not a payout to them.
		if _, err := r.srv.Transfer(r.users[0].UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.self.UserID, Amount: "4", TraceID: NewTraceID()}); err != nil {
			t.Fatal(err)
		}
		if rv := r.review(r.draft(0, "4", ""), nil); hasWarning(rv, WarnDuplicate) || !hasWarning(rv, WarnFirstTime) {
			t.Errorf("after receiving 4 from the recipient: warnings %v, want first only", warningKinds(rv))
		}
		r.clock.Advance(5*time.Hour + 30*time.Minute)
		if rv := r.review(r.draft(3, "9", ""), nil); hasWarning(rv, WarnDuplicate) || hasWarning(rv, WarnFirstTime) {
			t.Errorf("6h01m later: warnings %v, want none", warningKinds(rv))
		}
	})
	t.Run("large amount", func(t *testing.T) {
		r := newRig(t, 38, withClock(reviewStart))
		big := r.review(Draft{AssetID: btcID, Recipient: r.users[0].UserID, Amount: "0.02"}, nil) // 1285.01 USD
		if !hasWarning(big, WarnLarge) {
			t.Fatalf("warnings %v, want %s", warningKinds(big), WarnLarge)
		}
		for _, w := range big.Warnings {
			if w.Kind == WarnLarge && (!strings.Contains(w.Text, "1,285.01 USD") || !strings.Contains(w.Text, "threshold 1,000 USD")) {
				t.Errorf("warning %q", w.Text)
			}
		}
		if small := r.review(Draft{AssetID: btcID, Recipient: r.users[0].UserID, Amount: "0.01"}, nil); hasWarning(small, WarnLarge) {
			t.Errorf("642 USD: warnings %v", warningKinds(small))
		}
	})
	t.Run("large amount threshold", func(t *testing.T) {
		for _, c := range []struct {
			threshold, amount string
			warn              bool
		}{
			{"1.0002", "1", true}, // at the threshold exactly
			{"1.0003", "1", false},
			{"500", "0.01", false}, // USDT
			{"", "999.8", false},   // 999.99996 USD, under the default 1000
			{"", "999.9", true},    // 1000.09998 USD
			{"0", "50000", false},  // zero turns the warning off
		} {
			r := newRig(t, 39, withConfig(Config{LargeUSD: c.threshold}))
			rv := r.review(r.draft(0, c.amount, ""), nil)
			if hasWarning(rv, WarnLarge) != c.warn {
				t.Errorf("threshold %q, %s USDT (%s USD): warnings %v, want large=%v", c.threshold, c.amount, rv.ValueUSD, warningKinds(rv), c.warn)
			}
		}
	})
	t.Run("another transfer in doubt", func(t *testing.T) {
		r := newRig(t, 40, withClock(reviewStart))
		crashOnce(t)
		stuck := r.review(r.draft(0, "1", ""), nil)
		r.send(stuck)
		rv := r.review(r.draft(1, "2", ""), nil)
		if !hasWarning(rv, WarnInDoubt) {
			t.Fatalf("warnings %v, want %s", warningKinds(rv), WarnInDoubt)
		}
		if _, err := r.desk.Recover(ctx, r.pin); err != nil {
			t.Fatal(err)
		}
		if rv := r.review(r.draft(1, "2", ""), nil); hasWarning(rv, WarnInDoubt) {
			t.Fatalf("after recovery: warnings %v", warningKinds(rv))
		}
	})
}

// TestReviewTraceThroughEdits: the trace is made at the first review and
// kept through edits until a payout is recorded with it.
func TestReviewTraceThroughEdits(t *testing.T) {
	r := newRig(t, 41)
	ctx := context.Background()
	first := r.review(r.draft(0, "10", "draft"), nil)
	edited := r.review(r.draft(0, "11", "draft, edited"), first)
	if edited.TraceID != first.TraceID || edited.NewTrace {
		t.Fatalf("edit changed the trace %s -> %s (new %v)", first.TraceID, edited.TraceID, edited.NewTrace)
	}
	if edited.ContentHash == first.ContentHash {
		t.Fatal("the edit did not change the content hash")
	}
	res := r.send(edited)
	if res.State != journal.StateDone {
		t.Fatalf("%+v", res)
	}
	// The stale review (same trace, other content) cannot be sent.
	stale, err := r.desk.Send(ctx, first, r.pin)
	if err != ErrTraceMismatch || stale.State == journal.StateDone {
		t.Fatalf("stale review: %+v, %v; want ErrTraceMismatch", stale, err)
	}
	// Reviewing again after the payout makes a new trace and says so.
	again := r.review(r.draft(0, "11", "draft, edited"), edited)
	if again.TraceID == edited.TraceID || !again.NewTrace || !hasWarning(again, WarnDuplicate) {
		t.Fatalf("review after the payout: trace %s new %v warnings %v", again.TraceID, again.NewTrace, warningKinds(again))
	}
	r.wantOneDebit(edited)
	if r.count.Posts() != 1 {
		t.Fatalf("%d posts, want 1", r.count.Posts())
	}

	// A payout left in doubt also keeps its trace to itself.
	crashOnce(t)
	stuck := r.review(r.draft(1, "1", ""), nil)
	r.send(stuck)
	next := r.review(r.draft(1, "1.5", ""), stuck)
	if next.TraceID == stuck.TraceID || !next.NewTrace {
		t.Fatalf("review after a payout in doubt kept trace %s", next.TraceID)
	}
	// A review never sent keeps its trace, however often it is edited.
	a := r.review(r.draft(2, "1", ""), nil)
	b := r.review(r.draft(3, "2", "x"), a)
	c := r.review(r.draft(3, "3", "y"), b)
	if a.TraceID != b.TraceID || b.TraceID != c.TraceID || c.NewTrace {
		t.Fatalf("traces %s %s %s", a.TraceID, b.TraceID, c.TraceID)
	}
}

// TestReviewWarnsWhenNoPrice: an asset without a USD price cannot be
// checked against the large-amount threshold; the review says so instead of
// staying silent.
func TestReviewWarnsWhenNoPrice(t *testing.T) {
	r := newRig(t, 42, withClock(reviewStart))
	if _, err := r.srv.AddAsset(mixin.Asset{AssetID: "9b180ab6-6abe-3dc0-a13f-04169eb34bfa", ChainID: "9b180ab6-6abe-3dc0-a13f-04169eb34bfa", Symbol: "NOPX", Name: "No price", PriceUSD: "0"}); err != nil {
		t.Fatal(err)
	}
	if err := r.srv.Credit(r.self.UserID, "9b180ab6-6abe-3dc0-a13f-04169eb34bfa", "1000000"); err != nil {
		t.Fatal(err)
	}
	rv := r.review(Draft{AssetID: "9b180ab6-6abe-3dc0-a13f-04169eb34bfa", Recipient: r.users[0].UserID, Amount: "999999"}, nil)
	found := false
	for _, w := range rv.Warnings {
		if w.Kind == WarnLarge && strings.Contains(w.Text, "NOPX has no USD price") {
			found = true
		}
	}
	if !found {
		t.Fatalf("warnings %+v lack the no-price warning", rv.Warnings)
	}
}
