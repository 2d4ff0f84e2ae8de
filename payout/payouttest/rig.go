// Package payouttest is the test rig of the packages built on payout: a
// desk on a journal in a temporary directory, paying through the legacy rail
// over real loopback HTTP to a strict sandbox, with a request counter and a
// settable clock shared by every party. Only tests import it.
package payouttest

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout"
	"mixdesk/payout/legacyrail"
)

// Asset ids of the sandbox's default world.
const (
	BTC  = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"
	ETH  = "43d61dcd-e413-450d-80b8-101d5e903357"
	USDT = "4d8c508b-91c5-375b-92b0-ee702ed2dac5"
)

// Options shape a rig.
type Options struct {
	Seed int64
	// Clock, when set, is used by the sandbox, the client, the journal and
	// the desk; nil means real time.
	Clock *sandbox.Clock
	// Timeout is the client's per-request timeout; zero means 5 s.
	Timeout time.Duration
	// Config is the desk's configuration; Self is filled in, and a zero
	// PostWindow becomes one nanosecond: the sandbox never executes a post
	// after answering it, so nothing is ever in flight unless a test says so.
	Config payout.Config
}

// Rig is a desk on a journal, paying a sandbox over loopback HTTP.
type Rig struct {
	T      *testing.T
	Srv    *sandbox.Server
	Count  *sandbox.Counter
	World  sandbox.World
	Clock  *sandbox.Clock
	Self   mixin.User
	Users  []mixin.User // the other people of the world
	PIN    string       // the operator's right PIN
	Path   string       // the journal file
	Client *mixin.Client
	J      *journal.Journal
	Desk   *payout.Desk
	Config payout.Config

	url     string
	timeout time.Duration
}

// New builds a sandbox world with an Ed25519 operator session (keys drawn at
// run time from the seed), a loopback HTTP server, a journal and a desk.
func New(t *testing.T, o Options) *Rig {
	t.Helper()
	r := &Rig{T: t, Clock: o.Clock, Config: o.Config, timeout: o.Timeout}
	if r.timeout == 0 {
		r.timeout = 5 * time.Second
	}
	if r.Config.PostWindow == 0 {
		r.Config.PostWindow = time.Nanosecond
	}
	sopts := sandbox.Options{Seed: o.Seed, Operator: sandbox.SessionOptions{Kind: mixin.KeyEd25519}}
	if r.Clock != nil {
		sopts.Now = r.Clock.Now
		r.Config.Clock = r.Clock.Now
	}
	srv, w, err := sandbox.NewWorld(sopts)
	if err != nil {
		t.Fatalf("sandbox.NewWorld: %v", err)
	}
	r.Srv, r.World = srv, w
	r.Count = sandbox.NewCounter(srv)
	hs := httptest.NewServer(r.Count)
	t.Cleanup(hs.Close)
	r.url = hs.URL
	r.Self, r.Users, r.PIN = w.OperatorUser, w.Users, w.Operator.PIN
	r.Config.Self = w.OperatorUser.UserID
	r.Path = filepath.Join(t.TempDir(), "profile", "journal.jsonl")
	r.Open()
	t.Cleanup(func() { r.J.Close() })
	return r
}

// NewClient makes a client with a fresh session, as a new process would.
func (r *Rig) NewClient() *mixin.Client {
	r.T.Helper()
	sess, err := mixin.NewSession(r.World.Operator)
	if err != nil {
		r.T.Fatalf("mixin.NewSession: %v", err)
	}
	copts := []mixin.Option{
		mixin.WithTimeout(r.timeout),
		mixin.WithRetry(mixin.RetryPolicy{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond}),
	}
	if r.Clock != nil {
		copts = append(copts, mixin.WithClock(r.Clock.Now))
	}
	c, err := mixin.NewClient(r.url, sess, copts...)
	if err != nil {
		r.T.Fatalf("mixin.NewClient: %v", err)
	}
	return c
}

// Open opens the journal and builds a new client and desk on it: the start
// of a process. It returns the journal's opening report.
func (r *Rig) Open() *journal.Report {
	r.T.Helper()
	jopts := []journal.Option{journal.WithOperator("tester"), journal.WithHost("test-host")}
	if r.Clock != nil {
		jopts = append(jopts, journal.WithClock(r.Clock.Now))
	}
	j, rep, err := journal.Open(r.Path, jopts...)
	if err != nil {
		r.T.Fatalf("journal.Open: %v", err)
	}
	r.J = j
	r.Client = r.NewClient()
	d, err := payout.NewDeskOn(legacyrail.New(r.Client), j, r.Config)
	if err != nil {
		r.T.Fatalf("payout.NewDeskOn: %v", err)
	}
	r.Desk = d
	return rep
}

// Restart closes the journal, as a process that died would, and opens it
// again with a new client and desk.
func (r *Rig) Restart() *journal.Report {
	r.T.Helper()
	if err := r.J.Close(); err != nil {
		r.T.Fatalf("closing the journal: %v", err)
	}
	return r.Open()
}

// Draft is a payout of amount USDT to user i of the world.
func (r *Rig) Draft(i int, amount, memo string) payout.Draft {
	return payout.Draft{AssetID: USDT, Recipient: r.Users[i].UserID, Amount: amount, Memo: memo}
}

// Review reviews a draft and fails the test on an error.
func (r *Rig) Review(dr payout.Draft, prev *payout.Review) *payout.Review {
	r.T.Helper()
	rv, err := r.Desk.Review(context.Background(), dr, prev)
	if err != nil {
		r.T.Fatalf("Review(%+v): %v", dr, err)
	}
	return rv
}

// Send sends a review with the right PIN and fails the test when the
// procedure itself fails.
func (r *Rig) Send(rv *payout.Review) payout.Result {
	r.T.Helper()
	res, err := r.Desk.Send(context.Background(), rv, r.PIN)
	if err != nil {
		r.T.Fatalf("Send: %v", err)
	}
	return res
}

// Pay reviews and sends a draft: a payout the operator confirmed.
func (r *Rig) Pay(dr payout.Draft) payout.Result {
	r.T.Helper()
	return r.Send(r.Review(dr, nil))
}

// Ledger is the sandbox's committed transfers with trace.
func (r *Rig) Ledger(trace string) []sandbox.Entry {
	var out []sandbox.Entry
	for _, e := range r.Srv.Ledger() {
		if e.TraceID == trace {
			out = append(out, e)
		}
	}
	return out
}

// WantNoDebit checks that nothing was committed with trace.
func (r *Rig) WantNoDebit(trace string) {
	r.T.Helper()
	if ds := r.Ledger(trace); len(ds) != 0 {
		r.T.Fatalf("ledger has %d transfers with trace %s, want none: %+v", len(ds), trace, ds)
	}
}

// Bal is a user's balance of an asset.
func (r *Rig) Bal(userID, assetID string) decimal.Decimal {
	r.T.Helper()
	d, err := decimal.NewFromString(r.Srv.Balance(userID, assetID))
	if err != nil {
		r.T.Fatalf("balance: %v", err)
	}
	return d
}

// Entry is the journal entry of a trace; the test fails when there is none.
func (r *Rig) Entry(trace string) journal.Entry {
	r.T.Helper()
	e, ok := r.J.Lookup(trace)
	if !ok {
		r.T.Fatalf("journal has no entry for trace %s", trace)
	}
	return e
}

// WantState checks the journal state of a trace.
func (r *Rig) WantState(trace string, want journal.State) journal.Entry {
	r.T.Helper()
	e := r.Entry(trace)
	if e.State != want {
		r.T.Fatalf("journal state of %s = %s, want %s (entry %+v)", trace, e.State, want, e)
	}
	return e
}
