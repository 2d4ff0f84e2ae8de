package saferail_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/journal"
	"mixdesk/payout"
	"mixdesk/safe"
)

// BenchmarkSafeDeskPayout: one Safe payout through the desk (Send: the
// intent, the unsigned transaction and the signed bytes kept, each
// fsynced, the outcome) beside the same payout by the bare Safe client
// (Prepare, VerifyAndSign, Submit), taking turns each iteration on
// separate clocks against the sandbox on loopback. Metrics: desk-µs,
// bare-µs (medians) and ratio.
func BenchmarkSafeDeskPayout(b *testing.B) {
	w := newWorld(b)
	ctx := context.Background()
	for range 2 {
		if _, err := w.srv.Deposit(deskID, btcID, "1000"); err != nil {
			b.Fatal(err)
		}
	}
	j, _, err := journal.Open(filepath.Join(b.TempDir(), "journal.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	d, err := payout.NewDeskOn(w.rail, j, payout.Config{Self: deskID, LargeUSD: "0"})
	if err != nil {
		b.Fatal(err)
	}
	bare := w.rail.Client()
	var desk, raw []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		rv, err := d.Review(ctx, payout.Draft{AssetID: btcID, Recipient: aliceID, Amount: "0.001", Memo: "bench"}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		res, err := d.Send(ctx, rv, "")
		desk = append(desk, time.Since(t0))
		if err != nil || res.State != journal.StateDone {
			b.Fatalf("Send = %+v, %v", res, err)
		}
		t0 = time.Now()
		p := safe.Payment{RequestID: uuid.NewString(), AssetID: btcID, Recipient: carlID, Amount: "0.001", Memo: "bench"}
		u, err := bare.Prepare(ctx, p, nil)
		if err == nil {
			var signed []byte
			if signed, err = bare.VerifyAndSign(ctx, u); err == nil {
				_, err = bare.Submit(ctx, u.RequestID, signed, u.Hash)
			}
		}
		raw = append(raw, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	dm, rm := median(desk), median(raw)
	b.ReportMetric(float64(dm.Microseconds()), "desk-µs")
	b.ReportMetric(float64(rm.Microseconds()), "bare-µs")
	b.ReportMetric(float64(dm)/float64(rm), "ratio")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
