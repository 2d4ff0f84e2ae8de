package sandbox

import (
	"encoding/json"
	"errors"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"mixdesk/mixin"
)

const (
	// maxMemoRunes is the memo limit (MIXIN-API.md §4, Decision).
	maxMemoRunes = 140
	// maxAmountLen bounds the text of an amount.
	maxAmountLen = 40
)

// amountPattern is a plain decimal: digits, optionally a point and 1 to 8
// digits. No sign, exponent or spaces.
var amountPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,8})?$`)

// Entry is one committed transfer, as tests and the desk's sandbox mode see
// the ledger.
type Entry struct {
	SnapshotID string
	TraceID    string
	AssetID    string
	From       string // sender user id
	To         string // recipient user id
	Amount     string // positive, canonical decimal
	Memo       string
	CreatedAt  time.Time
}

// transfer is a committed transfer with both parties' balances around it.
// Both parties see it under the same snapshot id.
type transfer struct {
	snapshotID  string
	traceID     string
	assetID     string
	from, to    string
	amount      decimal.Decimal
	memo        string
	createdAt   time.Time
	fromOpening decimal.Decimal
	fromClosing decimal.Decimal
	toOpening   decimal.Decimal
	toClosing   decimal.Decimal
}

// isParty reports whether userID sent or received t.
func (t *transfer) isParty(userID string) bool { return userID == t.from || userID == t.to }

// opponentOf is the other party of t for one of its parties.
func (t *transfer) opponentOf(userID string) string {
	if userID == t.from {
		return t.to
	}
	return t.from
}

// viewFor is t as userID sees it: negative for the sender, positive for the
// recipient, with that party's balances.
func (t *transfer) viewFor(userID string) mixin.Snapshot {
	v := mixin.Snapshot{
		Type:       "transfer",
		SnapshotID: t.snapshotID,
		TraceID:    t.traceID,
		AssetID:    t.assetID,
		OpponentID: t.opponentOf(userID),
		Memo:       t.memo,
		CreatedAt:  t.createdAt,
	}
	if userID == t.from {
		v.Amount = t.amount.Neg().String()
		v.OpeningBalance, v.ClosingBalance = t.fromOpening.String(), t.fromClosing.String()
	} else {
		v.Amount = t.amount.String()
		v.OpeningBalance, v.ClosingBalance = t.toOpening.String(), t.toClosing.String()
	}
	return v
}

// transferBody is the body of POST /transfers. counter_user_id is the first
// guide's name for opponent_id.
type transferBody struct {
	AssetID       string `json:"asset_id"`
	OpponentID    string `json:"opponent_id"`
	CounterUserID string `json:"counter_user_id"`
	Amount        string `json:"amount"`
	PIN           string `json:"pin"`
	TraceID       string `json:"trace_id"`
	Memo          string `json:"memo"`
}

// transferRequest is a validated transfer.
type transferRequest struct {
	assetID    string
	opponentID string
	amount     decimal.Decimal
	traceID    string
	memo       string
}

// decodeBody unmarshals a JSON object body into v. A value of the wrong
// type for a field is 10002 naming it; anything else unparseable is 400.
func decodeBody(body []byte, v any) *mixin.Error {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return errInvalidField(te.Field, "wrong type")
	}
	return errBadRequest("not a JSON object")
}

// handleTransfer is POST /transfers. Checks run in this order: body, fields,
// PIN, trace, balance; only then does money move.
func (s *Server) handleTransfer(c *call) (any, *mixin.Error) {
	var b transferBody
	if e := decodeBody(c.body, &b); e != nil {
		return nil, e
	}
	req, e := s.validateTransferLocked(c.user.id, b)
	if e != nil {
		return nil, e
	}
	if e := s.checkPINLocked(c, b.PIN); e != nil {
		return nil, e
	}
	t, e := s.transferLocked(c.user.id, req)
	if e != nil {
		return nil, e
	}
	return t.viewFor(c.user.id), nil
}

// validateTransferLocked checks every field but the PIN, in body order.
func (s *Server) validateTransferLocked(from string, b transferBody) (transferRequest, *mixin.Error) {
	var req transferRequest
	asset, ok := canonicalUUID(b.AssetID)
	if !ok || s.assets[asset] == nil {
		return req, errInvalidField("asset_id", "not a known asset")
	}
	opponent := b.OpponentID
	if opponent == "" {
		opponent = b.CounterUserID
	}
	opp, ok := canonicalUUID(opponent)
	if !ok || s.users[opp] == nil {
		return req, errInvalidField("opponent_id", "not a known user")
	}
	if b.OpponentID != "" && b.CounterUserID != "" {
		if other, ok := canonicalUUID(b.CounterUserID); !ok || other != opp {
			return req, errInvalidField("opponent_id", "opponent_id and counter_user_id differ")
		}
	}
	if opp == from {
		return req, errInvalidField("opponent_id", "cannot transfer to oneself")
	}
	amount, ok := parseAmount(b.Amount)
	if !ok {
		return req, errInvalidField("amount", "a positive decimal with at most 8 decimals")
	}
	trace, ok := canonicalUUID(b.TraceID)
	if !ok {
		return req, errInvalidField("trace_id", "not a UUID")
	}
	if utf8.RuneCountInString(b.Memo) > maxMemoRunes {
		return req, errInvalidField("memo", "longer than 140 characters")
	}
	return transferRequest{assetID: asset, opponentID: opp, amount: amount, traceID: trace, memo: b.Memo}, nil
}

// parseAmount reads a positive plain decimal with at most 8 decimals.
func parseAmount(s string) (decimal.Decimal, bool) {
	if len(s) > maxAmountLen || !amountPattern.MatchString(s) {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(s)
	if err != nil || !d.IsPositive() {
		return decimal.Decimal{}, false
	}
	return d, true
}

// transferLocked applies the trace rules and the balance check to a
// validated request and commits it. A trace already paid with identical
// fields by the same sender returns the original transfer and moves
// nothing; any difference is 20125.
func (s *Server) transferLocked(from string, req transferRequest) (*transfer, *mixin.Error) {
	if t := s.byTrace[req.traceID]; t != nil {
		if t.from == from && t.assetID == req.assetID && t.to == req.opponentID &&
			t.amount.Equal(req.amount) && t.memo == req.memo {
			return t, nil
		}
		return nil, errTraceUsed()
	}
	if s.balances[holding{from, req.assetID}].LessThan(req.amount) {
		return nil, errInsufficientBalance()
	}
	return s.commitLocked(from, req), nil
}

// commitLocked moves the money and records the transfer for both parties.
func (s *Server) commitLocked(from string, req transferRequest) *transfer {
	fromKey, toKey := holding{from, req.assetID}, holding{req.opponentID, req.assetID}
	t := &transfer{
		snapshotID:  s.newIDLocked(),
		traceID:     req.traceID,
		assetID:     req.assetID,
		from:        from,
		to:          req.opponentID,
		amount:      req.amount,
		memo:        req.memo,
		createdAt:   s.nextTimeLocked(),
		fromOpening: s.balances[fromKey],
		toOpening:   s.balances[toKey],
	}
	t.fromClosing = t.fromOpening.Sub(req.amount)
	t.toClosing = t.toOpening.Add(req.amount)
	s.balances[fromKey] = t.fromClosing
	s.balances[toKey] = t.toClosing
	s.recordLocked(t)
	return t
}

// recordLocked indexes a committed transfer.
func (s *Server) recordLocked(t *transfer) {
	s.transfers = append(s.transfers, t)
	s.bySnapshot[t.snapshotID] = t
	s.byTrace[t.traceID] = t
	s.byUser[t.from] = append(s.byUser[t.from], t)
	s.byUser[t.to] = append(s.byUser[t.to], t)
}

// Transfer moves money from a user as POST /transfers would, without a
// token or PIN: the same field checks, trace rules and balance check. It
// stands in for people outside the desk, for example to pay a payment link
// in sandbox mode. Rejections are *mixin.Error values.
func (s *Server) Transfer(fromUserID string, in mixin.TransferInput) (mixin.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from, ok := canonicalUUID(fromUserID)
	if !ok || s.users[from] == nil {
		return mixin.Snapshot{}, ErrUnknownUser
	}
	req, e := s.validateTransferLocked(from, transferBody{
		AssetID: in.AssetID, OpponentID: in.OpponentID, Amount: in.Amount, TraceID: in.TraceID, Memo: in.Memo,
	})
	if e != nil {
		return mixin.Snapshot{}, e
	}
	t, e := s.transferLocked(from, req)
	if e != nil {
		return mixin.Snapshot{}, e
	}
	return t.viewFor(from), nil
}

// Ledger lists every committed transfer, oldest first.
func (s *Server) Ledger() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, len(s.transfers))
	for i, t := range s.transfers {
		out[i] = Entry{
			SnapshotID: t.snapshotID,
			TraceID:    t.traceID,
			AssetID:    t.assetID,
			From:       t.from,
			To:         t.to,
			Amount:     t.amount.String(),
			Memo:       t.memo,
			CreatedAt:  t.createdAt,
		}
	}
	return out
}
