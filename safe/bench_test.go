package safe

import (
	"fmt"
	"testing"
	"time"

	"filippo.io/edwards25519"
	"github.com/MixinNetwork/mixin/crypto"
)

// BenchmarkPayout builds and signs a payout of 1, 4 and 16 inputs (output
// selection, Build, Sign with its kernel verification of every signature)
// and, interleaved in the same loop so both see the same machine, the bare
// kernel signatures the payout needs: one crypto.Key.Sign per input over
// the transaction hash. It reports both per payout and their ratio.
//
//	go test ./safe/ -run '^$' -bench Payout -benchtime 2s
func BenchmarkPayout(b *testing.B) {
	s := sender(b)
	ws := wallets(b)
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("inputs=%d", n), func(b *testing.B) {
			ins := manyInputs(s, n, "1")
			p := pay(fmt.Sprintf("%d.5", n-1), "payout") // every input needed, with change
			sel, err := SelectOutputs(ins, senderID, btcID, p.Amount, nil, 0)
			if err != nil || len(sel.Inputs) != n {
				b.Fatalf("%v %d", err, len(sel.Inputs))
			}
			ghosts := ghostsFor(GhostRequests(p, sel), ws)
			views := s.views(sel.Inputs)
			keys := make([]crypto.Key, n)
			for i, v := range views {
				x, _ := edwards25519.NewScalar().SetCanonicalBytes(mustHex(b, v))
				copy(keys[i][:], edwards25519.NewScalar().Add(x, s.spend.y).Bytes())
			}
			var payout, bare time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				sel, err := SelectOutputs(ins, senderID, btcID, p.Amount, nil, 0)
				if err != nil {
					b.Fatal(err)
				}
				u, err := Build(p, sel, ghosts)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := Sign(u.Raw, u.Inputs, views, s.spend); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				for j := range keys {
					_ = keys[j].Sign(u.Hash)
				}
				t2 := time.Now()
				payout += t1.Sub(t0)
				bare += t2.Sub(t1)
			}
			b.ReportMetric(float64(payout.Microseconds())/float64(b.N), "payout-µs/op")
			b.ReportMetric(float64(bare.Microseconds())/float64(b.N), "kernel-sign-µs/op")
			b.ReportMetric(float64(payout)/float64(bare), "ratio")
		})
	}
}
