package safe

import (
	"context"
)

// Prepare makes the payment's unsigned transaction (docs/safe-api.md §4.1
// to §4.3): it lists the wallet's unspent outputs of the asset, chooses
// them (never one in held: outputs of payouts not yet settled), asks the
// ghost keys and builds. Nothing spends; the caller keeps the result (raw
// bytes and inputs) before Verify, and never builds another transaction
// under the same request id. Sender defaults to this account.
func (c *Client) Prepare(ctx context.Context, p Payment, held map[string]bool) (*Unsigned, error) {
	if p.Sender == "" {
		p.Sender = c.acct.AppID
	}
	if p.Sender != c.acct.AppID {
		return nil, fieldErr(FieldAppID, "the payment is not from this account")
	}
	p, err := p.Check()
	if err != nil {
		return nil, err
	}
	outs, err := c.UnspentOutputs(ctx, p.AssetID)
	if err != nil {
		return nil, err
	}
	sel, err := SelectOutputs(outs, p.Sender, p.AssetID, p.Amount, held, MaxInputs)
	if err != nil {
		return nil, err
	}
	ghosts, err := c.GhostKeys(ctx, GhostRequests(p, sel))
	if err != nil {
		return nil, err
	}
	return Build(p, sel, ghosts)
}

// VerifyAndSign asks the Sequencer to verify the unsigned transaction and
// signs it with the views it answers and the account's spend key
// (docs/safe-api.md §4.4, §4.5). The signed bytes are to be kept before
// Submit. A *RequestTakenError means the request id already holds a
// transaction: nothing is signed, the payout is settled by Settle.
func (c *Client) VerifyAndSign(ctx context.Context, u *Unsigned) ([]byte, error) {
	r, err := c.Verify(ctx, u)
	if err != nil {
		return nil, err
	}
	signed, _, err := Sign(u.Raw, u.Inputs, r.Views, c.acct.spend)
	return signed, err
}
