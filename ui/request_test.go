package ui

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/internal/qrscan"
	"mixdesk/mixin"
	"mixdesk/payreq"
)

// tallH is a terminal tall enough for the QR code of a payment link.
const tallH = 60

var (
	dateRE = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)
	// A line of a QR code as drawn: blocks and spaces only, between light
	// quiet zones.
	qrLineRE = regexp.MustCompile(`^\s*(█[█▀▄ ]*█)\s*$`)
)

// requestGolden compares a view with its golden file, with dates and the
// QR code (which holds the random trace) replaced by fixed tokens of the
// same width; normalize does UUIDs and clock times.
func requestGolden(t *testing.T, name, view string, width int) {
	t.Helper()
	v := dateRE.ReplaceAllString(view, "YYYY-MM-DD")
	lines := strings.Split(v, "\n")
	for i, l := range lines {
		if m := qrLineRE.FindStringSubmatchIndex(l); m != nil {
			code := l[m[2]:m[3]]
			lines[i] = l[:m[2]] + strings.Repeat("▒", len([]rune(code))) + l[m[3]:]
		}
	}
	checkGolden(t, name, strings.Join(lines, "\n"), width)
}

// qrInView reads the QR code drawn in a view back to its text. The code is
// found by its top quiet zone (a run of full blocks) and cut out of the
// lines below it in the same columns, wherever it stands on the screen.
func qrInView(t *testing.T, view string) string {
	t.Helper()
	lines := strings.Split(view, "\n")
	start, left, width := -1, 0, 0
	for i, l := range lines {
		rs := []rune(l)
		for x := 0; x < len(rs); x++ {
			if rs[x] != '█' {
				continue
			}
			end := x
			for end < len(rs) && rs[end] == '█' {
				end++
			}
			if end-x >= 21 { // the smallest code with its quiet zone
				start, left, width = i, x, end-x
			}
			break
		}
		if start >= 0 {
			break
		}
	}
	if start < 0 {
		t.Fatalf("no QR code on the screen:\n%s", view)
	}
	var code []string
	for _, l := range lines[start:] {
		rs := []rune(l)
		if len(rs) < left+width {
			break
		}
		part := string(rs[left : left+width])
		if strings.Trim(part, "█▀▄ ") != "" || rs[left] == ' ' {
			break
		}
		code = append(code, part)
	}
	text, err := qrscan.Decode(strings.Join(code, "\n"))
	if err != nil {
		t.Fatalf("the QR code on the screen does not read: %v\n%s", err, strings.Join(code, "\n"))
	}
	return text
}

// newRequest opens the payment requests from home and fills the form,
// leaving the focus on Create. It returns the trace shown on the form.
func (f *flow) newRequest(filter, amount, memo string) string {
	f.t.Helper()
	f.typ("p")
	f.until("the request book", func(a *App) bool { return a.screen == screenRequest && a.request().book != nil })
	f.typ("n")
	f.until("the form", func(a *App) bool { return a.request().mode == reqForm })
	trace := traceOnForm(f.t, f.view())
	f.typ(filter)
	f.press(tea.KeyEnter)
	f.typ(amount)
	f.press(tea.KeyTab)
	f.typ(memo)
	f.press(tea.KeyTab)
	return trace
}

func TestPaymentRequestCreateWatchPaid(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(termW, tallH)
	f.waitHome()
	f.typ("p")
	f.waitFor("No payment requests yet")

	const memo = "invoice 42 · café"
	trace := f.newRequest("usdt", "1234.5", memo)
	var ready bool
	f.probe(func(a *App) { ready = a.request().form.ready() })
	if !ready {
		t.Fatalf("Create is not enabled on a valid form:\n%s", f.view())
	}
	v := f.view()
	requestGolden(t, "form", v, termW)
	mustContain(t, v, "> Create <", "Trace id   "+trace)

	f.press(tea.KeyEnter)
	f.until("the request", func(a *App) bool { return a.request().mode == reqShow })
	var link string
	var req payreq.Request
	f.probe(func(a *App) { link, req = a.request().detail.link, a.request().detail.cur })
	p, err := mixin.ParsePayURL(link)
	if err != nil {
		t.Fatal(err)
	}
	want := mixin.PayRequest{Recipient: r.op, AssetID: usdtID, Amount: "1234.5", TraceID: trace, Memo: memo}
	if p != want {
		t.Fatalf("link %s asks for %+v, want %+v", link, p, want)
	}
	if req.TraceID != trace || req.State != payreq.StateOpen {
		t.Fatalf("request %+v", req)
	}
	v = f.view()
	mustContain(t, v, "○ Open: not paid yet", "1,234.5 USDT (Tether USD)", memo, "Treasury Desk · "+r.op, "Link       https://mixin.one/pay?recipient="+r.op)
	mustContain(t, flat(v), "c copy link", "w watch until paid")
	if got := qrInView(t, v); got != link {
		t.Fatalf("the QR code reads %q, want the link %q", got, link)
	}
	requestGolden(t, "shown", v, termW)

	// Watch; another user pays the link; the screen says who paid.
	f.probe(func(a *App) { a.request().detail.every = 100 * time.Millisecond })
	f.typ("w")
	f.until("the watch", func(a *App) bool {
		return a.request().detail.watching && !a.request().detail.checking && !a.request().detail.checked.IsZero()
	})
	mustContain(t, flat(f.view()), "◌ Watching for the payment", "not paid yet", "w stop watching")
	payer := r.world.Users[1]
	snap, err := r.srv.Transfer(payer.UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.op, Amount: "1234.5", TraceID: trace, Memo: memo})
	if err != nil {
		t.Fatal(err)
	}
	f.until("the payment", func(a *App) bool { return strings.Contains(a.View(), "✓ Paid by "+payer.FullName) })
	v = f.view()
	mustContain(t, v, payer.FullName+" · Mixin ID "+payer.IdentityNumber, "snapshot ", "payer "+payer.UserID, "Payment request paid: 1,234.5 USDT.")
	mustNotContain(t, v, "Watching", "w stop watching")
	requestGolden(t, "paid", v, termW)
	var paid payreq.Request
	f.probe(func(a *App) { paid = a.request().detail.cur })
	if !paid.Paid() || paid.PayerID != payer.UserID || paid.SnapshotID == "" || snap.TraceID != trace {
		t.Fatalf("request after payment: %+v", paid)
	}
	if n := r.calls.count("GET /transfers/trace/:id"); n < 2 {
		t.Errorf("the trace was looked up %d times; the watch should have asked until paid", n)
	}
	// The watch stops when paid: no look-up after it.
	n := r.calls.count("GET /transfers/trace/:id")
	time.Sleep(300 * time.Millisecond)
	if m := r.calls.count("GET /transfers/trace/:id"); m != n {
		t.Errorf("%d look-ups after the payment was seen", m-n)
	}

	f.press(tea.KeyEsc)
	f.until("the list", func(a *App) bool { return a.request().mode == reqList })
	v = f.view()
	mustContain(t, v, "✓ paid", "USDT", "1,234.5", memo, "0 open · 1 paid")
	requestGolden(t, "list", v, termW)
	f.final().Close() // the next console takes the profile's journal

	// A restart reads the book again: the request is still there, paid.
	g := r.start(termW, termH)
	g.waitHome()
	g.typ("p")
	g.until("the request book", func(a *App) bool { return a.request() != nil && a.request().book != nil })
	v = g.view()
	mustContain(t, v, "✓ paid", "1,234.5", memo)
	g.press(tea.KeyEnter)
	g.until("the payer's name", func(a *App) bool { return strings.Contains(a.View(), "✓ Paid by "+payer.FullName) })
	mustContain(t, g.view(), "The link is paid and cannot be paid again")
	g.final()
}

// TestPaymentRequestUpdateLevel drives the screen without a program: the
// watch's ticks, stale ticks, the time limit, stopping, and a payment that
// does not match.
func TestPaymentRequestUpdateLevel(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	p.typ("p")
	p.until("the book", func(a *App) bool { return a.request() != nil && a.request().book != nil })
	s := a.request()
	if got, want := filepath.Base(s.path), "requests-"+profileName+".json"; got != want {
		t.Errorf("book file %s, want %s", got, want)
	}
	if s.detail.every != 2*time.Second || s.detail.limit != 10*time.Minute {
		t.Errorf("watch every %v for %v; want 2s for 10m", s.detail.every, s.detail.limit)
	}
	p.typ("n")
	trace := s.form.trace

	// Create stays disabled until the form is valid; the trace never changes.
	p.typ("btc")
	p.press(tea.KeyEnter)
	p.typ("1.2.3")
	if s.form.ready() {
		t.Fatal("Create enabled with a bad amount")
	}
	mustContain(t, a.View(), "only one decimal point allowed", "(Create)")
	p.press(tea.KeyTab, tea.KeyTab, tea.KeyEnter) // Create, disabled
	if s.form.creating || s.mode != reqForm {
		t.Fatal("a disabled Create created")
	}
	mustContain(t, a.View(), "Type a valid amount first.")
	p.press(tea.KeyShiftTab, tea.KeyShiftTab)
	for range 5 {
		p.press(tea.KeyBackspace)
	}
	p.typ("0.05")
	p.press(tea.KeyTab)
	p.typ("march payroll")
	if !s.form.ready() || s.form.trace != trace {
		t.Fatalf("ready %v, trace %s (was %s)", s.form.ready(), s.form.trace, trace)
	}
	// esc keeps the form; n comes back to it.
	p.press(tea.KeyEsc)
	if s.mode != reqList || s.form == nil {
		t.Fatal("esc lost the form")
	}
	p.typ("n")
	p.press(tea.KeyTab, tea.KeyEnter)
	p.until("the request", func(a *App) bool { return a.request().mode == reqShow })
	if s.detail.cur.TraceID != trace || s.detail.cur.Amount != "0.05" || s.detail.cur.AssetID != btcID {
		t.Fatalf("created %+v", s.detail.cur)
	}
	v := a.View()
	mustContain(t, flat(v), "Enlarge the terminal to see the QR code", "or copy the link with c")
	requestGolden(t, "small", v, termW)

	// The watch: the first look-up at once, then ticks.
	s.detail.every = time.Hour // ticks are sent by hand below
	p.typ("w")
	gen := s.detail.watchGen
	if !s.detail.watching || !s.detail.checking {
		t.Fatal("w did not start watching with a look-up")
	}
	p.until("the first look-up", func(a *App) bool { return !a.request().detail.checking })
	p.send(reqTickMsg{gen: gen - 1}) // a tick of an earlier watch
	if s.detail.checking {
		t.Fatal("a stale tick started a look-up")
	}
	p.send(reqTickMsg{gen: gen})
	if !s.detail.checking {
		t.Fatal("the watch's tick did not look the trace up")
	}
	p.until("the look-up", func(a *App) bool { return !a.request().detail.checking })

	// w again stops; a tick of that watch does nothing.
	p.typ("w")
	if s.detail.watching {
		t.Fatal("w did not stop the watch")
	}
	mustContain(t, a.View(), "Stopped watching; the request stays open")
	p.send(reqTickMsg{gen: gen})
	if s.detail.checking {
		t.Fatal("a tick after stopping looked the trace up")
	}

	// The time limit.
	p.typ("w")
	p.until("the look-up", func(a *App) bool { return !a.request().detail.checking })
	s.detail.until = time.Now().Add(-time.Second)
	p.send(reqTickMsg{gen: s.detail.watchGen})
	if s.detail.watching || s.detail.checking {
		t.Fatal("the watch went on past its time limit")
	}
	mustContain(t, flat(a.View()), "Stopped watching after 10 minutes: not paid yet")

	// esc while watching stops the watch and stays; esc again goes back.
	p.typ("w")
	p.press(tea.KeyEsc)
	if s.detail.watching || s.mode != reqShow {
		t.Fatalf("esc while watching: watching %v, mode %v", s.detail.watching, s.mode)
	}
	p.until("the look-up", func(a *App) bool { return !a.request().detail.checking })

	// Paid with another amount: said, not marked paid, closed (the trace
	// can never pay it now), the watch stops.
	payer := r.world.Users[2]
	if _, err := r.srv.Transfer(payer.UserID, mixin.TransferInput{AssetID: btcID, OpponentID: r.op, Amount: "0.04", TraceID: trace}); err != nil {
		t.Fatal(err)
	}
	p.typ("w")
	p.until("the look-up", func(a *App) bool { return !a.request().detail.checking })
	v = flat(a.View())
	mustContain(t, v, "amount 0.04 instead of 0.05", "not marked paid", "✗ Closed, not paid", "can never be paid now", "QR code is no longer shown", "Stopped watching: the check cannot go on by itself.")
	mustNotContain(t, v, "w watch")
	if s.detail.watching || s.detail.cur.Paid() || !s.detail.cur.Spent() {
		t.Fatalf("after a mismatching payment: watching %v, %+v", s.detail.watching, s.detail.cur)
	}

	p.press(tea.KeyEsc)
	if s.mode != reqList {
		t.Fatal("esc did not go back to the list")
	}
	mustContain(t, a.View(), "✗ closed", "BTC", "0.05", "1 closed unpaid")
	p.press(tea.KeyEsc)
	if a.screen != screenHome {
		t.Fatal("esc did not go back home")
	}
	// Back again: the same book, not read again.
	book := s.book
	p.typ("p")
	if a.request() != s || s.book != book || s.opening {
		t.Fatal("the book was opened again")
	}
}

// TestPaymentRequestAssetByID requests an asset this wallet holds none of,
// found by typing its id.
func TestPaymentRequestAssetByID(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	doge, err := r.srv.AddAsset(mixin.Asset{AssetID: "6770a1e5-6086-44d5-b60f-545f9d9e8ffd", Symbol: "DOGE", Name: "Dogecoin", PriceUSD: "0.12"})
	if err != nil {
		t.Fatal(err)
	}
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	p.typ("p")
	p.until("the book", func(a *App) bool { return a.request() != nil && a.request().book != nil })
	p.typ("n")
	p.typ("doge")
	mustContain(t, a.View(), "no asset matches; type an asset id")
	for range 4 {
		p.press(tea.KeyBackspace)
	}
	p.typ(doge.AssetID)
	p.until("the asset", func(a *App) bool { return a.request().form.lookup == "" && len(a.request().form.picker.matches) == 1 })
	p.press(tea.KeyEnter)
	if f := a.request().form; f.picker.chosen == nil || f.picker.chosen.Symbol != "DOGE" {
		t.Fatalf("asset %+v", f.picker.chosen)
	}
	p.typ("100")
	mustContain(t, a.View(), "100 DOGE · ≈ 12.00 USD")
	p.press(tea.KeyTab, tea.KeyTab, tea.KeyEnter)
	p.until("the request", func(a *App) bool { return a.request().mode == reqShow })
	mustContain(t, a.View(), "100 DOGE (Dogecoin)")

	// An id of no asset says so.
	p.press(tea.KeyEsc)
	p.typ("n")
	p.typ("00000000-0000-4000-8000-000000000000")
	p.until("the look-up", func(a *App) bool { return a.request().form.lookup == "" })
	mustContain(t, a.View(), "✗ no asset with this id")
}

// TestPaymentRequestCopiesLink is not parallel: it replaces the clipboard's
// output.
func TestPaymentRequestCopiesLink(t *testing.T) {
	var clip bytes.Buffer
	old := clipboardOut
	clipboardOut = &clip
	t.Cleanup(func() { clipboardOut = old })

	r := newRig(t, rigOpts{})
	f := r.start(termW, termH)
	f.waitHome()
	f.newRequest("eth", "2", "")
	f.press(tea.KeyEnter)
	f.until("the request", func(a *App) bool { return a.request().mode == reqShow })
	var link string
	f.probe(func(a *App) { link = a.request().detail.link })
	f.typ("c")
	f.until("the copy", func(a *App) bool { return strings.Contains(a.status, "Asked the terminal to copy the payment link") })
	a := f.final()
	if !strings.Contains(clip.String(), "\x1b]52;c;"+base64.StdEncoding.EncodeToString([]byte(link))) {
		t.Fatalf("the clipboard got %q, want the link %s", clip.String(), link)
	}
	if !a.statusOK {
		t.Error("the copy notice is shown as an error")
	}
}

// TestPaymentRequestDamagedBook: a book that cannot be read is reported
// with its file, and left as it is.
func TestPaymentRequestDamagedBook(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	path := filepath.Join(r.deps.Env.DataDir, "requests-"+profileName+".json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"version":1,"requests":[{"trace_id":"x"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := r.start(termW, termH)
	f.waitHome()
	f.typ("p")
	f.until("the error", func(a *App) bool { return a.request() != nil && a.request().openErr != "" })
	v := flat(f.view())
	mustContain(t, v, "The request book cannot be used", path, "request 1", "nothing was changed", "esc goes back")
	f.typ("n") // nothing to make a request in
	f.press(tea.KeyEsc)
	f.until("home", func(a *App) bool { return a.screen == screenHome })
	f.final()
	if raw, _ := os.ReadFile(path); string(raw) != `{"version":1,"requests":[{"trace_id":"x"}]}` {
		t.Fatalf("the damaged book was changed: %s", raw)
	}
}

// TestPaymentRequestLayouts: the QR code goes beside the details on a wide,
// short terminal, and the smallest terminal still shows the whole request.
func TestPaymentRequestLayouts(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	p.typ("p")
	p.until("the book", func(a *App) bool { return a.request() != nil && a.request().book != nil })
	p.typ("n")
	p.typ("usdt")
	p.press(tea.KeyEnter)
	p.typ("25")
	p.press(tea.KeyTab)
	p.typ("rent · März")
	p.press(tea.KeyTab, tea.KeyEnter)
	p.until("the request", func(a *App) bool { return a.request().mode == reqShow })

	p.send(tea.WindowSizeMsg{Width: 160, Height: 40})
	v := a.View()
	fitsWidth(t, v, 160)
	if got := qrInView(t, v); got != a.request().detail.link {
		t.Fatalf("the QR code beside the details reads %q, want %q", got, a.request().detail.link)
	}
	if l := lineWith(v, "Amount"); !strings.Contains(l, "█") {
		t.Errorf("the QR code is not beside the details: %q", l)
	}

	p.send(tea.WindowSizeMsg{Width: minWidth, Height: minHeight})
	v = a.View()
	fitsWidth(t, v, minWidth)
	mustContain(t, flat(v), "25 USDT", "rent · März", "Enlarge the terminal to see the QR code")
	if strings.Contains(v, "████") {
		t.Error("a QR code was drawn that the terminal cannot hold")
	}
}

// TestRequestFormDecidesNothingSilently: as on the transfer form, tab on
// the empty asset field of a new request takes no asset, and a memo over
// 140 characters is kept whole and refused with its count, not cut.
func TestRequestFormDecidesNothingSilently(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(termW, tallH)
	f.waitHome()
	f.typ("p")
	f.until("the request book", func(a *App) bool { return a.screen == screenRequest && a.request().book != nil })
	f.typ("n")
	f.until("the form", func(a *App) bool { return a.request().mode == reqForm })
	f.press(tea.KeyTab)
	var chosen bool
	f.probe(func(a *App) { chosen = a.request().form.picker.chosen != nil })
	if chosen {
		t.Fatalf("tab on the empty asset field chose an asset:\n%s", f.view())
	}
	mustContain(t, f.view(), "no asset chosen")

	f.press(tea.KeyShiftTab)
	f.typ("usdt")
	f.press(tea.KeyEnter)
	f.typ("1")
	f.press(tea.KeyTab)
	f.typ(strings.Repeat("m", 150))
	var memo string
	var ready bool
	f.probe(func(a *App) { memo, ready = a.request().form.memo.Value(), a.request().form.ready() })
	if len(memo) != 150 || ready {
		t.Fatalf("memo of %d characters kept, Create enabled %v; want all 150 kept and Create disabled", len(memo), ready)
	}
	mustContain(t, f.view(), "150/140", "150 characters; at most 140")
}
