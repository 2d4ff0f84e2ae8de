package payreq_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mixdesk/internal/sandboxpay"
	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/payouttest"
	"mixdesk/payout/rail"
	"mixdesk/payout/saferail"
	"mixdesk/payreq"
	"mixdesk/safe"
	"mixdesk/safe/paylink"
	safesandbox "mixdesk/safe/sandbox"
)

// TestRequestsSafeForm: a request made in the Safe form carries the Safe
// link, keeps its form on disk (a version 2 book), and follows the Safe
// memo rules; a book of legacy requests is written as before.
func TestRequestsSafeForm(t *testing.T) {
	b, path := openBook(t)
	legacy, err := b.Create(reqSelf, usdtID, "2", "")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), `"version": 1`) || strings.Contains(string(raw), `"form"`) {
		t.Fatalf("a book of legacy requests is not written as before:\n%s", raw)
	}

	trace := payout.NewTraceID()
	r, err := b.CreateWithForm(payreq.FormSafe, trace, strings.ToUpper(reqSelf), usdtID, "12.50", "invoice 42 · café")
	if err != nil {
		t.Fatal(err)
	}
	if r.Form != payreq.FormSafe || r.Amount != "12.5" || r.Recipient != reqSelf || r.TraceID != trace {
		t.Fatalf("request %+v", r)
	}
	link, err := r.Link()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "https://mixin.one/pay/"+reqSelf+"?") {
		t.Fatalf("link %s is not the Safe form", link)
	}
	p, err := paylink.Parse(link)
	if err != nil || p != r.SafeRequest() {
		t.Fatalf("link %s reads back as %+v, %v", link, p, err)
	}
	if p != (paylink.Request{Recipient: reqSelf, AssetID: usdtID, Amount: "12.5", TraceID: trace, Memo: "invoice 42 · café"}) {
		t.Fatalf("link asks for %+v", p)
	}
	if l, _ := legacy.Link(); !strings.HasPrefix(l, "https://mixin.one/pay?recipient=") {
		t.Fatalf("the legacy request's link is %s", l)
	}

	// The same request again is the one in the book; the same trace in
	// the other form is another request, refused.
	if again, err := b.CreateWithForm(payreq.FormSafe, trace, reqSelf, usdtID, "12.5", "invoice 42 · café"); err != nil || again != r {
		t.Fatalf("the same request again: %+v %v", again, err)
	}
	if _, err := b.CreateWithForm(payreq.FormLegacy, trace, reqSelf, usdtID, "12.5", "invoice 42 · café"); fieldErr(err) == nil || fieldErr(err).Field != mixin.FieldTrace {
		t.Fatalf("the trace in the other form: %v", err)
	}

	// A Safe memo is at most 256 bytes; the legacy link counts characters only.
	long := strings.Repeat("茶", 100) // 100 characters, 300 bytes
	if _, err := b.CreateWithForm(payreq.FormSafe, payout.NewTraceID(), reqSelf, usdtID, "1", long); fieldErr(err) == nil || fieldErr(err).Field != mixin.FieldMemo || !strings.Contains(err.Error(), "256") {
		t.Fatalf("a 300-byte memo on a Safe link: %v", err)
	}
	if err := payreq.FormSafe.CheckMemo(long); err == nil {
		t.Fatal("FormSafe.CheckMemo accepts 300 bytes")
	}
	if err := payreq.FormLegacy.CheckMemo(long); err != nil {
		t.Fatalf("FormLegacy.CheckMemo: %v", err)
	}
	if _, err := b.CreateWithForm(payreq.FormSafe, payout.NewTraceID(), "MIXtoo", usdtID, "1", ""); fieldErr(err) == nil || fieldErr(err).Field != mixin.FieldRecipient {
		t.Fatalf("a request paying an address: %v", err)
	}
	if _, err := b.CreateWithForm("smoke", payout.NewTraceID(), reqSelf, usdtID, "1", ""); err == nil || !strings.Contains(err.Error(), "unknown link form") {
		t.Fatalf("an unknown form: %v", err)
	}

	// On disk: version 2, the form recorded, and both read back.
	raw, _ = os.ReadFile(path)
	if !strings.Contains(string(raw), `"version": 2`) || strings.Count(string(raw), `"form": "safe"`) != 1 {
		t.Fatalf("book file:\n%s", raw)
	}
	b2, err := payreq.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := b2.Get(trace); g != r {
		t.Fatalf("after reopening: %+v", g)
	}
	if g, _ := b2.Get(legacy.TraceID); g != legacy || g.Form != payreq.FormLegacy {
		t.Fatalf("the legacy request after reopening: %+v", g)
	}
	if l, _ := b2.List()[0].Link(); l != link {
		t.Fatalf("the link after reopening is %s, want %s", l, link)
	}
}

// TestRequestsBookFilesOfEveryVersion: a book written before forms were
// recorded loads with legacy links; forms are read only from version 2.
func TestRequestsBookFilesOfEveryVersion(t *testing.T) {
	const v1 = `{
  "version": 1,
  "requests": [
    {
      "trace_id": "11111111-2222-4333-8444-555555555555",
      "asset_id": "` + usdtID + `",
      "amount": "1.5",
      "memo": "rent",
      "recipient": "` + reqSelf + `",
      "created_at": "2024-06-11T09:00:00Z",
      "state": "open"
    }
  ]
}
`
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	b, err := payreq.Open(write("v1.json", v1))
	if err != nil {
		t.Fatal(err)
	}
	r, ok := b.Get("11111111-2222-4333-8444-555555555555")
	if !ok || r.Form != payreq.FormLegacy {
		t.Fatalf("old request %+v %v", r, ok)
	}
	if l, err := r.Link(); err != nil || !strings.HasPrefix(l, "https://mixin.one/pay?recipient="+reqSelf) {
		t.Fatalf("old request's link %s %v", l, err)
	}
	for _, tc := range []struct{ name, content, want string }{
		{"form in v1", strings.Replace(v1, `"state": "open"`, `"state": "open", "form": "safe"`, 1), "a link form in a version 1 book"},
		{"unknown form", strings.Replace(strings.Replace(v1, `"version": 1`, `"version": 2`, 1), `"state": "open"`, `"state": "open", "form": "mixin"`, 1), `unknown link form`},
		{"newer", strings.Replace(v1, `"version": 1`, `"version": 3`, 1), "written by a newer mixdesk"},
	} {
		p := write(tc.name+".json", tc.content)
		if _, err := payreq.Open(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	v2 := strings.Replace(strings.Replace(v1, `"version": 1`, `"version": 2`, 1), `"state": "open"`, `"state": "open", "form": "safe"`, 1)
	b, err = payreq.Open(write("v2.json", v2))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := b.Get("11111111-2222-4333-8444-555555555555"); r.Form != payreq.FormSafe {
		t.Fatalf("v2 request %+v", r)
	}
}

// safeWorld is a Safe sandbox world on loopback and the operator's rail.
type safeWorld struct {
	srv  *safesandbox.Server
	w    safesandbox.World
	url  string
	rail *saferail.Rail
	op   string
}

func newSafeWorld(t *testing.T) *safeWorld {
	t.Helper()
	srv, w, err := safesandbox.NewWorld(safesandbox.Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	r, err := saferail.Dial(hs.URL, w.Operator, saferail.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return &safeWorld{srv: srv, w: w, url: hs.URL, rail: r, op: w.OperatorUser.UserID}
}

// payLink pays a link as the world's first payer who can.
func (sw *safeWorld) payLink(t *testing.T, link string) sandboxpay.Paid {
	t.Helper()
	p, err := sandboxpay.Safe(context.Background(), sw.url, sw.w, link)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRequestsCheckOnSafeSandbox: a Safe link paid by another user of the
// Safe sandbox is found by its trace as the payer's transaction, with its
// amount, asset, memo and recipient checked; a wrong payment closes the
// request as spent, and a trace used by a payment to someone else is
// reported as on the legacy rail (ErrNotOurs, the request left open).
func TestRequestsCheckOnSafeSandbox(t *testing.T) {
	sw := newSafeWorld(t)
	b, _ := openBook(t)
	ctx := context.Background()
	looker := sw.rail.Incoming()
	usdt := sw.w.Assets[2].AssetID

	req, err := b.CreateWithForm(payreq.FormSafe, payout.NewTraceID(), sw.op, usdt, "12.5", "invoice 7 · 茶")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Check(ctx, looker, req.TraceID); err != nil || got != req {
		t.Fatalf("before payment: %+v %v", got, err)
	}
	link, _ := req.Link()
	paid := sw.payLink(t, link)
	if paid.PayerID != sw.w.Users[0].UserID {
		t.Fatalf("paid by %+v", paid)
	}
	got, err := b.Check(ctx, looker, req.TraceID)
	if err != nil || !got.Paid() || got.PayerID != paid.PayerID {
		t.Fatalf("after payment: %+v %v", got, err)
	}
	// The snapshot recorded is the operator's own snapshot of the payment.
	var mine *safe.Snapshot
	for _, s := range sw.srv.Snapshots(sw.op) {
		if s.TransactionHash == paid.Ref {
			mine = &s
		}
	}
	if mine == nil || got.SnapshotID != mine.SnapshotID || mine.Amount != "12.5" {
		t.Fatalf("snapshot %s; the operator's snapshots hold %+v", got.SnapshotID, mine)
	}
	// The desk's own rail does not take another wallet's transaction for
	// a payment of its own.
	if _, err := sw.rail.PaymentByKey(ctx, req.TraceID); !errors.Is(err, rail.ErrNotOurs) {
		t.Fatalf("the desk's look-up: %v", err)
	}

	// Paid with the wrong amount, or memo: closed as spent, saying what.
	for _, tc := range []struct {
		name string
		edit func(*paylink.Request)
		want string
	}{
		{"amount", func(p *paylink.Request) { p.Amount = "12" }, "amount 12 instead of 12.5"},
		{"memo", func(p *paylink.Request) { p.Memo = "invoice 8" }, `memo "invoice 8" instead of "invoice 7 · 茶"`},
		{"asset", func(p *paylink.Request) { p.AssetID, p.Amount = sw.w.Assets[1].AssetID, "1" }, "asset \"" + sw.w.Assets[1].AssetID + "\" instead of " + usdt},
	} {
		rq, err := b.CreateWithForm(payreq.FormSafe, payout.NewTraceID(), sw.op, usdt, "12.5", "invoice 7 · 茶")
		if err != nil {
			t.Fatal(err)
		}
		wrong := rq.SafeRequest()
		tc.edit(&wrong)
		l, err := paylink.Build(wrong)
		if err != nil {
			t.Fatal(err)
		}
		sw.payLink(t, l)
		got, err := b.Check(ctx, looker, rq.TraceID)
		var pm *payreq.PaymentMismatchError
		if !errors.As(err, &pm) || !strings.Contains(err.Error(), tc.want) || !got.Spent() {
			t.Errorf("%s: %+v, %v; want spent with %q", tc.name, got, err, tc.want)
		}
	}

	// The trace used by another user's payment to someone else: not ours,
	// the request stays open.
	other, err := b.CreateWithForm(payreq.FormSafe, payout.NewTraceID(), sw.op, usdt, "3", "")
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := other.SafeRequest()
	elsewhere.Recipient = sw.w.Users[3].UserID
	l, _ := paylink.Build(elsewhere)
	sw.payLink(t, l)
	got, err = b.Check(ctx, looker, other.TraceID)
	if !errors.Is(err, rail.ErrNotOurs) || got != other {
		t.Fatalf("a trace used elsewhere: %+v %v", got, err)
	}

	// The trace used by this wallet itself to pay someone: spent, "sent".
	own, err := b.CreateWithForm(payreq.FormSafe, payout.NewTraceID(), sw.op, usdt, "1", "")
	if err != nil {
		t.Fatal(err)
	}
	c := sw.rail.Client()
	sp := safe.Payment{RequestID: own.TraceID, AssetID: usdt, Recipient: sw.w.Users[1].UserID, Amount: "1"}
	u, err := c.Prepare(ctx, sp, nil)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := c.VerifyAndSign(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, own.TraceID, signed, u.Hash); err != nil {
		t.Fatal(err)
	}
	var pm *payreq.PaymentMismatchError
	if got, err := b.Check(ctx, looker, own.TraceID); !errors.As(err, &pm) || !strings.Contains(err.Error(), "this wallet sent") || !got.Spent() {
		t.Fatalf("own payment under the trace: %+v %v", got, err)
	}
}

// TestRequestsTraceUsedElsewhereOnLegacy: on the legacy rail too, a trace
// used by a transfer between other users is ErrNotOurs and leaves the
// request open (what the Safe rail now matches).
func TestRequestsTraceUsedElsewhereOnLegacy(t *testing.T) {
	r := payouttest.New(t, payouttest.Options{Seed: 7})
	b, _ := openBook(t)
	req, err := b.Create(r.Self.UserID, usdtID, "3", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Srv.Transfer(r.Users[1].UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.Users[2].UserID, Amount: "3", TraceID: req.TraceID}); err != nil {
		t.Fatal(err)
	}
	got, err := b.Check(context.Background(), legacyrail.NewLooker(r.Client), req.TraceID)
	if !errors.Is(err, rail.ErrNotOurs) || got != req {
		t.Fatalf("%+v %v", got, err)
	}
}
