package payout

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"mixdesk/payout/rail"
)

// fakeSnaps is a rail that serves a fixed list of movements as the Mixin
// API does: newest first, created_at at or before the offset (inclusive),
// ties broken by snapshot id. Other calls fail.
type fakeSnaps struct {
	failRail
	mu    sync.Mutex
	snaps []rail.Movement
	calls int
}

func (f *fakeSnaps) Movements(ctx context.Context, q rail.Query) ([]rail.Movement, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	all := slices.Clone(f.snaps)
	slices.SortStableFunc(all, func(a, b rail.Movement) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.SnapshotID, a.SnapshotID)
	})
	limit := q.Limit
	if limit == 0 {
		limit = 500
	}
	var out []rail.Movement
	for _, s := range all {
		if len(out) == limit {
			break
		}
		if q.Before.IsZero() || !s.CreatedAt.After(q.Before) {
			out = append(out, s)
		}
	}
	return out, nil
}

// fakeID is a UUID made from a number.
func fakeID(kind, n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, n) }
