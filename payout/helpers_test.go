package payout

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/rail"
)

// Asset ids of the sandbox's default world.
const (
	btcID  = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"
	ethID  = "43d61dcd-e413-450d-80b8-101d5e903357"
	usdtID = "4d8c508b-91c5-375b-92b0-ee702ed2dac5"
)

// rig is a desk on a journal in a temporary directory, talking HTTP to a
// sandbox through a request counter.
type rig struct {
	t       *testing.T
	srv     *sandbox.Server
	hs      *httptest.Server
	count   *sandbox.Counter
	world   sandbox.World
	clock   *sandbox.Clock // nil: real time
	timeout time.Duration
	// postWindow is the desk's post window unless cfg sets one.
	postWindow time.Duration

	self   mixin.User
	users  []mixin.User // other people of the world
	pin    string       // the operator's right PIN
	path   string       // journal file
	client *mixin.Client
	j      *journal.Journal
	desk   *Desk
	cfg    Config
}

type rigOption func(*rig)

// withClock makes every party use one settable clock starting at t.
func withClock(t time.Time) rigOption { return func(r *rig) { r.clock = sandbox.NewClock(t) } }

// withTimeout sets the client's per-request timeout.
func withTimeout(d time.Duration) rigOption { return func(r *rig) { r.timeout = d } }

// withConfig sets the desk's configuration (Self is filled in).
func withConfig(c Config) rigOption { return func(r *rig) { r.cfg = c } }

// withPostWindow sets the desk's post window. A rig without it has a window
// of one nanosecond: its sandbox never executes a post after answering (or
// failing to answer) it, so no post is ever in flight, and tests of other
// things settle at once. Tests of held posts set a real window.
func withPostWindow(d time.Duration) rigOption { return func(r *rig) { r.postWindow = d } }

// newRig builds a sandbox world with an Ed25519 operator session (keys drawn
// at run time from seed), a real loopback HTTP server, and a desk.
func newRig(t *testing.T, seed int64, opts ...rigOption) *rig {
	t.Helper()
	r := &rig{t: t, timeout: 5 * time.Second, postWindow: time.Nanosecond}
	for _, o := range opts {
		o(r)
	}
	if r.cfg.PostWindow == 0 {
		r.cfg.PostWindow = r.postWindow
	}
	sopts := sandbox.Options{Seed: seed, Operator: sandbox.SessionOptions{Kind: mixin.KeyEd25519}}
	if r.clock != nil {
		sopts.Now = r.clock.Now
	}
	srv, w, err := sandbox.NewWorld(sopts)
	if err != nil {
		t.Fatalf("sandbox.NewWorld: %v", err)
	}
	r.srv, r.world = srv, w
	r.count = sandbox.NewCounter(srv)
	r.hs = httptest.NewServer(r.count)
	t.Cleanup(r.hs.Close)
	r.self, r.users, r.pin = w.OperatorUser, w.Users, w.Operator.PIN
	r.cfg.Self = w.OperatorUser.UserID
	r.path = filepath.Join(t.TempDir(), "profile", "journal.jsonl")
	r.open()
	t.Cleanup(func() { r.j.Close() })
	return r
}

// newClient makes a client with a fresh session, as a new process would.
func (r *rig) newClient() *mixin.Client {
	r.t.Helper()
	sess, err := mixin.NewSession(r.world.Operator)
	if err != nil {
		r.t.Fatalf("mixin.NewSession: %v", err)
	}
	copts := []mixin.Option{
		mixin.WithTimeout(r.timeout),
		mixin.WithRetry(mixin.RetryPolicy{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond}),
	}
	if r.clock != nil {
		copts = append(copts, mixin.WithClock(r.clock.Now))
	}
	c, err := mixin.NewClient(r.hs.URL, sess, copts...)
	if err != nil {
		r.t.Fatalf("mixin.NewClient: %v", err)
	}
	return c
}

// open opens the journal and builds a new client and desk on it: the start
// of a process. It returns Open's report.
func (r *rig) open() *journal.Report {
	r.t.Helper()
	jopts := []journal.Option{journal.WithOperator("tester"), journal.WithHost("test-host")}
	if r.clock != nil {
		jopts = append(jopts, journal.WithClock(r.clock.Now))
	}
	j, rep, err := journal.Open(r.path, jopts...)
	if err != nil {
		r.t.Fatalf("Open journal: %v", err)
	}
	r.j = j
	r.client = r.newClient()
	d, err := NewDeskOn(legacyrail.New(r.client), j, r.cfg)
	if err != nil {
		r.t.Fatalf("NewDesk: %v", err)
	}
	if r.clock != nil {
		d.now = r.clock.Now
	}
	r.desk = d
	return rep
}

// restart closes the journal, as a process that died would (the lock goes
// with it), and opens it again with a new client and desk.
func (r *rig) restart() *journal.Report {
	r.t.Helper()
	if err := r.j.Close(); err != nil {
		r.t.Fatalf("closing the journal: %v", err)
	}
	return r.open()
}

// draft is a payout of amount USDT to user i of the world.
func (r *rig) draft(i int, amount, memo string) Draft {
	return Draft{AssetID: usdtID, Recipient: r.users[i].UserID, Amount: amount, Memo: memo}
}

// review reviews a draft and fails the test on an error.
func (r *rig) review(dr Draft, prev *Review) *Review {
	r.t.Helper()
	rv, err := r.desk.Review(context.Background(), dr, prev)
	if err != nil {
		r.t.Fatalf("Review(%+v): %v", dr, err)
	}
	return rv
}

// send sends a review with the right PIN and fails the test when the
// procedure itself fails.
func (r *rig) send(rv *Review) Result {
	r.t.Helper()
	res, err := r.desk.Send(context.Background(), rv, r.pin)
	if err != nil {
		r.t.Fatalf("Send: %v", err)
	}
	return res
}

// ledger returns the sandbox's committed transfers with trace.
func (r *rig) ledger(trace string) []sandbox.Entry {
	var out []sandbox.Entry
	for _, e := range r.srv.Ledger() {
		if e.TraceID == trace {
			out = append(out, e)
		}
	}
	return out
}

// debits returns the committed transfers with trace sent by the operator.
func (r *rig) debits(trace string) []sandbox.Entry {
	var out []sandbox.Entry
	for _, e := range r.ledger(trace) {
		if e.From == r.self.UserID {
			out = append(out, e)
		}
	}
	return out
}

// wantOneDebit checks that exactly one transfer with the review's trace left
// the operator, with the reviewed asset, recipient, amount and memo.
func (r *rig) wantOneDebit(rv *Review) sandbox.Entry {
	r.t.Helper()
	ds := r.ledger(rv.TraceID)
	if len(ds) != 1 {
		r.t.Fatalf("ledger has %d transfers with trace %s, want exactly 1: %+v", len(ds), rv.TraceID, ds)
	}
	e := ds[0]
	if e.From != r.self.UserID || e.To != rv.Recipient.UserID || e.AssetID != rv.Asset.AssetID || e.Amount != rv.AmountText || e.Memo != rv.Memo {
		r.t.Fatalf("ledger entry %+v is not the reviewed payout %s %s to %s memo %q", e, rv.AmountText, rv.Asset.Symbol, rv.Recipient.UserID, rv.Memo)
	}
	return e
}

// wantNoDebit checks that nothing was committed with trace.
func (r *rig) wantNoDebit(trace string) {
	r.t.Helper()
	if ds := r.ledger(trace); len(ds) != 0 {
		r.t.Fatalf("ledger has %d transfers with trace %s, want none: %+v", len(ds), trace, ds)
	}
}

// bal is a user's balance of an asset.
func (r *rig) bal(userID, assetID string) decimal.Decimal {
	r.t.Helper()
	d, err := decimal.NewFromString(r.srv.Balance(userID, assetID))
	if err != nil {
		r.t.Fatalf("balance: %v", err)
	}
	return d
}

// wantBal checks a balance against a decimal string.
func (r *rig) wantBal(who, userID, assetID, want string) {
	r.t.Helper()
	if got := r.bal(userID, assetID); !got.Equal(decimal.RequireFromString(want)) {
		r.t.Errorf("%s balance of %s = %s, want %s", who, assetID, got, want)
	}
}

// entry returns the journal entry of a trace, failing when there is none.
func (r *rig) entry(trace string) journal.Entry {
	r.t.Helper()
	e, ok := r.j.Lookup(trace)
	if !ok {
		r.t.Fatalf("journal has no entry for trace %s", trace)
	}
	return e
}

// wantState checks the journal state of a trace.
func (r *rig) wantState(trace string, want journal.State) journal.Entry {
	r.t.Helper()
	e := r.entry(trace)
	if e.State != want {
		r.t.Fatalf("journal state of %s = %s, want %s (entry %+v)", trace, e.State, want, e)
	}
	return e
}

// setAfterIntent installs testHookAfterIntent for the rest of the test.
func setAfterIntent(t *testing.T, f func() error) {
	t.Helper()
	old := testHookAfterIntent
	testHookAfterIntent = f
	t.Cleanup(func() { testHookAfterIntent = old })
}

// errCrash stands for a process killed between the intent and the post.
var errCrash = errors.New("test: process killed after the intent")

// crashOnce makes the next Send stop after its intent, as a crash would.
func crashOnce(t *testing.T) {
	t.Helper()
	var once sync.Once
	setAfterIntent(t, func() error {
		var err error
		once.Do(func() { err = errCrash })
		return err
	})
}

// wrongPIN returns a six-digit PIN that is not pin.
func wrongPIN(pin string) string {
	b := []byte(pin)
	b[5] = '0' + (b[5]-'0'+1)%10
	return string(b)
}

// fieldErr returns the *mixin.FieldError in err, or nil.
func fieldErr(err error) *mixin.FieldError {
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

// hasWarning reports whether a review carries a warning of kind k.
func hasWarning(rv *Review, k WarningKind) bool {
	for _, w := range rv.Warnings {
		if w.Kind == k {
			return true
		}
	}
	return false
}

func warningKinds(rv *Review) []WarningKind {
	var ks []WarningKind
	for _, w := range rv.Warnings {
		ks = append(ks, w.Kind)
	}
	return ks
}

var errFake = errors.New("fake rail: not served")

// failRail is a rail whose every call fails with errFake; fakes embed it
// and serve what they fake. It needs a PIN and checks payments as the
// legacy rail does.
type failRail struct{}

func (failRail) User(context.Context, string) (*rail.User, error)          { return nil, errFake }
func (failRail) UserByMixinID(context.Context, string) (*rail.User, error) { return nil, errFake }
func (failRail) Asset(context.Context, string) (*rail.Asset, error)        { return nil, errFake }
func (failRail) NeedsPIN() bool                                            { return true }
func (failRail) CheckPIN(pin string) error                                 { return mixin.ValidatePIN(pin) }
func (failRail) Validate(p rail.Payment) (rail.Payment, error) {
	return legacyrail.New(nil).Validate(p)
}
func (failRail) Pay(context.Context, rail.Payment, string) (*rail.Movement, error) {
	return nil, errFake
}
func (failRail) PaymentByKey(context.Context, string) (*rail.Movement, error) { return nil, errFake }
func (failRail) Movements(context.Context, rail.Query) ([]rail.Movement, error) {
	return nil, errFake
}
func (failRail) Refusal(code int, description string) *rail.RefusedError {
	return legacyrail.New(nil).Refusal(code, description)
}
func (failRail) KeyTaken(description string) *rail.RefusedError {
	return legacyrail.New(nil).KeyTaken(description)
}
