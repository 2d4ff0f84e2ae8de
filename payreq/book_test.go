package payreq_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/payouttest"
	"mixdesk/payout/rail"
	"mixdesk/payreq"
)

const (
	usdtID = payouttest.USDT
	btcID  = payouttest.BTC

	reqSelf  = "8dcf823d-9eb3-4da2-8734-f0aad50c0da6"
	reqPayer = "0b4f49dc-8fb4-4539-9a89-fb3afc613747"
	reqSnap  = "ab56be4c-5b20-41c6-a9c3-244f9a433f35"
)

// openBook opens a book in a fresh directory with a clock that steps one
// second per request, so that the order of creation shows in the times.
func openBook(t *testing.T) (*payreq.Book, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "requests-treasury.json")
	var mu sync.Mutex
	clock := time.Date(2024, 6, 11, 9, 0, 0, 0, time.UTC)
	b, err := payreq.Open(path, payreq.WithClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}))
	if err != nil {
		t.Fatalf("payreq.Open: %v", err)
	}
	return b, path
}

// fieldErr returns the *mixin.FieldError in err, or nil.
func fieldErr(err error) *mixin.FieldError {
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

// fakeTraces answers look-ups by key from a map (a rail.Looker); a
// missing key is not found.
type fakeTraces struct {
	mu    sync.Mutex
	snaps map[string]rail.Movement
	err   error
	calls int
}

func (f *fakeTraces) PaymentByKey(_ context.Context, key string) (*rail.Movement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	s, ok := f.snaps[key]
	if !ok {
		return nil, rail.Mark(&mixin.Error{Status: 202, Code: mixin.CodeNotFound, Description: "Not found"}, rail.ErrNotFound)
	}
	return &s, nil
}

// payment is the recipient's view of a payment of r.
func payment(r payreq.Request) rail.Movement {
	return rail.Movement{SnapshotID: reqSnap, Key: r.TraceID, AssetID: r.AssetID, OpponentID: reqPayer,
		Amount: r.Amount, Memo: r.Memo, CreatedAt: time.Date(2024, 6, 11, 10, 30, 0, 0, time.UTC)}
}

func TestRequestsCreateValidatesAndPersists(t *testing.T) {
	b, path := openBook(t)
	if got := b.List(); len(got) != 0 {
		t.Fatalf("a new book lists %d requests", len(got))
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("opening an empty book wrote a file: %v", err)
	}

	bad := []struct {
		name, recipient, asset, amount, memo, field string
	}{
		{"recipient", "alice", usdtID, "1", "", mixin.FieldRecipient},
		{"asset", reqSelf, "USDT", "1", "", mixin.FieldAsset},
		{"amount zero", reqSelf, usdtID, "0", "", mixin.FieldAmount},
		{"amount negative", reqSelf, usdtID, "-3", "", mixin.FieldAmount},
		{"amount exponent", reqSelf, usdtID, "1e3", "", mixin.FieldAmount},
		{"amount decimals", reqSelf, usdtID, "0.123456789", "", mixin.FieldAmount},
		{"memo long", reqSelf, usdtID, "1", strings.Repeat("é", 141), mixin.FieldMemo},
		{"memo control", reqSelf, usdtID, "1", "a\nb", mixin.FieldMemo},
	}
	for _, tc := range bad {
		_, err := b.Create(tc.recipient, tc.asset, tc.amount, tc.memo)
		if fe := fieldErr(err); fe == nil || fe.Field != tc.field {
			t.Errorf("%s: err = %v, want a field error on %s", tc.name, err, tc.field)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("refused requests wrote a file: %v", err)
	}

	r1, err := b.Create(" "+strings.ToUpper(reqSelf)+" ", usdtID, "12.50", "invoice 42 · café")
	if err != nil {
		t.Fatal(err)
	}
	u, err := uuid.Parse(r1.TraceID)
	if err != nil || u.Version() != 4 || r1.TraceID != u.String() {
		t.Errorf("trace %q is not a canonical uuid v4", r1.TraceID)
	}
	if r1.Amount != "12.5" || r1.Recipient != reqSelf || r1.State != payreq.StateOpen || r1.CreatedAt.IsZero() || r1.Paid() {
		t.Errorf("request = %+v", r1)
	}
	r2, err := b.Create(reqSelf, btcID, "0.001", "")
	if err != nil {
		t.Fatal(err)
	}
	if r1.TraceID == r2.TraceID {
		t.Fatal("two requests share a trace")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 && runtime.GOOS != "windows" {
		t.Fatalf("book file: %v %v", fi, err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	raw, _ := os.ReadFile(path)
	for _, secret := range []string{"pin", "private", "session"} {
		if strings.Contains(strings.ToLower(string(raw)), secret) {
			t.Errorf("the book mentions %q:\n%s", secret, raw)
		}
	}

	got := b.List()
	if len(got) != 2 || got[0].TraceID != r2.TraceID || got[1].TraceID != r1.TraceID {
		t.Fatalf("List is not newest first: %+v", got)
	}
	if g, ok := b.Get(strings.ToUpper(r1.TraceID)); !ok || g != r1 {
		t.Errorf("Get = %+v %v", g, ok)
	}
	if _, ok := b.Get("not a trace"); ok {
		t.Error("Get found a request under a malformed trace")
	}

	// A restart reads the same book.
	b2, err := payreq.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	reread := b2.List()
	if len(reread) != 2 || reread[0] != got[0] || reread[1] != got[1] {
		t.Fatalf("after reopening:\n%+v\nwant\n%+v", reread, got)
	}
	link, err := reread[1].Link()
	if err != nil {
		t.Fatal(err)
	}
	p, err := mixin.ParsePayURL(link)
	if err != nil || p != r1.PayRequest() {
		t.Errorf("link %s reads back as %+v, %v", link, p, err)
	}
}

func TestRequestsCreateWithTrace(t *testing.T) {
	b, _ := openBook(t)
	trace := payout.NewTraceID()
	r, err := b.CreateWithTrace(trace, reqSelf, usdtID, "5", "m")
	if err != nil || r.TraceID != trace {
		t.Fatalf("CreateWithTrace: %+v %v", r, err)
	}
	// The same request again (a double submit) is the one in the book.
	r2, err := b.CreateWithTrace(trace, reqSelf, usdtID, "5.0", "m")
	if err != nil || r2 != r {
		t.Fatalf("the same request again: %+v %v", r2, err)
	}
	// Another request under a trace in the book is refused.
	if _, err := b.CreateWithTrace(trace, reqSelf, usdtID, "6", "m"); fieldErr(err) == nil || fieldErr(err).Field != mixin.FieldTrace {
		t.Fatalf("another request under a used trace: %v", err)
	}
	if _, err := b.CreateWithTrace("nope", reqSelf, usdtID, "6", "m"); fieldErr(err) == nil || fieldErr(err).Field != mixin.FieldTrace {
		t.Fatalf("a malformed trace: %v", err)
	}
	if n := len(b.List()); n != 1 {
		t.Fatalf("book holds %d requests, want 1", n)
	}
}

func TestRequestsMalformedFileIsReportedNotOverwritten(t *testing.T) {
	good := payreq.Request{TraceID: "11111111-2222-4333-8444-555555555555", AssetID: usdtID, Amount: "1.5", Recipient: reqSelf,
		CreatedAt: time.Date(2024, 6, 11, 9, 0, 0, 0, time.UTC), State: payreq.StateOpen}
	line := func(r payreq.Request, extra string) string {
		return fmt.Sprintf(`{"trace_id":%q,"asset_id":%q,"amount":%q,"recipient":%q,"created_at":"2024-06-11T09:00:00Z","state":%q%s}`,
			r.TraceID, r.AssetID, r.Amount, r.Recipient, r.State, extra)
	}
	book := func(items ...string) string {
		return `{"version":1,"requests":[` + strings.Join(items, ",") + `]}`
	}
	cases := []struct {
		name, content, want string
	}{
		{"garbage", "{not json", "not valid JSON at line 1, column 2"},
		{"truncated", `{"version":1,"requests":[` + line(good, ""), "truncated"},
		{"empty", "  \n", "empty"},
		{"no version", `{"requests":[]}`, "no version"},
		{"newer version", `{"version":7,"requests":[]}`, "newer mixdesk"},
		{"unknown field", `{"version":1,"requests":[],"colour":"red"}`, `unknown field "colour"`},
		{"wrong type", `{"version":"1","requests":[]}`, "line 1, column"},
		{"trailing data", book() + ` {}`, "after the book"},
		{"bad amount", book(line(payreq.Request{TraceID: good.TraceID, AssetID: usdtID, Amount: "-1", Recipient: reqSelf, State: payreq.StateOpen}, "")), "request 1 (trace \"11111111-2222-4333-8444-555555555555\"): amount"},
		{"non-canonical amount", book(line(payreq.Request{TraceID: good.TraceID, AssetID: usdtID, Amount: "1.50", Recipient: reqSelf, State: payreq.StateOpen}, "")), "not written canonically"},
		{"bad state", book(line(payreq.Request{TraceID: good.TraceID, AssetID: usdtID, Amount: "1", Recipient: reqSelf, State: "refunded"}, "")), `unknown state "refunded"`},
		{"paid without snapshot", book(line(payreq.Request{TraceID: good.TraceID, AssetID: usdtID, Amount: "1", Recipient: reqSelf, State: payreq.StatePaid}, "")), "paid, but with no payment time"},
		{"open with payer", book(line(good, `,"payer_id":"`+reqPayer+`"`)), "open, yet it holds payment details"},
		{"duplicate trace", book(line(good, ""), line(good, "")), "requests 1 and 2 share the trace id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "requests-treasury.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := payreq.Open(path)
			if err == nil {
				t.Fatalf("opened a damaged book: %+v", b.List())
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "nothing was changed") {
				t.Errorf("error %q does not name the file and say %q", msg, tc.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is more than one line: %q", msg)
			}
			if raw, _ := os.ReadFile(path); string(raw) != tc.content {
				t.Error("the damaged book was changed")
			}
		})
	}

	t.Run("directory", func(t *testing.T) {
		path := t.TempDir()
		if _, err := payreq.Open(path); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRequestsFailedWriteChangesNothing(t *testing.T) {
	b, path := openBook(t)
	r, err := b.Create(reqSelf, usdtID, "1", "")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	// A directory where the book's file should be makes the rename fail.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "keep"), before, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(reqSelf, usdtID, "2", ""); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Create over a broken file: %v", err)
	}
	if got := b.List(); len(got) != 1 || got[0] != r {
		t.Fatalf("the failed request is in the book: %+v", got)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestRequestsCheck(t *testing.T) {
	b, path := openBook(t)
	r, err := b.Create(reqSelf, usdtID, "12.5", "invoice 42")
	if err != nil {
		t.Fatal(err)
	}
	api := &fakeTraces{snaps: map[string]rail.Movement{}}
	ctx := context.Background()

	// Not paid yet: 404.
	got, err := b.Check(ctx, api, r.TraceID)
	if err != nil || got != r {
		t.Fatalf("unpaid: %+v %v", got, err)
	}

	// Other errors come back as they are, and change nothing.
	api.err = &mixin.ServerError{StatusCode: 502}
	_, err = b.Check(ctx, api, r.TraceID)
	var se *mixin.ServerError
	if !errors.As(err, &se) || se.StatusCode != 502 {
		t.Fatalf("server error: %v", err)
	}
	api.err = nil

	// Paid with something else: an error saying what, and the request is
	// closed as spent (its trace can never pay it now), on disk.
	mismatches := []struct {
		name string
		edit func(*rail.Movement)
		want string
	}{
		{"amount", func(s *rail.Movement) { s.Amount = "12" }, "amount 12 instead of 12.5"},
		{"asset", func(s *rail.Movement) { s.AssetID = btcID }, "asset \"" + btcID + "\" instead of " + usdtID},
		{"memo", func(s *rail.Movement) { s.Memo = "invoice 43" }, `memo "invoice 43" instead of "invoice 42"`},
		{"sent by us", func(s *rail.Movement) { s.Amount = "-12.5" }, "that this wallet sent"},
		{"unreadable amount", func(s *rail.Movement) { s.Amount = "lots" }, "unreadable amount"},
	}
	for _, m := range mismatches {
		rm, err := b.Create(reqSelf, usdtID, "12.5", "invoice 42")
		if err != nil {
			t.Fatal(err)
		}
		s := payment(rm)
		m.edit(&s)
		api.snaps[rm.TraceID] = s
		got, err := b.Check(ctx, api, rm.TraceID)
		var pm *payreq.PaymentMismatchError
		if !errors.As(err, &pm) || !strings.Contains(err.Error(), m.want) || !strings.Contains(err.Error(), "can never be paid now") {
			t.Errorf("%s: err = %v, want a mismatch saying %q", m.name, err, m.want)
		}
		if got.Paid() || !got.Spent() || !got.Closed() || !strings.Contains(got.Reason, m.want) {
			t.Errorf("%s: request %+v, want spent", m.name, got)
		}
		// Closed: no more look-ups, no QR code to pay.
		delete(api.snaps, rm.TraceID)
		if again, err := b.Check(ctx, api, rm.TraceID); err != nil || !again.Spent() {
			t.Errorf("%s: second check = %+v, %v", m.name, again, err)
		}
	}
	if reopened, err := payreq.Open(path); err != nil {
		t.Fatal(err)
	} else {
		spent := 0
		for _, q := range reopened.List() {
			if q.Spent() {
				spent++
			}
		}
		if spent != len(mismatches) {
			t.Fatalf("%d spent requests on disk, want %d", spent, len(mismatches))
		}
	}
	if g, _ := b.Get(r.TraceID); g.Closed() {
		t.Fatal("another request's check closed this one")
	}

	// The payment asked for: paid, with payer, snapshot and time, on disk.
	api.snaps[r.TraceID] = payment(r)
	got, err = b.Check(ctx, api, r.TraceID)
	if err != nil {
		t.Fatal(err)
	}
	want := r
	want.State, want.PayerID, want.SnapshotID, want.PaidAt = payreq.StatePaid, reqPayer, reqSnap, payment(r).CreatedAt
	if got != want {
		t.Fatalf("paid request = %+v\nwant %+v", got, want)
	}
	reopened, err := payreq.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := reopened.Get(r.TraceID); g != want {
		t.Fatalf("after reopening: %+v", g)
	}

	// A paid request is not looked up again.
	calls := api.calls
	if g, err := b.Check(ctx, api, r.TraceID); err != nil || g != want || api.calls != calls {
		t.Fatalf("checking a paid request: %+v %v (%d look-ups)", g, err, api.calls-calls)
	}
	if _, err := b.Check(ctx, api, payout.NewTraceID()); !errors.Is(err, payreq.ErrNotFound) {
		t.Fatalf("unknown trace: %v", err)
	}
}

// TestRequestsConcurrentUse creates and checks requests from many
// goroutines; run with -race.
func TestRequestsConcurrentUse(t *testing.T) {
	b, path := openBook(t)
	api := &fakeTraces{snaps: map[string]rail.Movement{}}
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Go(func() {
			r, err := b.Create(reqSelf, usdtID, fmt.Sprint(i+1), "")
			if err != nil {
				errs <- err
				return
			}
			if i%2 == 0 {
				api.mu.Lock()
				api.snaps[r.TraceID] = payment(r)
				api.mu.Unlock()
			}
			// Two checks at once of the same request mark it paid once.
			var inner sync.WaitGroup
			for range 2 {
				inner.Go(func() {
					if _, err := b.Check(context.Background(), api, r.TraceID); err != nil {
						errs <- err
					}
				})
			}
			inner.Wait()
			_ = b.List()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	reopened, err := payreq.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	list := reopened.List()
	paid := 0
	for _, r := range list {
		if r.Paid() {
			paid++
		}
	}
	if len(list) != n || paid != n/2 {
		t.Fatalf("book holds %d requests, %d paid; want %d and %d", len(list), paid, n, n/2)
	}
}

// TestRequestsCheckOnSandbox pays a request on the sandbox from another
// user and checks it over HTTP as the recipient.
func TestRequestsCheckOnSandbox(t *testing.T) {
	r := payouttest.New(t, payouttest.Options{Seed: 7})
	b, _ := openBook(t)
	req, err := b.Create(r.Self.UserID, usdtID, "3.25", "tea · 茶")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	looker := legacyrail.NewLooker(r.Client)
	if got, err := b.Check(ctx, looker, req.TraceID); err != nil || got.Paid() {
		t.Fatalf("before payment: %+v %v", got, err)
	}
	payer := r.Users[1]
	if _, err := r.Srv.Transfer(payer.UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.Self.UserID, Amount: "3.25", TraceID: req.TraceID, Memo: "tea · 茶"}); err != nil {
		t.Fatal(err)
	}
	got, err := b.Check(ctx, looker, req.TraceID)
	if err != nil || !got.Paid() || got.PayerID != payer.UserID {
		t.Fatalf("after payment: %+v %v", got, err)
	}
	if e := r.Ledger(req.TraceID); len(e) != 1 || got.SnapshotID != e[0].SnapshotID {
		t.Fatalf("snapshot %s, ledger %+v", got.SnapshotID, e)
	}
	u, err := r.Desk.Rail().User(ctx, got.PayerID)
	if err != nil || u.FullName != payer.FullName {
		t.Fatalf("payer: %+v %v", u, err)
	}
	if as, err := r.Desk.Rail().Asset(ctx, usdtID); err != nil || as.Symbol != "USDT" {
		t.Fatalf("asset: %+v %v", as, err)
	}
	if _, err := r.Desk.Rail().User(ctx, "x"); err == nil {
		t.Fatal("looked up a malformed user id")
	}

	// A request whose trace this wallet itself used to pay someone.
	out, err := b.Create(r.Self.UserID, usdtID, "1", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Srv.Transfer(r.Self.UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: payer.UserID, Amount: "1", TraceID: out.TraceID}); err != nil {
		t.Fatal(err)
	}
	var pm *payreq.PaymentMismatchError
	if _, err := b.Check(ctx, looker, out.TraceID); !errors.As(err, &pm) || !strings.Contains(err.Error(), "this wallet sent") {
		t.Fatalf("own transfer under the trace: %v", err)
	}

	// The desk's own rail checks a request as well (the console's way).
	again, err := b.Create(r.Self.UserID, usdtID, "2", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Srv.Transfer(payer.UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.Self.UserID, Amount: "2", TraceID: again.TraceID}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Check(ctx, r.Desk.Rail(), again.TraceID); err != nil || !got.Paid() || got.PayerID != payer.UserID {
		t.Fatalf("checked on the desk's rail: %+v %v", got, err)
	}
}
