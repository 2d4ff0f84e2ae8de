package safe

import (
	"context"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"mixdesk/mixin"
)

// Merges. One kernel transaction spends at most MaxInputs outputs (kernel
// common/transaction.go: SliceCountLimit = 256, enforced by
// Transaction.Validate in common/validation.go). A wallet paid in many
// small amounts may hold more outputs of an asset than one payout may
// spend (a *TooManyInputsError): they are merged first, by a transaction
// of the wallet to itself (a consolidation) that spends up to MaxInputs of
// them, the largest first, and makes one output of their sum
// (docs/safe-api.md §4.8). A merge is a Payment whose Recipient is its
// Sender, named by a request id like a payout and built, verified, signed,
// submitted and settled the same way (PrepareMerge or BuildMerge, then
// Verify, Sign, Submit, Resume); it moves nothing out of the wallet.

// CheckMerge checks a merge as Check checks a payment, but its Recipient
// must be its Sender: the wallet itself.
func (p Payment) CheckMerge() (Payment, error) { return p.check(true) }

// SelectMerge chooses the outputs a merge of amount spends: the largest
// not held first (in sequence order among equals), until their sum reaches
// amount, at most MaxInputs. PlanMerges plans each merge as the sum of the
// MaxInputs largest outputs, so that SelectMerge then chooses exactly
// those (or fewer, larger ones, when larger outputs arrived meanwhile).
func SelectMerge(outputs []Output, owner, assetID, amount string, held map[string]bool) (*Selection, error) {
	want, canon, err := mixin.ParseAmount(amount)
	if err != nil {
		return nil, err
	}
	cands, available, heldSum := candidatesOf(outputs, owner, assetID, held)
	if available.LessThan(want) {
		return nil, &InsufficientError{AssetID: assetID, Amount: canon, Available: available.String(), Held: heldSum.String()}
	}
	idx, total := cover(cands, largestFirst(cands), want)
	if len(idx) > MaxInputs {
		return nil, &TooManyInputsError{Needed: len(idx), Max: MaxInputs}
	}
	slices.Sort(idx)
	return selectionOf(cands, idx, total, want), nil
}

// largestFirst is the indexes of cands (in sequence order), the largest
// amount first; equal amounts stay in sequence order.
func largestFirst(cands []candidate) []int {
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cands[b].in.amount.Cmp(cands[a].in.amount) })
	return order
}

// PrepareMerge makes a merge's unsigned transaction as Prepare makes a
// payout's: it lists the wallet's unspent outputs of the asset, chooses
// them with SelectMerge (never one in held), asks the ghost keys (output 0
// and the change, both to the wallet) and builds. Sender defaults to this
// account; Recipient must be it.
func (c *Client) PrepareMerge(ctx context.Context, m Payment, held map[string]bool) (*Unsigned, error) {
	if m.Sender == "" {
		m.Sender = c.acct.AppID
	}
	if m.Sender != c.acct.AppID {
		return nil, fieldErr(FieldAppID, "the merge is not of this account")
	}
	m, err := m.CheckMerge()
	if err != nil {
		return nil, err
	}
	outs, err := c.UnspentOutputs(ctx, m.AssetID)
	if err != nil {
		return nil, err
	}
	sel, err := SelectMerge(outs, m.Sender, m.AssetID, m.Amount, held)
	if err != nil {
		return nil, err
	}
	ghosts, err := c.GhostKeys(ctx, GhostRequests(m, sel))
	if err != nil {
		return nil, err
	}
	return BuildMerge(m, sel, ghosts)
}

// BuildMerge makes a merge's unsigned v5 transaction as Build makes a
// payout's: output 0 of Amount and the change (when there is any) both to
// the wallet, the memo as extra.
func BuildMerge(m Payment, sel *Selection, ghosts []GhostKeys) (*Unsigned, error) {
	m, err := m.CheckMerge()
	if err != nil {
		return nil, err
	}
	return build(m, sel, ghosts)
}

// MergePlan is the merges that paying a run of payments of one asset needs
// first (PlanMerges).
type MergePlan struct {
	// Outputs is the wallet's spendable outputs of the asset, not held.
	Outputs int
	// Merged is how many of them the merges spend (a merge that spends the
	// output of an earlier one counts only the wallet's outputs).
	Merged int
	// Merges is the amount of each merge, in the order they are made; none
	// when no payment needs one.
	Merges []string
	// First is the index of the first payment that needs them, -1 when none
	// does.
	First int
}

// PlanMerges says which merges paying amounts of assetID, in this order,
// each with the outputs SelectOutputs would choose then (the change of
// each coming back as the newest output), needs made first: while a
// payment would need more than MaxInputs outputs, the MaxInputs largest
// outputs are merged into one (the newest) and the payments are played
// again from the start. A payment the outputs do not cover at all ends the
// play there: merging cannot help it (the balance says so). Outputs in
// held (payouts not settled) are left out. Every merge takes the count of
// outputs down by MaxInputs-1, and with at most MaxInputs outputs no
// payment needs more, so a plan ends.
func PlanMerges(outputs []Output, owner, assetID string, amounts []string, held map[string]bool) (*MergePlan, error) {
	wants := make([]decimal.Decimal, len(amounts))
	for i, a := range amounts {
		w, _, err := mixin.ParseAmount(a)
		if err != nil {
			return nil, fmt.Errorf("safe: payment %d of the plan: %w", i+1, err)
		}
		wants[i] = w
	}
	cands, _, _ := candidatesOf(outputs, owner, assetID, held)
	plan := &MergePlan{Outputs: len(cands), First: -1}
	var next int64
	for _, c := range cands {
		next = max(next, c.out.Sequence+1)
	}
	// A payment spends at least one output and makes at most one change,
	// so the count of outputs never grows while the payments are played.
	for len(cands) > MaxInputs {
		i := firstTooMany(cands, wants, &next)
		if i < 0 {
			break
		}
		if plan.First < 0 {
			plan.First = i
		}
		merged := candidate{out: Output{Sequence: next}, planned: true}
		next++
		drop := make([]bool, len(cands))
		for _, k := range largestFirst(cands)[:MaxInputs] {
			drop[k] = true
			merged.in.amount = merged.in.amount.Add(cands[k].in.amount)
			if !cands[k].planned {
				plan.Merged++
			}
		}
		rest := make([]candidate, 0, len(cands)-MaxInputs+1)
		for k := range cands {
			if !drop[k] {
				rest = append(rest, cands[k])
			}
		}
		cands = append(rest, merged)
		plan.Merges = append(plan.Merges, merged.in.amount.String())
	}
	return plan, nil
}

// firstTooMany plays the payments in order on a copy of cands (in sequence
// order) as SelectOutputs would pay them, each change coming back as the
// newest output (numbered from *next), and returns the index of the first
// payment that would need more than MaxInputs outputs; -1 when none does,
// or when one is not covered at all before that.
func firstTooMany(cands []candidate, wants []decimal.Decimal, next *int64) int {
	work := slices.Clone(cands)
	avail := decimal.Zero
	for _, c := range work {
		avail = avail.Add(c.in.amount)
	}
	for i, w := range wants {
		if len(work) <= MaxInputs {
			return -1
		}
		if avail.LessThan(w) {
			return -1
		}
		idx, total, err := choose(work, w, MaxInputs)
		if err != nil {
			return i
		}
		// idx is in increasing order: keep the rest in sequence order.
		rest, k := work[:0], 0
		for j := range work {
			if k < len(idx) && idx[k] == j {
				k++
				continue
			}
			rest = append(rest, work[j])
		}
		work = rest
		avail = avail.Sub(total)
		if change := total.Sub(w); change.IsPositive() {
			work = append(work, candidate{out: Output{Sequence: *next}, in: spendable{amount: change}})
			*next++
			avail = avail.Add(change)
		}
	}
	return -1
}
