package addressbook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"mixdesk/internal/durable"
	"mixdesk/internal/errtext"
	"mixdesk/mixin"
)

// Limits of an address-book entry.
const (
	// MaxLabel is the longest label, in characters.
	MaxLabel = 40
	// MaxNote is the longest note, in characters.
	MaxNote = 140
	// MaxEntries is how many recipients one book holds.
	MaxEntries = 10000
	// maxName bounds a saved full name, in bytes.
	maxName = 512
	// maxIdentity bounds a saved Mixin ID number, in digits.
	maxIdentity = 32
	// maxBytes bounds the size of a book file Open reads.
	maxBytes = 16 << 20
)

// Field names of the address book's validation errors (*mixin.FieldError).
const (
	FieldLabel  = "label"
	FieldUserID = "user id"
	FieldNote   = "note"
)

// bookVersion is the format version written in the file.
const bookVersion = 1

// Entry is one saved recipient. IdentityNumber and FullName are what the
// server said when the entry was saved (SavedAt), so that a review can tell
// when the name it resolves now is another one.
type Entry struct {
	Label          string    // 1 to 40 printable characters, unique in the book (case-insensitively)
	UserID         string    // canonical lowercase UUID, unique in the book
	IdentityNumber string    // Mixin ID number as resolved when saved; may be empty
	FullName       string    // name as resolved when saved; may be empty
	Note           string    // the operator's own note: at most 140 characters, no control characters
	SavedAt        time.Time // when the name was resolved and saved (UTC)
}

// Book is the saved recipients of one profile, kept in a JSON file in the
// data directory (Path): labels, user ids, names and notes, never a
// secret. Every change is written to a temporary file, fsynced and
// renamed over the book, so that the file on disk is always either the old
// book or the new one. It is safe for concurrent use; one console writes a
// profile's book at a time (the journal lock keeps a second one out).
//
// # Format
//
//	{
//	  "version": 1,
//	  "entries": [
//	    {"label": "Payroll Alice", "user_id": "…", "identity_number": "7000104111",
//	     "full_name": "Alice", "note": "monthly", "saved_at": "2025-11-26T09:00:00Z"}
//	  ]
//	}
//
// Unknown fields, a second entry with the same label (case-insensitively)
// or user id, and any field that Save would refuse make the file malformed:
// Open reports it and leaves the file as it is.
type Book struct {
	path string
	now  func() time.Time

	mu      sync.RWMutex
	entries []Entry // sorted by label, case-insensitively
}

// Path is the address book file of a profile:
// DATA/addressbook-PROFILE.json.
func Path(dataDir, profile string) string {
	return filepath.Join(dataDir, "addressbook-"+profile+".json")
}

// bookFile is the book as stored.
type bookFile struct {
	Version int            `json:"version"`
	Entries []bookFileItem `json:"entries"`
}

type bookFileItem struct {
	Label          string    `json:"label"`
	UserID         string    `json:"user_id"`
	IdentityNumber string    `json:"identity_number,omitempty"`
	FullName       string    `json:"full_name,omitempty"`
	Note           string    `json:"note,omitempty"`
	SavedAt        time.Time `json:"saved_at"`
}

// Open reads the address book at path. A missing file is an empty book
// (the file is made on the first Save). A file that cannot be read, or is
// not a valid book, is one error naming the file and what is wrong; the
// file is not changed.
func Open(path string) (*Book, error) {
	if path == "" {
		return nil, errors.New("address book: no path given")
	}
	b := &Book{path: path, now: time.Now}
	data, err := durable.ReadRegular(path, maxBytes)
	var big *durable.TooLargeError
	switch {
	case errors.Is(err, os.ErrNotExist):
		return b, nil
	case errors.As(err, &big):
		return nil, fmt.Errorf("address book %s: %s is more than an address book can be", path, big)
	case err != nil:
		return nil, fmt.Errorf("address book %s: %w", path, err)
	}
	entries, err := decodeBook(data)
	if err != nil {
		return nil, fmt.Errorf("address book %s is not valid (nothing was changed): %w", path, err)
	}
	b.entries = entries
	return b, nil
}

// decodeBook parses and checks the bytes of a book file.
func decodeBook(data []byte) ([]Entry, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty")
	}
	if !utf8.Valid(data) {
		return nil, errors.New("the file is not UTF-8 text")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var bf bookFile
	if err := dec.Decode(&bf); err != nil {
		return nil, jsonProblem(data, dec, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: more data after the book's closing brace", errtext.LineAt(data, dec.InputOffset()))
	}
	if bf.Version != bookVersion {
		return nil, fmt.Errorf("version is %d; this mixdesk reads version %d", bf.Version, bookVersion)
	}
	if len(bf.Entries) > MaxEntries {
		return nil, fmt.Errorf("%d entries; a book holds at most %d", len(bf.Entries), MaxEntries)
	}
	out := make([]Entry, 0, len(bf.Entries))
	for i, it := range bf.Entries {
		e := Entry{Label: it.Label, UserID: it.UserID, IdentityNumber: it.IdentityNumber,
			FullName: it.FullName, Note: it.Note, SavedAt: it.SavedAt.UTC()}
		checked, err := checkEntry(e)
		if err == nil {
			err = conflict(out, checked, -1)
		}
		if err != nil {
			return nil, fmt.Errorf("entry %d (label %q): %w", i+1, errtext.Cut(it.Label), err)
		}
		out = append(out, checked)
	}
	sortEntries(out)
	return out, nil
}

// jsonProblem turns a decoding error into one line with a line number.
func jsonProblem(data []byte, dec *json.Decoder, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tpe *time.ParseError
	switch {
	case errors.As(err, &tpe):
		return fmt.Errorf("line %d: saved_at %q is not an RFC 3339 time", errtext.LineAt(data, dec.InputOffset()), errtext.Cut(tpe.Value))
	case errors.As(err, &syn):
		return fmt.Errorf("line %d: not valid JSON: %s", errtext.LineAt(data, syn.Offset), syn.Error())
	case errors.As(err, &typ):
		what := typ.Field
		if what == "" {
			what = "the book"
		}
		return fmt.Errorf("line %d: %s must be a JSON %s, not %s", errtext.LineAt(data, typ.Offset), what, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the file ends in the middle of the book")
	}
	// Unknown fields and bad times: the decoder's own words, with where it stopped.
	return fmt.Errorf("line %d: %s", errtext.LineAt(data, dec.InputOffset()), strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(k string) string {
	switch k {
	case "struct":
		return "object"
	case "slice":
		return "array"
	case "int":
		return "number"
	}
	return k
}

// checkEntry validates an entry and returns it in its stored form: label
// without surrounding spaces, user id in canonical form, SavedAt in UTC.
// Its errors are *mixin.FieldError.
func checkEntry(e Entry) (Entry, error) {
	e.Label = strings.TrimSpace(e.Label)
	switch n := utf8.RuneCountInString(e.Label); {
	case !utf8.ValidString(e.Label):
		return e, &mixin.FieldError{Field: FieldLabel, Reason: "not valid UTF-8 text"}
	case n == 0:
		return e, &mixin.FieldError{Field: FieldLabel, Reason: "empty; give the recipient a name to pick it by"}
	case n > MaxLabel:
		return e, &mixin.FieldError{Field: FieldLabel, Reason: fmt.Sprintf("%d characters; at most %d", n, MaxLabel)}
	}
	for _, r := range e.Label {
		if !unicode.IsPrint(r) {
			return e, &mixin.FieldError{Field: FieldLabel, Reason: "only printable characters (no tabs, control or formatting characters)"}
		}
	}
	// A label that reads as a Mixin ID number or a user id would be taken
	// for one where recipients are typed (a batch file, the transfer form)
	// and could pay a stranger.
	if mixin.IsMixinID(e.Label) {
		return e, &mixin.FieldError{Field: FieldLabel, Reason: "digits only would be read as a Mixin ID number; add a letter"}
	}
	if _, err := mixin.ParseUUID(FieldLabel, e.Label); err == nil {
		return e, &mixin.FieldError{Field: FieldLabel, Reason: "a UUID would be read as a user id; choose a name"}
	}
	id, err := mixin.ParseUUID(FieldUserID, e.UserID)
	if err != nil {
		return e, err
	}
	e.UserID = id
	if e.IdentityNumber != "" && (len(e.IdentityNumber) > maxIdentity || !mixin.IsMixinID(e.IdentityNumber)) {
		return e, &mixin.FieldError{Field: mixin.FieldRecipient, Reason: "the Mixin ID number must be digits only (at most 32)"}
	}
	if len(e.FullName) > maxName || !utf8.ValidString(e.FullName) || strings.IndexFunc(e.FullName, unicode.IsControl) >= 0 {
		return e, &mixin.FieldError{Field: mixin.FieldRecipient, Reason: "the name must be UTF-8 text without control characters, at most 512 bytes"}
	}
	// The name is the server's, kept to be shown: invisible and
	// direction-changing characters that an older book (or a hand-edited
	// one) may hold are taken out, as the client takes them out of answers.
	e.FullName = mixin.DisplayText(e.FullName)
	switch n := utf8.RuneCountInString(e.Note); {
	case !utf8.ValidString(e.Note):
		return e, &mixin.FieldError{Field: FieldNote, Reason: "not valid UTF-8 text"}
	case n > MaxNote:
		return e, &mixin.FieldError{Field: FieldNote, Reason: fmt.Sprintf("%d characters; at most %d", n, MaxNote)}
	case strings.IndexFunc(e.Note, unicode.IsControl) >= 0:
		return e, &mixin.FieldError{Field: FieldNote, Reason: "contains a control character (tab, newline...); use plain text"}
	}
	e.SavedAt = e.SavedAt.UTC()
	return e, nil
}

// conflict reports whether e's label or user id is taken by an entry of
// entries other than the one at skip.
func conflict(entries []Entry, e Entry, skip int) error {
	for i, o := range entries {
		if i == skip {
			continue
		}
		if strings.EqualFold(o.Label, e.Label) {
			return &mixin.FieldError{Field: FieldLabel, Reason: fmt.Sprintf("%q is already the label of another recipient", o.Label)}
		}
		if o.UserID == e.UserID {
			return &mixin.FieldError{Field: FieldUserID, Reason: fmt.Sprintf("this recipient is already saved as %q", o.Label)}
		}
	}
	return nil
}

func sortEntries(es []Entry) {
	slices.SortStableFunc(es, func(a, b Entry) int {
		if c := strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)); c != 0 {
			return c
		}
		return strings.Compare(a.Label, b.Label)
	})
}

// Path is the book's file.
func (b *Book) Path() string { return b.path }

// List returns every entry, sorted by label (case-insensitively).
func (b *Book) List() []Entry {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return slices.Clone(b.entries)
}

// Len is the number of saved recipients.
func (b *Book) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.entries)
}

// ByUser returns the entry of a user id (any case of the UUID).
func (b *Book) ByUser(userID string) (Entry, bool) {
	id, err := mixin.ParseUUID(FieldUserID, userID)
	if err != nil {
		return Entry{}, false
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, e := range b.entries {
		if e.UserID == id {
			return e, true
		}
	}
	return Entry{}, false
}

// ByLabel returns the entry with a label, compared case-insensitively and
// without surrounding spaces.
func (b *Book) ByLabel(label string) (Entry, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if i := b.indexOf(label); i >= 0 {
		return b.entries[i], true
	}
	return Entry{}, false
}

// indexOf is the position of the entry labelled label, or -1. The caller
// holds mu.
func (b *Book) indexOf(label string) int {
	label = strings.TrimSpace(label)
	for i, e := range b.entries {
		if strings.EqualFold(e.Label, label) {
			return i
		}
	}
	return -1
}

// Match returns the entries for the recipient picker: those whose label
// contains query (case-insensitively), then those whose saved name contains
// it, each group sorted by label. An empty query (or only spaces) matches
// every entry.
func (b *Book) Match(query string) []Entry {
	q := strings.ToLower(strings.TrimSpace(query))
	b.mu.RLock()
	defer b.mu.RUnlock()
	if q == "" {
		return slices.Clone(b.entries)
	}
	var byLabel, byName []Entry
	for _, e := range b.entries {
		switch {
		case strings.Contains(strings.ToLower(e.Label), q):
			byLabel = append(byLabel, e)
		case strings.Contains(strings.ToLower(e.FullName), q):
			byName = append(byName, e)
		}
	}
	return append(byLabel, byName...)
}

// Save adds an entry (replaceLabel "") or replaces the entry labelled
// replaceLabel (an edit, which may change the label). The label is kept
// without surrounding spaces and must be unique case-insensitively; the
// user id is stored in canonical form and must be unique in the book. A
// zero SavedAt is set to now; an edit that keeps the resolved name can pass
// the old SavedAt on. A bad field is a *mixin.FieldError naming it
// ("label", "user id", "note"; "recipient" for a bad name or Mixin ID
// number). The book changes only when the new file is on disk.
func (b *Book) Save(e Entry, replaceLabel string) error {
	e, err := checkEntry(e)
	if err != nil {
		return err
	}
	if e.SavedAt.IsZero() {
		e.SavedAt = b.now().UTC()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	skip := -1
	if strings.TrimSpace(replaceLabel) != "" {
		if skip = b.indexOf(replaceLabel); skip < 0 {
			return &mixin.FieldError{Field: FieldLabel, Reason: fmt.Sprintf("no saved recipient is labelled %q any more; nothing was saved", errtext.Cut(strings.TrimSpace(replaceLabel)))}
		}
	}
	if err := conflict(b.entries, e, skip); err != nil {
		return err
	}
	next := slices.Clone(b.entries)
	if skip >= 0 {
		next[skip] = e
	} else {
		if len(next) >= MaxEntries {
			return fmt.Errorf("address book: it holds %d recipients, the most it can; remove one first", len(next))
		}
		next = append(next, e)
	}
	sortEntries(next)
	return b.write(next)
}

// Remove deletes the entry labelled label (case-insensitively).
func (b *Book) Remove(label string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := b.indexOf(label)
	if i < 0 {
		return &mixin.FieldError{Field: FieldLabel, Reason: fmt.Sprintf("no saved recipient is labelled %q", errtext.Cut(strings.TrimSpace(label)))}
	}
	return b.write(slices.Delete(slices.Clone(b.entries), i, i+1))
}

// write replaces the file with entries (a temporary file in the same
// folder, fsynced, renamed over the book, then the folder synced) and, once
// the new file is in place, the book in memory. The caller holds mu.
func (b *Book) write(entries []Entry) error {
	bf := bookFile{Version: bookVersion, Entries: make([]bookFileItem, len(entries))}
	for i, e := range entries {
		bf.Entries[i] = bookFileItem(e) // the same fields, with the file's JSON names
	}
	data, err := json.MarshalIndent(bf, "", "  ")
	if err != nil {
		return fmt.Errorf("address book: encode: %w", err)
	}
	data = append(data, '\n')

	dir := filepath.Dir(b.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("address book: create directory: %w", err)
	}
	if err := durable.WriteFile(b.path, data); err != nil {
		var ds *durable.DirSyncError
		if !errors.As(err, &ds) {
			return fmt.Errorf("address book: %w; nothing was changed", err)
		}
		// The new book is in place and in use; only its directory entry
		// may not be durable yet.
		b.entries = entries
		return fmt.Errorf("address book: saved, but %w", err)
	}
	b.entries = entries
	return nil
}
