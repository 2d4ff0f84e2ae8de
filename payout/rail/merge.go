package rail

import "context"

// Merger is a staged rail whose account holds its money as separate
// outputs, of which one payment spends at most a fixed number (on Safe:
// the kernel's 256 inputs). A payment that would need more cannot be paid
// until outputs are merged: a transaction of the account to itself (a
// consolidation) that spends many outputs and makes one of their sum,
// moving nothing out of the account.
//
// The money logic plans the merges a batch needs (PlanMerges) and shows
// them in the batch's review; it pays each before the rows, journalled as
// a payment of its own: a key of its own, the intent (recipient: the
// account itself, which no payout ever is), the states kept through the
// Keeper, the outcome. It pays it with PayMerge and settles it as any
// staged payment, by PaymentByKey and Resume. Its movement is the
// account's to itself: OpponentID the account, Amount minus what was
// merged (output 0 of the merge), no balances.
type Merger interface {
	Resumer

	// PlanMerges reads the account's outputs of assetID and says which
	// merges paying amounts (canonical amounts of that asset), in this
	// order, needs made first. Outputs held by the payments not settled
	// (unsettled, as Keeper.Unsettled gives them) are left out. It sends
	// nothing; an error means the outputs could not be read.
	PlanMerges(ctx context.Context, assetID string, amounts []string, unsettled [][]Kept) (MergePlan, error)
	// PayMerge pays the merge m (the first of a fresh plan): m.Key its
	// key, m.RecipientID the account itself, m.Amount the plan's amount,
	// m.Memo the journal's. Its stages are kept through keep as PayKept
	// keeps a payment's, and its answers are PayKept's.
	PayMerge(ctx context.Context, m Payment, keep Keeper) (*Movement, error)
}

// MergePlan is the merges that paying a run of payments of one asset
// needs made first.
type MergePlan struct {
	// Outputs is the account's outputs of the asset that payments may
	// spend (those held by payments not settled left out).
	Outputs int
	// Merged is how many of them the merges spend.
	Merged int
	// Merges is the amount of each merge (a decimal string), in the order
	// they are made; empty when no payment needs one.
	Merges []string
	// First is the index, among the payments planned, of the first one
	// that needs them; -1 when none does.
	First int
	// Limit is the most outputs one payment may spend.
	Limit int
}
