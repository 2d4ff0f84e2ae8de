package saferail_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/history"
	"mixdesk/journal"
	"mixdesk/payout"
	"mixdesk/payout/rail"
	"mixdesk/payout/saferail"
	"mixdesk/safe"
)

// smallOutputs gives the desk n outputs of 0.01 ETH.
func (w *world) smallOutputs(t *testing.T, n int) {
	t.Helper()
	for range n {
		if _, err := w.srv.Deposit(deskID, ethID, "0.01"); err != nil {
			t.Fatal(err)
		}
	}
}

// mergeBatch pays Carl 0.1 BTC, then Alice 6 ETH: all of 600 outputs of
// 0.01, more than one transaction may spend (256: kernel
// common/transaction.go SliceCountLimit). ETH is named by its id: once it
// is paid the wallet holds none, and a symbol would no longer resolve.
const mergeBatch = "recipient,asset,amount,memo\n" +
	carlID + ",BTC,0.1,fee\n" +
	aliceID + "," + ethID + ",6,all of it\n"

// merges is the journal's merges, in journal order.
func (s *safeDesk) merges() []journal.Entry {
	var out []journal.Entry
	for _, e := range s.j.Entries() {
		if s.d.IsMerge(e.Intent) {
			out = append(out, e)
		}
	}
	return out
}

// wantMergedAndPaid checks the end of a batch that needed merges: exactly
// two merges executed on the sandbox (each spending 256 outputs, every
// output back to the desk), the 6 ETH row paid once with 90 inputs, no
// output spent twice, nothing left in doubt, and no merge in the history.
func (s *safeDesk) wantMergedAndPaid(b *payout.Batch) {
	t := s.t
	t.Helper()
	_, merges := s.w.spent()
	if len(merges) != 2 {
		t.Fatalf("%d merges executed, want 2", len(merges))
	}
	for _, q := range merges {
		if n := len(inputsOf(t, q)); n != safe.MaxInputs {
			t.Fatalf("merge %s spent %d outputs", q.RequestID, n)
		}
	}
	s.wantEachPaidOnce(b)
	eth := rowsOf(b)[1]
	if n := len(inputsOf(t, s.w.requests()[eth.Trace])); n != 90 {
		t.Fatalf("the ETH row spent %d outputs, want 90", n)
	}
	if sum, n := s.w.unspentSum(ethID); !sum.IsZero() || n != 0 {
		t.Fatalf("ETH left: %s in %d outputs", sum, n)
	}
	s.w.wantNoOutputSpentTwice(t)
	s.wantSettled()
	// Every merge the journal has is one to the desk itself, of this
	// batch, with the merge memo; none is a row of the history.
	h := history.New(s.d.Rail(), s.d.Journal(), s.d.IsMerge)
	for _, e := range s.merges() {
		if e.Intent.RecipientID != deskID || e.Intent.BatchID != b.ID || e.Intent.RowKey != "" || e.Intent.Memo != payout.MergeMemo {
			t.Fatalf("merge intent %+v", e.Intent)
		}
		for _, r := range h.Rows() {
			if r.TraceID == e.Intent.Trace {
				t.Fatalf("the history shows the merge %s: %+v", e.Intent.Trace, r)
			}
		}
	}
}

// TestSafeBatchMergesFirst: a row needs all of the desk's 600 ETH outputs;
// the review says that 511 of them are merged first, in 2 transactions to
// the desk itself; the run merges them before any row, each merge
// journalled like a payout (intent, unsigned, signed, done; recipient the
// desk itself), and then pays every row once. A daily cap of exactly the
// row's 6 ETH lets it through: a merge pays nobody and is not counted. A
// second run merges and pays nothing.
func TestSafeBatchMergesFirst(t *testing.T) {
	w := newWorld(t)
	w.smallOutputs(t, 600)
	s := newSafeDesk(t, w, w.rail, payout.Config{PostWindow: 300 * time.Millisecond,
		Limits: map[string]payout.AssetLimit{ethID: {Daily: "6"}}})
	b := s.prepare(mergeBatch)
	want := []payout.BatchMerge{{AssetID: ethID, Symbol: "ETH", Outputs: 600, Merged: 511, Transactions: 2, Line: 3, Limit: 256}}
	if got := b.Merges(); !slices.Equal(got, want) {
		t.Fatalf("Merges = %+v, want %+v", got, want)
	}
	p, err := s.run(b, nil, nil)
	if err != nil || p.Done != 2 {
		t.Fatalf("RunBatch = %+v, %v", p, err)
	}
	merges := s.merges()
	if len(merges) != 2 {
		t.Fatalf("%d merges in the journal", len(merges))
	}
	first, _ := s.j.Lookup(rowsOf(b)[0].Trace)
	for i, e := range merges {
		if got := s.stages(e.Intent.Trace); !slices.Equal(got, []string{"intent", "unsigned", "signed", "done"}) {
			t.Fatalf("merge %d: journal %v", i, got)
		}
		if e.Intent.Seq > first.Intent.Seq {
			t.Fatalf("merge %d recorded after the first row", i)
		}
		mv, err := w.rail.PaymentByKey(context.Background(), e.Intent.Trace)
		if err != nil || mv.OpponentID != deskID || mv.Amount != "-"+e.Intent.Amount || mv.Memo != payout.MergeMemo {
			t.Fatalf("merge %d as the rail tells it: %+v, %v", i, mv, err)
		}
	}
	if merges[0].Intent.Amount != "2.56" || merges[1].Intent.Amount != "5.11" {
		t.Fatalf("merged %s and %s", merges[0].Intent.Amount, merges[1].Intent.Amount)
	}
	s.wantMergedAndPaid(b)

	reqs := len(w.srv.Requests())
	s.restart(nil)
	again := s.prepare(mergeBatch)
	if len(again.Merges()) != 0 || again.Counts().Skipped != 2 {
		t.Fatalf("again: merges %+v, counts %+v", again.Merges(), again.Counts())
	}
	if p, err := s.run(again, nil, nil); err != nil || p.Skipped != 2 {
		t.Fatalf("re-run = %+v, %v", p, err)
	}
	if len(w.srv.Requests()) != reqs {
		t.Fatal("the re-run asked for a transaction")
	}
}

// errCrash stands for the process dying.
var errCrash = errors.New("the process was killed")

// crashRail is the Safe rail of a process that is killed at one point of
// its merges: from then on its journal is closed and it sends nothing.
type crashRail struct {
	*saferail.Rail
	j      *journal.Journal
	point  string
	merges int
	dead   bool
}

func (c *crashRail) crash() error {
	c.dead = true
	c.j.Close()
	return errCrash
}

func (c *crashRail) PaymentByKey(ctx context.Context, key string) (*rail.Movement, error) {
	if c.dead {
		return nil, errCrash
	}
	return c.Rail.PaymentByKey(ctx, key)
}

func (c *crashRail) PayKept(ctx context.Context, p rail.Payment, pin string, keep rail.Keeper) (*rail.Movement, error) {
	if c.dead {
		return nil, errCrash
	}
	return c.Rail.PayKept(ctx, p, pin, keep)
}

func (c *crashRail) Resume(ctx context.Context, p rail.Payment, kept []rail.Kept, pin string, keep rail.Keeper) (*rail.Movement, error) {
	if c.dead {
		return nil, errCrash
	}
	return c.Rail.Resume(ctx, p, kept, pin, keep)
}

func (c *crashRail) PayMerge(ctx context.Context, m rail.Payment, keep rail.Keeper) (*rail.Movement, error) {
	if c.dead {
		return nil, errCrash
	}
	c.merges++
	n := c.merges
	mv, err := c.Rail.PayMerge(ctx, m, crashKeeper{keep, c, n})
	if c.point == "after the first merge's submit" && n == 1 {
		return nil, c.crash()
	}
	return mv, err
}

// crashKeeper is the desk's keeper of merge n of a crashRail.
type crashKeeper struct {
	rail.Keeper
	c *crashRail
	n int
}

func (k crashKeeper) Keep(stage string, data []byte) error {
	if k.c.dead || (k.c.point == "before the first merge keeps anything" && k.n == 1) {
		return k.c.crash()
	}
	if err := k.Keeper.Keep(stage, data); err != nil {
		return err
	}
	if k.c.point == "after the second merge's signed bytes are kept" && k.n == 2 && stage == saferail.StageSigned {
		return k.c.crash()
	}
	return nil
}

// TestSafeBatchMergeCrash: the process dies in the middle of the merges
// (before a merge kept anything, once its signed bytes are kept and
// before they are submitted, after a submit and before its outcome is
// kept) and the file is run again: the merge left in doubt is settled by
// the same rules as a payout (closed as not sent when nothing was kept;
// otherwise looked up, and sent again as the bytes kept), the plan is made
// again from what is there, and in the end exactly two merges have
// executed and the row is paid once.
func TestSafeBatchMergeCrash(t *testing.T) {
	for _, point := range []string{
		"before the first merge keeps anything",
		"after the second merge's signed bytes are kept",
		"after the first merge's submit",
	} {
		t.Run(point, func(t *testing.T) {
			w := newWorld(t)
			w.smallOutputs(t, 600)
			cr := &crashRail{Rail: w.rail, point: point}
			s := newSafeDesk(t, w, cr, payout.Config{PostWindow: 300 * time.Millisecond})
			cr.j = s.j
			b := s.prepare(mergeBatch)
			if _, err := s.run(b, nil, nil); !cr.dead || err == nil {
				t.Fatalf("RunBatch = %v; the process did not die", err)
			}
			if payouts, _ := w.spent(); len(payouts) != 0 {
				t.Fatalf("%d rows paid before the merges", len(payouts))
			}

			s.restart(w.rail)
			again := s.prepare(mergeBatch)
			p, err := s.run(again, nil, nil)
			if err != nil || p.Done+p.Found != 2 {
				t.Fatalf("re-run = %+v, %v", p, err)
			}
			s.wantMergedAndPaid(again)
			var failed int
			for _, e := range s.merges() {
				if e.State == journal.StateFailed {
					failed++
					if got := s.stages(e.Intent.Trace); e.Failed.Code != payout.CodeNotPosted || !slices.Equal(got, []string{"intent", "post", "failed"}) {
						t.Fatalf("failed merge: %+v %v", e.Failed, got)
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[point == "before the first merge keeps anything"]; failed != want {
				t.Fatalf("%d merges closed as not sent, want %d", failed, want)
			}
			if n := len(s.merges()); n != 2+failed {
				t.Fatalf("%d merges in the journal", n)
			}
		})
	}
}

// TestSafeMergeMovement: the rail tells a merge as the desk's movement to
// itself, and refuses to pay one to anybody else; a payout to the desk
// itself stays refused.
func TestSafeMergeMovement(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	m := rail.Payment{Key: payment("1", "").Key, AssetID: btcID, RecipientID: aliceID, Amount: "2", Memo: "merge"}
	if _, err := w.rail.PayMerge(ctx, m, &keeper{}); !errors.Is(err, rail.ErrNotSent) {
		t.Fatalf("a merge to Alice: %v", err)
	}
	m.RecipientID = deskID
	if _, err := w.rail.Validate(m); err == nil {
		t.Fatal("a payout to the desk itself validated")
	}
	plan, err := w.rail.PlanMerges(ctx, btcID, []string{"2.5"}, nil)
	if err != nil || len(plan.Merges) != 0 || plan.Outputs != 3 || plan.Limit != 256 {
		t.Fatalf("plan %+v, %v", plan, err)
	}
	k := &keeper{}
	mv, err := w.rail.PayMerge(ctx, m, k)
	if err != nil || mv.OpponentID != deskID || mv.Amount != "-2" || mv.Memo != "merge" || mv.Key != m.Key {
		t.Fatalf("PayMerge = %+v, %v", mv, err)
	}
	if !slices.Equal(k.stages(), []string{saferail.StageUnsigned, saferail.StageSigned}) {
		t.Fatalf("kept %v", k.stages())
	}
	// The two largest (1.25 and 0.75) became one output of 2; the 0.5 is
	// left; nobody got a snapshot of it.
	if got := w.unspent(); !slices.Equal(got, []string{"0.5", "2"}) {
		t.Fatalf("unspent %v", got)
	}
	if n := len(w.srv.Snapshots(aliceID)); n != 1 {
		t.Fatalf("Alice has %d snapshots", n)
	}
	again, err := w.rail.PaymentByKey(ctx, m.Key)
	if err != nil || *again != *mv {
		t.Fatalf("PaymentByKey = %+v, %v; paid %+v", again, err, mv)
	}
	sum, _ := w.unspentSum(btcID)
	if !sum.Equal(decimal.RequireFromString("2.5")) {
		t.Fatalf("BTC %s", sum)
	}
}
