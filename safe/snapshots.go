package safe

import (
	"context"
	"strings"

	"mixdesk/mixin"
)

// snapshotsPageDefault is the page size of GET /safe/snapshots when the
// query gives none (docs/safe-api.md §3.3).
const snapshotsPageDefault = 100

// IsOut reports whether the snapshot is money out of the wallet (a negative
// amount); money in is positive.
func (s *Snapshot) IsOut() bool { return strings.HasPrefix(s.Amount, "-") }

// SnapshotPager walks the wallet's snapshots, money in and out, page by
// page (docs/safe-api.md §3.3): it pages by the last snapshot's created_at
// and, because that offset is inclusive, drops the snapshot ids it has
// already returned. A page out of order, a snapshot without a time, or a
// full page at one instant (paging could not move on) is a
// *mixin.ProtocolError rather than a loop.
type SnapshotPager struct {
	c     *Client
	q     SnapshotsQuery
	seen  map[string]struct{}
	done  bool
	pages int
}

// NewSnapshotPager starts at q.Offset (zero: the newest, or the oldest
// when q.Order is "ASC").
func (c *Client) NewSnapshotPager(q SnapshotsQuery) *SnapshotPager {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = snapshotsPageDefault
	}
	if q.Order != "ASC" {
		q.Order = "DESC"
	}
	return &SnapshotPager{c: c, q: q, seen: make(map[string]struct{})}
}

// Done reports whether the last page has been read.
func (p *SnapshotPager) Done() bool { return p.done }

// Pages is how many pages were read so far.
func (p *SnapshotPager) Pages() int { return p.pages }

// Next returns the snapshots of the next page not returned before (maybe
// fewer than the limit). After the last page it returns nil and Done is
// true. After an error the same call may be made again.
func (p *SnapshotPager) Next(ctx context.Context) ([]Snapshot, error) {
	const op = "GET /safe/snapshots"
	for !p.done {
		page, err := p.c.Snapshots(ctx, p.q)
		if err != nil {
			return nil, err
		}
		if reason := p.outOfOrder(page); reason != "" {
			return nil, &mixin.ProtocolError{Op: op, Reason: reason}
		}
		p.pages++
		fresh := page[:0:0]
		for _, s := range page {
			if _, dup := p.seen[s.SnapshotID]; dup {
				continue
			}
			p.seen[s.SnapshotID] = struct{}{}
			fresh = append(fresh, s)
		}
		if len(page) < p.q.Limit {
			p.done = true
		} else if next := page[len(page)-1].CreatedAt; len(fresh) == 0 && next.Equal(p.q.Offset) {
			return nil, &mixin.ProtocolError{Op: op, Reason: "a full page of snapshots shares one created_at; paging cannot move on"}
		} else {
			p.q.Offset = next
		}
		if len(fresh) > 0 {
			return fresh, nil
		}
	}
	return nil, nil
}

// outOfOrder says what is wrong with a page that does not follow the order
// asked from the offset on, or "".
func (p *SnapshotPager) outOfOrder(page []Snapshot) string {
	prev := p.q.Offset
	for i, s := range page {
		switch {
		case s.CreatedAt.IsZero():
			return "a snapshot without created_at"
		case prev.IsZero():
		case p.q.Order == "ASC" && s.CreatedAt.Before(prev),
			p.q.Order != "ASC" && s.CreatedAt.After(prev):
			if i == 0 {
				return "a page starts on the wrong side of its offset"
			}
			return "a page is not in the order asked"
		}
		prev = s.CreatedAt
	}
	return ""
}
