package payout

import "testing"

// TestBatchGroupCommitWithPostWindow: with a real post window (the legacy
// rail's 11 minutes), the rows of a group that are done are not taken for
// posts in flight while their outcomes wait to be recorded together: the
// group is posted whole, and no row is held back and posted again by a
// settlement (with a post record of its own, fsynced). (How large groups
// grow depends on the machine's speed: TestBatchGroupCommit.)
func TestBatchGroupCommitWithPostWindow(t *testing.T) {
	r := newRig(t, 44, withPostWindow(DefaultPostWindow))
	b := r.mustPrepare(r.manyRows(64))
	p, err := r.runBatch(b, r.pin, nil, nil)
	if err != nil || p.Done != 64 {
		t.Fatalf("RunBatch = %+v, %v", p, err)
	}
	r.wantEachPaidOnce(b, 0)
	for _, e := range r.j.Entries() {
		if e.Posts != 1 {
			t.Fatalf("trace %s was posted %d times", e.Intent.Trace, e.Posts)
		}
	}
	if n := r.count.Posts(); n != 64 {
		t.Fatalf("%d posts for 64 rows", n)
	}
}
