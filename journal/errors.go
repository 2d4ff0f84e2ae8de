package journal

import (
	"errors"
	"fmt"
)

// Errors of the journal. Each is matched with errors.Is; the typed errors
// below carry the details.
var (
	// ErrInUse: another mixdesk (or another Open in this process)
	// holds the journal file.
	ErrInUse = errors.New("journal is in use by another mixdesk")
	// ErrBroken: verification found a problem, so the journal cannot
	// be trusted and appends are refused. See BrokenError and Report.
	ErrBroken = errors.New("journal cannot be trusted")
	// ErrClosed: the journal was closed.
	ErrClosed = errors.New("journal is closed")
	// ErrWrite: an append failed to reach the disk; the journal
	// refuses further appends until it is opened again and verified.
	ErrWrite = errors.New("journal write failed")
	// ErrInvalidRecord: a record to append has a missing or malformed
	// field. See FieldError.
	ErrInvalidRecord = errors.New("invalid journal record")
	// ErrDuplicateTrace: the trace already has an intent. See
	// DuplicateTraceError.
	ErrDuplicateTrace = errors.New("trace already has an intent")
	// ErrNoIntent: an outcome was given for a trace without an intent.
	ErrNoIntent = errors.New("no intent for this trace")
	// ErrConflictingOutcome: an outcome contradicts the outcome already
	// recorded. See OutcomeConflictError.
	ErrConflictingOutcome = errors.New("outcome contradicts the recorded outcome")
)

// FieldError says which field of a record to append is wrong and why.
type FieldError struct {
	Field  string // JSON name of the field, e.g. "amount"
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("journal: %s: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidRecord) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidRecord }

// DuplicateTraceError refuses a second intent for a trace. The journal never
// decides whether a repeat is harmless; its caller does, with Existing and
// SameContent.
type DuplicateTraceError struct {
	Existing Entry
	// SameContent is true when the refused intent has the content hash of
	// the existing one, i.e. it asks for the same transfer.
	SameContent bool
}

func (e *DuplicateTraceError) Error() string {
	same := "different content"
	if e.SameContent {
		same = "same content"
	}
	return fmt.Sprintf("journal: trace %s already has an intent (record %d, %s, %s)",
		e.Existing.Intent.Trace, e.Existing.Intent.Seq, e.Existing.State, same)
}

// Is makes errors.Is(err, ErrDuplicateTrace) true.
func (e *DuplicateTraceError) Is(target error) bool { return target == ErrDuplicateTrace }

// OutcomeConflictError refuses an outcome that contradicts the recorded one:
// failed after done, done after failed, or done with another snapshot.
type OutcomeConflictError struct {
	Existing Entry
	Refused  Kind // the kind of the refused record
}

func (e *OutcomeConflictError) Error() string {
	what := e.Existing.State.String()
	switch e.Existing.State {
	case StateDone:
		what = "done as snapshot " + e.Existing.Done.SnapshotID
	case StateFailed:
		what = fmt.Sprintf("failed with code %d", e.Existing.Failed.Code)
	}
	return fmt.Sprintf("journal: trace %s is already %s; a %s outcome is refused",
		e.Existing.Intent.Trace, what, e.Refused)
}

// Is makes errors.Is(err, ErrConflictingOutcome) true.
func (e *OutcomeConflictError) Is(target error) bool { return target == ErrConflictingOutcome }

// Reason classifies a verification problem.
type Reason string

// Reasons found by verification.
const (
	// ReasonMalformed: the line is not a valid journal record (bad JSON,
	// unknown or missing field, bad value), or a line that is not the last
	// one is cut short.
	ReasonMalformed Reason = "malformed"
	// ReasonSeq: the seq is not one more than the previous record's: a
	// record was deleted, inserted or moved.
	ReasonSeq Reason = "seq"
	// ReasonChain: prev is not the hash of the previous line: the previous
	// line was edited, or lines were inserted or deleted here.
	ReasonChain Reason = "chain"
	// ReasonContentHash: an intent's fields do not match its content hash:
	// the line was edited.
	ReasonContentHash Reason = "content-hash"
	// ReasonDuplicateIntent: a second intent for a trace.
	ReasonDuplicateIntent Reason = "duplicate-intent"
	// ReasonOrphanOutcome: an outcome for a trace without an earlier intent.
	ReasonOrphanOutcome Reason = "orphan-outcome"
	// ReasonConflictingOutcome: an outcome contradicting an earlier one.
	ReasonConflictingOutcome Reason = "conflicting-outcome"
	// ReasonRepeatedOutcome: an outcome repeating an earlier one, which the
	// journal never writes.
	ReasonRepeatedOutcome Reason = "repeated-outcome"
)

// Problem is one thing verification found wrong, located by line.
type Problem struct {
	Line   int   // 1-based line number
	Offset int64 // byte offset of the start of the line
	Reason Reason
	Detail string // one sentence for the operator
}

func (p Problem) String() string {
	return fmt.Sprintf("line %d: %s", p.Line, p.Detail)
}

// BrokenError is the error of a journal that failed verification; appends
// return it (it matches ErrBroken). Nothing in the file was changed.
type BrokenError struct {
	Path     string
	First    Problem // the first problem in file order
	Problems int     // how many problems were found in all
}

func (e *BrokenError) Error() string {
	more := ""
	if e.Problems > 1 {
		more = fmt.Sprintf(" (and %s more)", plural(e.Problems-1, "problem"))
	}
	return fmt.Sprintf("journal %s cannot be trusted: %s%s; nothing was changed and no payout can be recorded until it is examined",
		e.Path, e.First, more)
}

// Is makes errors.Is(err, ErrBroken) true.
func (e *BrokenError) Is(target error) bool { return target == ErrBroken }
