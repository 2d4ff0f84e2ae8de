package safe

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/MixinNetwork/mixin/crypto"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
)

// OutputsPageLimit is the page size of GET /safe/outputs
// (docs/safe-api.md §3.1, Decision).
const OutputsPageLimit = 500

// Me is GET /safe/me.
func (c *Client) Me(ctx context.Context) (*User, error) {
	var u User
	if err := c.do(ctx, call{method: "GET", path: "/safe/me", retry: true}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// CheckRegistered reads /safe/me and says whether this account can pay:
// ErrNotRegistered when the wallet is not registered for Safe, a
// *mixin.FieldError on the spend key when the registered spend public key
// is not the pasted key's (docs/safe-api.md §2, Decision).
func (c *Client) CheckRegistered(ctx context.Context) (*User, error) {
	u, err := c.Me(ctx)
	if err != nil {
		return nil, err
	}
	if u.UserID != c.acct.AppID {
		return nil, &mixin.ProtocolError{Op: "GET /safe/me", Reason: "answered another user than this app"}
	}
	if !u.HasSafe {
		return u, ErrNotRegistered
	}
	if u.SpendPublicKey != "" && u.SpendPublicKey != c.acct.spend.Public().String() {
		return u, fieldErr(FieldSpendPrivateKey, "not the spend key registered for this app")
	}
	return u, nil
}

// OutputsQuery is one page of GET /safe/outputs of this wallet (members =
// the app id, threshold 1, order ASC).
type OutputsQuery struct {
	AssetID string // asset UUID, sent as its kernel id; "" for every asset
	State   string // StateUnspent, StateSigned, StateSpent or "" for all
	Offset  int64  // sequence of the last output already seen; 0 for the first page
	Limit   int    // 1..500; 0 means OutputsPageLimit
}

// Outputs is one page of the wallet's outputs.
func (c *Client) Outputs(ctx context.Context, q OutputsQuery) ([]Output, error) {
	v := url.Values{}
	v.Set("members", MembersHash(c.acct.AppID))
	v.Set("threshold", "1")
	v.Set("order", "ASC")
	if q.AssetID != "" {
		id, err := mixin.ParseUUID(mixin.FieldAsset, q.AssetID)
		if err != nil {
			return nil, err
		}
		v.Set("asset", KernelAssetID(id).String())
	}
	if q.State != "" {
		v.Set("state", q.State)
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.FormatInt(q.Offset, 10))
	}
	if q.Limit <= 0 || q.Limit > OutputsPageLimit {
		q.Limit = OutputsPageLimit
	}
	v.Set("limit", strconv.Itoa(q.Limit))
	var l list[Output, *Output]
	if err := c.do(ctx, call{method: "GET", path: "/safe/outputs", query: v, retry: true}, &l); err != nil {
		return nil, err
	}
	return l, nil
}

// UnspentOutputs pages through every unspent output of the wallet (of one
// asset, or all when assetID is ""), oldest first, each once: the offset
// may be inclusive, so ids already seen are dropped, and the walk stops at
// a short page or one that brought nothing new (docs/safe-api.md §3.1).
func (c *Client) UnspentOutputs(ctx context.Context, assetID string) ([]Output, error) {
	seen := make(map[string]bool)
	var all []Output
	q := OutputsQuery{AssetID: assetID, State: StateUnspent, Limit: OutputsPageLimit}
	for {
		page, err := c.Outputs(ctx, q)
		if err != nil {
			return nil, err
		}
		fresh := 0
		for _, o := range page {
			if seen[o.OutputID] {
				continue
			}
			seen[o.OutputID] = true
			fresh++
			all = append(all, o)
			q.Offset = max(q.Offset, o.Sequence)
		}
		if len(page) < q.Limit || fresh == 0 {
			return all, nil
		}
	}
}

// Balance is the spendable amount of one asset: the sum of its unspent
// outputs, inscriptions left out (docs/safe-api.md §3.1).
type Balance struct {
	AssetID string
	Amount  string // exact decimal
	Outputs int
}

// Balances sums the wallet's unspent outputs per asset, in asset id order.
func (c *Client) Balances(ctx context.Context) ([]Balance, error) {
	outs, err := c.UnspentOutputs(ctx, "")
	if err != nil {
		return nil, err
	}
	return SumBalances(outs), nil
}

// SumBalances sums unspent, non-inscription outputs per asset.
func SumBalances(outs []Output) []Balance {
	sums := map[string]decimal.Decimal{}
	counts := map[string]int{}
	for _, o := range outs {
		if o.State != StateUnspent || o.InscriptionHash != "" {
			continue
		}
		d, err := decimal.NewFromString(o.Amount)
		if err != nil {
			continue // checked on decoding; never here
		}
		sums[o.AssetID] = sums[o.AssetID].Add(d)
		counts[o.AssetID]++
	}
	var out []Balance
	for id, s := range sums {
		out = append(out, Balance{AssetID: id, Amount: s.String(), Outputs: counts[id]})
	}
	slices.SortFunc(out, func(a, b Balance) int {
		if a.AssetID < b.AssetID {
			return -1
		}
		if a.AssetID > b.AssetID {
			return 1
		}
		return 0
	})
	return out
}

// Asset is GET /safe/assets/:id.
func (c *Client) Asset(ctx context.Context, assetID string) (*Asset, error) {
	id, err := mixin.ParseUUID(mixin.FieldAsset, assetID)
	if err != nil {
		return nil, err
	}
	var a Asset
	if err := c.do(ctx, call{method: "GET", path: "/safe/assets/" + id, retry: true}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// FetchAssets is POST /safe/assets/fetch: the assets among ids that exist.
// It moves nothing, so it is retried like a read.
func (c *Client) FetchAssets(ctx context.Context, ids []string) ([]Asset, error) {
	body := make([]string, len(ids))
	for i, s := range ids {
		id, err := mixin.ParseUUID(mixin.FieldAsset, s)
		if err != nil {
			return nil, err
		}
		body[i] = id
	}
	var l list[Asset, *Asset]
	if err := c.do(ctx, call{method: "POST", path: "/safe/assets/fetch", body: body, retry: true}, &l); err != nil {
		return nil, err
	}
	return l, nil
}

// GhostKeys is POST /safe/keys (docs/safe-api.md §4.2). It moves nothing
// and its answer is kept before anything depends on it, so it is retried
// like a read. A receiver not registered for Safe answers 10404
// (IsRecipientNotRegistered).
func (c *Client) GhostKeys(ctx context.Context, reqs []GhostKeyRequest) ([]GhostKeys, error) {
	var l list[GhostKeys, *GhostKeys]
	if err := c.do(ctx, call{method: "POST", path: "/safe/keys", body: reqs, retry: true}, &l); err != nil {
		return nil, err
	}
	if len(l) != len(reqs) {
		return nil, &mixin.ProtocolError{Op: "POST /safe/keys", Reason: fmt.Sprintf("%d answers for %d requests", len(l), len(reqs))}
	}
	for i := range l {
		if len(l[i].Keys) != len(reqs[i].Receivers) {
			return nil, &mixin.ProtocolError{Op: "POST /safe/keys", Reason: fmt.Sprintf("output %d: %d keys for %d receivers", i, len(l[i].Keys), len(reqs[i].Receivers))}
		}
	}
	return l, nil
}

type rawRequest struct {
	RequestID string `json:"request_id"`
	Raw       string `json:"raw"`
}

// one picks the answer for requestID out of an array answer.
func one(op, requestID string, l []TransactionRequest) (*TransactionRequest, error) {
	if len(l) != 1 || l[0].RequestID != requestID {
		return nil, &mixin.ProtocolError{Op: op, Reason: fmt.Sprintf("%d answers, none only for request %s", len(l), requestID) + inDoubt(op)}
	}
	return &l[0], nil
}

// Verify is POST /safe/transaction/requests with the unsigned transaction
// (docs/safe-api.md §4.4). It is not retried. When the request id already
// holds a transaction (submitted, or another one) it returns a
// *RequestTakenError and nothing must be signed. On success the answer has
// this transaction's hash and one view per input.
func (c *Client) Verify(ctx context.Context, u *Unsigned) (*TransactionRequest, error) {
	const op = "POST /safe/transaction/requests"
	var l list[TransactionRequest, *TransactionRequest]
	body := []rawRequest{{RequestID: u.RequestID, Raw: u.RawHex()}}
	if err := c.do(ctx, call{method: "POST", path: "/safe/transaction/requests", body: body}, &l); err != nil {
		return nil, err
	}
	r, err := one(op, u.RequestID, l)
	if err != nil {
		return nil, err
	}
	ours := r.TransactionHash == u.Hash.String()
	if r.State != StateUnspent || !ours {
		return r, &RequestTakenError{Request: r, Ours: ours}
	}
	if len(r.Views) != len(u.Inputs) {
		return nil, &mixin.ProtocolError{Op: op, Reason: fmt.Sprintf("%d views for %d inputs", len(r.Views), len(u.Inputs))}
	}
	return r, nil
}

// Submit is POST /safe/transactions with the signed transaction
// (docs/safe-api.md §4.6). It is never retried: after an unknown outcome
// the payout is settled with Settle. The answer must echo the signed bytes
// and hash, in state signed or spent.
func (c *Client) Submit(ctx context.Context, requestID string, signed []byte, hash crypto.Hash) (*TransactionRequest, error) {
	const op = "POST /safe/transactions"
	var l list[TransactionRequest, *TransactionRequest]
	raw := hex.EncodeToString(signed)
	body := []rawRequest{{RequestID: requestID, Raw: raw}}
	if err := c.do(ctx, call{method: "POST", path: "/safe/transactions", body: body}, &l); err != nil {
		return nil, err
	}
	r, err := one(op, requestID, l)
	if err != nil {
		return nil, err
	}
	if r.TransactionHash != hash.String() {
		return r, &RequestTakenError{Request: r, Ours: false}
	}
	if r.RawTransaction != raw || (r.State != StateSigned && r.State != StateSpent) {
		return nil, &mixin.ProtocolError{Op: op, Reason: "the answer does not echo the transaction as submitted" + inDoubt(op)}
	}
	return r, nil
}

// Transaction is GET /safe/transactions/:request_id; code 404
// (mixin.IsNotFound) when nothing was submitted under it.
func (c *Client) Transaction(ctx context.Context, requestID string) (*TransactionRequest, error) {
	id, err := mixin.ParseUUID(FieldRequestID, requestID)
	if err != nil {
		return nil, err
	}
	var r TransactionRequest
	if err := c.do(ctx, call{method: "GET", path: "/safe/transactions/" + id, retry: true}, &r); err != nil {
		return nil, err
	}
	if r.RequestID != id {
		return nil, &mixin.ProtocolError{Op: "GET /safe/transactions", Reason: "answered another request"}
	}
	return &r, nil
}

// Outcome is what a look-up says of a payment whose outcome was unknown
// (docs/safe-api.md §6.2).
type Outcome int

const (
	NotSubmitted Outcome = iota + 1 // 404, or verified only: send the stored signed bytes again
	Pending                         // submitted (signed), not final: poll, never resend
	Final                           // spent: done
	Taken                           // the id holds another transaction: stop and alert
)

func (o Outcome) String() string {
	switch o {
	case NotSubmitted:
		return "not submitted"
	case Pending:
		return "submitted, not final"
	case Final:
		return "final"
	case Taken:
		return "request id holds another transaction"
	}
	return "unknown"
}

// Settle looks the request id up and says what became of the transaction
// whose hash is hash. An error means the outcome is still unknown.
func (c *Client) Settle(ctx context.Context, requestID string, hash crypto.Hash) (Outcome, *TransactionRequest, error) {
	r, err := c.Transaction(ctx, requestID)
	if mixin.IsNotFound(err) {
		return NotSubmitted, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	switch {
	case r.TransactionHash != hash.String():
		if r.State == StateUnspent {
			return NotSubmitted, r, nil // another unsigned one: this one never went out
		}
		return Taken, r, nil
	case r.State == StateUnspent:
		return NotSubmitted, r, nil
	case r.State == StateSigned:
		return Pending, r, nil
	}
	return Final, r, nil
}

// SnapshotsQuery is one page of GET /safe/snapshots (docs/safe-api.md
// §3.3). At most one of AssetID and Opponent.
type SnapshotsQuery struct {
	AssetID  string
	Opponent string
	Offset   time.Time // created_at of the last snapshot seen; zero for the newest
	Limit    int       // 1..500; 0 means 100
	Order    string    // "DESC" (default) or "ASC"
}

// Snapshots is one page of the wallet's snapshots.
func (c *Client) Snapshots(ctx context.Context, q SnapshotsQuery) ([]Snapshot, error) {
	v := url.Values{}
	if q.AssetID != "" && q.Opponent != "" {
		return nil, fieldErr(mixin.FieldAsset, "asset and opponent cannot be asked together")
	}
	if q.AssetID != "" {
		id, err := mixin.ParseUUID(mixin.FieldAsset, q.AssetID)
		if err != nil {
			return nil, err
		}
		v.Set("asset", id)
	}
	if q.Opponent != "" {
		id, err := mixin.ParseUUID(mixin.FieldRecipient, q.Opponent)
		if err != nil {
			return nil, err
		}
		v.Set("opponent", id)
	}
	if !q.Offset.IsZero() {
		v.Set("offset", q.Offset.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 100
	}
	v.Set("limit", strconv.Itoa(q.Limit))
	if q.Order == "ASC" {
		v.Set("order", "ASC")
	} else {
		v.Set("order", "DESC")
	}
	var l list[Snapshot, *Snapshot]
	if err := c.do(ctx, call{method: "GET", path: "/safe/snapshots", query: v, retry: true}, &l); err != nil {
		return nil, err
	}
	return l, nil
}
