package sandbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"mixdesk/safe/sandbox"
)

// BenchmarkPayRoundTrip is one payout through the rail against the sandbox
// on loopback: list unspent outputs, ghost keys, build, verify, sign,
// submit (four HTTP calls, each with a fresh token checked by the sandbox).
//
//	go test ./safe/sandbox/ -run '^$' -bench RoundTrip -benchtime 2s
func BenchmarkPayRoundTrip(b *testing.B) {
	for _, n := range []int{1, 16} {
		b.Run(fmt.Sprintf("inputs=%d", n), func(b *testing.B) {
			w := newWorld(b)
			ctx := context.Background()
			amount := fmt.Sprintf("%d.5", n-1)
			for i := 0; i < b.N; i++ {
				// Every payout spends exactly n outputs and the wallet stays
				// small: n fresh outputs of 1 pay n-0.5 with 0.5 change, then
				// that change and n-1 fresh outputs pay n-0.5 exactly.
				b.StopTimer()
				deposits := n - i%2
				for j := 0; j < deposits; j++ {
					if _, err := w.srv.Deposit(deskID, btcID, "1"); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				u, err := w.desk.Prepare(ctx, pay(uuid.NewString(), amount, "bench"), nil)
				if err != nil {
					b.Fatal(err)
				}
				signed, err := w.desk.VerifyAndSign(ctx, u)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.desk.Submit(ctx, u.RequestID, signed, u.Hash); err != nil {
					b.Fatal(err)
				}
				if len(u.Inputs) != n {
					b.Fatalf("%d inputs", len(u.Inputs))
				}
			}
		})
	}
}

// BenchmarkSaveFile writes a world of 1,400 outputs, 200 submitted
// requests, 1,400 snapshots and 400 ghost keys to a file (Save, fsync,
// rename), as a --sandbox host does after every call that may change it,
// and loads it back (every key checked to be a point, every request's raw
// decoded).
//
//	go test ./safe/sandbox/ -run '^$' -bench SaveFile
func BenchmarkSaveFile(b *testing.B) {
	w := newWorld(b)
	for range 1000 {
		if _, err := w.srv.Deposit(deskID, btcID, "1"); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	for range 200 {
		u, err := w.desk.Prepare(ctx, pay(uuid.NewString(), "0.5", "bench"), nil)
		if err != nil {
			b.Fatal(err)
		}
		signed, err := w.desk.VerifyAndSign(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.desk.Submit(ctx, u.RequestID, signed, u.Hash); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(b.TempDir(), "world.json")
	b.Run("save", func(b *testing.B) {
		for b.Loop() {
			if err := w.srv.SaveFile(path); err != nil {
				b.Fatal(err)
			}
		}
		if fi, err := os.Stat(path); err == nil {
			b.ReportMetric(float64(fi.Size())/1024, "KiB")
		}
	})
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			if _, err := sandbox.LoadFile(path, sandbox.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
