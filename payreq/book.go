package payreq

import (
	"bytes"
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

	"mixdesk/internal/durable"
	"mixdesk/mixin"
	"mixdesk/payout"
)

// The versions of the book's file format. Version 2 records the form of
// each request's link; a book that holds only legacy requests is still
// written as version 1, byte for byte as before, so that an older mixdesk
// keeps reading it, and one with a Safe request as version 2, which an
// older mixdesk refuses as written by a newer one (rather than as damaged).
const (
	fileVersionLegacy = 1
	fileVersion       = 2 // the newest this one reads
)

// maxFileBytes bounds the book's file: far beyond any real book, it
// keeps a wrong file from filling memory.
const maxFileBytes = 32 << 20

// bookFile is the book's file: one JSON document, rewritten whole.
type bookFile struct {
	Version  int       `json:"version"`
	Requests []Request `json:"requests"` // oldest first
}

// ErrNotFound: the book holds no request with this trace id.
var ErrNotFound = errors.New("payreq: no payment request with this trace id")

// Book is the book of a profile's payment requests, kept in a JSON file
// in the data directory (no secrets: ids, amounts, memos and times). Every
// change is written to a temporary file, synced and renamed over the book,
// so the file always holds either the old or the new book. It is safe for
// concurrent use. One console opens a profile at a time (the journal's lock
// sees to it), so the file has a single writer.
type Book struct {
	path string
	now  func() time.Time

	mu   sync.Mutex
	reqs []Request // oldest first
}

// Option sets a book up as it is opened.
type Option func(*Book)

// WithClock gives the book its clock: the creation time of a request, and
// the time of a payment whose movement carries none. The default is
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(b *Book) {
		if now != nil {
			b.now = now
		}
	}
}

// Open reads the book at path; a missing file is an empty book (the file
// is written at the first change). A file that cannot be read or
// understood gives one error naming the file and what is wrong, and is
// left as it is.
func Open(path string, opts ...Option) (*Book, error) {
	b := &Book{path: path, now: time.Now}
	for _, o := range opts {
		o(b)
	}
	data, err := durable.ReadRegular(path, maxFileBytes)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return b, nil
	case err != nil:
		return nil, fmt.Errorf("payment requests %s: %w", path, err)
	}
	reqs, err := decodeBook(data)
	if err != nil {
		return nil, fmt.Errorf("payment requests %s: %w; nothing was changed (move the file away to start an empty book)", path, err)
	}
	b.reqs = reqs
	return b, nil
}

// decodeBook parses and checks the book's file.
func decodeBook(data []byte) ([]Request, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty (a book holds at least its version)")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f bookFile
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
	case f.Version > fileVersion:
		return nil, fmt.Errorf("format version %d was written by a newer mixdesk (this one reads %d)", f.Version, fileVersion)
	case f.Version < 0:
		return nil, fmt.Errorf("unknown format version %d", f.Version)
	}
	seen := make(map[string]int, len(f.Requests))
	for i, r := range f.Requests {
		if err := r.validate(); err != nil {
			// %v: a damaged file is not a field the operator typed.
			return nil, fmt.Errorf("request %d (trace %s): %v", i+1, printable(r.TraceID), err)
		}
		if f.Version == fileVersionLegacy && r.Form != FormLegacy {
			return nil, fmt.Errorf("request %d (trace %s): a link form in a version %d book, which has none", i+1, printable(r.TraceID), f.Version)
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
func (b *Book) Path() string { return b.path }

// Create makes a payment request for recipient with a new trace id (made
// here, once) and writes it to the book.
func (b *Book) Create(recipient, assetID, amount, memo string) (Request, error) {
	return b.CreateWithTrace(payout.NewTraceID(), recipient, assetID, amount, memo)
}

// CreateWithTrace makes a payment request under a trace id made earlier,
// for a form that shows the trace before the request is created. Creating
// the same request again (same trace and fields) returns the one in the
// book; a trace already in the book with other fields is refused.
func (b *Book) CreateWithTrace(trace, recipient, assetID, amount, memo string) (Request, error) {
	return b.CreateWithForm(FormLegacy, trace, recipient, assetID, amount, memo)
}

// CreateWithForm is CreateWithTrace for a link of the form given: the
// fields are checked by that form's rules (a Safe link's memo is also at
// most 256 bytes), and the request records its form, so that it shows the
// same link for good. The same request again (same form, trace and fields)
// returns the one in the book.
func (b *Book) CreateWithForm(form Form, trace, recipient, assetID, amount, memo string) (Request, error) {
	if err := form.check(); err != nil {
		return Request{}, err
	}
	p, err := checkFields(form, mixin.PayRequest{Recipient: recipient, AssetID: assetID, Amount: amount, TraceID: trace, Memo: memo})
	if err != nil {
		return Request{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.findLocked(p.TraceID); ok {
		r := b.reqs[old]
		if r.PayRequest() == p && r.Form == form {
			return r, nil
		}
		return Request{}, &mixin.FieldError{Field: mixin.FieldTrace, Reason: "already used by another payment request"}
	}
	r := Request{
		TraceID: p.TraceID, AssetID: p.AssetID, Amount: p.Amount, Memo: p.Memo, Recipient: p.Recipient,
		CreatedAt: b.now().UTC().Round(0), State: StateOpen, Form: form,
	}
	next := append(append(make([]Request, 0, len(b.reqs)+1), b.reqs...), r)
	if err := b.writeLocked(next); err != nil {
		return Request{}, err
	}
	return r, nil
}

// List returns the requests, newest first.
func (b *Book) List() []Request {
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
func (b *Book) Get(trace string) (Request, bool) {
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

func (b *Book) findLocked(trace string) (int, bool) {
	for i := range b.reqs {
		if b.reqs[i].TraceID == trace {
			return i, true
		}
	}
	return -1, false
}

// writeLocked writes the whole book and makes it the book in memory: a
// temporary file beside it (created with mode 0600), synced, renamed over
// the book, and the directory synced. On a failure before the rename the
// old file and the old book stay and the temporary file is removed; once
// renamed, the new book stands even if the directory sync then fails.
func (b *Book) writeLocked(reqs []Request) error {
	version := fileVersionLegacy
	for _, r := range reqs {
		if r.Form != FormLegacy {
			version = fileVersion
		}
	}
	data, err := json.MarshalIndent(bookFile{Version: version, Requests: reqs}, "", "  ")
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
