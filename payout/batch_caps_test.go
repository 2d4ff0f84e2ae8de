package payout

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"mixdesk/payout/rail"
)

// slowMovements is a rail whose listing of movements, after the first
// (the batch's preparation), waits until release is closed.
type slowMovements struct {
	rail.Rail
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func (s *slowMovements) Movements(ctx context.Context, q rail.Query) ([]rail.Movement, error) {
	if s.calls.Add(1) == 2 {
		close(s.entered)
		<-s.release
	}
	return s.Rail.Movements(ctx, q)
}

// TestBatchReadsMovementsUnlocked: before a group is posted the run reads
// the account's movements for the daily cap; while the rail answers, the
// batch can still be read (the screen draws it), not held behind a lock.
func TestBatchReadsMovementsUnlocked(t *testing.T) {
	r := newRig(t, 304, withConfig(usdtCaps("", "1000")))
	slow := &slowMovements{Rail: r.desk.Rail(), entered: make(chan struct{}), release: make(chan struct{})}
	d, err := NewDeskOn(slow, r.j, r.desk.Config())
	if err != nil {
		t.Fatal(err)
	}
	r.desk = d
	b := r.mustPrepare(r.manyRows(3))
	ran := make(chan error, 1)
	go func() {
		_, err := r.desk.RunBatch(context.Background(), b, r.pin, nil, nil)
		ran <- err
	}()
	<-slow.entered
	read := make(chan int, 1)
	go func() { read <- b.Len() }()
	select {
	case n := <-read:
		if n != 3 {
			t.Errorf("Len = %d, want 3", n)
		}
	case <-time.After(10 * time.Second):
		t.Error("the batch could not be read while the run waited for the rail's movements")
	}
	close(slow.release)
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	r.wantEachPaidOnce(b, 0)
}
