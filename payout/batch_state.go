package payout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/payout/rail"
)

// rowState finds where a valid row stands in the journal: it walks the
// row's attempt traces while they are refusals (other than a key used by
// another payment), and sets Attempt, Trace, State, SnapshotID and Err, and
// the payment and its content hash.
func (d *Desk) rowState(batchID string, it *BatchItem, in *rail.Payment, hash *string, earlier map[string]earlierKey) {
	d.rowStateHere(batchID, it, in, hash)
	if it.State == ItemNew {
		// A key paid by another batch (the file grew, shrank or was
		// edited, so its id changed) is the same payment: never again.
		d.markEarlierKey(it, earlier)
	}
}

// rowStateHere is rowState within this batch's own traces.
func (d *Desk) rowStateHere(batchID string, it *BatchItem, in *rail.Payment, hash *string) {
	it.Already, it.Found, it.SnapshotID, it.Err = false, false, "", nil
	var earlier error
	for n := 0; n < maxBatchAttempts; n++ {
		trace := BatchTrace(batchID, it.Key, n)
		*in = rail.Payment{Key: trace, AssetID: it.Asset.AssetID, RecipientID: it.User.UserID, Amount: it.AmountText, Memo: it.Memo}
		*hash = journal.ContentHash(in.AssetID, in.RecipientID, in.Amount, in.Memo, trace)
		it.Attempt, it.Trace = n, trace
		e, ok := d.journal.Lookup(trace)
		if !ok {
			it.State, it.Err = ItemNew, earlier
			return
		}
		if e.State == journal.StateFailed && !rail.IsKeyUsed(d.rail.Refusal(e.Failed.Code, e.Failed.Description)) {
			// Refused, nothing moved: the next attempt gets its own trace.
			earlier = fmt.Errorf("an earlier try was refused: %w", d.rail.Refusal(e.Failed.Code, e.Failed.Description))
			continue
		}
		if e.Intent.Hash != *hash {
			it.State = ItemFailed
			it.Err = d.rail.KeyTaken(fmt.Sprintf(
				"this row's key was already used for another payout (%s of asset %s to %s, %s); the row was changed since, and is not paid again",
				e.Intent.Amount, e.Intent.AssetID, e.Intent.RecipientID, e.State))
			return
		}
		switch e.State {
		case journal.StateDone:
			it.State, it.Already, it.SnapshotID = ItemDone, true, e.Done.SnapshotID
		case journal.StateInDoubt:
			it.State = ItemInDoubt
			it.Err = errors.New("in doubt since an earlier run; settled by trace before the other rows")
		default: // refused as a key used: the trace belongs to another transfer
			it.State = ItemFailed
			it.Err = d.rail.Refusal(e.Failed.Code, e.Failed.Description)
		}
		return
	}
	it.State = ItemFailed
	it.Err = fmt.Errorf("refused %d times; give the row a new key to try again", maxBatchAttempts)
}

// earlierKey is a batch row of the journal: its intent and its state.
type earlierKey struct {
	e journal.Entry
}

// earlierBatchKeys indexes the journal's batch rows of other batches by row
// key: done and in-doubt ones (a refused row moved nothing). The latest
// intent of a key wins.
func (d *Desk) earlierBatchKeys(batchID string) map[string]earlierKey {
	out := map[string]earlierKey{}
	for _, e := range d.journal.Entries() {
		if e.Intent.BatchID == "" || e.Intent.BatchID == batchID || e.Intent.RowKey == "" || e.State == journal.StateFailed {
			continue
		}
		out[e.Intent.RowKey] = earlierKey{e: e}
	}
	return out
}

// markEarlierKey settles a new row whose key another batch already paid (or
// may have paid). With the same payment it is done and skipped; with other
// values it is refused, as the server refuses a trace reused with other
// fields. A row without a key of its own is keyed by its content, so the
// same payment in another batch is likewise not paid again.
func (d *Desk) markEarlierKey(it *BatchItem, earlier map[string]earlierKey) {
	k, ok := earlier[it.Key]
	if !ok {
		return
	}
	in := k.e.Intent
	a, err := decimal.NewFromString(in.Amount)
	same := err == nil && in.RecipientID == it.User.UserID && in.AssetID == it.Asset.AssetID && a.Equal(it.Amount) && in.Memo == it.Memo
	switch {
	case !same:
		it.State = ItemFailed
		it.Err = d.rail.KeyTaken(fmt.Sprintf(
			"key %q was paid by batch %s with other values (%s of asset %s to %s); the row is not paid again: give it a new key if it is a new payment",
			it.Key, in.BatchID, in.Amount, in.AssetID, in.RecipientID))
	case k.e.State == journal.StateDone:
		it.State, it.Already, it.SnapshotID = ItemDone, true, k.e.Done.SnapshotID
	default:
		it.State = ItemFailed
		it.Err = fmt.Errorf("key %q is in doubt in batch %s; it is settled by its trace before anything else is sent, then run this file again", it.Key, in.BatchID)
	}
}

// addNotes adds what the operator may want to look at: a first payout to
// the recipient (as far as this journal knows), a large amount.
func (d *Desk) addNotes(it *BatchItem) {
	if !d.journal.HasPaid(it.User.UserID) {
		it.Notes = append(it.Notes, "first payout to this recipient from this console")
	}
	price, err := decimal.NewFromString(orZero(it.Asset.PriceUSD))
	if err != nil {
		price = decimal.Zero
	}
	it.ValueUSD = it.Amount.Mul(price)
	large := d.cfg.LargeUSD
	if large == "" {
		large = DefaultLargeUSD
	}
	if th, err := decimal.NewFromString(large); err == nil && th.IsPositive() && price.IsPositive() && it.ValueUSD.GreaterThanOrEqual(th) {
		it.Notes = append(it.Notes, fmt.Sprintf("large: about %s USD", GroupDigits(it.ValueUSD.StringFixed(2))))
	}
}

// findDuplicates groups the valid rows alike in recipient, asset and
// amount, and the rows still to pay that are like a payout of the journal
// (done or in doubt) of the last DuplicateWindow that is not one of this
// batch's rows.
func (d *Desk) findDuplicates(batchID string, items []BatchItem, now time.Time, s *spent) []DupGroup {
	type sig struct{ user, asset, amount string }
	// keyed is a row's signature with its key: a second row with the same
	// one shares the first's trace.
	type keyed struct {
		sig
		key string
	}
	var groups []DupGroup
	first := map[sig]int{}
	group := map[sig]int{}
	keys := map[keyed]struct{}{} // the keys of the rows of the groups so far
	for i := range items {
		it := &items[i]
		if it.State == ItemInvalid {
			continue
		}
		s := sig{it.User.UserID, it.Asset.AssetID, it.AmountText}
		f, seen := first[s]
		if !seen {
			first[s] = i
			continue
		}
		g, ok := group[s]
		if !ok {
			g = len(groups)
			group[s] = g
			groups = append(groups, DupGroup{Kind: DupInFile, Lines: []int{items[f].Row.Line}, Recipient: it.User.FullName,
				UserID: it.User.UserID, Symbol: it.Asset.Symbol, AssetID: it.Asset.AssetID, Amount: it.AmountText})
			keys[keyed{s, items[f].Key}] = struct{}{}
		}
		groups[g].Lines = append(groups[g].Lines, it.Row.Line)
		k := keyed{s, it.Key}
		if _, same := keys[k]; same {
			groups[g].SameKey = true
		} else {
			keys[k] = struct{}{}
		}
	}

	// Payouts of the journal lately; this batch's own (any attempt, any
	// key) are not duplicates of its rows. Then those the rail lists that
	// this journal does not know: another console's.
	since := now.Add(-d.cfg.DuplicateWindow)
	recent := map[sig]journal.Entry{}
	elsewhere := map[string]bool{} // traces of recent that are another console's
	if s != nil {
		// A movement under a trace of this batch's rows is that row, paid
		// (the run finds it), not a duplicate of it.
		own := map[string]bool{}
		for i := range items {
			for a := 0; a <= items[i].Attempt; a++ {
				own[BatchTrace(batchID, items[i].Key, a)] = true
			}
		}
		for i := len(s.out) - 1; i >= 0; i-- { // oldest first: the latest wins
			m := s.out[i]
			if (!m.CreatedAt.IsZero() && m.CreatedAt.Before(since)) || m.Key == "" || own[m.Key] {
				continue
			}
			if _, ours := d.journal.Lookup(m.Key); ours {
				continue
			}
			a, _ := decimal.NewFromString(m.Amount)
			recent[sig{m.OpponentID, m.AssetID, a.Neg().String()}] = journal.Entry{Intent: journal.Intent{Trace: m.Key, Time: m.CreatedAt}}
			elsewhere[m.Key] = true
		}
	}
	for _, e := range d.journal.Since(since) {
		if e.State == journal.StateFailed || e.Intent.BatchID == batchID {
			continue
		}
		a, err := decimal.NewFromString(e.Intent.Amount)
		if err != nil {
			continue
		}
		recent[sig{e.Intent.RecipientID, e.Intent.AssetID, a.String()}] = e // the latest wins
	}
	if len(recent) == 0 {
		return groups
	}
	rg := map[sig]int{}
	for i := range items {
		it := &items[i]
		if it.State != ItemNew {
			continue
		}
		s := sig{it.User.UserID, it.Asset.AssetID, it.AmountText}
		e, ok := recent[s]
		if !ok {
			continue
		}
		g, ok := rg[s]
		if !ok {
			g = len(groups)
			rg[s] = g
			groups = append(groups, DupGroup{Kind: DupRecent, Recipient: it.User.FullName, UserID: it.User.UserID,
				Symbol: it.Asset.Symbol, AssetID: it.Asset.AssetID, Amount: it.AmountText,
				EarlierTrace: e.Intent.Trace, EarlierBatch: e.Intent.BatchID, EarlierAt: e.Intent.Time, Elsewhere: elsewhere[e.Intent.Trace]})
		}
		groups[g].Lines = append(groups[g].Lines, it.Row.Line)
	}
	slices.SortStableFunc(groups, func(a, b DupGroup) int { return a.Lines[0] - b.Lines[0] })
	return groups
}

// totalsLocked recomputes the totals per asset and their problems. The
// caller holds b.mu (or owns b alone).
func (b *Batch) totalsLocked() {
	d := b.desk
	now := d.now()
	var totals []AssetTotal
	at := map[string]int{}
	newPay := map[string]decimal.Decimal{} // new rows only: in-doubt ones are already in Used
	for i := range b.items {
		it := &b.items[i]
		if it.State == ItemInvalid {
			continue
		}
		k, ok := at[it.Asset.AssetID]
		if !ok {
			k = len(totals)
			at[it.Asset.AssetID] = k
			bal, _ := decimal.NewFromString(orZero(it.Asset.Balance))
			totals = append(totals, AssetTotal{Asset: it.Asset, Balance: bal})
		}
		t := &totals[k]
		t.Rows++
		t.Total = t.Total.Add(it.Amount)
		switch it.State {
		case ItemNew:
			t.ToPay = t.ToPay.Add(it.Amount)
			newPay[it.Asset.AssetID] = newPay[it.Asset.AssetID].Add(it.Amount)
		case ItemInDoubt:
			t.ToPay = t.ToPay.Add(it.Amount)
		}
	}
	for i := range totals {
		t := &totals[i]
		id := t.Asset.AssetID
		if price, err := decimal.NewFromString(orZero(t.Asset.PriceUSD)); err == nil {
			t.ValueUSD = t.ToPay.Mul(price)
		}
		if t.ToPay.GreaterThan(t.Balance) {
			t.Problem = fmt.Sprintf("%s: %s to pay, but the balance is %s", t.Asset.Symbol, GroupDigits(t.ToPay.String()), GroupDigits(t.Balance.String()))
		}
		c, ok := d.caps[id]
		if !ok {
			continue
		}
		t.PerTransfer = d.cfg.Limits[id].PerTransfer
		if !c.hasDaily {
			continue
		}
		if b.spent == nil {
			t.Problem = "the daily cap cannot be checked: the account's payouts were not read"
			continue
		}
		used, elsewhere, err := d.usedOf(b.spent, id, now, "")
		if err != nil {
			t.Problem = errorLine(err)
			continue
		}
		t.HasDaily, t.Daily, t.Used, t.UsedElsewhere = true, c.daily, used, elsewhere
		t.Left = decimal.Max(c.daily.Sub(used), decimal.Zero)
		if n := newPay[id]; n.GreaterThan(t.Left) && t.Problem == "" {
			t.Problem = fmt.Sprintf("%s: %s to pay, but only %s is left of the daily cap of %s (used %s in the last 24 h, payouts in doubt included)",
				t.Asset.Symbol, GroupDigits(n.String()), GroupDigits(t.Left.String()), GroupDigits(c.daily.String()), GroupDigits(used.String()))
		}
	}
	b.totals = totals
}

// groupHasDailyCap reports whether a row of group pays an asset with a
// daily cap.
func (d *Desk) groupHasDailyCap(b *Batch, group []int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, i := range group {
		if c, ok := d.caps[b.items[i].Asset.AssetID]; ok && c.hasDaily {
			return true
		}
	}
	return false
}

// withinCaps cuts group before the first row that would take its asset
// over a cap, counting the journal as it is now and the rows before it in
// the group, and returns that row's *CapError; the cut rows are looked at
// again next. The caller holds d.sendMu.
func (r *batchRun) withinCaps(ctx context.Context, group []int) ([]int, error) {
	d, b := r.d, r.b
	if len(d.caps) == 0 {
		return group, nil
	}
	now := d.now()
	used := map[string]decimal.Decimal{}
	// The account's movements are read before the batch is locked: the
	// screen reads the batch while the rail answers.
	var s *spent
	var readErr error
	if d.groupHasDailyCap(b, group) {
		s, readErr = d.readSpent(ctx, now.Add(-DailyWindow))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, i := range group {
		it := &b.items[i]
		id := it.Asset.AssetID
		c, ok := d.caps[id]
		if !ok {
			continue
		}
		var over *CapError
		if c.hasPerTransfer && it.Amount.GreaterThan(c.perTransfer) {
			over = &CapError{Kind: CapPerTransfer, AssetID: id, Symbol: it.Asset.Symbol, Amount: it.Amount, Cap: c.perTransfer, Left: c.perTransfer}
		} else if c.hasDaily {
			u, seen := used[id]
			var elsewhere decimal.Decimal
			if !seen {
				var err error
				if s == nil {
					r.next = group[k]
					return group[:k], fmt.Errorf("payout: the daily cap cannot be checked, so nothing more is sent: %w", readErr)
				}
				if u, elsewhere, err = d.usedOf(s, id, now, ""); err != nil {
					r.next = group[k]
					return group[:k], err
				}
			}
			if left := decimal.Max(c.daily.Sub(u), decimal.Zero); it.Amount.GreaterThan(left) {
				over = &CapError{Kind: CapDaily, AssetID: id, Symbol: it.Asset.Symbol, Amount: it.Amount, Cap: c.daily, Used: u, Elsewhere: elsewhere, Left: left}
			}
			used[id] = u.Add(it.Amount)
		}
		if over != nil {
			r.next = group[k]
			return group[:k], over
		}
	}
	return group, nil
}
