package mixin_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
)

var (
	btc  = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"
	usdt = "4d8c508b-91c5-375b-92b0-ee702ed2dac5"
)

type env struct {
	srv    *sandbox.Server
	world  sandbox.World
	client *mixin.Client
	pin    string
}

func newEnv(t testing.TB, op sandbox.SessionOptions) env {
	t.Helper()
	srv, w, err := sandbox.NewWorld(sandbox.Options{Seed: 7, Operator: op})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	sess, err := mixin.NewSession(w.Operator)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mixin.NewClient(hs.URL, sess, mixin.WithRetry(mixin.RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return env{srv: srv, world: w, client: c, pin: w.Operator.PIN}
}

var sessionKinds = map[string]sandbox.SessionOptions{
	"rsa-1024":    {Kind: mixin.KeyRSA, RSABits: 1024},
	"rsa-2048":    {Kind: mixin.KeyRSA, RSABits: 2048},
	"ed25519":     {Kind: mixin.KeyEd25519},
	"ed25519-hex": {Kind: mixin.KeyEd25519, HexForm: true},
}

// TestEveryCallAgainstTheSandbox runs each call of the client against the
// strict sandbox for every session kind.
func TestEveryCallAgainstTheSandbox(t *testing.T) {
	for name, op := range sessionKinds {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, op)
			ctx := context.Background()
			me, err := e.client.Me(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if me.UserID != e.world.OperatorUser.UserID || me.FullName == "" {
				t.Fatalf("me = %+v", me)
			}
			assets, err := e.client.Assets(ctx)
			if err != nil || len(assets) != 3 {
				t.Fatalf("assets %v %v", assets, err)
			}
			a, err := e.client.Asset(ctx, btc)
			if err != nil || a.Symbol != "BTC" || a.Balance != "2.5" {
				t.Fatalf("asset %+v %v", a, err)
			}
			if _, err := e.client.VerifyPIN(ctx, e.pin); err != nil {
				t.Fatalf("verify pin: %v", err)
			}
			peer := e.world.Users[0]
			u, err := e.client.User(ctx, peer.UserID)
			if err != nil || u.FullName != peer.FullName {
				t.Fatalf("user %+v %v", u, err)
			}
			found, err := e.client.Search(ctx, peer.IdentityNumber)
			if err != nil || found.UserID != peer.UserID {
				t.Fatalf("search %+v %v", found, err)
			}
			trace := "3b1c1b36-8c8a-4d0f-9a57-0f3f5d3b2a11"
			in := mixin.TransferInput{AssetID: btc, OpponentID: peer.UserID, Amount: "0.1", TraceID: trace, Memo: "rent"}
			snap, err := e.client.Transfer(ctx, in, e.pin)
			if err != nil {
				t.Fatal(err)
			}
			if snap.Amount != "-0.1" || snap.OpeningBalance != "2.5" || snap.ClosingBalance != "2.4" || snap.TraceID != trace {
				t.Fatalf("snapshot %+v", snap)
			}
			again, err := e.client.TransferByTrace(ctx, trace)
			if err != nil || again.SnapshotID != snap.SnapshotID {
				t.Fatalf("by trace %+v %v", again, err)
			}
			one, err := e.client.Snapshot(ctx, snap.SnapshotID)
			if err != nil || one.SnapshotID != snap.SnapshotID {
				t.Fatalf("snapshot %+v %v", one, err)
			}
			list, err := e.client.Snapshots(ctx, mixin.SnapshotQuery{Limit: 10, Asset: btc})
			if err != nil || len(list) == 0 || list[0].SnapshotID != snap.SnapshotID {
				t.Fatalf("snapshots %v %v", list, err)
			}
			if _, err := e.client.TransferByTrace(ctx, "9f1c1b36-8c8a-4d0f-9a57-0f3f5d3b2a11"); !mixin.IsNotFound(err) {
				t.Fatalf("unknown trace: %v", err)
			}
		})
	}
}

func TestIdempotentRepostMovesNothing(t *testing.T) {
	e := newEnv(t, sessionKinds["ed25519"])
	ctx := context.Background()
	peer := e.world.Users[1].UserID
	in := mixin.TransferInput{AssetID: usdt, OpponentID: peer, Amount: "25", TraceID: "6a0c3f2e-51a4-4d4e-8d7c-2b3c4d5e6f70"}
	first, err := e.client.Transfer(ctx, in, e.pin)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.client.Transfer(ctx, in, e.pin)
	if err != nil || second.SnapshotID != first.SnapshotID {
		t.Fatalf("re-post: %+v %v", second, err)
	}
	if got := e.srv.Balance(e.world.OperatorUser.UserID, usdt); got != "49975" {
		t.Fatalf("balance %s after one payout posted twice", got)
	}
	in.Amount = "26"
	if _, err := e.client.Transfer(ctx, in, e.pin); !mixin.IsTraceUsed(err) {
		t.Fatalf("same trace, other amount: %v", err)
	}
}

func TestApplicationErrorsArriveTyped(t *testing.T) {
	e := newEnv(t, sessionKinds["ed25519"])
	ctx := context.Background()
	peer := e.world.Users[0].UserID
	in := mixin.TransferInput{AssetID: btc, OpponentID: peer, Amount: "1000", TraceID: "1a0c3f2e-51a4-4d4e-8d7c-2b3c4d5e6f70"}
	if _, err := e.client.Transfer(ctx, in, e.pin); !mixin.IsInsufficientBalance(err) {
		t.Fatalf("over balance: %v", err)
	}
	in.Amount = "0.1"
	in.TraceID = "2a0c3f2e-51a4-4d4e-8d7c-2b3c4d5e6f70"
	if _, err := e.client.Transfer(ctx, in, "000000"); !mixin.IsPINIncorrect(err) || !mixin.IsPINError(err) {
		t.Fatalf("wrong PIN: %v", err)
	}
	in.OpponentID = e.world.OperatorUser.UserID
	_, err := e.client.Transfer(ctx, in, e.pin)
	var me *mixin.Error
	if !errors.As(err, &me) || me.Code != 10002 || me.Field() != "opponent_id" {
		t.Fatalf("self transfer: %v", err)
	}
}

func TestFaultRoundTrips(t *testing.T) {
	e := newEnv(t, sessionKinds["ed25519"])
	ctx := context.Background()
	peer := e.world.Users[2].UserID

	// Reads ride over a 500 and a 429.
	e.srv.InjectFault("GET", "/assets", sandbox.Fault{Kind: sandbox.FaultServerError, Times: 1})
	e.srv.InjectFault("GET", "/assets", sandbox.Fault{Kind: sandbox.FaultTooManyRequests, Times: 1})
	if _, err := e.client.Assets(ctx); err != nil {
		t.Fatalf("read after faults: %v", err)
	}

	// A transfer that commits and drops the connection is in doubt; its
	// trace finds it, and a re-post with the same trace moves nothing.
	in := mixin.TransferInput{AssetID: usdt, OpponentID: peer, Amount: "10", TraceID: "5b0c3f2e-51a4-4d4e-8d7c-2b3c4d5e6f70"}
	e.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultCommitThenDrop, Times: 1})
	_, err := e.client.Transfer(ctx, in, e.pin)
	if !mixin.IsServerOrTransport(err) {
		t.Fatalf("dropped transfer: %v", err)
	}
	got, err := e.client.TransferByTrace(ctx, in.TraceID)
	if err != nil || got.Amount != "-10" {
		t.Fatalf("look-up after drop: %+v %v", got, err)
	}
	if _, err := e.client.Transfer(ctx, in, e.pin); err != nil {
		t.Fatal(err)
	}
	debits := 0
	for _, l := range e.srv.Ledger() {
		if l.TraceID == in.TraceID {
			debits++
		}
	}
	if debits != 1 {
		t.Fatalf("%d debits for one trace", debits)
	}

	// A 500 before commit: not executed, the look-up says 404.
	in.TraceID = "7c0c3f2e-51a4-4d4e-8d7c-2b3c4d5e6f70"
	e.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultServerError, Times: 1})
	if _, err := e.client.Transfer(ctx, in, e.pin); !mixin.IsServerOrTransport(err) {
		t.Fatalf("500: %v", err)
	}
	if _, err := e.client.TransferByTrace(ctx, in.TraceID); !mixin.IsNotFound(err) {
		t.Fatalf("after 500: %v", err)
	}
}

func TestTimeoutIsTransportError(t *testing.T) {
	e := newEnv(t, sessionKinds["ed25519"])
	sess := e.client.Session()
	c, _ := mixin.NewClient(e.client.BaseURL(), sess, mixin.WithTimeout(50*time.Millisecond), mixin.WithRetry(mixin.RetryPolicy{Attempts: 1}))
	e.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultDelay, Times: 1, Delay: time.Second})
	_, err := c.Transfer(context.Background(), mixin.TransferInput{AssetID: btc, OpponentID: e.world.Users[0].UserID, Amount: "0.01", TraceID: "8d0c3f2e-51a4-4d4e-8d7c-2b3c4d5e6f70"}, e.pin)
	var te *mixin.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("got %T %v", err, err)
	}
}

// TestPagerAcrossInclusiveOffset pages through more snapshots than a page
// holds; the inclusive offset repeats the boundary item, which must appear once.
func TestPagerAcrossInclusiveOffset(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var tick time.Duration
	clock := func() time.Time { return now.Add(tick) }
	srv, w, err := sandbox.NewWorld(sandbox.Options{Seed: 3, Now: clock, Operator: sessionKinds["ed25519"]})
	if err != nil {
		t.Fatal(err)
	}
	const n = 57
	for i := 0; i < n; i++ {
		tick = time.Duration(i/3) * time.Second // three transfers share each instant
		if _, err := srv.Transfer(w.OperatorUser.UserID, mixin.TransferInput{AssetID: usdt, OpponentID: w.Users[i%4].UserID,
			Amount: "1", TraceID: traceN(i)}); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	sess, _ := mixin.NewSession(w.Operator)
	c, _ := mixin.NewClient(hs.URL, sess, mixin.WithClock(clock))
	for _, asc := range []bool{false, true} {
		p := c.NewSnapshotPager(mixin.SnapshotQuery{Limit: 10, Asc: asc, Asset: usdt})
		seen := map[string]bool{}
		var last time.Time
		for !p.Done() {
			page, err := p.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page {
				if seen[s.SnapshotID] {
					t.Fatalf("snapshot %s returned twice", s.SnapshotID)
				}
				seen[s.SnapshotID] = true
				if !last.IsZero() && (asc && s.CreatedAt.Before(last) || !asc && s.CreatedAt.After(last)) {
					t.Fatal("out of order")
				}
				last = s.CreatedAt
			}
		}
		// Every transfer plus the opening credits of the world.
		if len(seen) < n {
			t.Fatalf("asc=%v: %d snapshots, want at least %d", asc, len(seen), n)
		}
	}
}

func traceN(i int) string {
	const hex = "0123456789abcdef"
	b := []byte("00000000-0000-4000-8000-000000000000")
	for k, p := 0, len(b)-1; k < 8; k++ {
		b[p] = hex[(i>>(4*k))&15]
		p--
	}
	return string(b)
}
