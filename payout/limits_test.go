package payout

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/addressbook"
	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/payout/legacyrail"
)

// capsStart is the clock of the cap tests.
var capsStart = time.Date(2025, 11, 26, 9, 0, 0, 0, time.UTC)

// usdtCaps is a Config with caps on USDT only.
func usdtCaps(perTransfer, daily string) Config {
	return Config{Limits: map[string]AssetLimit{usdtID: {PerTransfer: perTransfer, Daily: daily}}}
}

// wantCapRefusal checks that err is an amount field error whose reason
// contains every piece of want.
func wantCapRefusal(t *testing.T, err error, want ...string) {
	t.Helper()
	fe := fieldErr(err)
	if fe == nil || fe.Field != mixin.FieldAmount {
		t.Fatalf("Review error %v, want an amount *mixin.FieldError", err)
	}
	for _, w := range want {
		if !strings.Contains(fe.Reason, w) {
			t.Fatalf("reason %q does not say %q", fe.Reason, w)
		}
	}
}

func TestPerTransferCapAtTheEdge(t *testing.T) {
	r := newRig(t, 201, withConfig(usdtCaps("100", "")))
	ctx := context.Background()

	rv := r.review(r.draft(0, "100", ""), nil) // exactly at the cap
	if rv.Caps == nil || rv.Caps.PerTransfer != "100" || rv.Caps.Daily != "" {
		t.Fatalf("caps status %+v, want the per-transfer cap of 100", rv.Caps)
	}
	_, err := r.desk.Review(ctx, r.draft(0, "100.00000001", ""), nil) // one unit over
	wantCapRefusal(t, err, "over the per-transfer cap of 100 USDT")

	// Another asset has no cap.
	btc, err := r.desk.Review(ctx, Draft{AssetID: btcID, Recipient: r.users[0].UserID, Amount: "0.5"}, nil)
	if err != nil || btc.Caps != nil {
		t.Fatalf("uncapped asset: %+v, %v", btc, err)
	}
	if r.j.Len() != 0 || r.count.Posts() != 0 {
		t.Fatal("a review wrote to the journal or posted")
	}
	if res := r.send(rv); res.State != journal.StateDone {
		t.Fatalf("a payout exactly at the cap: %+v", res)
	}
}

// TestDailyCapCountsDoneAndInDoubt: done and in-doubt payouts of the asset
// count toward the daily cap; failed ones and other assets do not.
func TestDailyCapCountsDoneAndInDoubt(t *testing.T) {
	r := newRig(t, 202, withClock(capsStart), withConfig(usdtCaps("", "100")))
	ctx := context.Background()

	done := r.send(r.review(r.draft(0, "40", "done"), nil))
	if done.State != journal.StateDone {
		t.Fatalf("done: %+v", done)
	}
	r.clock.Advance(time.Minute)
	failed, err := r.desk.Send(ctx, r.review(r.draft(2, "25", "wrong PIN"), nil), wrongPIN(r.pin))
	if err != nil || failed.State != journal.StateFailed {
		t.Fatalf("failed: %+v, %v", failed, err)
	}
	r.clock.Advance(time.Minute)
	crashOnce(t) // recorded, never posted: in doubt
	doubt := r.send(r.review(r.draft(1, "30", "in doubt"), nil))
	if doubt.State != journal.StateInDoubt {
		t.Fatalf("in doubt: %+v", doubt)
	}
	if _, err := r.desk.Review(ctx, Draft{AssetID: btcID, Recipient: r.users[0].UserID, Amount: "1"}, nil); err != nil {
		t.Fatalf("other asset: %v", err)
	}

	// Used: 40 done + 30 in doubt = 70; the failed 25 does not count.
	rv := r.review(r.draft(0, "30", ""), nil)
	if rv.Caps == nil || !rv.Caps.Used.Equal(decimal.RequireFromString("70")) || !rv.Caps.LeftAfter.IsZero() || rv.Caps.Daily != "100" {
		t.Fatalf("caps status %+v, want used 70 and nothing left after", rv.Caps)
	}
	_, err = r.desk.Review(ctx, r.draft(0, "30.00000001", ""), nil)
	wantCapRefusal(t, err, "daily cap 100 USDT", "used 70", "left 30")

	// Sending exactly the rest settles the one in doubt first (it is then
	// done: still counted) and passes.
	if res := r.send(rv); res.State != journal.StateDone {
		t.Fatalf("payout up to the cap: %+v", res)
	}
	r.wantState(doubt.TraceID, journal.StateDone)
	_, err = r.desk.Review(ctx, r.draft(0, "0.00000001", ""), nil)
	wantCapRefusal(t, err, "used 100", "left 0")
}

// TestDailyCapRollingWindow: a payout counts for 24 hours after its intent
// was recorded (or after it moved, if later), that instant included, and
// no longer.
func TestDailyCapRollingWindow(t *testing.T) {
	r := newRig(t, 203, withClock(capsStart), withConfig(usdtCaps("", "100")))
	ctx := context.Background()
	if res := r.send(r.review(r.draft(0, "60", ""), nil)); res.State != journal.StateDone {
		t.Fatal(res)
	}
	r.clock.Advance(12 * time.Hour)
	if res := r.send(r.review(r.draft(1, "30", ""), nil)); res.State != journal.StateDone {
		t.Fatal(res)
	}

	r.clock.Advance(12 * time.Hour) // exactly 24 h after the first
	_, err := r.desk.Review(ctx, r.draft(0, "10.00000001", ""), nil)
	wantCapRefusal(t, err, "used 90", "left 10")
	if _, err := r.desk.Review(ctx, r.draft(0, "10", ""), nil); err != nil {
		t.Fatalf("the rest of the cap: %v", err)
	}

	// The first has left the window a moment later: its movement on the
	// rail is stamped a few nanoseconds after its intent (the sandbox keeps
	// its times strictly increasing), and a payment counts until both have
	// left the window.
	r.clock.Advance(time.Millisecond)
	rv := r.review(r.draft(0, "70", ""), nil)
	if !rv.Caps.Used.Equal(decimal.RequireFromString("30")) {
		t.Fatalf("used %s, want 30", rv.Caps.Used)
	}
	_, err = r.desk.Review(ctx, r.draft(0, "70.00000001", ""), nil)
	wantCapRefusal(t, err, "used 30", "left 70")

	r.clock.Advance(12 * time.Hour) // both have left it
	if rv := r.review(r.draft(0, "100", ""), nil); !rv.Caps.Used.IsZero() {
		t.Fatalf("used %s after 36 h, want 0", rv.Caps.Used)
	}
}

// TestSendRechecksTheCaps: two reviews that each fit the daily cap cannot
// both be sent; the second is refused with a *CapError before anything is
// recorded or posted.
func TestSendRechecksTheCaps(t *testing.T) {
	r := newRig(t, 204, withClock(capsStart), withConfig(usdtCaps("", "100")))
	ctx := context.Background()
	a := r.review(r.draft(0, "60", "a"), nil)
	b := r.review(r.draft(1, "60", "b"), nil)
	c := r.review(r.draft(2, "40", "c"), nil)

	crashOnce(t)
	if res := r.send(a); res.State != journal.StateInDoubt {
		t.Fatalf("a: %+v", res)
	}
	res, err := r.desk.Send(ctx, b, r.pin)
	var ce *CapError
	if !errors.As(err, &ce) || !errors.Is(err, ErrOverCap) {
		t.Fatalf("Send of b = %+v, %v; want a *CapError", res, err)
	}
	if ce.Kind != CapDaily || ce.AssetID != usdtID || ce.Symbol != "USDT" || !ce.Cap.Equal(decimal.NewFromInt(100)) ||
		!ce.Used.Equal(decimal.NewFromInt(60)) || !ce.Left.Equal(decimal.NewFromInt(40)) || !ce.Amount.Equal(decimal.NewFromInt(60)) {
		t.Fatalf("cap error %+v", ce)
	}
	if msg := err.Error(); !strings.Contains(msg, "used 60, left 40") || !strings.Contains(msg, "nothing was sent") {
		t.Fatalf("message %q", msg)
	}
	if res.TraceID != b.TraceID || res.Snap != nil {
		t.Fatalf("result %+v", res)
	}
	if _, ok := r.j.Lookup(b.TraceID); ok {
		t.Fatal("the refused payout was recorded")
	}
	r.wantNoDebit(b.TraceID)
	// a, in doubt, counted against the cap; it is settled by the next send
	// that gets past the checks.
	r.wantState(a.TraceID, journal.StateInDoubt)
	if got := r.count.Traces(); len(got) != 0 {
		t.Fatalf("posted %v, want nothing", got)
	}

	// Exactly the rest passes.
	if res := r.send(c); res.State != journal.StateDone {
		t.Fatalf("c: %+v", res)
	}
	r.wantOneDebit(c)
}

func TestSendRechecksThePerTransferCap(t *testing.T) {
	r := newRig(t, 205)
	rv := r.review(r.draft(0, "100.00000001", ""), nil) // reviewed without caps
	capped, err := NewDeskOn(legacyrail.New(r.client), r.j, Config{Self: r.self.UserID, Limits: map[string]AssetLimit{strings.ToUpper(usdtID): {PerTransfer: "100"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = capped.Send(context.Background(), rv, r.pin)
	var ce *CapError
	if !errors.As(err, &ce) || ce.Kind != CapPerTransfer || !strings.Contains(err.Error(), "over the per-transfer cap of 100 USDT") {
		t.Fatalf("Send = %v, want the per-transfer *CapError", err)
	}
	if r.j.Len() != 0 || r.count.Posts() != 0 {
		t.Fatal("a refused payout was recorded or posted")
	}
}

func TestNewDeskChecksTheLimits(t *testing.T) {
	r := newRig(t, 206)
	book, err := addressbook.Open(filepath.Join(t.TempDir(), "ab.json"))
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		cfg  Config
		want string
	}{
		{"asset not a UUID", Config{Limits: map[string]AssetLimit{"USDT": {Daily: "1"}}}, "asset key"},
		{"asset twice", Config{Limits: map[string]AssetLimit{usdtID: {Daily: "1"}, strings.ToUpper(usdtID): {Daily: "2"}}}, "twice"},
		{"negative cap", usdtCaps("-1", ""), "per-transfer cap"},
		{"nine decimals", usdtCaps("", "1.000000001"), "daily cap"},
		{"zero cap", usdtCaps("0", ""), "greater than zero"},
		{"book only without a book", Config{AddressBookOnly: true}, "no address book"},
	}
	for _, c := range bad {
		c.cfg.Self = r.self.UserID
		if _, err := NewDeskOn(legacyrail.New(r.client), r.j, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: NewDesk error %v, want one saying %q", c.name, err, c.want)
		}
	}
	d, err := NewDeskOn(legacyrail.New(r.client), r.j, Config{Self: r.self.UserID, Book: book, AddressBookOnly: true,
		Limits: map[string]AssetLimit{strings.ToUpper(usdtID): {PerTransfer: "1.50", Daily: "10"}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := d.Config()
	if got := cfg.Limits[usdtID]; got != (AssetLimit{PerTransfer: "1.5", Daily: "10"}) || len(cfg.Limits) != 1 {
		t.Fatalf("limits %+v, want canonical keys and amounts", cfg.Limits)
	}
	cfg.Limits[usdtID] = AssetLimit{} // a copy: the desk keeps its own
	if d.Config().Limits[usdtID].Daily != "10" {
		t.Fatal("Config() handed out the desk's own map")
	}
}

// bookRig is a rig whose desk has an address book holding user 0 under
// the name saved, and the given mode.
func addrBookRig(t *testing.T, seed int64, saved string, only bool) (*rig, *addressbook.Book) {
	t.Helper()
	book, err := addressbook.Open(filepath.Join(t.TempDir(), "addressbook-test.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, seed, withConfig(Config{Book: book, AddressBookOnly: only}))
	u := r.users[0]
	if err := book.Save(addressbook.Entry{Label: "Supplier", UserID: u.UserID, IdentityNumber: u.IdentityNumber, FullName: saved}, ""); err != nil {
		t.Fatal(err)
	}
	return r, book
}

func TestAddressBookOnly(t *testing.T) {
	r, _ := addrBookRig(t, 207, "", true)
	ctx := context.Background()
	for _, who := range []string{r.users[1].UserID, r.users[1].IdentityNumber} {
		_, err := r.desk.Review(ctx, Draft{AssetID: usdtID, Recipient: who, Amount: "1"}, nil)
		fe := fieldErr(err)
		if fe == nil || fe.Field != mixin.FieldRecipient || !strings.Contains(fe.Reason, "accepts only saved recipients") ||
			!strings.Contains(fe.Reason, r.users[1].IdentityNumber) {
			t.Fatalf("Review to %s: %v, want a recipient error", who, err)
		}
	}
	rv := r.review(Draft{AssetID: usdtID, Recipient: r.users[0].IdentityNumber, Amount: "1"}, nil)
	if rv.BookEntry == nil || rv.BookEntry.Label != "Supplier" || hasWarning(rv, WarnNotInBook) || hasWarning(rv, WarnNameChanged) {
		t.Fatalf("saved recipient: entry %+v, warnings %v", rv.BookEntry, warningKinds(rv))
	}
	if res := r.send(rv); res.State != journal.StateDone {
		t.Fatal(res)
	}
}

func TestAddressBookWarnings(t *testing.T) {
	ctx := context.Background()
	t.Run("not in the book", func(t *testing.T) {
		r, _ := addrBookRig(t, 208, "", false)
		u := r.users[1]
		rv := r.review(r.draft(1, "1", ""), nil)
		want := u.FullName + " (Mixin ID " + u.IdentityNumber + ") is not in the address book"
		if rv.BookEntry != nil || !hasWarning(rv, WarnNotInBook) || !strings.Contains(reviewWarningText(rv, WarnNotInBook), want) {
			t.Fatalf("warnings %+v, want %q", rv.Warnings, want)
		}
	})
	t.Run("name changed", func(t *testing.T) {
		r, _ := addrBookRig(t, 209, "Old Name Ltd", false)
		rv := r.review(r.draft(0, "1", ""), nil)
		text := reviewWarningText(rv, WarnNameChanged)
		if !strings.Contains(text, "has this recipient as Old Name Ltd") || !strings.Contains(text, "the server now says "+r.users[0].FullName) {
			t.Fatalf("warnings %+v", rv.Warnings)
		}
		if hasWarning(rv, WarnNotInBook) {
			t.Fatal("a saved recipient was called unknown")
		}
	})
	t.Run("same name", func(t *testing.T) {
		r, book := addrBookRig(t, 210, "", false)
		u := r.users[0]
		if err := book.Save(addressbook.Entry{Label: "Supplier", UserID: u.UserID, IdentityNumber: u.IdentityNumber, FullName: u.FullName}, "supplier"); err != nil {
			t.Fatal(err)
		}
		rv := r.review(r.draft(0, "1", ""), nil)
		if hasWarning(rv, WarnNameChanged) || hasWarning(rv, WarnNotInBook) || rv.BookEntry == nil || rv.BookEntry.FullName != u.FullName {
			t.Fatalf("warnings %v, entry %+v", warningKinds(rv), rv.BookEntry)
		}
	})
	t.Run("no book", func(t *testing.T) {
		r := newRig(t, 211)
		rv, err := r.desk.Review(ctx, r.draft(1, "1", ""), nil)
		if err != nil || hasWarning(rv, WarnNotInBook) || rv.BookEntry != nil {
			t.Fatalf("%v %v", err, warningKinds(rv))
		}
	})
}

func reviewWarningText(rv *Review, k WarningKind) string {
	for _, w := range rv.Warnings {
		if w.Kind == k {
			return w.Text
		}
	}
	return ""
}

// TestDailyCapCountsOldInDoubt: a payout left in doubt may still be posted
// (with its trace) whenever it is settled, so it counts against the daily
// cap however old its intent is.
func TestDailyCapCountsOldInDoubt(t *testing.T) {
	r := newRig(t, 203, withClock(capsStart), withConfig(usdtCaps("", "100")))
	crashOnce(t)
	if res := r.send(r.review(r.draft(0, "90", "left in doubt"), nil)); res.State != journal.StateInDoubt {
		t.Fatalf("result %+v", res)
	}
	r.clock.Advance(25 * time.Hour)
	_, err := r.desk.Review(context.Background(), r.draft(1, "100", "a day later"), nil)
	wantCapRefusal(t, err, "daily cap", "used 90", "left 10")
}

// TestDailyCapBelowPerTransferRefused: a configuration built in code whose
// daily cap is lower than its per-transfer cap is refused, naming both.
func TestDailyCapBelowPerTransferRefused(t *testing.T) {
	j, _, err := journal.Open(filepath.Join(t.TempDir(), "j.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	cfg := Config{Self: "6f2b0e43-8c1d-4a55-9a3b-0e9c2b7d4f11", Limits: map[string]AssetLimit{usdtID: {PerTransfer: "500", Daily: "100"}}}
	_, err = NewDeskOn(legacyrail.New(&mixin.Client{}), j, cfg)
	if err == nil || !strings.Contains(err.Error(), "daily cap 100 is lower than the per-transfer cap 500") {
		t.Fatalf("NewDesk = %v", err)
	}
	cfg.Limits = map[string]AssetLimit{usdtID: {PerTransfer: "100", Daily: "100"}}
	if _, err := NewDeskOn(legacyrail.New(&mixin.Client{}), j, cfg); err != nil {
		t.Fatalf("equal caps: %v", err)
	}
}

// TestCapReasonGroupsDigits: a cap refusal writes its amounts with grouped
// digits, as the confirmation shows the caps.
func TestCapReasonGroupsDigits(t *testing.T) {
	d := decimal.RequireFromString
	daily := &CapError{Kind: CapDaily, Symbol: "USDT", Amount: d("1500"), Cap: d("3000"), Used: d("2998.5"), Left: d("1.5")}
	if got, want := daily.Reason(), "over the daily cap 3,000 USDT: used 2,998.5, left 1.5 (last 24 h, payouts in doubt included)"; got != want {
		t.Errorf("daily Reason = %q, want %q", got, want)
	}
	if got, want := daily.Error(), "payout: 1,500 USDT is over the daily cap 3,000 USDT"; !strings.HasPrefix(got, want) {
		t.Errorf("daily Error = %q, want it to start %q", got, want)
	}
	daily.Elsewhere = d("1250")
	if got := daily.Reason(); !strings.Contains(got, "used 2,998.5 (1,250 of it by other consoles), left 1.5") {
		t.Errorf("daily Reason with other consoles = %q", got)
	}
	per := &CapError{Kind: CapPerTransfer, Symbol: "USDT", Amount: d("5000.01"), Cap: d("5000"), Left: d("5000")}
	if got, want := per.Reason(), "over the per-transfer cap of 5,000 USDT"; got != want {
		t.Errorf("per-transfer Reason = %q, want %q", got, want)
	}
}
