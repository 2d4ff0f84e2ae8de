package saferail

import (
	"context"
	"errors"
	"fmt"

	"mixdesk/payout/rail"
	"mixdesk/safe"
)

var _ rail.Merger = (*Rail)(nil)

// PlanMerges (rail.Merger) lists the wallet's unspent outputs of the asset
// once and plans the merges paying amounts in order needs first
// (safe.PlanMerges: while a payment would need more than 256 outputs, the
// 256 largest are merged into one), outputs held by payouts in doubt left
// out. It sends nothing.
func (r *Rail) PlanMerges(ctx context.Context, assetID string, amounts []string, unsettled [][]rail.Kept) (rail.MergePlan, error) {
	held, err := heldBy(unsettled)
	if err != nil {
		return rail.MergePlan{}, fmt.Errorf("saferail: what the payouts in doubt hold cannot be read from the journal: %w", err)
	}
	outs, err := r.c.UnspentOutputs(ctx, assetID)
	if err != nil {
		return rail.MergePlan{}, err
	}
	p, err := safe.PlanMerges(outs, r.self, assetID, amounts, held)
	if err != nil {
		return rail.MergePlan{}, err
	}
	return rail.MergePlan{Outputs: p.Outputs, Merged: p.Merged, Merges: p.Merges, First: p.First, Limit: safe.MaxInputs}, nil
}

// PayMerge (rail.Merger) pays a merge as PayKept pays a payout: one kernel
// transaction under m.Key spending the largest unspent outputs not held
// (safe.SelectMerge) to the wallet itself, kept "unsigned" before verify and
// "signed" before submit, settled later by PaymentByKey and Resume like a
// payout. m.RecipientID must be this wallet.
func (r *Rail) PayMerge(ctx context.Context, m rail.Payment, keep rail.Keeper) (*rail.Movement, error) {
	if !sameID(m.RecipientID, r.self) {
		return nil, notSent(errors.New("saferail: a merge pays the wallet itself; nothing was sent"))
	}
	sp, err := safe.Payment{RequestID: m.Key, AssetID: m.AssetID, Sender: r.self, Recipient: r.self, Amount: m.Amount, Memo: m.Memo}.CheckMerge()
	if err != nil {
		return nil, notSent(err)
	}
	return r.pay(ctx, sp, keep, r.c.PrepareMerge)
}
