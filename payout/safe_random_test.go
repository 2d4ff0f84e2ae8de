package payout

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/MixinNetwork/mixin/common"
	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/payout/rail"
	"mixdesk/payout/saferail"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

const safeBTC = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"

// The crash points of the Safe randomized test: where the process may be
// killed. Verify and sign happen between "unsigned kept" and "before
// keeping the signed bytes"; signing is local, so a crash between verify
// and sign leaves what a crash before keeping the signed bytes leaves.
var safeCrashPoints = []string{
	"after the intent",
	"before keeping the unsigned transaction",
	"after keeping the unsigned transaction, before verify",
	"after verify and sign, before keeping the signed bytes",
	"after keeping the signed bytes, before submit",
	"after submit, before the outcome is kept",
	"settling: before the re-post",
	"settling: before keeping the signed bytes",
	"settling: after keeping the signed bytes, before submit",
	"settling: before the outcome is kept",
}

// safeProcess is one run of the console on the Safe rail: its journal,
// its desk, and the rail wrapped so that a crash kills it: from the crash
// on the journal is closed (nothing more reaches the disk) and the rail
// sends nothing.
type safeProcess struct {
	j       *journal.Journal
	d       *Desk
	inner   *saferail.Rail
	crashes map[string]bool // armed crash points
	hits    map[string]int
	dead    bool
}

// crash kills the process at point when that point is armed.
func (p *safeProcess) crash(point string) bool {
	if !p.crashes[point] || p.dead {
		return false
	}
	delete(p.crashes, point)
	p.hits[point]++
	p.dead = true
	p.j.Close()
	return true
}

// crashRail is the Safe rail of a process that may be killed.
type crashRail struct {
	*saferail.Rail
	p *safeProcess
}

func (c crashRail) alive() error {
	if c.p.dead {
		return errCrash
	}
	return nil
}

func (c crashRail) PaymentByKey(ctx context.Context, key string) (*rail.Movement, error) {
	if err := c.alive(); err != nil {
		return nil, err
	}
	return c.Rail.PaymentByKey(ctx, key)
}

func (c crashRail) PayKept(ctx context.Context, pay rail.Payment, pin string, keep rail.Keeper) (*rail.Movement, error) {
	if err := c.alive(); err != nil {
		return nil, err
	}
	mv, err := c.Rail.PayKept(ctx, pay, pin, crashKeeper{keep, c.p, ""})
	if c.p.crash("after submit, before the outcome is kept") {
		return nil, errCrash
	}
	return mv, err
}

func (c crashRail) Resume(ctx context.Context, pay rail.Payment, kept []rail.Kept, pin string, keep rail.Keeper) (*rail.Movement, error) {
	if err := c.alive(); err != nil {
		return nil, err
	}
	mv, err := c.Rail.Resume(ctx, pay, kept, pin, crashKeeper{keep, c.p, "settling: "})
	if c.p.crash("settling: before the outcome is kept") {
		return nil, errCrash
	}
	return mv, err
}

// crashKeeper is the desk's keeper in a process that may be killed around
// each state it keeps.
type crashKeeper struct {
	rail.Keeper
	p      *safeProcess
	prefix string
}

func (k crashKeeper) Keep(stage string, data []byte) error {
	before, after := "before keeping the unsigned transaction", "after keeping the unsigned transaction, before verify"
	if stage == saferail.StageSigned {
		before, after = "after verify and sign, before keeping the signed bytes", "after keeping the signed bytes, before submit"
		if k.prefix != "" {
			before = "before keeping the signed bytes"
		}
	}
	if k.p.dead || k.p.crash(k.prefix+before) {
		return errCrash
	}
	if err := k.Keeper.Keep(stage, data); err != nil {
		return err
	}
	if k.p.crash(k.prefix + after) {
		return errCrash
	}
	return nil
}

// TestSafeRandomFaultsAndCrashes pays many payouts through the desk on the
// Safe rail against the Safe sandbox while verify and submit fail at
// random (a 5xx before anything, a commit whose answer is lost, a stall
// past the client's timeout, 429, and a call held past the timeout and run
// later, mostly followed by a 429 on the next call), look-ups, output
// listings and ghost keys fail now and then, and the process is killed at
// random between the intent, keeping the unsigned transaction, verify and
// sign, keeping the signed bytes, the submit and keeping the outcome, also
// while settling; it restarts from the journal alone, and recovers at
// start-up or before the next payout. After a last recovery (no faults,
// every held call run, every window over): nothing is in doubt; every
// payout done is debited once, with its amount, recipient and memo; no
// request id is executed twice, nor one the journal calls failed or does
// not know; every key has at most one transaction kept and one signed, and
// a failed payout never had signed bytes; no output is spent by two
// transactions, and the inputs of all payouts ever signed are disjoint;
// balances add up.
//
// MIXDESK_RANDOM_SEED=n replays a run; -short pays 60 payouts instead of
// 180.
func TestSafeRandomFaultsAndCrashes(t *testing.T) {
	n := 180
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
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5afe5afe))
	start := time.Now()

	srv := sandbox.New(sandbox.Options{Seed: uint64(seed)})
	self := fakeID(8, 0)
	recipients := []string{fakeID(8, 1), fakeID(8, 2), fakeID(8, 3)}
	spend := bytes.Repeat([]byte{0x31}, 32)
	if err := srv.AddUser(self, "desk", "7100", safe.NewSpendKey(spend).Public()); err != nil {
		t.Fatal(err)
	}
	for i, id := range recipients {
		if err := srv.AddUser(id, fmt.Sprint("payee ", i), fmt.Sprint(7101+i), safe.NewSpendKey(bytes.Repeat([]byte{byte(0x40 + i)}, 32)).Public()); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.AddAsset(safe.Asset{AssetID: safeBTC, Symbol: "BTC", Name: "Bitcoin", Precision: 8, PriceUSD: "60000"}); err != nil {
		t.Fatal(err)
	}
	opening := decimal.Zero
	for range 3 * n / 4 {
		a := decimal.New(int64(50+rng.IntN(250)), -2) // 0.5 to 3
		if _, err := srv.Deposit(self, safeBTC, a.String()); err != nil {
			t.Fatal(err)
		}
		opening = opening.Add(a)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	sessionSeed := bytes.Repeat([]byte{0x32}, 32)
	sid := fakeID(8, 9)
	if err := srv.AddSession(self, sid, ed25519.NewKeyFromSeed(sessionSeed).Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	ks := safe.Keystore{AppID: self, SessionID: sid, ServerPublicKey: hex.EncodeToString(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x33}, 32)).Public().(ed25519.PublicKey)),
		SessionPrivateKey: hex.EncodeToString(sessionSeed), SpendPrivateKey: hex.EncodeToString(spend)}

	const timeout, window = 100 * time.Millisecond, 300 * time.Millisecond
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	var p *safeProcess
	hits := map[string]int{}
	var restarts int
	boot := func(to time.Duration) {
		t.Helper()
		if p != nil {
			p.j.Close()
			restarts++
		}
		j, rep, err := journal.Open(path)
		if err != nil || !rep.Intact() || rep.TornTail {
			t.Fatalf("open: %v %v", err, rep)
		}
		inner, err := saferail.Dial(hs.URL, ks, saferail.WithTimeout(to),
			saferail.WithRetry(mixin.RetryPolicy{Attempts: 4, Base: time.Millisecond, Max: 4 * time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		p = &safeProcess{j: j, inner: inner, crashes: map[string]bool{}, hits: hits}
		if p.d, err = NewDeskOn(crashRail{Rail: inner, p: p}, j, Config{Self: self, PostWindow: window}); err != nil {
			t.Fatal(err)
		}
	}
	boot(timeout)
	t.Cleanup(func() { p.j.Close() })
	setAfterIntent(t, func() error {
		if p.crash("after the intent") {
			return errCrash
		}
		return nil
	})
	oldRepost := testHookBeforeRepost
	testHookBeforeRepost = func() error {
		if p.crash("settling: before the re-post") {
			return errCrash
		}
		return nil
	}
	t.Cleanup(func() { testHookBeforeRepost = oldRepost })

	ctx := context.Background()
	memos := []string{"", "payroll", "refund #12", "vendor: ACME", "bonus ✓"}
	var reviews []*Review
	var faults, held, waits, resends int
	for i := 0; i < n; i++ {
		var rv *Review
		if len(reviews) > 0 && rng.IntN(20) == 0 {
			rv = reviews[rng.IntN(len(reviews))]
			resends++
		} else {
			var err error
			amount := decimal.New(int64(1+rng.IntN(150)), -2).String()
			dr := Draft{AssetID: safeBTC, Recipient: recipients[rng.IntN(len(recipients))], Amount: amount, Memo: memos[rng.IntN(len(memos))]}
			rv, err = p.d.Review(ctx, dr, nil)
			// A read fault left over from the last payout can outlast the
			// client's retries: the operator reviews again.
			for try := 0; err != nil && mixin.IsServerOrTransport(err) && try < 5; try++ {
				rv, err = p.d.Review(ctx, dr, nil)
			}
			if err != nil {
				t.Fatalf("payout %d: review: %v", i, err)
			}
			reviews = append(reviews, rv)
		}

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
			// Held past the timeout and run later; the next call on the
			// path (mostly the same bytes sent again) is refused.
			srv.InjectFault("POST", path, sandbox.Fault{Kind: sandbox.FaultHold, Delay: timeout + time.Duration(10+rng.IntN(90))*time.Millisecond})
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
		for _, c := range safeCrashPoints {
			if rng.IntN(100) < 4 {
				p.crashes[c] = true
			}
		}

		res, err := p.d.Send(ctx, rv, "")
		for try := 0; err != nil && IsPostPending(err) && !p.dead && try < 5; try++ {
			// A submit may still arrive: nothing was recorded; the
			// operator waits and confirms again.
			waits++
			var pe *PostPendingError
			errors.As(err, &pe)
			time.Sleep(time.Until(pe.Until) + time.Millisecond)
			res, err = p.d.Send(ctx, rv, "")
		}
		switch {
		case p.dead:
		case err != nil:
			t.Fatalf("payout %d: Send: %v", i, err)
		default:
			e, ok := p.j.Lookup(rv.TraceID)
			if !ok || res.TraceID != rv.TraceID || e.State != res.State {
				t.Fatalf("payout %d: result %+v, journal %+v", i, res, e)
			}
			if res.State == journal.StateFailed && !allowedSafeFailure(e.Failed) {
				t.Errorf("payout %d failed with %d %q", i, e.Failed.Code, e.Failed.Description)
			}
		}
		if p.dead || rng.IntN(50) == 0 {
			boot(timeout)
			for try := 0; rng.IntN(3) != 0; try++ {
				// Start-up recovery, which may be killed too.
				for _, c := range safeCrashPoints[6:] {
					if rng.IntN(100) < 5 {
						p.crashes[c] = true
					}
				}
				_, err := p.d.Recover(ctx, "")
				if !p.dead {
					if err != nil {
						t.Fatalf("payout %d: Recover: %v", i, err)
					}
					break
				}
				if try > 20 {
					t.Fatal("killed for ever while settling")
				}
				boot(timeout)
			}
		}
		clear(p.crashes)
	}

	// The last start: no faults, a patient client, every held call run and
	// every window over.
	srv.ClearFaults()
	srv.WaitHeld()
	boot(10 * time.Second)
	time.Sleep(window)
	out, err := p.d.Recover(ctx, "")
	if err != nil {
		t.Fatalf("final Recover: %v", err)
	}
	for _, res := range out {
		if res.State == journal.StateInDoubt {
			t.Errorf("final Recover left %s in doubt: %v", res.TraceID, res.Err)
		}
	}
	p.j.Close()
	done, failed, why := checkSafeRun(t, srv, path, self, recipients, opening)
	if len(reviews) != done+failed {
		t.Errorf("%d payouts reviewed and sent, the journal has %d", len(reviews), done+failed)
	}
	var hit []string
	for _, c := range safeCrashPoints {
		hit = append(hit, fmt.Sprintf("%d %q", hits[c], c))
	}
	t.Logf("%d sends (%d reviews, %d resends, %d waits for a post window): %d done, %d failed %v; %d faults (%d held calls), %d restarts; crashes: %s; %v",
		n, len(reviews), resends, waits, done, failed, why, faults, held, restarts, strings.Join(hit, ", "), time.Since(start).Round(time.Millisecond))
}

// allowedSafeFailure: a Safe payout may be failed only for a reason that
// leaves nothing signed behind: not sent (nothing that could execute it
// left, or a submit of an earlier one may still arrive), a 429 to the
// verify, or not enough outputs.
func allowedSafeFailure(f journal.Failed) bool {
	return f.Code == CodeNotPosted || f.Code == mixin.CodeTooManyRequests || f.Code == saferail.CodeInsufficient
}

// checkSafeRun compares the journal file with the sandbox, and returns the
// counts of payouts done and failed.
func checkSafeRun(t *testing.T, srv *sandbox.Server, path, self string, recipients []string, opening decimal.Decimal) (done, failed int, why map[string]int) {
	t.Helper()
	rep, err := journal.VerifyFile(path)
	if err != nil || !rep.Intact() {
		t.Fatalf("journal: %v %v", err, rep)
	}
	type payout struct {
		intent           *journal.Intent
		done             *journal.Done
		failed           *journal.Failed
		unsigned, signed int
		inputs           []string
		signedBytes      []byte
	}
	byTrace := map[string]*payout{}
	why = map[string]int{}
	var order []string
	for _, r := range rep.Records {
		switch {
		case r.Intent != nil:
			byTrace[r.Intent.Trace] = &payout{intent: r.Intent}
			order = append(order, r.Intent.Trace)
		case r.Done != nil:
			byTrace[r.Done.Trace].done = r.Done
		case r.Failed != nil:
			byTrace[r.Failed.Trace].failed = r.Failed
		case r.Rail != nil && r.Rail.Stage == saferail.StageUnsigned:
			pa := byTrace[r.Rail.Trace]
			pa.unsigned++
			var ku struct {
				Inputs []struct {
					Hash  string `json:"transaction_hash"`
					Index uint   `json:"output_index"`
				}
			}
			if err := json.Unmarshal(r.Rail.Data, &ku); err != nil {
				t.Fatalf("kept transaction of %s: %v", r.Rail.Trace, err)
			}
			for _, in := range ku.Inputs {
				pa.inputs = append(pa.inputs, fmt.Sprintf("%s:%d", in.Hash, in.Index))
			}
		case r.Rail != nil && r.Rail.Stage == saferail.StageSigned:
			pa := byTrace[r.Rail.Trace]
			pa.signed++
			pa.signedBytes = r.Rail.Data
		}
	}
	debits := map[string][]safe.Snapshot{}
	for _, s := range srv.Snapshots(self) {
		if s.IsOut() {
			debits[s.RequestID] = append(debits[s.RequestID], s)
		}
	}
	for id, ds := range debits {
		pa := byTrace[id]
		switch {
		case pa == nil:
			t.Errorf("request %s executed but not in the journal", id)
		case len(ds) != 1:
			t.Errorf("request %s executed %d times", id, len(ds))
		case pa.done == nil:
			t.Errorf("request %s executed but journalled %+v", id, pa.failed)
		}
	}
	requests := map[string]safe.TransactionRequest{}
	for _, q := range srv.Requests() {
		requests[q.RequestID] = q
	}
	paid := decimal.Zero
	paidTo := map[string]decimal.Decimal{}
	signedBy := map[string]string{}
	for _, tr := range order {
		pa := byTrace[tr]
		if pa.unsigned > 1 || pa.signed > 1 {
			t.Errorf("%s: %d transactions and %d signed bytes kept; one key names one transaction", tr, pa.unsigned, pa.signed)
		}
		if pa.signed > 0 {
			for _, ref := range pa.inputs {
				if other := signedBy[ref]; other != "" {
					t.Errorf("output %s in payouts %s and %s, both signed", ref, other, tr)
				}
				signedBy[ref] = tr
			}
		}
		switch {
		case pa.done != nil:
			done++
			ds := debits[tr]
			if len(ds) != 1 {
				t.Errorf("done %s: %d debits", tr, len(ds))
				continue
			}
			d, in := ds[0], pa.intent
			if d.Amount != "-"+in.Amount || d.OpponentID != in.RecipientID || d.Memo != hex.EncodeToString([]byte(in.Memo)) || d.SnapshotID != pa.done.SnapshotID {
				t.Errorf("done %s: debit of %s to %s (memo %s, snapshot %s) does not match the intent's %s to %s (memo %q, done as %s)",
					tr, d.Amount, d.OpponentID, d.Memo, d.SnapshotID, in.Amount, in.RecipientID, in.Memo, pa.done.SnapshotID)
			}
			if q := requests[tr]; pa.signedBytes == nil || q.RawTransaction != hex.EncodeToString(pa.signedBytes) {
				t.Errorf("done %s: the executed transaction is not the signed bytes kept", tr)
			}
			a := decimal.RequireFromString(in.Amount)
			paid = paid.Add(a)
			paidTo[in.RecipientID] = paidTo[in.RecipientID].Add(a)
		case pa.failed != nil:
			failed++
			switch pa.failed.Code {
			case CodeNotPosted:
				why["not sent"]++
			case mixin.CodeTooManyRequests:
				why["429 to the verify"]++
			default:
				why["insufficient"]++
			}
			if pa.signed > 0 {
				t.Errorf("failed %s (%d %q) had signed bytes kept", tr, pa.failed.Code, pa.failed.Description)
			}
			if !allowedSafeFailure(*pa.failed) {
				t.Errorf("failed %s with %d %q", tr, pa.failed.Code, pa.failed.Description)
			}
		default:
			t.Errorf("%s still in doubt", tr)
		}
	}
	// No output spent by two transactions; every spent output spent by a
	// submitted request.
	spentBy := map[string]string{}
	var ids []string
	for id := range requests {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		q := requests[id]
		if q.State != safe.StateSpent {
			continue
		}
		raw, _ := hex.DecodeString(q.RawTransaction)
		ver, err := common.UnmarshalVersionedTransaction(raw)
		if err != nil {
			t.Fatalf("request %s: %v", id, err)
		}
		for _, in := range ver.Inputs {
			ref := fmt.Sprintf("%s:%d", in.Hash, in.Index)
			if spentBy[ref] != "" {
				t.Errorf("output %s spent by %s and %s", ref, spentBy[ref], q.TransactionHash)
			}
			spentBy[ref] = q.TransactionHash
		}
	}
	for _, o := range srv.Outputs(self) {
		if o.State == safe.StateSpent && spentBy[o.Ref()] != o.SignedBy {
			t.Errorf("output %s spent, by no submitted request", o.Ref())
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
	total := sum(self)
	if want := opening.Sub(paid); !total.Equal(want) {
		t.Errorf("the desk holds %s, want %s", total, want)
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
	return done, failed, why
}
