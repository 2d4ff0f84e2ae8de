package payout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/internal/errtext"
	"mixdesk/journal"
	"mixdesk/payout/rail"
)

// Several consoles may hold profiles of one account, each with its own
// journal. The daily cap counts what the account paid, not what this
// console paid: the account's outgoing movements in the window as the rail
// lists them, plus this journal's payouts the rail does not show (in doubt,
// or not listed yet). A movement is counted once, whether or not this
// journal has it; a payout another console has in doubt cannot be seen.

// maxSpendPages bounds the pages read back to the start of the window: at
// the rail's largest page (500) that is 100,000 movements in 24 hours. An
// account busier than that cannot have its cap checked, and is refused.
const maxSpendPages = 200

// spendPage is the page size asked for: the largest both rails serve. A
// shorter page is the last.
const spendPage = 500

// spent is what the account paid in a window, as the rail lists it.
type spent struct {
	since time.Time
	// out holds the outgoing movements to others in the window, newest
	// first.
	out []rail.Movement
}

// errSpendUnread wraps a failure to read the account's movements: a cap
// that depends on them cannot be checked.
var errSpendUnread = errors.New("the account's payouts of the last 24 hours could not be read")

// readSpent lists the account's outgoing movements since since, paging
// back from the newest.
func (d *Desk) readSpent(ctx context.Context, since time.Time) (*spent, error) {
	s := &spent{since: since}
	seen := map[string]struct{}{}
	q := rail.Query{Limit: spendPage}
	for page := 0; ; page++ {
		if page == maxSpendPages {
			return nil, fmt.Errorf("%w: more than %d pages of movements", errSpendUnread, maxSpendPages)
		}
		moves, err := d.rail.Movements(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errSpendUnread, err)
		}
		fresh, older := 0, false
		for _, m := range moves {
			if _, dup := seen[m.SnapshotID]; dup {
				continue
			}
			seen[m.SnapshotID] = struct{}{}
			fresh++
			if !m.CreatedAt.IsZero() && m.CreatedAt.Before(since) {
				older = true
				continue
			}
			if d.outgoingToOther(m) {
				s.out = append(s.out, m)
			}
		}
		last := len(moves) < q.Limit || older
		if last {
			return s, nil
		}
		if fresh == 0 {
			return nil, fmt.Errorf("%w: the server sent the same page twice", errSpendUnread)
		}
		q.Before = moves[len(moves)-1].CreatedAt
		if q.Before.IsZero() {
			return nil, fmt.Errorf("%w: a movement has no time", errSpendUnread)
		}
	}
}

// outgoingToOther reports whether m moved money from the account to
// someone else (not to itself).
func (d *Desk) outgoingToOther(m rail.Movement) bool {
	a, err := decimal.NewFromString(m.Amount)
	return err == nil && a.IsNegative() && m.OpponentID != d.cfg.Self
}

// usedOf is what the account paid of assetID in the window, leaving out
// the payout with trace, each payment counted once:
//
//   - this journal's payouts as before: done or in doubt with an intent in
//     the window, and every one still in doubt whatever its age;
//   - every movement the rail lists in the window that the first rule did
//     not count: another console's or tool's (elsewhere), and this
//     journal's own that executed inside the window although its intent is
//     older (re-posted late, or final late), or whose entry says failed
//     (the rail shows it moved);
//   - a movement listed without a time counts: it cannot be shown to be
//     outside the window.
func (d *Desk) usedOf(s *spent, assetID string, now time.Time, trace string) (used, elsewhere decimal.Decimal, err error) {
	start := now.Add(-DailyWindow)
	counted := map[string]bool{} // traces the journal's rule counts
	for _, e := range d.windowEntries(now) {
		in := e.Intent
		if e.State == journal.StateFailed || in.AssetID != assetID || in.Trace == trace || d.IsMerge(in) {
			continue // a merge pays nobody
		}
		// The journal holds only plain decimals; were one not to parse,
		// the cap could not be checked, and the payout is refused.
		a, err := decimal.NewFromString(in.Amount)
		if err != nil {
			return decimal.Zero, decimal.Zero, fmt.Errorf("payout: the daily cap cannot be checked: the journal's payout %s has amount %q", in.Trace, errtext.Cut(in.Amount))
		}
		used = used.Add(a)
		counted[in.Trace] = true
	}
	for _, m := range s.out {
		if m.AssetID != assetID || (trace != "" && m.Key == trace) || (!m.CreatedAt.IsZero() && m.CreatedAt.Before(start)) {
			continue
		}
		if m.Key != "" && counted[m.Key] {
			continue
		}
		a, _ := decimal.NewFromString(m.Amount) // outgoingToOther parsed it
		used = used.Add(a.Neg())
		if _, ours := d.journal.Lookup(m.Key); m.Key == "" || !ours {
			elsewhere = elsewhere.Add(a.Neg())
		}
	}
	return used, elsewhere, nil
}

// windowEntries are the journal's payouts recorded in the DailyWindow up to
// now, and every payout still in doubt whatever its age (it may be posted
// again at any time, so it counts until it is settled).
func (d *Desk) windowEntries(now time.Time) []journal.Entry {
	entries := d.journal.Since(now.Add(-DailyWindow))
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		seen[e.Intent.Trace] = true
	}
	for _, in := range d.journal.InDoubt() {
		if !seen[in.Trace] {
			entries = append(entries, journal.Entry{Intent: in, State: journal.StateInDoubt})
		}
	}
	return entries
}
