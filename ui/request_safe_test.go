package ui

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/internal/sandboxpay"
	"mixdesk/mixin"
	"mixdesk/payreq"
	"mixdesk/safe/paylink"
	safesandbox "mixdesk/safe/sandbox"
)

// safePayRig is safeRig whose console can have another user of the Safe
// sandbox pay a link (the key p), through the sandbox's API as that user.
func safePayRig(t *testing.T) (*rig, *safesandbox.Server, safesandbox.World) {
	t.Helper()
	r, srv, w := safeRig(t)
	url := r.deps.Env.APIURL
	r.deps.SandboxPay = func(ctx context.Context, link string) (string, error) {
		p, err := sandboxpay.Safe(ctx, url, w, link)
		return p.String(), err
	}
	return r, srv, w
}

// shownRequest is the request shown and its link.
func (f *flow) shownRequest() (payreq.Request, string) {
	var req payreq.Request
	var link string
	f.probe(func(a *App) { req, link = a.request().detail.cur, a.request().detail.link })
	return req, link
}

// TestSafePaymentRequestPaidBySandboxUser: on a Safe profile a request is
// made with the Safe link (shown, and read back from its QR code), another
// user of the sandbox pays it (p), and the watch finds the payment by its
// trace and says who paid; the book keeps the request's form.
func TestSafePaymentRequestPaidBySandboxUser(t *testing.T) {
	t.Parallel()
	r, srv, w := safePayRig(t)
	f := r.start(termW, tallH)
	f.waitHome()
	const memo = "invoice 7 · 茶"
	trace := f.newRequest("usdt", "12.5", memo)
	f.press(tea.KeyEnter)
	f.until("the request", func(a *App) bool { return a.request().mode == reqShow })
	req, link := f.shownRequest()
	p, err := paylink.Parse(link)
	want := paylink.Request{Recipient: r.op, AssetID: w.Assets[2].AssetID, Amount: "12.5", TraceID: trace, Memo: memo}
	if err != nil || p != want {
		t.Fatalf("link %s asks for %+v, %v; want %+v", link, p, err, want)
	}
	if req.Form != payreq.FormSafe || req.TraceID != trace {
		t.Fatalf("request %+v", req)
	}
	v := f.view()
	mustContain(t, v, "○ Open: not paid yet", "12.5 USDT (Tether USD)", "Safe link  https://mixin.one/pay/"+r.op+"?asset=")
	mustContain(t, flat(v), "p sandbox: another user pays")
	if got := qrInView(t, v); got != link {
		t.Fatalf("the QR code reads %q, want the link %q", got, link)
	}

	// Watch; another user of the sandbox pays; the watch sees it.
	f.probe(func(a *App) { a.request().detail.every = 100 * time.Millisecond })
	f.typ("w")
	f.until("the watch", func(a *App) bool {
		return a.request().detail.watching && !a.request().detail.checking && !a.request().detail.checked.IsZero()
	})
	payer := w.Users[0]
	f.typ("p")
	f.until("the payment", func(a *App) bool { return strings.Contains(a.View(), "✓ Paid by "+payer.FullName) })
	v = f.view()
	mustContain(t, v, payer.FullName+" · Mixin ID "+payer.IdentityNumber, "payer "+payer.UserID, "Payment request paid: 12.5 USDT.")
	mustNotContain(t, v, "Watching", "p sandbox")
	paid, _ := f.shownRequest()
	var snap string
	for _, s := range srv.Snapshots(r.op) {
		if s.RequestID == trace {
			snap = s.SnapshotID
		}
	}
	if !paid.Paid() || paid.PayerID != payer.UserID || snap == "" || paid.SnapshotID != snap {
		t.Fatalf("request after payment: %+v; the operator's snapshot %q", paid, snap)
	}
	var path string
	f.probe(func(a *App) { path = a.request().path })
	f.final().Close()
	raw, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(raw), `"form": "safe"`) {
		t.Fatalf("book file %v:\n%s", err, raw)
	}

	// A restart shows the request paid, with the link it was made with.
	g := r.start(termW, termH)
	g.waitHome()
	g.typ("p")
	g.until("the request book", func(a *App) bool { return a.request() != nil && a.request().book != nil })
	g.press(tea.KeyEnter)
	g.until("the payer's name", func(a *App) bool { return strings.Contains(a.View(), "✓ Paid by "+payer.FullName) })
	if _, l := g.shownRequest(); l != link {
		t.Fatalf("the link after a restart is %s, want %s", l, link)
	}
	g.final()
}

// TestSafePaymentRequestPaidWrong: on a Safe profile, a payment of
// another amount under the request's trace closes it as not paid, saying
// what was paid; a trace used by a payment to someone else is reported and
// leaves the request open; a memo too long for a Safe link is refused on
// the form.
func TestSafePaymentRequestPaidWrong(t *testing.T) {
	t.Parallel()
	r, _, w := safePayRig(t)
	f := r.start(termW, tallH)
	f.waitHome()
	f.newRequest("usdt", "5", "")
	f.press(tea.KeyEnter)
	f.until("the request", func(a *App) bool { return a.request().mode == reqShow })
	req, _ := f.shownRequest()
	wrong := req.SafeRequest()
	wrong.Amount = "4"
	l, err := paylink.Build(wrong)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := sandboxpay.Safe(ctx, r.deps.Env.APIURL, w, l); err != nil {
		t.Fatal(err)
	}
	f.typ("r")
	f.until("the check", func(a *App) bool { return a.request().detail.cur.Spent() })
	mustContain(t, flat(f.view()), "✗ Closed, not paid:", "amount 4 instead of 5", "can never be paid now")

	// Another request; its trace pays someone else.
	f.press(tea.KeyEsc)
	f.until("the list", func(a *App) bool { return a.request().mode == reqList })
	f.typ("n")
	f.until("the form", func(a *App) bool { return a.request().mode == reqForm })
	f.probe(func(a *App) {
		fm := a.request().form
		fm.memo.SetValue(strings.Repeat("茶", 100))
		if e := fm.memoErr(); !strings.Contains(e, "300 bytes") {
			t.Errorf("a 300-byte memo on a Safe request: %q", e)
		}
		fm.memo.SetValue("")
	})
	f.typ("usdt")
	f.press(tea.KeyEnter)
	f.typ("3")
	f.press(tea.KeyTab, tea.KeyTab, tea.KeyEnter)
	f.until("the second request", func(a *App) bool {
		return a.request().mode == reqShow && a.request().detail.cur.TraceID != req.TraceID
	})
	other, _ := f.shownRequest()
	elsewhere := other.SafeRequest()
	elsewhere.Recipient = w.Users[3].UserID
	l, _ = paylink.Build(elsewhere)
	if _, err := sandboxpay.Safe(ctx, r.deps.Env.APIURL, w, l); err != nil {
		t.Fatal(err)
	}
	f.typ("r")
	f.until("the check", func(a *App) bool { return a.request().detail.checkErr != "" })
	v := flat(f.view())
	mustContain(t, v, "✗ ", "someone else", "○ Open: not paid yet")
	if cur, _ := f.shownRequest(); cur.Closed() {
		t.Fatalf("a trace used elsewhere closed the request: %+v", cur)
	}
	f.final()
}

// TestLegacyPaymentRequestPaidBySandboxUser: on the legacy sandbox the key
// p has another user pay the legacy link with a transfer, and r finds it.
func TestLegacyPaymentRequestPaidBySandboxUser(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	srv, world := r.srv, r.world
	r.deps.SandboxPay = func(_ context.Context, link string) (string, error) {
		p, err := sandboxpay.Legacy(srv, world, link)
		return p.String(), err
	}
	f := r.start(termW, tallH)
	f.waitHome()
	trace := f.newRequest("usdt", "2.5", "")
	f.press(tea.KeyEnter)
	f.until("the request", func(a *App) bool { return a.request().mode == reqShow })
	_, link := f.shownRequest()
	if p, err := mixin.ParsePayURL(link); err != nil || p.TraceID != trace {
		t.Fatalf("link %s: %+v %v", link, p, err)
	}
	f.typ("p")
	f.until("the transfer", func(a *App) bool { return len(r.ledgerFor(trace)) == 1 && !a.request().detail.paying })
	mustContain(t, flat(f.view()), "Sandbox: "+world.Users[0].FullName+" paid 2.5")
	f.typ("r")
	f.until("the payment", func(a *App) bool { return a.request().detail.cur.Paid() })
	if cur, _ := f.shownRequest(); cur.PayerID != world.Users[0].UserID {
		t.Fatalf("paid by %s", cur.PayerID)
	}
	f.final()
}
