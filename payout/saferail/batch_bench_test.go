package saferail_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/journal"
	"mixdesk/payout"
	"mixdesk/safe"
)

// safeBenchRows is the size of the benchmarked Safe batch.
const safeBenchRows = 200

// safeBenchPairs is how many desk/bare pairs one iteration measures.
const safeBenchPairs = 3

// benchWorld is a fresh Safe world whose desk holds two large BTC outputs
// besides its three, so that every payout spends one output and makes one
// change.
func benchWorld(b *testing.B) *world {
	b.Helper()
	w := newWorld(b)
	for range 2 {
		if _, err := w.srv.Deposit(deskID, btcID, "1000"); err != nil {
			b.Fatal(err)
		}
	}
	return w
}

// benchAmount is the amount of payout i: distinct, so that no two rows
// are duplicates.
func benchAmount(i int) string { return fmt.Sprintf("0.001%05d", i+1) }

func benchRecipient(i int) string {
	if i%2 == 1 {
		return carlID
	}
	return aliceID
}

// runSafeDesk prepares and runs a batch of safeBenchRows rows through a
// desk on a fresh journal in dir, in a fresh world, and returns the time of
// RunBatch and of parsing and PrepareBatchWith, and the journal's fsyncs.
func runSafeDesk(b *testing.B, dir string) (run, prep time.Duration, syncs uint64) {
	b.Helper()
	w := benchWorld(b)
	ctx := context.Background()
	j, _, err := journal.Open(filepath.Join(dir, "journal.jsonl"), journal.WithOperator("bench"), journal.WithHost("bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	d, err := payout.NewDeskOn(w.rail, j, payout.Config{Self: deskID, LargeUSD: "0"})
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString("recipient,asset,amount,memo\n")
	for i := range safeBenchRows {
		fmt.Fprintf(&sb, "%s,BTC,%s,payroll row %d\n", benchRecipient(i), benchAmount(i), i+1)
	}
	t0 := time.Now()
	f, err := payout.ParseBatch(strings.NewReader(sb.String()), "bench.csv")
	if err != nil {
		b.Fatal(err)
	}
	held, err := w.rail.Holdings(ctx)
	if err != nil {
		b.Fatal(err)
	}
	batch, err := d.PrepareBatchWith(ctx, f, held)
	if err != nil || !batch.Ready() {
		b.Fatalf("prepare: %v %v", err, batch.Errors())
	}
	t1 := time.Now()
	before := j.Syncs()
	p, err := d.RunBatch(ctx, batch, "", nil, nil)
	t2 := time.Now()
	if err != nil || p.Done != safeBenchRows {
		b.Fatalf("RunBatch = %+v, %v", p, err)
	}
	return t2.Sub(t1), t1.Sub(t0), j.Syncs() - before
}

// runSafeBare pays the same payouts in a fresh world with a bare loop of
// the Safe client (Prepare, VerifyAndSign, Submit) and returns its time.
func runSafeBare(b *testing.B) time.Duration {
	b.Helper()
	w := benchWorld(b)
	ctx := context.Background()
	c := w.rail.Client()
	ps := make([]safe.Payment, safeBenchRows)
	for i := range ps {
		ps[i] = safe.Payment{RequestID: uuid.NewString(), AssetID: btcID, Recipient: benchRecipient(i), Amount: benchAmount(i),
			Memo: fmt.Sprintf("payroll row %d", i+1)}
	}
	t0 := time.Now()
	for _, p := range ps {
		u, err := c.Prepare(ctx, p, nil)
		if err != nil {
			b.Fatal(err)
		}
		signed, err := c.VerifyAndSign(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Submit(ctx, u.RequestID, signed, u.Hash); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(t0)
}

// BenchmarkSafeBatchVsBareLoop runs a batch of 200 rows on the Safe rail
// through the desk (RunBatch: intents in groups, each row's unsigned
// transaction and signed bytes kept and fsynced, outcomes, settling,
// progress) and pays the same 200 payouts with a bare loop of the Safe
// client, each against a fresh sandbox over loopback. One iteration
// measures safeBenchPairs pairs in turns (desk first, then bare first), so
// that a burst of other work on the machine falls on both sides; it
// reports the median desk and bare times, the median of the pairs' ratios
// (the legacy batch's budget is 1.3), prepare-ms, and the journal's
// fsyncs per row. Run it with -benchtime 1x -count 3.
func BenchmarkSafeBatchVsBareLoop(b *testing.B) {
	var desks, bares, preps []time.Duration
	var ratios []float64
	var syncs uint64
	for b.Loop() {
		for k := range safeBenchPairs {
			var d, p, r time.Duration
			var n uint64
			if k%2 == 0 {
				d, p, n = runSafeDesk(b, b.TempDir())
				r = runSafeBare(b)
			} else {
				r = runSafeBare(b)
				d, p, n = runSafeDesk(b, b.TempDir())
			}
			syncs += n
			desks, bares, preps = append(desks, d), append(bares, r), append(preps, p)
			ratios = append(ratios, d.Seconds()/r.Seconds())
		}
	}
	b.ReportMetric(float64(median(desks).Microseconds())/1e3, "desk-ms")
	b.ReportMetric(float64(median(bares).Microseconds())/1e3, "bare-ms")
	s := slices.Clone(ratios)
	slices.Sort(s)
	b.ReportMetric(s[len(s)/2], "desk/bare")
	b.ReportMetric(float64(median(preps).Microseconds())/1e3, "prepare-ms")
	b.ReportMetric(float64(syncs)/float64(len(desks)*safeBenchRows), "fsyncs/row")
}
