package safe

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/MixinNetwork/mixin/common"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
)

// ParseUnsigned rebuilds a payout's unsigned transaction from what the
// journal kept of it before Verify: the request id, the raw bytes and the
// outputs it spends, in input order (docs/safe-api.md §6.1). The raw is
// decoded with the kernel library and must be unsigned, and the outputs
// must be its inputs, so a damaged journal cannot make the rail sign
// anything else.
func ParseUnsigned(requestID string, raw []byte, inputs []Output) (*Unsigned, error) {
	id, err := mixin.ParseUUID(FieldRequestID, requestID)
	if err != nil {
		return nil, err
	}
	ver, err := common.UnmarshalVersionedTransaction(raw)
	if err != nil {
		return nil, fieldErr(FieldTransaction, "not a kernel transaction")
	}
	if len(ver.SignaturesMap) > 0 || ver.AggregatedSignature != nil {
		return nil, fieldErr(FieldTransaction, "already signed")
	}
	if len(inputs) != len(ver.Inputs) {
		return nil, fieldErr(FieldOutputs, "%d kept for %d inputs", len(inputs), len(ver.Inputs))
	}
	for i, in := range ver.Inputs {
		o := &inputs[i]
		if o.Ref() != fmt.Sprintf("%s:%d", in.Hash, in.Index) || len(o.Keys) != 1 {
			return nil, fieldErr(FieldOutputs, "output %d is not input %d of the transaction", i, i)
		}
	}
	return &Unsigned{RequestID: id, Raw: bytes.Clone(raw), Hash: ver.PayloadHash(), Inputs: inputs, Change: changeOf(ver)}, nil
}

// changeOf is the amount of output 1 (the change), "0" when there is none.
func changeOf(ver *common.VersionedTransaction) string {
	if len(ver.Outputs) < 2 {
		return "0"
	}
	d, err := decimal.NewFromString(ver.Outputs[1].Amount.String())
	if err != nil {
		return "0" // the kernel prints its integers as decimals
	}
	return d.String()
}

// Stored is what the journal holds of one payout whose outcome is unknown:
// the unsigned transaction (kept before Verify) and, once it was signed,
// the signed bytes (kept before Submit; nil if never signed).
type Stored struct {
	Unsigned *Unsigned
	Signed   []byte
}

// ErrSignedMismatch: the stored signed bytes are not the stored unsigned
// transaction signed. Nothing was sent.
var ErrSignedMismatch = errors.New("safe: the stored signed transaction is not the stored payout's; nothing was sent")

// Resume settles a payout whose outcome is unknown the contract's way
// (docs/safe-api.md §6.2), and never with a new transaction:
//
//   - it looks the request id up (GET /safe/transactions/:id);
//   - submitted with this hash: Final or Pending, nothing is sent;
//   - the id holds another transaction: Taken, nothing is sent (alert);
//   - never submitted (404, or verified only): the stored signed bytes are
//     submitted again; when none were stored, the stored unsigned
//     transaction is verified and signed again (the same bytes give the
//     same signatures), keep is called with the signed bytes (to journal
//     them; an error from keep stops here, nothing submitted), and they
//     are submitted.
//
// On an error the outcome is what was known before it: 0 when the look-up
// itself failed (unknown), NotSubmitted when the look-up said not
// submitted and the verify or submit sent again failed (err says how: an
// unknown outcome, a 429, a refusal). A refusal of a re-sent submit proves
// only that that submit did not run; an earlier one may still arrive
// (payout/inflight.go), so the outputs stay held until the post window is
// over.
func (c *Client) Resume(ctx context.Context, st Stored, keep func(signed []byte) error) (Outcome, *TransactionRequest, error) {
	u := st.Unsigned
	if u == nil {
		return 0, nil, errors.New("safe: Resume needs the stored unsigned transaction")
	}
	if st.Signed != nil {
		ver, err := common.UnmarshalVersionedTransaction(st.Signed)
		if err != nil || ver.PayloadHash() != u.Hash || len(ver.SignaturesMap) != len(ver.Inputs) {
			return 0, nil, ErrSignedMismatch
		}
	}
	out, r, err := c.Settle(ctx, u.RequestID, u.Hash)
	if err != nil || out != NotSubmitted {
		return out, r, err
	}
	signed := st.Signed
	if signed == nil {
		signed, err = c.VerifyAndSign(ctx, u)
		var te *RequestTakenError
		if errors.As(err, &te) {
			// Submitted between the look-up and now (a held call): ask again.
			return c.Settle(ctx, u.RequestID, u.Hash)
		}
		if err != nil {
			return NotSubmitted, nil, err
		}
		if keep != nil {
			if err := keep(signed); err != nil {
				return NotSubmitted, nil, err
			}
		}
	}
	r, err = c.Submit(ctx, u.RequestID, signed, u.Hash)
	if err != nil {
		var te *RequestTakenError
		if errors.As(err, &te) {
			return Taken, te.Request, nil
		}
		return NotSubmitted, nil, err
	}
	if r.State == StateSigned {
		return Pending, r, nil
	}
	return Final, r, nil
}
