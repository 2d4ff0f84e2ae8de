package mixin

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// Me reads the app (or user) the session belongs to: GET /me.
func (c *Client) Me(ctx context.Context) (*User, error) {
	return do[User](ctx, c, call{method: "GET", path: "/me", retry: true})
}

// Assets lists the assets with a balance: GET /assets.
func (c *Client) Assets(ctx context.Context) ([]Asset, error) {
	as, err := do[assetList](ctx, c, call{method: "GET", path: "/assets", retry: true})
	if err != nil {
		return nil, err
	}
	return *as, nil
}

// Asset reads one asset, also when its balance is zero: GET /assets/:id.
func (c *Client) Asset(ctx context.Context, assetID string) (*Asset, error) {
	id, err := ParseUUID(FieldAsset, assetID)
	if err != nil {
		return nil, err
	}
	return do[Asset](ctx, c, call{method: "GET", path: "/assets/" + id, retry: true})
}

// transferBody is the body of POST /transfers.
type transferBody struct {
	AssetID    string `json:"asset_id"`
	OpponentID string `json:"opponent_id"`
	Amount     string `json:"amount"`
	PIN        string `json:"pin"`
	TraceID    string `json:"trace_id"`
	Memo       string `json:"memo,omitempty"`
}

// ValidateTransfer checks every field of a transfer and returns it in
// canonical form (lower-case ids, canonical amount).
func ValidateTransfer(in TransferInput) (TransferInput, error) {
	var err error
	if in.AssetID, err = ParseUUID(FieldAsset, in.AssetID); err != nil {
		return in, err
	}
	if in.OpponentID, err = ParseUUID(FieldRecipient, in.OpponentID); err != nil {
		return in, err
	}
	if _, in.Amount, err = ParseAmount(in.Amount); err != nil {
		return in, err
	}
	if in.TraceID, err = ParseUUID(FieldTrace, in.TraceID); err != nil {
		return in, err
	}
	if err = ValidateMemo(in.Memo); err != nil {
		return in, err
	}
	return in, nil
}

// Transfer posts one transfer: POST /transfers, with the PIN encrypted afresh.
// It is sent exactly once, never retried here, and never to another
// address: after a transport failure, a 5xx or a broken answer
// (IsServerOrTransport; a redirect is one, see ErrRedirect) the outcome is
// unknown and the caller settles it with TransferByTrace, then re-posts with
// the same trace if needed.
func (c *Client) Transfer(ctx context.Context, in TransferInput, pin string) (*Snapshot, error) {
	in, err := ValidateTransfer(in)
	if err != nil {
		return nil, err
	}
	enc, err := c.sess.EncryptPIN(pin, c.now())
	if err != nil {
		return nil, err
	}
	body := transferBody{AssetID: in.AssetID, OpponentID: in.OpponentID, Amount: in.Amount, PIN: enc, TraceID: in.TraceID, Memo: in.Memo}
	return do[Snapshot](ctx, c, call{method: "POST", path: "/transfers", body: body})
}

// TransferByTrace reads the transfer made with a trace id, as the caller sees
// it: GET /transfers/trace/:trace. IsNotFound(err) means "not executed".
func (c *Client) TransferByTrace(ctx context.Context, traceID string) (*Snapshot, error) {
	id, err := ParseUUID(FieldTrace, traceID)
	if err != nil {
		return nil, err
	}
	return do[Snapshot](ctx, c, call{method: "GET", path: "/transfers/trace/" + id, retry: true})
}

// Snapshot reads one of the caller's snapshots: GET /snapshots/:id.
func (c *Client) Snapshot(ctx context.Context, snapshotID string) (*Snapshot, error) {
	id, err := ParseUUID("snapshot id", snapshotID)
	if err != nil {
		return nil, err
	}
	return do[Snapshot](ctx, c, call{method: "GET", path: "/snapshots/" + id, retry: true})
}

// SnapshotQuery selects snapshots. Zero values mean the server's defaults.
type SnapshotQuery struct {
	Limit    int       // 1 to 500; 0 = 100
	Offset   time.Time // inclusive boundary on created_at; zero = none
	Asc      bool      // oldest first; default newest first
	Asset    string
	Opponent string
}

// MaxSnapshotLimit is the largest page the API serves.
const MaxSnapshotLimit = 500

func (q SnapshotQuery) values() (url.Values, error) {
	v := url.Values{}
	if q.Limit < 0 || q.Limit > MaxSnapshotLimit {
		return nil, &FieldError{Field: "limit", Reason: "must be 1 to 500"}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if !q.Offset.IsZero() {
		v.Set("offset", q.Offset.UTC().Format(time.RFC3339Nano))
	}
	if q.Asc {
		v.Set("order", "ASC")
	} else {
		v.Set("order", "DESC")
	}
	if q.Asset != "" {
		id, err := ParseUUID(FieldAsset, q.Asset)
		if err != nil {
			return nil, err
		}
		v.Set("asset", id)
	}
	if q.Opponent != "" {
		id, err := ParseUUID("opponent", q.Opponent)
		if err != nil {
			return nil, err
		}
		v.Set("opponent", id)
	}
	return v, nil
}

// Snapshots reads one page of the caller's snapshots: GET /snapshots.
func (c *Client) Snapshots(ctx context.Context, q SnapshotQuery) ([]Snapshot, error) {
	v, err := q.values()
	if err != nil {
		return nil, err
	}
	ss, err := do[snapshotList](ctx, c, call{method: "GET", path: "/snapshots", query: v, retry: true})
	if err != nil {
		return nil, err
	}
	return *ss, nil
}

// User reads a user by id: GET /users/:id.
func (c *Client) User(ctx context.Context, userID string) (*User, error) {
	id, err := ParseUUID(FieldRecipient, userID)
	if err != nil {
		return nil, err
	}
	return do[User](ctx, c, call{method: "GET", path: "/users/" + id, retry: true})
}

// Search finds a user by Mixin ID number (or phone): GET /search/:q.
func (c *Client) Search(ctx context.Context, q string) (*User, error) {
	if q == "" || len(q) > 32 {
		return nil, &FieldError{Field: FieldRecipient, Reason: "a Mixin ID number is 1 to 32 characters"}
	}
	for i := 0; i < len(q); i++ {
		if (q[i] < '0' || q[i] > '9') && !(i == 0 && q[i] == '+') {
			return nil, &FieldError{Field: FieldRecipient, Reason: "a Mixin ID number has digits only"}
		}
	}
	return do[User](ctx, c, call{method: "GET", path: "/search/" + url.PathEscape(q), retry: true})
}

// VerifyPIN checks the PIN with the server: POST /pin/verify. A wrong PIN
// counts toward the server's lock; it is never retried here.
func (c *Client) VerifyPIN(ctx context.Context, pin string) (*User, error) {
	enc, err := c.sess.EncryptPIN(pin, c.now())
	if err != nil {
		return nil, err
	}
	return do[User](ctx, c, call{method: "POST", path: "/pin/verify", body: map[string]string{"pin": enc}})
}

// SnapshotPager walks the caller's snapshots page by page. It pages by the
// last item's created_at and, because that offset is inclusive, drops the
// snapshot ids it has already returned.
type SnapshotPager struct {
	c     *Client
	q     SnapshotQuery
	seen  map[string]struct{}
	done  bool
	pages int
}

// NewSnapshotPager starts at q.Offset (zero: the newest, or oldest if q.Asc).
func (c *Client) NewSnapshotPager(q SnapshotQuery) *SnapshotPager {
	if q.Limit == 0 {
		q.Limit = 100
	}
	return &SnapshotPager{c: c, q: q, seen: make(map[string]struct{})}
}

// Done reports whether the last page has been read.
func (p *SnapshotPager) Done() bool { return p.done }

// Next returns the next page's new snapshots (possibly fewer than the limit).
// After the last page it returns nil and Done is true.
func (p *SnapshotPager) Next(ctx context.Context) ([]Snapshot, error) {
	for !p.done {
		page, err := p.c.Snapshots(ctx, p.q)
		if err != nil {
			return nil, err
		}
		p.pages++
		if len(page) < p.q.Limit {
			p.done = true
		}
		fresh := page[:0:0]
		for _, s := range page {
			if _, dup := p.seen[s.SnapshotID]; dup {
				continue
			}
			p.seen[s.SnapshotID] = struct{}{}
			fresh = append(fresh, s)
		}
		if len(page) > 0 {
			next := page[len(page)-1].CreatedAt
			if len(fresh) == 0 && next.Equal(p.q.Offset) {
				// A whole page at one instant: the offset cannot move on.
				return nil, &ProtocolError{Op: "GET /snapshots", Reason: "a full page shares one created_at; paging cannot advance"}
			}
			p.q.Offset = next
		}
		if len(fresh) > 0 {
			return fresh, nil
		}
	}
	return nil, nil
}
