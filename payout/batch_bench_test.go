package payout

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout/legacyrail"
)

// benchBatchRows is the size of the benchmarked batch.
const benchBatchRows = 1000

// benchBatchPeople is how many distinct recipients the batch pays.
const benchBatchPeople = 100

// benchWorld is a fresh sandbox over loopback HTTP with an Ed25519 operator
// and benchBatchPeople more users, and a client of the operator.
type benchWorld struct {
	srv    *sandbox.Server
	hs     *httptest.Server
	world  sandbox.World
	people []mixin.User
	client *mixin.Client
}

func newBenchWorld(b testing.TB) *benchWorld {
	b.Helper()
	srv, w, err := sandbox.NewWorld(sandbox.Options{Seed: 99, Operator: sandbox.SessionOptions{Kind: mixin.KeyEd25519}})
	if err != nil {
		b.Fatal(err)
	}
	bw := &benchWorld{srv: srv, world: w, hs: httptest.NewServer(srv)}
	for range benchBatchPeople {
		bw.people = append(bw.people, srv.AddUser(""))
	}
	sess, err := mixin.NewSession(w.Operator)
	if err != nil {
		b.Fatal(err)
	}
	if bw.client, err = mixin.NewClient(bw.hs.URL, sess); err != nil {
		b.Fatal(err)
	}
	return bw
}

func (bw *benchWorld) close() { bw.hs.Close() }

// benchBatchCSV is a batch of benchBatchRows USDT payouts, each of its own
// amount, to the world's people in turn.
func (bw *benchWorld) csv() string {
	var sb strings.Builder
	sb.WriteString("recipient,asset,amount,memo\n")
	for i := range benchBatchRows {
		fmt.Fprintf(&sb, "%s,USDT,1.%04d,payroll 2025-11 row %d\n", bw.people[i%len(bw.people)].UserID, i+1, i+1)
	}
	return sb.String()
}

// runConsole prepares and runs the batch in a fresh world through a desk
// on a fresh journal in dir, and returns the time of RunBatch and of
// parsing and PrepareBatchWith.
func runConsole(b *testing.B, dir string) (run, prep time.Duration) {
	b.Helper()
	cw := newBenchWorld(b)
	defer cw.close()
	j, _, err := journal.Open(filepath.Join(dir, "journal.jsonl"), journal.WithOperator("bench"), journal.WithHost("bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	d, err := NewDeskOn(legacyrail.New(cw.client), j, Config{Self: cw.world.OperatorUser.UserID})
	if err != nil {
		b.Fatal(err)
	}
	text := cw.csv()
	t0 := time.Now()
	f, err := ParseBatch(strings.NewReader(text), "bench.csv")
	if err != nil {
		b.Fatal(err)
	}
	batch, err := d.PrepareBatchWith(context.Background(), f, railAssets(cw.world.Assets))
	if err != nil {
		b.Fatal(err)
	}
	if !batch.Ready() {
		b.Fatalf("bench batch not ready: %v", batch.Errors())
	}
	t1 := time.Now()
	p, err := d.RunBatch(context.Background(), batch, cw.world.Operator.PIN, nil, nil)
	t2 := time.Now()
	if err != nil || p.Done != benchBatchRows {
		b.Fatalf("RunBatch: %+v, %v", p, err)
	}
	return t2.Sub(t1), t1.Sub(t0)
}

// runBare posts the same transfers in a fresh world with a bare loop of
// mixin.Client.Transfer and returns the time of the loop.
func runBare(b *testing.B) time.Duration {
	b.Helper()
	bw := newBenchWorld(b)
	defer bw.close()
	ins := make([]mixin.TransferInput, benchBatchRows)
	for i := range ins {
		ins[i] = mixin.TransferInput{AssetID: usdtID, OpponentID: bw.people[i%len(bw.people)].UserID,
			Amount: fmt.Sprintf("1.%04d", i+1), TraceID: NewTraceID(), Memo: fmt.Sprintf("payroll 2025-11 row %d", i+1)}
	}
	t0 := time.Now()
	for _, in := range ins {
		if _, err := bw.client.Transfer(context.Background(), in, bw.world.Operator.PIN); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(t0)
}

// benchPairs is how many console/bare pairs one iteration measures.
const benchPairs = 3

// BenchmarkBatchVsBareLoop runs a batch of 1,000 rows through the console
// (RunBatch: journal with its fsyncs, settling, caps, progress counts) and
// posts the same 1,000 signed transfers with a bare loop of
// mixin.Client.Transfer, each against a fresh sandbox over loopback with
// an Ed25519 operator. One iteration measures benchPairs pairs, in turns
// (console first, then bare first), so that a burst of other work on the
// machine falls on both sides; it reports the median console and bare
// times, the median of the pairs' ratios (budget: 1.3), and prepare-ms:
// parsing and PrepareBatchWith (100 recipients and one asset looked up), which
// the bare loop has no counterpart for. Run it with -benchtime 1x -count 3.
func BenchmarkBatchVsBareLoop(b *testing.B) {
	var consoles, bares, preps []time.Duration
	var ratios []float64
	for b.Loop() {
		for k := range benchPairs {
			var c, p, r time.Duration
			if k%2 == 0 {
				c, p = runConsole(b, b.TempDir())
				r = runBare(b)
			} else {
				r = runBare(b)
				c, p = runConsole(b, b.TempDir())
			}
			consoles, bares, preps = append(consoles, c), append(bares, r), append(preps, p)
			ratios = append(ratios, c.Seconds()/r.Seconds())
		}
	}
	b.ReportMetric(float64(median(slices.Clone(consoles)).Microseconds())/1e3, "console-ms")
	b.ReportMetric(float64(median(slices.Clone(bares)).Microseconds())/1e3, "bare-ms")
	b.ReportMetric(medianF(ratios), "console/bare")
	b.ReportMetric(float64(median(slices.Clone(preps)).Microseconds())/1e3, "prepare-ms")
}

func medianF(fs []float64) float64 {
	s := slices.Clone(fs)
	slices.Sort(s)
	return s[len(s)/2]
}

// median returns the middle of d, which it sorts (0 when d is empty).
func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}
