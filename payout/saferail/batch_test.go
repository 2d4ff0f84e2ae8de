package saferail_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MixinNetwork/mixin/common"
	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/payout"
	"mixdesk/payout/rail"
	"mixdesk/payout/saferail"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

// safeDesk is one process of the console on a Safe world: a journal at
// path and a desk on it paying through r.
type safeDesk struct {
	t    *testing.T
	w    *world
	r    rail.Rail
	path string
	cfg  payout.Config
	j    *journal.Journal
	d    *payout.Desk
}

func newSafeDesk(t *testing.T, w *world, r rail.Rail, cfg payout.Config) *safeDesk {
	t.Helper()
	cfg.Self = deskID
	cfg.LargeUSD = "0"
	s := &safeDesk{t: t, w: w, r: r, path: filepath.Join(t.TempDir(), "journal.jsonl"), cfg: cfg}
	s.open()
	t.Cleanup(func() { s.j.Close() })
	return s
}

func (s *safeDesk) open() {
	s.t.Helper()
	j, rep, err := journal.Open(s.path)
	if err != nil || !rep.Intact() {
		s.t.Fatalf("open: %v %v", err, rep)
	}
	d, err := payout.NewDeskOn(s.r, j, s.cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	s.j, s.d = j, d
}

// restart closes the journal, as a process that ended would, and opens it
// again with a new desk paying through r (nil: the same rail).
func (s *safeDesk) restart(r rail.Rail) {
	s.t.Helper()
	s.j.Close()
	if r != nil {
		s.r = r
	}
	s.open()
}

// prepare parses text and prepares it, with the symbols of what the
// wallet holds.
func (s *safeDesk) prepare(text string) *payout.Batch {
	s.t.Helper()
	f, err := payout.ParseBatch(strings.NewReader(text), filepath.Join(s.t.TempDir(), "pay.csv"))
	if err != nil {
		s.t.Fatal(err)
	}
	held, err := s.w.rail.Holdings(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	b, err := s.d.PrepareBatchWith(context.Background(), f, held)
	if err != nil {
		s.t.Fatalf("prepare: %v", err)
	}
	if !b.Ready() {
		s.t.Fatalf("not ready: %v %v", b.Errors(), b.Duplicates())
	}
	return b
}

func (s *safeDesk) run(b *payout.Batch, ctl *payout.BatchControl, progress func(payout.BatchProgress)) (payout.BatchProgress, error) {
	return s.d.RunBatch(context.Background(), b, "", ctl, progress)
}

// stages lists the records of trace in the journal file: kinds, and rail
// records by stage.
func (s *safeDesk) stages(trace string) []string { return kinds(s.t, s.path, trace) }

// btcRows is a batch of n BTC rows of distinct amounts (0.01, 0.01001…)
// to Alice and Carl in turn.
func btcRows(n int) string {
	var sb strings.Builder
	sb.WriteString("recipient,asset,amount,memo\n")
	for i := range n {
		to := aliceID
		if i%2 == 1 {
			to = carlID
		}
		fmt.Fprintf(&sb, "%s,BTC,0.0%d,row %d\n", to, 1000+i, i+1)
	}
	return sb.String()
}

func rowsOf(b *payout.Batch) []payout.BatchItem { return b.Rows(0, b.Len()) }

// requests is the sandbox's requests by request id.
func (w *world) requests() map[string]safe.TransactionRequest {
	out := map[string]safe.TransactionRequest{}
	for _, q := range w.srv.Requests() {
		out[q.RequestID] = q
	}
	return out
}

// spent is the desk's spent requests: the payouts (paying someone) and the
// merges (every output back to the desk).
func (w *world) spent() (payouts, merges []safe.TransactionRequest) {
	for _, q := range w.srv.Requests() {
		if q.UserID != deskID || q.State != safe.StateSpent {
			continue
		}
		if slices.ContainsFunc(q.Receivers, func(r safe.Receiver) bool { return r.Members[0] != deskID }) {
			payouts = append(payouts, q)
		} else {
			merges = append(merges, q)
		}
	}
	return payouts, merges
}

// inputsOf decodes a request's transaction and returns its inputs.
func inputsOf(t *testing.T, q safe.TransactionRequest) []string {
	t.Helper()
	raw, err := hex.DecodeString(q.RawTransaction)
	if err != nil {
		t.Fatal(err)
	}
	ver, err := common.UnmarshalVersionedTransaction(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range ver.Inputs {
		out = append(out, fmt.Sprintf("%s:%d", in.Hash, in.Index))
	}
	return out
}

// wantNoOutputSpentTwice checks that no output is an input of two spent
// transactions, and that every spent output of the desk was spent by one
// of them.
func (w *world) wantNoOutputSpentTwice(t *testing.T) {
	t.Helper()
	by := map[string]string{}
	payouts, merges := w.spent()
	for _, q := range append(payouts, merges...) {
		for _, ref := range inputsOf(t, q) {
			if other, ok := by[ref]; ok {
				t.Fatalf("output %s spent by %s and %s", ref, other, q.RequestID)
			}
			by[ref] = q.RequestID
		}
	}
	for _, o := range w.srv.Outputs(deskID) {
		if o.State == safe.StateSpent && by[o.Ref()] == "" {
			t.Fatalf("output %s spent by no transaction of the desk", o.Ref())
		}
	}
}

// wantEachPaidOnce checks every row of b: done, and paid by exactly one
// spent transaction of the sandbox, under its trace, with its recipient,
// amount and memo (none of its earlier attempt traces executed); and that
// the desk made no other payout but those with the traces others.
func (s *safeDesk) wantEachPaidOnce(b *payout.Batch, others ...string) {
	t := s.t
	t.Helper()
	reqs := s.w.requests()
	traces := map[string]bool{}
	for _, o := range others {
		traces[o] = true
	}
	for _, it := range rowsOf(b) {
		if it.State != payout.ItemDone {
			t.Fatalf("line %d: %s (%v), want done", it.Row.Line, it.State, it.Err)
		}
		q, ok := reqs[it.Trace]
		if !ok || q.State != safe.StateSpent {
			t.Fatalf("line %d: request %s %+v, want spent", it.Row.Line, it.Trace, q)
		}
		mv, err := s.w.rail.PaymentByKey(context.Background(), it.Trace)
		if err != nil || mv.OpponentID != it.User.UserID || mv.Amount != "-"+it.AmountText || mv.Memo != it.Memo || mv.SnapshotID != it.SnapshotID {
			t.Fatalf("line %d: paid %+v, %v; row %+v", it.Row.Line, mv, err, it)
		}
		for n := 0; n < it.Attempt; n++ {
			if q, ok := reqs[payout.BatchTrace(b.ID, it.Key, n)]; ok && q.State != safe.StateUnspent {
				t.Fatalf("line %d: attempt %d executed too (%s)", it.Row.Line, n, q.State)
			}
		}
		traces[it.Trace] = true
	}
	payouts, _ := s.w.spent()
	for _, q := range payouts {
		if !traces[q.RequestID] {
			t.Fatalf("the desk paid %s, no row of the batch", q.RequestID)
		}
	}
	if len(payouts) != len(traces) {
		t.Fatalf("%d payouts for %d rows", len(payouts), len(traces))
	}
	// Each recipient received each row once.
	got := map[string]int{}
	for _, id := range []string{aliceID, carlID} {
		for _, sn := range s.w.srv.Snapshots(id) {
			if traces[sn.RequestID] {
				got[sn.RequestID]++
			}
		}
	}
	for tr := range traces {
		if got[tr] != 1 {
			t.Fatalf("%d snapshots of %s for its recipient", got[tr], tr)
		}
	}
}

// wantSettled checks that the journal is intact and nothing is in doubt.
func (s *safeDesk) wantSettled() {
	s.t.Helper()
	rep, err := journal.VerifyFile(s.path)
	if err != nil || !rep.Intact() {
		s.t.Fatalf("verify: %v %v", err, rep)
	}
	if n := len(s.j.InDoubt()); n != 0 {
		s.t.Fatalf("%d in doubt", n)
	}
}

// unspentSum is the desk's unspent outputs of asset: their sum and count.
func (w *world) unspentSum(assetID string) (decimal.Decimal, int) {
	sum, n := decimal.Zero, 0
	for _, o := range w.srv.Outputs(deskID) {
		if o.State == safe.StateUnspent && o.AssetID == assetID {
			sum, n = sum.Add(decimal.RequireFromString(o.Amount)), n+1
		}
	}
	return sum, n
}

// TestSafeBatchRowByRow: a batch on Safe pays one transaction per row,
// under the row's trace, each kept in the journal as a single payout is
// (intent, unsigned, signed, done); the same file run again, from a new
// process, pays nothing.
func TestSafeBatchRowByRow(t *testing.T) {
	w := newWorld(t)
	if _, err := w.srv.Deposit(deskID, ethID, "3"); err != nil {
		t.Fatal(err)
	}
	s := newSafeDesk(t, w, w.rail, payout.Config{PostWindow: 300 * time.Millisecond})
	text := "recipient,asset,amount,memo\n" +
		aliceID + ",BTC,0.3,March\n" +
		carlID + ",ETH,1.25,\n" +
		"7000102,btc,0.25,April\n" +
		carlID + ",BTC,1.5,bonus\n" +
		aliceID + ",ETH,0.5,fee\n"
	b := s.prepare(text)
	if len(b.Merges()) != 0 {
		t.Fatalf("merges %+v", b.Merges())
	}
	p, err := s.run(b, nil, nil)
	if err != nil || p.Done != 5 || p.Total != 5 {
		t.Fatalf("RunBatch = %+v, %v", p, err)
	}
	s.wantEachPaidOnce(b)
	for _, it := range rowsOf(b) {
		if got := s.stages(it.Trace); !slices.Equal(got, []string{"intent", "unsigned", "signed", "done"}) {
			t.Fatalf("line %d: journal %v", it.Row.Line, got)
		}
		if e, _ := s.j.Lookup(it.Trace); e.Intent.BatchID != b.ID || e.Intent.RowKey != it.Key || it.Trace != payout.BatchTrace(b.ID, it.Key, 0) {
			t.Fatalf("line %d: intent %+v", it.Row.Line, e.Intent)
		}
	}
	w.wantNoOutputSpentTwice(t)
	if sum, _ := w.unspentSum(btcID); sum.String() != "0.45" {
		t.Fatalf("BTC left %s", sum)
	}

	reqs := len(w.srv.Requests())
	s.restart(nil)
	again := s.prepare(strings.ReplaceAll(text, "\n", "\r\n"))
	if c := again.Counts(); again.ID != b.ID || c.Skipped != 5 || c.Left() != 0 {
		t.Fatalf("again %s: %+v", again.ID, c)
	}
	p, err = s.run(again, nil, nil)
	if err != nil || p.Skipped != 5 || p.Done+p.Found != 0 {
		t.Fatalf("re-run = %+v, %v", p, err)
	}
	if n := len(w.srv.Requests()); n != reqs {
		t.Fatalf("the re-run asked for %d transactions", n-reqs)
	}
	s.wantEachPaidOnce(again)
	s.wantSettled()
}

// TestSafeBatchPauseResumeStop: on Safe as on the legacy rail, a paused
// batch lets other payouts through and moves nothing of its own; a stop
// ends it before the next row, with nothing in doubt; the file run again
// pays only the rest.
func TestSafeBatchPauseResumeStop(t *testing.T) {
	w := newWorld(t)
	s := newSafeDesk(t, w, w.rail, payout.Config{PostWindow: 300 * time.Millisecond})
	text := btcRows(30)
	b := s.prepare(text)
	ctl := &payout.BatchControl{}
	paused := make(chan payout.BatchProgress, 1)
	var pauseOnce, stopOnce sync.Once
	progress := func(p payout.BatchProgress) {
		switch {
		case p.Paused:
			select {
			case paused <- p:
			default:
			}
		case p.Done >= 3:
			pauseOnce.Do(ctl.Pause)
			if p.Done >= 12 {
				stopOnce.Do(ctl.Stop)
			}
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.run(b, ctl, progress)
		done <- err
	}()
	var at payout.BatchProgress
	select {
	case at = <-paused:
	case <-time.After(10 * time.Second):
		t.Fatal("the batch did not pause")
	}
	if !ctl.Paused() || at.Done < 3 || at.InDoubt != 0 {
		t.Fatalf("paused at %+v", at)
	}
	// Paused, nothing of the batch moves and another payout gets through.
	before := len(w.srv.Requests())
	rv, err := s.d.Review(context.Background(), payout.Draft{AssetID: btcID, Recipient: carlID, Amount: "0.05", Memo: "while paused"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	single, err := s.d.Send(context.Background(), rv, "")
	if err != nil || single.State != journal.StateDone {
		t.Fatalf("a payout while the batch is paused: %+v, %v", single, err)
	}
	time.Sleep(30 * time.Millisecond)
	if n := len(w.srv.Requests()); n != before+1 {
		t.Fatalf("%d transactions while paused", n-before)
	}
	ctl.Resume()
	var runErr error
	select {
	case runErr = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the batch did not stop")
	}
	var se *payout.BatchStopError
	if !errors.Is(runErr, payout.ErrBatchStopped) || !errors.As(runErr, &se) {
		t.Fatalf("RunBatch = %v, want stopped", runErr)
	}
	c := b.Counts()
	if c.Done < 12 || c.InDoubt != 0 || c.Failed != 0 || c.Left() == 0 || se.Line != rowsOf(b)[c.Done].Row.Line {
		t.Fatalf("stopped at %+v (line %d)", c, se.Line)
	}
	if payouts, _ := w.spent(); len(payouts) != c.Done+1 {
		t.Fatalf("%d payouts, %d rows done", len(payouts), c.Done)
	}

	again := s.prepare(text)
	if c2 := again.Counts(); c2.Skipped != c.Done || c2.Left() != 30-c.Done {
		t.Fatalf("again: %+v", c2)
	}
	if _, err := s.run(again, nil, nil); err != nil {
		t.Fatal(err)
	}
	s.wantEachPaidOnce(again, rv.TraceID)
	w.wantNoOutputSpentTwice(t)
	s.wantSettled()
}

// faulty passes calls on to the sandbox and, while on, makes a verify or a
// submit suffer a fault now and then (seeded): a 5xx before anything, a
// commit whose answer is lost, a 429, or a hold past the client's time-out
// after which the call runs in full.
type faulty struct {
	srv  *sandbox.Server
	hold time.Duration
	p    float64

	mu     sync.Mutex
	rng    *rand.Rand
	on     bool
	counts map[string]int
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && (r.URL.Path == "/safe/transaction/requests" || r.URL.Path == "/safe/transactions") {
		f.mu.Lock()
		if f.on && f.rng.Float64() < f.p {
			kinds := []struct {
				name  string
				fault sandbox.Fault
			}{
				{"5xx", sandbox.Fault{Kind: sandbox.FaultServerError}},
				{"answer lost", sandbox.Fault{Kind: sandbox.FaultCommitThenDrop}},
				{"429", sandbox.Fault{Kind: sandbox.FaultTooManyRequests}},
				{"held", sandbox.Fault{Kind: sandbox.FaultHold, Delay: f.hold}},
			}
			k := kinds[f.rng.IntN(len(kinds))]
			f.counts[r.URL.Path+" "+k.name]++
			f.srv.InjectFault(r.Method, r.URL.Path, k.fault)
		}
		f.mu.Unlock()
	}
	f.srv.ServeHTTP(w, r)
}

func (f *faulty) set(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.on = on
}

// TestSafeBatchFaultsStopRerun: a batch of 200 rows (60 with -short) on
// Safe while verify and submit fail at random, stopped a third of the way
// (BatchControl.Stop), then run again from new processes until every row
// is done: every row is paid exactly once, by one transaction under one of
// its traces, to its recipient; no output is spent twice; balances add up;
// nothing is in doubt; and one more run pays nothing.
func TestSafeBatchFaultsStopRerun(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 60
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	w := newWorld(t)
	if _, err := w.srv.Deposit(deskID, btcID, "5"); err != nil {
		t.Fatal(err)
	}
	opening, _ := w.unspentSum(btcID)
	f := &faulty{srv: w.srv, hold: 700 * time.Millisecond, p: 0.03, rng: rand.New(rand.NewPCG(uint64(seed), 7)), on: true, counts: map[string]int{}}
	hs := httptest.NewServer(f)
	t.Cleanup(hs.Close)
	r, err := saferail.Dial(hs.URL, w.ks, saferail.WithRetry(fastRetry), saferail.WithTimeout(400*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	s := newSafeDesk(t, w, r, payout.Config{PostWindow: time.Second})
	text := btcRows(n)
	b := s.prepare(text)
	ctl := &payout.BatchControl{}
	_, err = s.run(b, ctl, func(p payout.BatchProgress) {
		if p.Done+p.Found >= n/3 {
			ctl.Stop()
		}
	})
	var se *payout.BatchStopError
	if !errors.As(err, &se) {
		t.Fatalf("first run: %v, want a stop", err)
	}
	c := b.Counts()
	if c.Left() == 0 {
		t.Fatalf("stopped at %+v: %v", c, err)
	}
	t.Logf("first run stopped at %+v: %v", c, err)

	for run := 2; ; run++ {
		w.srv.WaitHeld()
		if run == 4 {
			f.set(false)
		}
		s.restart(nil)
		b = s.prepare(text)
		c := b.Counts()
		if c.Skipped == n {
			break
		}
		if run > 8 {
			t.Fatalf("run %d still has work: %+v", run, c)
		}
		p, err := s.run(b, nil, nil)
		t.Logf("run %d: %+v, %v", run, p, err)
	}
	f.mu.Lock()
	t.Logf("faults: %v", f.counts)
	f.mu.Unlock()

	s.wantEachPaidOnce(b)
	w.wantNoOutputSpentTwice(t)
	s.wantSettled()
	paid := decimal.Zero
	for _, it := range rowsOf(b) {
		paid = paid.Add(it.Amount)
	}
	if left, _ := w.unspentSum(btcID); !left.Equal(opening.Sub(paid)) {
		t.Fatalf("BTC left %s, want %s - %s", left, opening, paid)
	}
	reqs := len(w.srv.Requests())
	if p, err := s.run(s.prepare(text), nil, nil); err != nil || p.Skipped != n {
		t.Fatalf("last run = %+v, %v", p, err)
	}
	if len(w.srv.Requests()) != reqs {
		t.Fatal("the last run asked for a transaction")
	}
}

// watchRail is the Safe rail with every PayKept watched: the outputs the
// keeper says the payouts not settled hold at that moment, and how many
// payouts were made while some of those were still unspent on the
// sandbox (held by a row in doubt, not by one paid whose outcome waits to
// be recorded with its group's).
type watchRail struct {
	*saferail.Rail
	srv   *sandbox.Server
	mu    sync.Mutex
	held  map[string]map[string]bool // by trace: the refs held when it was paid
	doubt int
}

func (r *watchRail) PayKept(ctx context.Context, p rail.Payment, pin string, keep rail.Keeper) (*rail.Movement, error) {
	held := map[string]bool{}
	for _, kept := range keep.Unsettled() {
		for _, k := range kept {
			if k.Stage != saferail.StageUnsigned {
				continue
			}
			var ku struct {
				Inputs []struct {
					Hash  string `json:"transaction_hash"`
					Index uint   `json:"output_index"`
				} `json:"inputs"`
			}
			if err := json.Unmarshal(k.Data, &ku); err != nil {
				return nil, err
			}
			for _, in := range ku.Inputs {
				held[fmt.Sprintf("%s:%d", in.Hash, in.Index)] = true
			}
		}
	}
	unspent := slices.ContainsFunc(r.srv.Outputs(deskID), func(o safe.Output) bool { return held[o.Ref()] && o.State == safe.StateUnspent })
	r.mu.Lock()
	r.held[p.Key] = held
	if unspent {
		r.doubt++
	}
	r.mu.Unlock()
	return r.Rail.PayKept(ctx, p, pin, keep)
}

// TestSafeBatchRowsInDoubtHoldTheirOutputs: rows whose verify fails are
// left in doubt with their transaction kept while the rest of their group
// is paid; the outputs they spend are handed to the rail as held, and no
// other row chooses them (else its resumed transaction could never be
// accepted). Every row ends paid once.
func TestSafeBatchRowsInDoubtHoldTheirOutputs(t *testing.T) {
	w := newWorld(t)
	for range 30 {
		if _, err := w.srv.Deposit(deskID, btcID, "0.05"); err != nil {
			t.Fatal(err)
		}
	}
	calls := 0
	var mu sync.Mutex
	hs := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/safe/transaction/requests" {
			mu.Lock()
			calls++
			if calls%5 == 4 {
				w.srv.InjectFault(r.Method, r.URL.Path, sandbox.Fault{Kind: sandbox.FaultServerError})
			}
			mu.Unlock()
		}
		w.srv.ServeHTTP(rw, r)
	}))
	t.Cleanup(hs.Close)
	inner, err := saferail.Dial(hs.URL, w.ks, saferail.WithRetry(fastRetry), saferail.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	wr := &watchRail{Rail: inner, srv: w.srv, held: map[string]map[string]bool{}}
	s := newSafeDesk(t, w, wr, payout.Config{PostWindow: 300 * time.Millisecond})
	b := s.prepare(btcRows(40))
	if p, err := s.run(b, nil, nil); err != nil || p.Done != 40 {
		t.Fatalf("RunBatch = %+v, %v", p, err)
	}
	s.wantEachPaidOnce(b)
	w.wantNoOutputSpentTwice(t)
	reqs := w.requests()
	for trace, held := range wr.held {
		for _, ref := range inputsOf(t, reqs[trace]) {
			if held[ref] {
				t.Fatalf("%s chose %s, held by a payout in doubt", trace, ref)
			}
		}
	}
	t.Logf("%d rows paid while a row in doubt held unspent outputs", wr.doubt)
	if wr.doubt == 0 {
		// Rows go in groups only while posts are fast (batchWindowSpan):
		// on a machine too slow for that, every row went alone.
		t.Skip("no row was paid while a row in doubt held outputs: the rows went one at a time")
	}
}
