package payout

import (
	"context"
	"fmt"

	"mixdesk/journal"
	"mixdesk/payout/rail"
)

// Merges. On a rail whose account holds its money as outputs, of which one
// payment spends at most a fixed number (rail.Merger: on Safe, the
// kernel's 256 inputs), a batch row may need more outputs than that: the
// batch merges them first, with transactions of the account to itself. A
// merge is planned when the batch is prepared (Batch.Merges, a line of the
// review) and planned again, and paid, when it runs, before any row
// (batchRun.mergeFirst). It is journalled like a payout: a trace of its
// own, the intent, the rail's kept states, the outcome; and settled by the
// same rules (a merge in doubt is looked up by its trace and resumed from
// what was kept, never built again). It pays nobody: its intent's
// recipient is the account itself (Config.Self), which no payout ever is
// (a review, a batch row and every rail refuse it), so that is what marks
// a merge in the journal (IsMerge), with MergeMemo as its memo and the
// batch's id; the caps do not count it, and the history shows no row for
// it.

// MergeMemo is the memo of every merge: the journal's intent and the
// transaction's extra.
const MergeMemo = "merge of this account's outputs"

// maxMergeSlack is how many merges beyond its first plan an asset's
// merging may try before the batch stops: each merge takes the count of
// outputs down, so a plan is paid in as many merges as it says, unless
// the outputs change under it or a merge is left in doubt and then closed.
const maxMergeSlack = 4

// IsMerge reports whether an intent of the desk's journal is a merge: a
// transaction of the account to itself (recipient Config.Self), not a
// payout to anyone.
func (d *Desk) IsMerge(in journal.Intent) bool { return in.RecipientID == d.cfg.Self }

// BatchMerge is a line of a batch's review: the outputs of one asset that
// are merged first, because a row needs more of them than one payment may
// spend (Limit).
type BatchMerge struct {
	AssetID string
	Symbol  string
	// Outputs is the account's outputs of the asset that payments may
	// spend; Merged how many of them the merges spend, in Transactions
	// merges, all to the account itself.
	Outputs      int
	Merged       int
	Transactions int
	// Line is the first row that needs them; Limit the most outputs one
	// payment may spend.
	Line  int
	Limit int
}

// Merges returns the merges the batch's rows to pay need, one line per
// asset, as planned when it was prepared (none on a rail that is not a
// rail.Merger). RunBatch plans them again before it pays them.
func (b *Batch) Merges() []BatchMerge {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]BatchMerge(nil), b.merges...)
}

// assetRows is the rows still to pay of one asset, in file order.
type assetRows struct {
	assetID, symbol string
	amounts         []string
	lines           []int
}

// newRowsByAsset groups the new rows by asset, in the order of each
// asset's first new row.
func newRowsByAsset(items []BatchItem) []assetRows {
	var out []assetRows
	at := map[string]int{}
	for i := range items {
		it := &items[i]
		if it.State != ItemNew {
			continue
		}
		k, ok := at[it.Asset.AssetID]
		if !ok {
			k = len(out)
			at[it.Asset.AssetID] = k
			out = append(out, assetRows{assetID: it.Asset.AssetID, symbol: it.Asset.Symbol})
		}
		out[k].amounts = append(out[k].amounts, it.AmountText)
		out[k].lines = append(out[k].lines, it.Row.Line)
	}
	return out
}

// planMerges plans the merges of the new rows (PrepareBatchWith): one
// BatchMerge per asset that needs any. The error is for outputs that could
// not be read.
func (d *Desk) planMerges(ctx context.Context, items []BatchItem) ([]BatchMerge, error) {
	m, ok := d.rail.(rail.Merger)
	if !ok {
		return nil, nil
	}
	var out []BatchMerge
	for _, a := range newRowsByAsset(items) {
		plan, err := m.PlanMerges(ctx, a.assetID, a.amounts, keeper{d: d}.Unsettled())
		if err != nil {
			return nil, fmt.Errorf("reading the outputs of %s to see whether they must be merged: %w", a.assetID, err)
		}
		if len(plan.Merges) == 0 || plan.First < 0 || plan.First >= len(a.lines) {
			continue
		}
		out = append(out, BatchMerge{AssetID: a.assetID, Symbol: a.symbol, Outputs: plan.Outputs, Merged: plan.Merged,
			Transactions: len(plan.Merges), Line: a.lines[plan.First], Limit: plan.Limit})
	}
	return out, nil
}

// mergeFirst pays, before any row, the merges the rows still to pay need:
// asset by asset, in the order of their first row, it plans the new rows'
// amounts in file order, pays the plan's first merge, and plans again,
// until no merge is needed. A merge left in doubt is settled (its post
// window waited out) before the next plan; a refused one stops the batch,
// and so does a stop (BatchControl) between merges. The caller holds
// d.sendMu, and nothing is in doubt.
func (r *batchRun) mergeFirst(ctx context.Context) error {
	m, ok := r.d.rail.(rail.Merger)
	if !ok {
		return nil
	}
	r.b.mu.Lock()
	groups := newRowsByAsset(r.b.items)
	r.b.mu.Unlock()
	for _, a := range groups {
		line := a.lines[0]
		limit := -1
		for tries := 0; ; tries++ {
			plan, err := m.PlanMerges(ctx, a.assetID, a.amounts, keeper{d: r.d}.Unsettled())
			if err != nil {
				return &BatchStopError{Line: line, Err: fmt.Errorf("the %s outputs to merge could not be read (nothing more was sent): %w", a.symbol, err)}
			}
			if len(plan.Merges) == 0 {
				break
			}
			if plan.First >= 0 && plan.First < len(a.lines) {
				line = a.lines[plan.First]
			}
			if limit < 0 {
				limit = len(plan.Merges) + maxMergeSlack
			}
			if tries >= limit {
				return &BatchStopError{Line: line, Err: fmt.Errorf("%d merges of the %s outputs were tried and the plan still asks for more; nothing more was sent", tries, a.symbol)}
			}
			if err := r.wait(ctx); err != nil {
				return &BatchStopError{Line: line, Err: err}
			}
			res, err := r.d.payMerge(ctx, m, a.assetID, plan.Merges[0], r.b.ID)
			if err != nil {
				return &BatchStopError{Line: line, Err: fmt.Errorf("merging the %s outputs: %w", a.symbol, err)}
			}
			switch res.State {
			case journal.StateFailed:
				return &BatchStopError{Line: line, Err: fmt.Errorf("merging the %s outputs was refused (nothing was paid): %w", a.symbol, res.Err)}
			case journal.StateInDoubt:
				// Settled (after its window) before the next plan.
				if err := r.settle(ctx, nil); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// payMerge journals and pays one merge of amount of assetID: a fresh
// trace, its intent (to the account itself, MergeMemo, the batch's id)
// made durable, the rail's stages kept under it, the outcome recorded as
// a payout's is. The caller holds d.sendMu.
func (d *Desk) payMerge(ctx context.Context, m rail.Merger, assetID, amount, batchID string) (Result, error) {
	if err := d.pinGate(); err != nil {
		return Result{}, fmt.Errorf("nothing was sent: %w", err)
	}
	in := rail.Payment{Key: NewTraceID(), AssetID: assetID, RecipientID: d.cfg.Self, Amount: amount, Memo: MergeMemo}
	if _, err := d.journal.AppendIntent(journal.Intent{Trace: in.Key, AssetID: in.AssetID, RecipientID: in.RecipientID,
		Amount: in.Amount, Memo: in.Memo, BatchID: batchID}); err != nil {
		return Result{TraceID: in.Key}, fmt.Errorf("recording the merge (nothing was sent): %w", err)
	}
	d.markPosted(in.Key)
	snap, err := m.PayMerge(ctx, in, keeper{d: d, trace: in.Key})
	return d.record(ctx, in, snap, err, false)
}
