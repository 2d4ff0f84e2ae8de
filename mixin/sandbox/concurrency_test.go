package sandbox

import (
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shopspring/decimal"

	"mixdesk/mixin"
)

// TestConcurrentTransfers has every actor pay the others at once, some
// payments over its balance, some re-posted, while readers page snapshots.
// Money is conserved, no balance goes negative, and every party's snapshots
// chain opening to closing.
func TestConcurrentTransfers(t *testing.T) {
	e := newEnv(t)
	const actors, perActor = 6, 25
	var all []*actor
	for i := range actors {
		all = append(all, e.newActor("Actor "+strconv.Itoa(i), mixin.KeyEd25519, "100"))
	}
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for i, a := range all {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			for range perActor {
				b := all[(i+1+rng.IntN(actors-1))%actors]
				amount := decimal.New(int64(1+rng.IntN(4000)), -2).String() // 0.01 to 40
				r := a.pay(b, amount)
				switch {
				case r.err == nil:
					ok.Add(1)
					// Re-posting a paid trace never moves money again.
					if rng.IntN(4) == 0 {
						s, err := decodeData[mixin.Snapshot](r)
						if err != nil {
							t.Error(err)
							continue
						}
						in := mixin.TransferInput{AssetID: s.AssetID, OpponentID: s.OpponentID, Amount: amount, TraceID: s.TraceID}
						if again, err := decodeData[mixin.Snapshot](a.transfer(in)); err != nil || again != s {
							t.Errorf("re-post answered another snapshot: %v", err)
						}
					}
				case r.err.Code == mixin.CodeInsufficientBalance:
					refused.Add(1)
				default:
					t.Errorf("unexpected answer %v", r.err)
				}
			}
		})
		wg.Go(func() {
			for range 10 {
				if _, err := decodeData[[]mixin.Snapshot](a.get("/snapshots?limit=20")); err != nil {
					t.Error(err)
				}
				if _, err := decodeData[[]mixin.Asset](a.get("/assets")); err != nil {
					t.Error(err)
				}
			}
		})
	}
	// Saving while calls are under way.
	wg.Go(func() {
		for range 5 {
			if err := e.srv.Save(io.Discard); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()

	if got := int64(len(e.srv.Ledger())); got != ok.Load() {
		t.Fatalf("ledger has %d entries, %d transfers succeeded", got, ok.Load())
	}
	t.Logf("%d transfers, %d refused for balance", ok.Load(), refused.Load())
	total := decimal.Zero
	for _, a := range all {
		b := decimal.RequireFromString(a.balance())
		if b.IsNegative() {
			t.Fatalf("%s has a negative balance %s", a.user.FullName, b)
		}
		total = total.Add(b)
		// Each party's snapshots chain: opening = previous closing, and
		// closing = opening + amount.
		snaps := decode[[]mixin.Snapshot](t, a.get("/snapshots?order=ASC&limit=500"))
		prev := decimal.RequireFromString("100")
		for _, s := range snaps {
			open, closing, amt := decimal.RequireFromString(s.OpeningBalance), decimal.RequireFromString(s.ClosingBalance), decimal.RequireFromString(s.Amount)
			if !open.Equal(prev) || !open.Add(amt).Equal(closing) {
				t.Fatalf("%s: snapshot %s does not chain (%s %s %s after %s)", a.user.FullName, s.SnapshotID, s.OpeningBalance, s.Amount, s.ClosingBalance, prev)
			}
			prev = closing
		}
		if !prev.Equal(b) {
			t.Fatalf("%s: snapshots end at %s, balance is %s", a.user.FullName, prev, b)
		}
	}
	if !total.Equal(decimal.NewFromInt(100 * actors)) {
		t.Fatalf("money not conserved: %s", total)
	}
}
