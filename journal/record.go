package journal

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind names a journal record kind.
type Kind string

// The record kinds.
const (
	KindIntent Kind = "intent" // about to post a transfer
	KindDone   Kind = "done"   // the transfer was executed
	KindFailed Kind = "failed" // the payment system refused the transfer; nothing moved
	// KindPost is written, and made durable, before a transfer in doubt is
	// posted again with its trace. The intent stands for the first post;
	// each post record for one more, so that the journal knows until when
	// any post of the trace may still reach the payment system
	// (Entry.LastPost).
	KindPost Kind = "post"
	// KindRail is a payment rail's state of a transfer in doubt, made
	// durable before the rail goes on (a rail that pays in stages keeps,
	// for instance, the transaction it built before it asks for it to be
	// verified, and the signed transaction before it submits it). The
	// journal does not read the state; it keeps the states of a trace, in
	// order, while the transfer is in doubt (Entry.Rail).
	KindRail Kind = "rail"
)

// Via says how a done outcome was learned.
type Via string

// Ways a done outcome is learned.
const (
	ViaSend     Via = "send"     // the answer to the transfer post
	ViaRecovery Via = "recovery" // a trace look-up of an in-doubt transfer
)

// Limits on the text fields of a record, in bytes of UTF-8.
const (
	// MaxTextLen bounds memo and description.
	MaxTextLen = 4096
	// MaxLabelLen bounds operator, host, batch_id and row_key.
	MaxLabelLen = 256
	// MaxDecimalLen bounds amount and closing_balance.
	MaxDecimalLen = 64
	// MaxStageLen bounds the stage of a rail record.
	MaxStageLen = 32
	// MaxRailData bounds the data of a rail record, in bytes before its
	// base64 encoding (about 342 KiB on the line). A Safe transaction of
	// 256 inputs with the outputs it spends takes about a third of it.
	MaxRailData = 256 << 10
)

// Intent is the record written, and made durable, before a transfer is
// posted. The caller fills the transfer fields; Seq, Time and (when left
// empty) Hash, Operator and Host are filled by the journal.
type Intent struct {
	Trace       string // trace id: canonical lowercase UUID
	AssetID     string // canonical lowercase UUID
	RecipientID string // opponent user id: canonical lowercase UUID
	Amount      string // positive decimal string, stored as given
	Memo        string // may be empty

	// Operator is the login of the person who confirmed; empty means the
	// journal's default (WithOperator, else the OS user).
	Operator string
	// Host is the machine name; empty means the journal's default
	// (WithHost, else the OS host name).
	Host string

	// BatchID and RowKey tie the intent to a row of a batch; both optional.
	BatchID string
	RowKey  string

	// Hash is ContentHash of the transfer fields. Left empty, the journal
	// computes it; given, it must match (so a caller can pin the hash of
	// what the operator reviewed).
	Hash string

	Seq  uint64    // set by the journal
	Time time.Time // set by the journal (UTC)
}

// ContentHash computes the content hash of the intent's transfer fields (see
// the ContentHash function). It does not read the Hash field.
func (in Intent) ContentHash() string {
	return ContentHash(in.AssetID, in.RecipientID, in.Amount, in.Memo, in.Trace)
}

// Done records that the transfer with Trace was executed.
type Done struct {
	Trace      string // trace id of an intent
	SnapshotID string // the server's snapshot id: canonical lowercase UUID
	// ClosingBalance is the sender's balance after the transfer, a decimal
	// string; empty when the answer did not carry it.
	ClosingBalance string
	Via            Via // how the outcome was learned; empty is allowed

	Seq  uint64    // set by the journal
	Time time.Time // set by the journal (UTC)
}

// Failed records that the server refused the transfer with Trace: nothing
// moved and the trace is closed. Record only definite refusals (a Mixin error
// answer); a timeout, a 5xx or a lost connection leaves the intent in doubt
// instead. A retry after a failure uses a new trace.
type Failed struct {
	Trace       string // trace id of an intent
	Code        int    // the Mixin error code; not zero
	Description string // the server's description; may be empty

	Seq  uint64    // set by the journal
	Time time.Time // set by the journal (UTC)
}

// Post records that a transfer in doubt is about to be posted again with
// its trace.
type Post struct {
	Trace string // trace id of an intent in doubt

	Seq  uint64    // set by the journal
	Time time.Time // set by the journal (UTC)
}

// RailState records a payment rail's state of the transfer in doubt with
// Trace (see KindRail), made durable before the rail goes on.
type RailState struct {
	Trace string // trace id of an intent in doubt
	// Stage is the rail's name for the state: 1 to MaxStageLen bytes of
	// lower-case ASCII letters, digits and '-'.
	Stage string
	// Data is the state, 1 to MaxRailData bytes, opaque to the journal
	// (written as standard base64). A RailState read from the journal
	// shares it: read it, never change it.
	Data []byte

	Seq  uint64    // set by the journal
	Time time.Time // set by the journal (UTC)
}

// Record is one line of the journal as read back. Exactly one of Intent,
// Done, Failed, Post and Rail is set, as Kind says.
type Record struct {
	Line   int    // 1-based line number in the file
	Offset int64  // byte offset of the line
	Seq    uint64 // 1 for the first record, then one more each line
	Prev   string // hex SHA-256 of the previous line (64 zeros for the first)
	Kind   Kind
	Time   time.Time
	Intent *Intent
	Done   *Done
	Failed *Failed
	Post   *Post
	Rail   *RailState
}

// Trace returns the trace id the record is about.
func (r Record) Trace() string {
	switch {
	case r.Intent != nil:
		return r.Intent.Trace
	case r.Done != nil:
		return r.Done.Trace
	case r.Failed != nil:
		return r.Failed.Trace
	case r.Post != nil:
		return r.Post.Trace
	case r.Rail != nil:
		return r.Rail.Trace
	}
	return ""
}

// lowerHex marks the bytes 0-9 and a-f.
var lowerHex = func() (t [256]bool) {
	for _, c := range hexDigits {
		t[c] = true
	}
	return t
}()

// isUUID reports whether s is a UUID in canonical form: 36 characters,
// lowercase hex digits and hyphens in the 8-4-4-4-12 places.
func isUUID(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	return allHex(s[:8]) && allHex(s[9:13]) && allHex(s[14:18]) && allHex(s[19:23]) && allHex(s[24:])
}

// isHex64 reports whether s is 64 lowercase hex digits.
func isHex64(s string) bool { return len(s) == 64 && allHex(s) }

func allHex(s string) bool {
	ok := true
	for i := 0; i < len(s); i++ {
		ok = ok && lowerHex[s[i]]
	}
	return ok
}

// PlainDecimal reports whether s is money as the journal stores it: a
// plain decimal string of at most MaxDecimalLen bytes, digits with at most
// one point between digits, no sign, exponent or spaces ("0" and "0.00"
// included).
func PlainDecimal(s string) bool { return checkDecimal("", s, false) == nil }

// checkDecimal checks a plain decimal string: digits, optionally a point
// and more digits; no sign, exponent or spaces. positive demands a non-zero
// digit.
func checkDecimal(field, s string, positive bool) error {
	if s == "" {
		return &FieldError{field, "missing"}
	}
	if len(s) > MaxDecimalLen {
		return &FieldError{field, "too long"}
	}
	point, nonzero := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '1' && c <= '9':
			nonzero = true
		case c == '0':
		case c == '.' && !point && i > 0 && i < len(s)-1:
			point = true
		default:
			return &FieldError{field, "not a plain decimal string (digits with at most one point, no sign or exponent)"}
		}
	}
	if positive && !nonzero {
		return &FieldError{field, "must be greater than zero"}
	}
	return nil
}

func checkUUID(field, s string) error {
	if s == "" {
		return &FieldError{field, "missing"}
	}
	if !isUUID(s) {
		return &FieldError{field, "not a UUID in canonical lowercase form"}
	}
	return nil
}

func checkText(field, s string, max int) error {
	if len(s) > max {
		return &FieldError{field, fmt.Sprintf("longer than %d bytes", max)}
	}
	if !utf8.ValidString(s) {
		return &FieldError{field, "not valid UTF-8"}
	}
	return nil
}

// validateIntent checks the caller's fields of an intent (Seq and Time are
// not looked at). Hash, when set, must be the content hash.
func validateIntent(in *Intent) error {
	checks := [...]error{
		checkUUID("trace_id", in.Trace),
		checkUUID("asset_id", in.AssetID),
		checkUUID("recipient_id", in.RecipientID),
		checkDecimal("amount", in.Amount, true),
		checkText("memo", in.Memo, MaxTextLen),
		checkText("operator", in.Operator, MaxLabelLen),
		checkText("host", in.Host, MaxLabelLen),
		checkText("batch_id", in.BatchID, MaxLabelLen),
		checkText("row_key", in.RowKey, MaxLabelLen),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	if in.Hash != "" && in.Hash != in.ContentHash() {
		return &FieldError{"hash", "does not match the content hash of asset, recipient, amount, memo and trace"}
	}
	return nil
}

func validateDone(d *Done) error {
	if err := checkUUID("trace_id", d.Trace); err != nil {
		return err
	}
	if err := checkUUID("snapshot_id", d.SnapshotID); err != nil {
		return err
	}
	if d.ClosingBalance != "" {
		if err := checkDecimal("closing_balance", d.ClosingBalance, false); err != nil {
			return err
		}
	}
	switch d.Via {
	case "", ViaSend, ViaRecovery:
	default:
		return &FieldError{"via", `must be "send", "recovery" or empty`}
	}
	return nil
}

func validateFailed(f *Failed) error {
	if err := checkUUID("trace_id", f.Trace); err != nil {
		return err
	}
	if f.Code == 0 {
		return &FieldError{"code", "missing (a failed outcome carries the server's error code)"}
	}
	return checkText("description", f.Description, MaxTextLen)
}

// validateRail checks a rail state to append (Seq and Time are not looked
// at).
func validateRail(r *RailState) error {
	if err := checkUUID("trace_id", r.Trace); err != nil {
		return err
	}
	if err := checkStage(r.Stage); err != nil {
		return err
	}
	switch {
	case len(r.Data) == 0:
		return &FieldError{"data", "missing"}
	case len(r.Data) > MaxRailData:
		return &FieldError{"data", fmt.Sprintf("%d bytes; at most %d", len(r.Data), MaxRailData)}
	}
	return nil
}

// checkStage checks a rail record's stage: 1 to MaxStageLen bytes of a-z,
// 0-9 and '-'.
func checkStage(s string) error {
	if s == "" {
		return &FieldError{"stage", "missing"}
	}
	if len(s) > MaxStageLen {
		return &FieldError{"stage", fmt.Sprintf("longer than %d bytes", MaxStageLen)}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return &FieldError{"stage", "not lower-case letters, digits and '-'"}
		}
	}
	return nil
}

// decodeRailData decodes the data of a rail record as the journal writes
// it: standard base64 with padding, nothing else (no line breaks, no bits
// set in the padding), so that a line read back is one the journal could
// have written.
func decodeRailData(s string) ([]byte, error) {
	if len(s) > base64.StdEncoding.EncodedLen(MaxRailData) {
		return nil, &FieldError{"data", fmt.Sprintf("more than %d bytes", MaxRailData)}
	}
	if strings.ContainsAny(s, "\r\n") {
		return nil, &FieldError{"data", "not standard base64"}
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, &FieldError{"data", "not standard base64"}
	}
	return b, nil
}

// timeLayout is how record times are written: RFC 3339 with nanoseconds, UTC.
const timeLayout = time.RFC3339Nano

// recordError is a verification failure of one line, before the line number
// is known.
type recordError struct {
	reason Reason
	detail string
}

func malformed(format string, args ...any) *recordError {
	return &recordError{ReasonMalformed, fmt.Sprintf(format, args...)}
}

// toRecord validates a decoded line and builds its Record (Line and Offset
// are left to the caller). scratch is reused for the content hash. An intent
// whose content hash is wrong is returned with its ReasonContentHash error;
// any other error comes with an empty Record.
func (w *wireRecord) toRecord(scratch *[]byte) (Record, *recordError) {
	var allowed, required uint32
	switch Kind(w.Kind) {
	case KindIntent:
		allowed, required = intentAllowed, intentRequired
	case KindDone:
		allowed, required = doneAllowed, doneRequired
	case KindFailed:
		allowed, required = failedAllowed, failedRequired
	case KindPost:
		allowed, required = postAllowed, postRequired
	case KindRail:
		allowed, required = railAllowed, railRequired
	default:
		if w.seen&fKind == 0 {
			return Record{}, malformed("no kind")
		}
		return Record{}, malformed("unknown kind %s", shortQuote(w.Kind))
	}
	if extra := w.seen &^ allowed; extra != 0 {
		return Record{}, malformed("a %s record has no field %q", w.Kind, fieldNames[lowBit(extra)])
	}
	if missing := required &^ w.seen; missing != 0 {
		return Record{}, malformed("a %s record needs the field %q", w.Kind, fieldNames[lowBit(missing)])
	}
	if w.Seq == 0 {
		return Record{}, malformed("seq must be 1 or more")
	}
	if !isHex64(w.Prev) {
		return Record{}, malformed("prev is not 64 lowercase hex digits")
	}
	t, err := time.Parse(timeLayout, w.Time)
	if err != nil {
		return Record{}, malformed("time %s is not an RFC 3339 time", shortQuote(w.Time))
	}
	t = t.UTC()
	rec := Record{Seq: w.Seq, Prev: w.Prev, Kind: Kind(w.Kind), Time: t}
	switch rec.Kind {
	case KindIntent:
		in := &Intent{
			Trace: w.Trace, AssetID: w.Asset, RecipientID: w.Recipient,
			Amount: w.Amount, Memo: w.Memo, Operator: w.Operator, Host: w.Host,
			BatchID: w.Batch, RowKey: w.Row, Seq: w.Seq, Time: t,
		}
		if err := validateIntent(in); err != nil {
			return Record{}, malformed("%s", fieldDetail(err))
		}
		if !isHex64(w.Hash) {
			return Record{}, malformed("hash is not 64 lowercase hex digits")
		}
		in.Hash = w.Hash
		rec.Intent = in
		*scratch = appendContent((*scratch)[:0], in.AssetID, in.RecipientID, in.Amount, in.Memo, in.Trace)
		sum := sha256.Sum256(*scratch)
		if !hexEqual(w.Hash, &sum) {
			// The record is returned too, so that it can be shown.
			return rec, &recordError{ReasonContentHash,
				"the intent's asset, recipient, amount, memo or trace does not match its content hash: the line was edited"}
		}
	case KindDone:
		d := &Done{Trace: w.Trace, SnapshotID: w.Snapshot, ClosingBalance: w.Closing, Via: Via(w.Via), Seq: w.Seq, Time: t}
		if err := validateDone(d); err != nil {
			return Record{}, malformed("%s", fieldDetail(err))
		}
		rec.Done = d
	case KindFailed:
		if int64(int(w.Code)) != w.Code {
			return Record{}, malformed("code out of range")
		}
		f := &Failed{Trace: w.Trace, Code: int(w.Code), Description: w.Desc, Seq: w.Seq, Time: t}
		if err := validateFailed(f); err != nil {
			return Record{}, malformed("%s", fieldDetail(err))
		}
		rec.Failed = f
	case KindPost:
		if err := checkUUID("trace_id", w.Trace); err != nil {
			return Record{}, malformed("%s", fieldDetail(err))
		}
		rec.Post = &Post{Trace: w.Trace, Seq: w.Seq, Time: t}
	case KindRail:
		data, err := decodeRailData(w.Data)
		if err != nil {
			return Record{}, malformed("%s", fieldDetail(err))
		}
		r := &RailState{Trace: w.Trace, Stage: w.Stage, Data: data, Seq: w.Seq, Time: t}
		if err := validateRail(r); err != nil {
			return Record{}, malformed("%s", fieldDetail(err))
		}
		rec.Rail = r
	}
	return rec, nil
}

// fieldDetail words a validation error for a problem report.
func fieldDetail(err error) string {
	if fe, ok := err.(*FieldError); ok {
		return fe.Field + " " + fe.Reason
	}
	return err.Error()
}

// lowBit returns the index of the lowest set bit of m (m != 0).
func lowBit(m uint32) int {
	for i := 0; i < 32; i++ {
		if m&(1<<i) != 0 {
			return i
		}
	}
	return 0
}

// toWire builds the line fields of a record about to be appended.
func toWire(seq uint64, prev string, kind Kind, t time.Time, in *Intent, d *Done, f *Failed, p *Post, r *RailState) wireRecord {
	w := wireRecord{Seq: seq, Prev: prev, Kind: string(kind), Time: t.Format(timeLayout)}
	switch kind {
	case KindIntent:
		w.Trace, w.Asset, w.Recipient, w.Amount, w.Memo = in.Trace, in.AssetID, in.RecipientID, in.Amount, in.Memo
		w.Hash, w.Operator, w.Host, w.Batch, w.Row = in.Hash, in.Operator, in.Host, in.BatchID, in.RowKey
	case KindDone:
		w.Trace, w.Snapshot, w.Closing, w.Via = d.Trace, d.SnapshotID, d.ClosingBalance, string(d.Via)
	case KindFailed:
		w.Trace, w.Code, w.Desc = f.Trace, int64(f.Code), f.Description
	case KindPost:
		w.Trace = p.Trace
	case KindRail:
		w.Trace, w.Stage, w.Data = r.Trace, r.Stage, base64.StdEncoding.EncodeToString(r.Data)
	}
	return w
}
