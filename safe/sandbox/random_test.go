package sandbox_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/MixinNetwork/mixin/common"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

var errCrash = errors.New("crash")

// railEntry is one payout as a journal of the Safe rail keeps it: the
// intent (the payment), then the unsigned transaction and the outputs it
// spends (kept before verify), then the signed bytes (kept before submit),
// then the outcome.
type railEntry struct {
	p      safe.Payment
	raw    []byte
	inputs []safe.Output
	signed []byte
	state  string // "pending", "done" or "failed"
	hash   string // of done
	why    string // of failed
}

// rail is the payout logic the payout package is to build on safe/: what
// must be journalled when, and recovery the contract's way. Everything but
// the journal is lost in a crash.
type rail struct {
	t       *testing.T
	c       *safe.Client
	acct    *safe.Account
	entries []*railEntry
	crashes map[string]bool // crash points armed for the next pass
	hits    map[string]int  // crash points hit
}

func (r *rail) crash(point string) bool {
	if r.crashes[point] {
		delete(r.crashes, point)
		r.hits[point]++
		return true
	}
	return false
}

// held is the outputs of payouts not settled: never chosen for another.
func (r *rail) held() map[string]bool {
	h := map[string]bool{}
	for _, e := range r.entries {
		if e.state == "pending" {
			for _, o := range e.inputs {
				h[o.Ref()] = true
			}
		}
	}
	return h
}

func (e *railEntry) fail(why string) { e.state, e.why = "failed", why }

// send pays one journalled intent.
func (r *rail) send(ctx context.Context, e *railEntry) error {
	t := r.t
	u, err := r.c.Prepare(ctx, e.p, r.held())
	if err != nil {
		if mixin.IsServerOrTransport(err) || mixin.IsTooManyRequests(err) {
			e.fail("not sent: " + err.Error()) // Prepare moves nothing
			return nil
		}
		t.Fatalf("prepare %s: %v", e.p.RequestID, err)
	}
	if r.crash("before the unsigned transaction is kept") {
		return errCrash
	}
	e.raw, e.inputs = u.Raw, u.Inputs
	if r.crash("before verify") {
		return errCrash
	}
	req, err := r.c.Verify(ctx, u)
	switch {
	case err == nil:
	case mixin.IsServerOrTransport(err):
		return nil // in doubt: settled by Resume
	case mixin.IsTooManyRequests(err):
		e.fail("verify: 429") // never signed: nothing can ever spend under it
		return nil
	default:
		t.Fatalf("verify %s: %v", e.p.RequestID, err)
	}
	if r.crash("between verify and sign") {
		return errCrash
	}
	signed, _, err := safe.Sign(u.Raw, u.Inputs, req.Views, r.acct.Spend())
	if err != nil {
		t.Fatalf("sign %s: %v", e.p.RequestID, err)
	}
	if r.crash("between sign and keeping the signed bytes") {
		return errCrash
	}
	e.signed = signed
	if r.crash("before submit") {
		return errCrash
	}
	ans, err := r.c.Submit(ctx, u.RequestID, signed, u.Hash)
	switch {
	case err == nil:
	case mixin.IsServerOrTransport(err), mixin.IsTooManyRequests(err):
		return nil // in doubt: the same bytes are sent again by Resume
	default:
		t.Fatalf("submit %s: %v", e.p.RequestID, err)
	}
	if r.crash("before the outcome is kept") {
		return errCrash
	}
	e.state, e.hash = "done", ans.TransactionHash
	return nil
}

// settle settles one payout in doubt: Resume from what the journal kept.
func (r *rail) settle(ctx context.Context, e *railEntry) error {
	t := r.t
	if e.raw == nil {
		e.fail("not sent: no transaction was kept") // nothing left the process
		return nil
	}
	u, err := safe.ParseUnsigned(e.p.RequestID, e.raw, e.inputs)
	if err != nil {
		t.Fatalf("journal of %s: %v", e.p.RequestID, err)
	}
	keep := func(signed []byte) error {
		if r.crash("settling: between sign and keeping the signed bytes") {
			return errCrash
		}
		e.signed = bytes.Clone(signed)
		if r.crash("settling: before submit") {
			return errCrash
		}
		return nil
	}
	hadSigned := e.signed != nil
	out, ans, err := r.c.Resume(ctx, safe.Stored{Unsigned: u, Signed: e.signed}, keep)
	switch {
	case errors.Is(err, errCrash):
		return errCrash
	case err == nil && out == safe.Final:
		if ans.TransactionHash != u.Hash.String() {
			t.Fatalf("settle %s: final with another hash", e.p.RequestID)
		}
		e.state, e.hash = "done", ans.TransactionHash
	case err == nil:
		t.Fatalf("settle %s: %s", e.p.RequestID, out)
	case out == safe.NotSubmitted && !hadSigned && e.signed == nil && mixin.IsTooManyRequests(err):
		e.fail("verify while settling: 429") // never signed
	case mixin.IsServerOrTransport(err), mixin.IsTooManyRequests(err):
		// still in doubt
	default:
		t.Fatalf("settle %s (%s): %v", e.p.RequestID, out, err)
	}
	return nil
}

// settleAll settles every payout in doubt, as at start-up and before any
// new send.
func (r *rail) settleAll(ctx context.Context) error {
	for _, e := range r.entries {
		if e.state == "pending" {
			if err := r.settle(ctx, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *rail) pending() int {
	n := 0
	for _, e := range r.entries {
		if e.state == "pending" {
			n++
		}
	}
	return n
}

// TestRandomFaultsAndCrashes pays many payouts through the Safe client
// against the sandbox while verify and submit fail at random (a 5xx before
// anything, a commit whose answer is lost, a stall past the client's
// timeout, 429, a call held past the timeout and run later, sometimes
// followed by a 429), look-ups and reads fail now and then, and the
// process "crashes" at random between keeping the transaction, verify,
// sign, keeping the signed bytes, submit and keeping the outcome, also
// while settling. Recovery is the contract's: look the request id up;
// never submitted → send the same stored bytes again (verify and sign the
// stored transaction again when no signed bytes were kept), never a new
// transaction; outputs of payouts not settled are never chosen for
// another. After a last recovery: nothing in doubt; every payout done is
// debited once, with its amount, recipient and memo; no request id
// executed twice; nothing executed that the journal calls failed or does
// not know; no output spent by two transactions, and the inputs of all
// payouts ever signed disjoint; balances add up.
//
// MIXDESK_RANDOM_SEED=n replays a run; -short pays 60 payouts instead of 200.
func TestRandomFaultsAndCrashes(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 60
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("MIXDESK_RANDOM_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("MIXDESK_RANDOM_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with MIXDESK_RANDOM_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5afe))
	start := time.Now()

	srv := sandbox.New(sandbox.Options{Seed: uint64(seed)})
	recipients := []string{aliceID, "00000000-0000-4000-8000-000000000004", "00000000-0000-4000-8000-000000000005"}
	if err := srv.AddUser(deskID, "desk", "7000", safe.NewSpendKey(seed32(1)).Public()); err != nil {
		t.Fatal(err)
	}
	for i, id := range recipients {
		if err := srv.AddUser(id, fmt.Sprint("payee ", i), fmt.Sprint(7001+i), safe.NewSpendKey(seed32(byte(2+i))).Public()); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.AddAsset(safe.Asset{AssetID: btcID, Symbol: "BTC", Name: "Bitcoin", Precision: 8}); err != nil {
		t.Fatal(err)
	}
	opening := decimal.Zero
	for range 3 * n / 4 {
		a := decimal.New(int64(50+rng.IntN(250)), -2) // 0.5 to 3
		if _, err := srv.Deposit(deskID, btcID, a.String()); err != nil {
			t.Fatal(err)
		}
		opening = opening.Add(a)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	acct := account(t, srv, deskID, 0x01, 0x11)
	const timeout = 80 * time.Millisecond
	client := func(d time.Duration) *safe.Client {
		c, err := safe.NewClient(hs.URL, acct, safe.WithTimeout(d), safe.WithRetry(mixin.RetryPolicy{Attempts: 4, Base: time.Millisecond, Max: 4 * time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	r := &rail{t: t, c: client(timeout), acct: acct, crashes: map[string]bool{}, hits: map[string]int{}}
	ctx := context.Background()
	points := []string{
		"before the unsigned transaction is kept", "before verify", "between verify and sign",
		"between sign and keeping the signed bytes", "before submit", "before the outcome is kept",
		"settling: between sign and keeping the signed bytes", "settling: before submit",
	}
	memos := []string{"", "payroll", "refund #12", "vendor: ACME", "bonus ✓"}
	var faults, held, restarts int
	restart := func() {
		restarts++
		r.c = client(timeout) // a new process: only the journal is left
		for try := 0; ; try++ {
			if err := r.settleAll(ctx); !errors.Is(err, errCrash) {
				return
			}
			if try > 20 {
				t.Fatal("crashing for ever while settling")
			}
		}
	}

	for i := 0; i < n; i++ {
		verify, submit := "/safe/transaction/requests", "/safe/transactions"
		path := verify
		if rng.IntN(2) == 0 {
			path = submit
		}
		faults++
		switch k := rng.IntN(100); {
		case k < 10:
			srv.InjectFault("POST", path, sandbox.Fault{Kind: sandbox.FaultServerError, Status: 500 + rng.IntN(4)})
		case k < 22:
			srv.InjectFault("POST", path, sandbox.Fault{Kind: sandbox.FaultCommitThenDrop})
		case k < 27:
			srv.InjectFault("POST", path, sandbox.Fault{Kind: sandbox.FaultDelay, Delay: time.Second})
		case k < 33:
			srv.InjectFault("POST", path, sandbox.Fault{Kind: sandbox.FaultTooManyRequests})
		case k < 45:
			hold := timeout + time.Duration(10+rng.IntN(90))*time.Millisecond
			// Held past the timeout and run later; the next call on the
			// path (mostly the same bytes sent again) is refused.
			srv.InjectFault("POST", path, sandbox.Fault{Kind: sandbox.FaultHold, Delay: hold})
			if rng.IntN(4) != 0 {
				srv.InjectFault("POST", path, sandbox.Fault{Kind: sandbox.FaultTooManyRequests})
			}
			held++
		case k < 49:
			srv.InjectFault("GET", "/safe/transactions/", sandbox.Fault{Kind: sandbox.FaultServerError, Times: 1 + rng.IntN(4)})
		case k < 51:
			srv.InjectFault("GET", "/safe/transactions/", sandbox.Fault{Kind: sandbox.FaultTooManyRequests, Times: 1 + rng.IntN(4)})
		case k < 53:
			srv.InjectFault("GET", "/safe/outputs", sandbox.Fault{Kind: sandbox.FaultServerError, Times: 1 + rng.IntN(4)})
		case k < 55:
			srv.InjectFault("POST", "/safe/keys", sandbox.Fault{Kind: sandbox.FaultServerError, Times: 1 + rng.IntN(4)})
		default:
			faults--
		}
		for _, p := range points {
			if rng.IntN(100) < 4 {
				r.crashes[p] = true
			}
		}

		// Settle what is in doubt before a new send; a crash there
		// restarts before this payout's intent is kept.
		if err := r.settleAll(ctx); errors.Is(err, errCrash) {
			restart()
			continue
		}
		e := &railEntry{state: "pending", p: safe.Payment{
			RequestID: uuid.NewString(), AssetID: btcID, Recipient: recipients[rng.IntN(len(recipients))],
			Amount: decimal.New(int64(1+rng.IntN(150)), -2).String(), Memo: memos[rng.IntN(len(memos))],
		}}
		r.entries = append(r.entries, e) // the intent, kept first
		if err := r.send(ctx, e); errors.Is(err, errCrash) || rng.IntN(40) == 0 {
			restart()
		}
		clear(r.crashes)
	}

	// The last start: no faults, no crashes, a patient client, once every
	// held call has run.
	srv.ClearFaults()
	srv.WaitHeld()
	clear(r.crashes)
	r.c = client(10 * time.Second)
	for try := 0; r.pending() > 0 && try < 3; try++ {
		if err := r.settleAll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	checkRail(t, srv, r, opening, recipients)
	done, failed := 0, 0
	for _, e := range r.entries {
		if e.state == "done" {
			done++
		} else {
			failed++
		}
	}
	var hit []string
	for _, p := range points {
		hit = append(hit, fmt.Sprintf("%d %q", r.hits[p], p))
	}
	t.Logf("%d payouts: %d done, %d failed (never signed); %d faults (%d held calls), %d restarts; crashes: %v; %v",
		len(r.entries), done, failed, faults, held, restarts, hit, time.Since(start).Round(time.Millisecond))
}

// checkRail compares the journal with the sandbox.
func checkRail(t *testing.T, srv *sandbox.Server, r *rail, opening decimal.Decimal, recipients []string) {
	t.Helper()
	byID := map[string]*railEntry{}
	for _, e := range r.entries {
		byID[e.p.RequestID] = e
		if e.state == "pending" {
			t.Errorf("%s still in doubt after the last recovery", e.p.RequestID)
		}
	}
	// Debits: one per request id, each a payout the journal calls done.
	debits := map[string][]safe.Snapshot{}
	for _, s := range srv.Snapshots(deskID) {
		if s.IsOut() {
			debits[s.RequestID] = append(debits[s.RequestID], s)
		}
	}
	for id, ds := range debits {
		e := byID[id]
		switch {
		case e == nil:
			t.Errorf("request %s executed but not in the journal", id)
		case len(ds) != 1:
			t.Errorf("request %s executed %d times", id, len(ds))
		case e.state != "done":
			t.Errorf("request %s executed but journalled %s (%s)", id, e.state, e.why)
		}
	}
	paid := decimal.Zero
	paidTo := map[string]decimal.Decimal{}
	for _, e := range r.entries {
		ds := debits[e.p.RequestID]
		switch e.state {
		case "done":
			if len(ds) != 1 {
				t.Errorf("done %s: %d debits", e.p.RequestID, len(ds))
				continue
			}
			d := ds[0]
			if d.Amount != "-"+e.p.Amount || d.OpponentID != e.p.Recipient || d.Memo != hex.EncodeToString([]byte(e.p.Memo)) || d.TransactionHash != e.hash {
				t.Errorf("done %s: debit %+v does not match %+v", e.p.RequestID, d, e.p)
			}
			a := decimal.RequireFromString(e.p.Amount)
			paid = paid.Add(a)
			paidTo[e.p.Recipient] = paidTo[e.p.Recipient].Add(a)
		case "failed":
			if e.signed != nil {
				t.Errorf("failed %s was signed", e.p.RequestID)
			}
		}
	}
	// No output spent by two transactions; every spent output spent by a
	// submitted request.
	spentBy := map[string]string{}
	for _, q := range srv.Requests() {
		if q.State != safe.StateSpent {
			continue
		}
		raw, _ := hex.DecodeString(q.RawTransaction)
		ver, err := common.UnmarshalVersionedTransaction(raw)
		if err != nil {
			t.Fatalf("request %s: %v", q.RequestID, err)
		}
		for _, in := range ver.Inputs {
			ref := fmt.Sprintf("%s:%d", in.Hash, in.Index)
			if spentBy[ref] != "" {
				t.Errorf("output %s spent by %s and %s", ref, spentBy[ref], q.TransactionHash)
			}
			spentBy[ref] = q.TransactionHash
		}
	}
	for _, o := range srv.Outputs(deskID) {
		if o.State == safe.StateSpent && spentBy[o.Ref()] != o.SignedBy {
			t.Errorf("output %s spent, by no submitted request", o.Ref())
		}
	}
	// The inputs of all payouts ever signed are disjoint: held outputs were
	// never chosen for another payout.
	signedBy := map[string]string{}
	for _, e := range r.entries {
		if e.signed == nil {
			continue
		}
		for _, o := range e.inputs {
			if other := signedBy[o.Ref()]; other != "" {
				t.Errorf("output %s in payouts %s and %s, both signed", o.Ref(), other, e.p.RequestID)
			}
			signedBy[o.Ref()] = e.p.RequestID
		}
	}
	// Balances.
	sum := func(id string) decimal.Decimal {
		s := decimal.Zero
		for _, o := range srv.Outputs(id) {
			if o.State == safe.StateUnspent {
				s = s.Add(decimal.RequireFromString(o.Amount))
			}
		}
		return s
	}
	total := sum(deskID)
	if want := opening.Sub(paid); !total.Equal(want) {
		t.Errorf("desk holds %s, want %s", total, want)
	}
	for _, id := range recipients {
		got := sum(id)
		if !got.Equal(paidTo[id]) {
			t.Errorf("%s holds %s, was paid %s", id, got, paidTo[id])
		}
		total = total.Add(got)
	}
	if !total.Equal(opening) {
		t.Errorf("the world holds %s, %s was deposited", total, opening)
	}
	// The history through the pager is the sandbox's, newest first.
	p := r.c.NewSnapshotPager(safe.SnapshotsQuery{Limit: 50})
	var got []string
	for !p.Done() {
		page, err := p.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page {
			got = append(got, s.SnapshotID)
		}
	}
	var want []string
	for _, s := range srv.Snapshots(deskID) {
		want = append(want, s.SnapshotID)
	}
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Errorf("history through the pager: %d snapshots, the sandbox has %d", len(got), len(want))
	}
}
