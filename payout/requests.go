package payout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"mixdesk/internal/durable"
	"mixdesk/mixin"
	"mixdesk/payout/rail"
)

// RequestState is where a payment request stands.
type RequestState string

// The states of a payment request.
const (
	// RequestOpen: the link has not been paid (as far as the last check knows).
	RequestOpen RequestState = "open"
	// RequestPaid: a transfer with the request's trace, asset, amount and
	// memo reached the recipient.
	RequestPaid RequestState = "paid"
	// RequestSpent: the request's trace was used by a transfer that is not
	// the payment asked for (another amount, asset or memo). A trace pays
	// once, so the link can never be paid now: the request is closed, and
	// Reason says what was paid instead.
	RequestSpent RequestState = "spent"
)

// Request is a payment request: a payment link (MIXIN-API.md §7) that asks
// someone to pay the recipient, with the trace id that the payment will
// carry. A trace can be paid once, so the request keeps its trace for good,
// and whether it was paid is learnt by looking the trace up.
type Request struct {
	TraceID   string       `json:"trace_id"`
	AssetID   string       `json:"asset_id"`
	Amount    string       `json:"amount"` // canonical decimal string
	Memo      string       `json:"memo,omitempty"`
	Recipient string       `json:"recipient"` // the profile's own client id
	CreatedAt time.Time    `json:"created_at"`
	State     RequestState `json:"state"`
	// Set when paid: when the payment was made, its snapshot (the
	// recipient's view) and who paid.
	PaidAt     time.Time `json:"paid_at,omitzero"`
	SnapshotID string    `json:"snapshot_id,omitempty"`
	PayerID    string    `json:"payer_id,omitempty"`
	// Reason is set when spent: what used the trace instead.
	Reason string `json:"reason,omitempty"`
}

// Paid reports whether the request was paid.
func (r Request) Paid() bool { return r.State == RequestPaid }

// Spent reports whether the request's trace was used by another transfer,
// so that its link can never be paid.
func (r Request) Spent() bool { return r.State == RequestSpent }

// Closed reports whether the request can no longer be paid (paid or spent).
func (r Request) Closed() bool { return r.Paid() || r.Spent() }

// PayRequest is the request as a payment link's fields.
func (r Request) PayRequest() mixin.PayRequest {
	return mixin.PayRequest{Recipient: r.Recipient, AssetID: r.AssetID, Amount: r.Amount, TraceID: r.TraceID, Memo: r.Memo}
}

// Link is the request's payment link.
func (r Request) Link() (string, error) { return mixin.PayURL(r.PayRequest()) }

// validate checks a request as read from the book's file.
func (r Request) validate() error {
	if _, err := r.PayRequest().Validate(); err != nil {
		return err
	}
	if _, canon, _ := mixin.ParseAmount(r.Amount); canon != r.Amount {
		return fmt.Errorf("amount %q is not written canonically (%s)", r.Amount, canon)
	}
	if r.CreatedAt.IsZero() {
		return errors.New("no creation time")
	}
	switch r.State {
	case RequestOpen:
		if !r.PaidAt.IsZero() || r.SnapshotID != "" || r.PayerID != "" || r.Reason != "" {
			return errors.New("open, yet it holds payment details")
		}
	case RequestSpent:
		if r.Reason == "" || len(r.Reason) > 1024 || !utf8.ValidString(r.Reason) {
			return errors.New("spent, without a readable reason")
		}
		if r.SnapshotID != "" {
			if _, err := mixin.ParseUUID("snapshot id", r.SnapshotID); err != nil {
				return fmt.Errorf("spent, but its %w", err)
			}
		}
	case RequestPaid:
		if r.PaidAt.IsZero() {
			return errors.New("paid, but with no payment time")
		}
		if _, err := mixin.ParseUUID("snapshot id", r.SnapshotID); err != nil {
			return fmt.Errorf("paid, but its %w", err)
		}
		if r.PayerID != "" {
			if _, err := mixin.ParseUUID("payer id", r.PayerID); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown state %q (want open, paid or spent)", r.State)
	}
	return nil
}

// requestsVersion is the version of the book's file format.
const requestsVersion = 1

// maxRequestsBytes bounds the book's file: far beyond any real book, it
// keeps a wrong file from filling memory.
const maxRequestsBytes = 32 << 20

// requestsFile is the book's file: one JSON document, rewritten whole.
type requestsFile struct {
	Version  int       `json:"version"`
	Requests []Request `json:"requests"` // oldest first
}

// ErrRequestNotFound: the book holds no request with this trace id.
var ErrRequestNotFound = errors.New("payout: no payment request with this trace id")

// Requests is the book of a profile's payment requests, kept in a JSON file
// in the data directory (no secrets: ids, amounts, memos and times). Every
// change is written to a temporary file, synced and renamed over the book,
// so the file always holds either the old or the new book. It is safe for
// concurrent use. One console opens a profile at a time (the journal's lock
// sees to it), so the file has a single writer.
type Requests struct {
	path string
	now  func() time.Time

	mu   sync.Mutex
	reqs []Request // oldest first
}

// OpenRequests reads the book at path; a missing file is an empty book (the
// file is written at the first change). A file that cannot be read or
// understood gives one error naming the file and what is wrong, and is
// left as it is.
func OpenRequests(path string) (*Requests, error) {
	b := &Requests{path: path, now: time.Now}
	data, err := readLimited(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return b, nil
	case err != nil:
		return nil, fmt.Errorf("payment requests %s: %w", path, err)
	}
	reqs, err := decodeRequests(data)
	if err != nil {
		return nil, fmt.Errorf("payment requests %s: %w; nothing was changed (move the file away to start an empty book)", path, err)
	}
	b.reqs = reqs
	return b, nil
}

// readLimited reads a regular file of at most maxRequestsBytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRequestsBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxRequestsBytes {
		return nil, fmt.Errorf("more than %d bytes; not a request book", maxRequestsBytes)
	}
	return data, nil
}

// decodeRequests parses and checks the book's file.
func decodeRequests(data []byte) ([]Request, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty (a book holds at least its version)")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f requestsFile
	if err := dec.Decode(&f); err != nil {
		return nil, describeJSONError(data, err)
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the book")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the book")
	}
	switch {
	case f.Version == 0:
		return nil, errors.New("no version: not a request book")
	case f.Version > requestsVersion:
		return nil, fmt.Errorf("format version %d was written by a newer mixdesk (this one reads %d)", f.Version, requestsVersion)
	case f.Version < 0:
		return nil, fmt.Errorf("unknown format version %d", f.Version)
	}
	seen := make(map[string]int, len(f.Requests))
	for i, r := range f.Requests {
		if err := r.validate(); err != nil {
			// %v: a damaged file is not a field the operator typed.
			return nil, fmt.Errorf("request %d (trace %s): %v", i+1, printable(r.TraceID), err)
		}
		if j, dup := seen[r.TraceID]; dup {
			return nil, fmt.Errorf("requests %d and %d share the trace id %s", j+1, i+1, r.TraceID)
		}
		seen[r.TraceID] = i
	}
	return f.Requests, nil
}

// describeJSONError says where a file stops being valid JSON.
func describeJSONError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := position(data, se.Offset-1) // Offset is just past the bad byte
		return fmt.Errorf("not valid JSON at line %d, column %d: %s", line, col, se.Error())
	case errors.As(err, &te):
		line, col := position(data, te.Offset)
		what := te.Field
		if what == "" {
			what = "the book"
		}
		return fmt.Errorf("at line %d, column %d: %s has the wrong type (%s)", line, col, what, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the file ends in the middle of the book (truncated)")
	}
	return fmt.Errorf("not a request book: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// printable shows a value from a damaged file safely in one line.
func printable(s string) string {
	if s == "" {
		return "(none)"
	}
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strings.ToValidUTF8(fmt.Sprintf("%q", s), "?")
}

// Path is the book's file.
func (b *Requests) Path() string { return b.path }

// Create makes a payment request for recipient with a new trace id (made
// here, once) and writes it to the book.
func (b *Requests) Create(recipient, assetID, amount, memo string) (Request, error) {
	return b.CreateWithTrace(NewTraceID(), recipient, assetID, amount, memo)
}

// CreateWithTrace makes a payment request under a trace id made earlier,
// for a form that shows the trace before the request is created. Creating
// the same request again (same trace and fields) returns the one in the
// book; a trace already in the book with other fields is refused.
func (b *Requests) CreateWithTrace(trace, recipient, assetID, amount, memo string) (Request, error) {
	p, err := mixin.PayRequest{Recipient: recipient, AssetID: assetID, Amount: amount, TraceID: trace, Memo: memo}.Validate()
	if err != nil {
		return Request{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.findLocked(p.TraceID); ok {
		r := b.reqs[old]
		if r.PayRequest() == p {
			return r, nil
		}
		return Request{}, &mixin.FieldError{Field: mixin.FieldTrace, Reason: "already used by another payment request"}
	}
	r := Request{
		TraceID: p.TraceID, AssetID: p.AssetID, Amount: p.Amount, Memo: p.Memo, Recipient: p.Recipient,
		CreatedAt: b.now().UTC().Round(0), State: RequestOpen,
	}
	next := append(append(make([]Request, 0, len(b.reqs)+1), b.reqs...), r)
	if err := b.writeLocked(next); err != nil {
		return Request{}, err
	}
	return r, nil
}

// List returns the requests, newest first.
func (b *Requests) List() []Request {
	b.mu.Lock()
	out := make([]Request, len(b.reqs))
	// Reversed insertion order, so that requests made in the same instant
	// still come newest first.
	for i, r := range b.reqs {
		out[len(b.reqs)-1-i] = r
	}
	b.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out
}

// Get returns the request with this trace id.
func (b *Requests) Get(trace string) (Request, bool) {
	id, err := mixin.ParseUUID(mixin.FieldTrace, trace)
	if err != nil {
		return Request{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if i, ok := b.findLocked(id); ok {
		return b.reqs[i], true
	}
	return Request{}, false
}

func (b *Requests) findLocked(trace string) (int, bool) {
	for i := range b.reqs {
		if b.reqs[i].TraceID == trace {
			return i, true
		}
	}
	return -1, false
}

// PaymentMismatchError: a transfer carries the request's trace but is not
// the payment asked for (another asset, amount or memo, or a transfer that
// this wallet sent). The trace can never pay the request now, so CheckOn
// closes it as spent; what was paid is in Paid.
type PaymentMismatchError struct {
	Request Request
	Paid    rail.Movement
}

func (e *PaymentMismatchError) Error() string {
	s, r := e.Paid, e.Request
	amt, err := decimal.NewFromString(s.Amount)
	if err != nil {
		return fmt.Sprintf("the trace of this request was used by a transfer with an unreadable amount %s; it is not marked paid, and the link can never be paid now", printable(s.Amount))
	}
	if !amt.IsPositive() {
		return fmt.Sprintf("the trace of this request was used by a transfer of %s that this wallet sent, not by a payment to it; it is not marked paid, and the link can never be paid now", GroupDigits(amt.String()))
	}
	var diffs []string
	if !strings.EqualFold(s.AssetID, r.AssetID) {
		diffs = append(diffs, fmt.Sprintf("asset %s instead of %s", printable(s.AssetID), r.AssetID))
	}
	if want, _ := decimal.NewFromString(r.Amount); !amt.Equal(want) {
		diffs = append(diffs, fmt.Sprintf("amount %s instead of %s", GroupDigits(amt.String()), GroupDigits(r.Amount)))
	}
	if s.Memo != r.Memo {
		diffs = append(diffs, fmt.Sprintf("memo %s instead of %s", printable(s.Memo), printable(r.Memo)))
	}
	if len(diffs) == 0 {
		diffs = append(diffs, "a transfer that does not match it")
	}
	return "the request's trace was paid with " + strings.Join(diffs, ", ") + "; it is not marked paid, and the link can never be paid now (snapshot " + printable(s.SnapshotID) + ")"
}

// CheckOn looks the request's trace up once with l (the desk's rail, or
// any rail.Looker). Not found means not paid yet: the request is returned
// as it is. A transfer to the recipient of
// exactly the asset, amount and memo asked for marks it paid (the payer,
// the snapshot and the time are recorded and written to the book). A
// transfer that differs closes the request as spent (recorded likewise)
// and gives a *PaymentMismatchError. Other errors (network, session) are
// returned as they are, with the request unchanged. A request already
// closed is returned without a look-up.
func (b *Requests) CheckOn(ctx context.Context, l rail.Looker, trace string) (Request, error) {
	r, ok := b.Get(trace)
	if !ok {
		return Request{}, ErrRequestNotFound
	}
	if r.Closed() {
		return r, nil
	}
	if l == nil {
		return r, errors.New("payout: the request cannot be checked without a connection to the server")
	}
	snap, err := l.PaymentByKey(ctx, r.TraceID)
	if errors.Is(err, rail.ErrNotFound) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if snap == nil {
		return r, errors.New("payout: the trace look-up answered nothing")
	}
	if !paymentMatches(r, *snap) {
		mm := &PaymentMismatchError{Request: r, Paid: *snap}
		return b.close(r.TraceID, func(p *Request) {
			p.State, p.Reason = RequestSpent, mm.Error()
			p.PaidAt = snap.CreatedAt.UTC().Round(0)
			if id, err := mixin.ParseUUID("snapshot id", snap.SnapshotID); err == nil {
				p.SnapshotID = id
			}
		}, mm)
	}
	snapID, err := mixin.ParseUUID("snapshot id", snap.SnapshotID)
	if err != nil {
		return r, fmt.Errorf("payout: the payment's snapshot: %w", err)
	}
	payer, err := mixin.ParseUUID("payer id", snap.OpponentID)
	if err != nil {
		payer = "" // the payment stands; the payer is shown as unknown
	}
	paidAt := snap.CreatedAt.UTC().Round(0)
	if paidAt.IsZero() {
		paidAt = b.now().UTC().Round(0)
	}

	return b.close(r.TraceID, func(p *Request) {
		p.State, p.PaidAt, p.SnapshotID, p.PayerID = RequestPaid, paidAt, snapID, payer
	}, nil)
}

// close records a request closed (paid or spent) by set, and returns it
// with why (nil for a payment).
func (b *Requests) close(trace string, set func(*Request), why error) (Request, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, ok := b.findLocked(trace)
	if !ok {
		return Request{}, ErrRequestNotFound
	}
	if b.reqs[i].Closed() {
		return b.reqs[i], why // another check got there first
	}
	next := append([]Request(nil), b.reqs...)
	p := next[i]
	set(&p)
	next[i] = p
	if err := b.writeLocked(next); err != nil {
		return b.reqs[i], fmt.Errorf("the request's trace was used, but recording it failed (the next check records it): %w", err)
	}
	return p, why
}

// paymentMatches: the movement is the recipient's view of a payment of
// exactly what the request asks for.
func paymentMatches(r Request, s rail.Movement) bool {
	if s.Key != "" && !strings.EqualFold(s.Key, r.TraceID) {
		return false
	}
	amt, err := decimal.NewFromString(s.Amount)
	if err != nil || !amt.IsPositive() {
		return false
	}
	want, err := decimal.NewFromString(r.Amount)
	if err != nil || !amt.Equal(want) {
		return false
	}
	return strings.EqualFold(s.AssetID, r.AssetID) && s.Memo == r.Memo
}

// writeLocked writes the whole book and makes it the book in memory: a
// temporary file beside it (created with mode 0600), synced, renamed over
// the book, and the directory synced. On a failure before the rename the
// old file and the old book stay and the temporary file is removed; once
// renamed, the new book stands even if the directory sync then fails.
func (b *Requests) writeLocked(reqs []Request) error {
	data, err := json.MarshalIndent(requestsFile{Version: requestsVersion, Requests: reqs}, "", "  ")
	if err != nil {
		return fmt.Errorf("payment requests: encoding: %w", err)
	}
	data = append(data, '\n')
	dir := filepath.Dir(b.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("payment requests: creating %s: %w", dir, err)
	}
	if err := durable.WriteFile(b.path, data); err != nil {
		var ds *durable.DirSyncError
		if !errors.As(err, &ds) {
			return fmt.Errorf("payment requests: saving %s: %w", b.path, err)
		}
		b.reqs = reqs // renamed: the new book stands
		return fmt.Errorf("payment requests: saving %s: %w", b.path, err)
	}
	b.reqs = reqs
	return nil
}
