package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// maxReportedProblems bounds Report.Problems; Report.ProblemCount counts all.
const maxReportedProblems = 100

// maxTornKept bounds Report.TornBytes.
const maxTornKept = 4096

// genesisPrev is the prev of the first record.
const genesisPrev = "0000000000000000000000000000000000000000000000000000000000000000"

// recordPrefix is how every line the journal writes begins; a torn last line
// is a cut-short piece of such a line.
const recordPrefix = `{"seq":`

// Report is what Open found when it read and verified the journal. It is
// meant to be shown to the operator when it is not Intact.
type Report struct {
	Path string
	Size int64 // bytes in the file when it was opened

	// Records holds every complete line that is a valid record, in file
	// order, including those after a problem, so that a journal that
	// cannot be trusted can still be shown. Their Intent, Done and Failed
	// are shared with the journal's index: read them, never change them.
	Records []Record
	// Count is the number of complete lines (valid records or not); a
	// torn last line is not counted.
	Count int
	// Valid is the number of valid records: len(Records) when the records
	// are kept (VerifyFile, Open), the same count when not (CheckFile).
	Valid int

	// TornTail is set when the file ends with a line cut short by a crash
	// during an append: a piece of a record without its newline (possibly
	// followed by zero bytes), or a last line holding zero bytes where part
	// of the record should be (a file system that lost a page). An append
	// returns only after its whole line is on disk, so a torn line was never
	// acknowledged and no transfer was posted for it. It is left out of
	// Records and Count, and the next append cuts it off (truncates the file
	// at TornOffset) before writing: the one repair the journal makes. Any
	// other damage, and any damaged line before the last, is a Problem.
	TornTail   bool
	TornOffset int64  // byte offset where the torn line starts
	TornLen    int64  // its length in bytes
	TornBytes  []byte // its bytes, at most the first 4 KiB, for display
	// TornComplete is set when the torn bytes form a whole record that only
	// lacks its newline.
	TornComplete bool

	// FirstBad is the first problem in file order, nil when none.
	FirstBad *Problem
	// Problems lists the problems in file order (at most 100).
	Problems []Problem
	// ProblemCount counts all problems found.
	ProblemCount int

	// HeadSeq and HeadHash describe the last record of an intact journal:
	// its seq and the hex SHA-256 of its line (0 and 64 zeros for an empty
	// journal); the next append chains onto them. A caller can keep them
	// elsewhere to notice, on a later open, records cut off the end, which
	// the chain alone cannot show.
	HeadSeq  uint64
	HeadHash string
}

// Intact reports whether verification found no problem, so that appends are
// allowed. A torn tail alone does not make a journal untrustworthy.
func (r *Report) Intact() bool { return r.ProblemCount == 0 }

// Err returns nil for an intact journal, else a *BrokenError (matching
// ErrBroken) naming the first problem.
func (r *Report) Err() error {
	if r.Intact() {
		return nil
	}
	return &BrokenError{Path: r.Path, First: *r.FirstBad, Problems: r.ProblemCount}
}

// String summarises the report in a few lines for the operator.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "journal %s: %s", r.Path, plural(r.Valid, "record"))
	if r.Intact() {
		b.WriteString(", chain verified")
	}
	if r.TornTail {
		fmt.Fprintf(&b, "\nthe last line (%d bytes at byte %d) was cut short by a crash during an append that was never acknowledged; it is left out and will be cut off before the next append",
			r.TornLen, r.TornOffset)
	}
	if !r.Intact() {
		fmt.Fprintf(&b, "\n%s; the journal cannot be trusted and appends are refused:", plural(r.ProblemCount, "problem"))
		for _, p := range r.Problems {
			b.WriteString("\n  ")
			b.WriteString(p.String())
		}
		if r.ProblemCount > len(r.Problems) {
			fmt.Fprintf(&b, "\n  ... %d more", r.ProblemCount-len(r.Problems))
		}
	}
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func (r *Report) addProblem(line int, off int64, reason Reason, detail string) {
	r.ProblemCount++
	if len(r.Problems) < maxReportedProblems {
		r.Problems = append(r.Problems, Problem{Line: line, Offset: off, Reason: reason, Detail: detail})
		r.FirstBad = &r.Problems[0]
	}
}

// verified is the outcome of reading a journal.
type verified struct {
	report     *Report
	idx        *index
	headSeq    uint64
	headHash   [32]byte
	tornOffset int64 // -1 when there is no torn tail
}

// parsedLine is what can be learnt of one line on its own.
type parsedLine struct {
	sum       [32]byte     // SHA-256 of the line's bytes
	rec       Record       // valid unless decodeErr is set or bad is malformed
	decodeErr error        // the line is not a record at all
	bad       *recordError // the record is invalid, or its content hash is wrong
}

// parseLines hashes, decodes and validates every line (bounds holds the
// start and end offsets of each in data, the newline left out), spreading
// the work over the available processors; lines are independent of each
// other. The records' strings are substrings of text, which holds the same
// bytes as data. With slim, the records are made slim (see slimRecord), so
// that the state checks keep only the little they read and not text; a
// record of a kind slimRecord does not know is decoded again from a string
// of its own.
func parseLines(data []byte, text string, bounds []int, slim bool) []parsedLine {
	n := len(bounds) / 2
	out := make([]parsedLine, n)
	if n == 0 {
		return out
	}
	workers := runtime.GOMAXPROCS(0)
	// Pieces of at least 256 lines, four for each worker, so that a slow
	// piece does not leave the others idle.
	piece := max(256, (n+4*workers-1)/(4*workers))
	pieces := (n + piece - 1) / piece
	workers = min(workers, pieces)
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		defer wg.Done()
		scratch := make([]byte, 0, 512)
		for {
			c := int(next.Add(1) - 1)
			if c >= pieces {
				return
			}
			from, to := c*piece, min(n, (c+1)*piece)
			for i := from; i < to; i++ {
				a, b := bounds[2*i], bounds[2*i+1]
				p := &out[i]
				p.sum = sha256.Sum256(data[a:b])
				var w wireRecord
				if err := decodeLine(text[a:b], &w); err != nil {
					p.decodeErr = err
					continue
				}
				p.rec, p.bad = w.toRecord(&scratch)
			}
			if !slim {
				continue
			}
			for _, i := range slimRecords(out[from:to]) {
				// A kind slimRecords does not know: from a string of
				// its own.
				i += from
				var w wireRecord
				if decodeLine(string(data[bounds[2*i]:bounds[2*i+1]]), &w) == nil {
					out[i].rec, out[i].bad = w.toRecord(&scratch)
				}
			}
		}
	}
	wg.Add(workers)
	for range workers - 1 {
		go work()
	}
	work()
	wg.Wait()
	return out
}

// slimRecords replaces the intent, done or failed of each record of lines,
// whose strings share the memory of a whole piece of the file, with a copy
// holding only what the state checks (index.check and index.apply) and
// their messages read: a verification that does not keep the records keeps
// only these for each trace. A field those read must be copied here too.
// The copies' strings are cut from one string, and their structs from one
// slice of each type. It returns the indexes of the records of another
// kind, left as they are.
func slimRecords(lines []parsedLine) (other []int) {
	var intents, dones, faileds, size int
	for i := range lines {
		switch r := &lines[i].rec; {
		case lines[i].malformed():
		case r.Intent != nil:
			intents++
			size += len(r.Intent.Trace) + len(r.Intent.RecipientID) + len(r.Intent.Hash)
		case r.Done != nil:
			dones++
			size += len(r.Done.Trace) + len(r.Done.SnapshotID)
		case r.Failed != nil:
			faileds++
			size += len(r.Failed.Trace) + min(len(r.Failed.Description), 1+sha256.Size)
		}
	}
	ins, ds, fs := make([]Intent, 0, intents), make([]Done, 0, dones), make([]Failed, 0, faileds)
	var b strings.Builder
	b.Grow(size)
	type cut struct {
		dst      *string
		from, to int
	}
	cuts := make([]cut, 0, 3*(intents+dones+faileds))
	add := func(dst *string, s string) {
		cuts = append(cuts, cut{dst, b.Len(), b.Len() + len(s)})
		b.WriteString(s)
	}
	for i := range lines {
		if lines[i].malformed() {
			continue
		}
		switch r := &lines[i].rec; {
		case r.Intent != nil:
			ins = append(ins, Intent{Seq: r.Intent.Seq, Time: r.Intent.Time})
			in := &ins[len(ins)-1]
			add(&in.Trace, r.Intent.Trace)
			add(&in.RecipientID, r.Intent.RecipientID)
			add(&in.Hash, r.Intent.Hash)
			r.Intent = in
		case r.Done != nil:
			ds = append(ds, Done{Seq: r.Done.Seq, Time: r.Done.Time})
			d := &ds[len(ds)-1]
			add(&d.Trace, r.Done.Trace)
			add(&d.SnapshotID, r.Done.SnapshotID)
			r.Done = d
		case r.Failed != nil:
			fs = append(fs, Failed{Code: r.Failed.Code, Seq: r.Failed.Seq, Time: r.Failed.Time})
			f := &fs[len(fs)-1]
			add(&f.Trace, r.Failed.Trace)
			// The description is only compared with a later one: a
			// long one is kept as its digest, which no valid (UTF-8)
			// description spells.
			if desc := r.Failed.Description; len(desc) > 1+sha256.Size {
				sum := sha256.Sum256([]byte(desc))
				add(&f.Description, "\xff"+string(sum[:]))
			} else {
				add(&f.Description, desc)
			}
			r.Failed = f
		default:
			other = append(other, i)
		}
	}
	all := b.String()
	for _, c := range cuts {
		*c.dst = all[c.from:c.to]
	}
	return other
}

// verifier checks the lines of a journal in file order: each against the
// previous one (seq and prev) and against the state so far (duplicate
// intents, outcomes without intent or contradicting one), applying it to
// the index. Checking goes on after a problem so that the whole file can
// be shown. The last complete line is held back until the end is known, as
// a crash during an append can leave a remnant there.
type verifier struct {
	rep      *Report
	idx      *index
	keep     bool     // the records go to rep.Records
	prevHash [32]byte // of the previous complete line; zeros before line 1
	lastSeq  uint64   // seq of the last valid record
	lines    int      // complete lines given so far

	held      bool // a line is held back
	heldLine  parsedLine
	heldOff   int64
	heldBytes []byte // the held line, when it is malformed (a possible remnant)
	heldLong  bool   // the held line is too long to be a record or a remnant
}

func newVerifier(path string, size int64, keep bool, sizeHint int) *verifier {
	v := &verifier{rep: &Report{Path: path, Size: size}, idx: newIndex(sizeHint/2 + 1), keep: keep}
	if keep {
		v.rep.Records = make([]Record, 0, sizeHint)
	}
	return v
}

// add takes the next complete lines: parsed, with their bounds in text,
// which starts at byte base of the file.
func (v *verifier) add(text string, base int64, bounds []int, parsed []parsedLine) {
	for i := range parsed {
		if v.held {
			v.check(&v.heldLine, v.heldOff, false)
		}
		a, b := bounds[2*i], bounds[2*i+1]
		v.hold(&parsed[i], base+int64(a), text[a:b], false)
	}
}

// hold keeps a line back until the next one or the end.
func (v *verifier) hold(p *parsedLine, off int64, line string, long bool) {
	v.lines++
	v.held, v.heldLine, v.heldOff, v.heldLong = true, *p, off, long
	v.heldBytes = v.heldBytes[:0]
	if p.malformed() {
		v.heldBytes = append(v.heldBytes, line...)
	}
}

// check checks one complete line at byte off; last tells whether the file
// ends right after it.
func (v *verifier) check(p *parsedLine, off int64, last bool) {
	rep := v.rep
	rep.Count++
	lineNo := rep.Count
	if p.malformed() {
		detail := ""
		if p.decodeErr != nil {
			detail = lineDetail(p.decodeErr, last)
		} else {
			detail = p.bad.detail
		}
		rep.addProblem(lineNo, off, ReasonMalformed, detail)
		v.prevHash = p.sum
		return
	}
	rec := p.rec
	if rec.Seq != v.lastSeq+1 {
		rep.addProblem(lineNo, off, ReasonSeq, seqDetail(v.lastSeq+1, rec.Seq))
	}
	if !hexEqual(rec.Prev, &v.prevHash) {
		rep.addProblem(lineNo, off, ReasonChain, chainDetail(lineNo))
	}
	if p.bad != nil { // content hash: the record is kept for display
		rep.addProblem(lineNo, off, p.bad.reason, p.bad.detail)
	}
	v.lastSeq = rec.Seq
	v.prevHash = p.sum
	rec.Line, rec.Offset = lineNo, off
	rep.Valid++
	if v.keep {
		rep.Records = append(rep.Records, rec)
	}
	if err := v.idx.check(&rec); err != nil {
		rep.addProblem(lineNo, off, stateReason(err), stateDetail(err))
		return
	}
	v.idx.apply(&rec)
}

// finish ends the file: rest is what follows the last newline, at byte off
// (restLen bytes, of which rest holds the first ones; a rest longer than
// any record is never a remnant). It decides whether the last line is a
// crash remnant, checks the held line, and completes the report.
func (v *verifier) finish(rest []byte, off, restLen int64) verified {
	rep := v.rep
	out := verified{report: rep, idx: v.idx, tornOffset: -1}
	torn := int64(-1)
	var remnant []byte
	switch {
	case restLen > 0:
		if restLen == int64(len(rest)) && isCrashRemnant(rest, false, v.lines > 0) {
			torn, remnant = off, rest
		}
		if v.held {
			v.check(&v.heldLine, v.heldOff, false)
		}
	case v.held && v.heldLine.malformed() && !v.heldLong && isCrashRemnant(v.heldBytes, true, v.lines > 1):
		torn, remnant = v.heldOff, v.heldBytes
		restLen = int64(len(v.heldBytes)) + 1
	case v.held:
		v.check(&v.heldLine, v.heldOff, true)
	}
	v.held = false

	switch {
	case torn >= 0:
		rep.TornTail = true
		rep.TornOffset = torn
		rep.TornLen = restLen
		kept := remnant[:min(len(remnant), maxTornKept):min(len(remnant), maxTornKept)]
		if int64(len(remnant)) < restLen { // a complete line: its newline too
			kept = append(kept, '\n')
		}
		rep.TornBytes = bytes.Clone(kept[:min(len(kept), maxTornKept)])
		var w wireRecord
		if decodeLine(string(remnant), &w) == nil {
			var scratch []byte
			_, bad := w.toRecord(&scratch)
			rep.TornComplete = bad == nil
		}
		out.tornOffset = torn
	case restLen > 0:
		rep.addProblem(rep.Count+1, off, ReasonMalformed,
			"the last line has no newline and is not a record cut short by a crash (this may not be a mixdesk journal)")
	}

	out.headSeq = v.lastSeq
	out.headHash = v.prevHash
	rep.HeadSeq = v.lastSeq
	rep.HeadHash = hex.EncodeToString(v.prevHash[:])
	return out
}

// verify reads the journal bytes: every complete line is hashed as it is
// (the chain covers exact bytes), decoded, validated and checked in file
// order (see verifier); the records are kept in the report.
func verify(path string, data []byte) verified {
	// Complete lines, as start and end offsets (the newline excluded).
	bounds := make([]int, 0, 2*bytes.Count(data, []byte{'\n'}))
	off := 0
	for off < len(data) {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			break
		}
		bounds = append(bounds, off, off+nl)
		off += nl + 1
	}
	text := string(data[:off]) // one copy: every field is a substring of it
	v := newVerifier(path, int64(len(data)), true, len(bounds)/2)
	v.add(text, 0, bounds, parseLines(data, text, bounds, false))
	return v.finish(data[off:], int64(off), int64(len(data)-off))
}

// isCrashRemnant reports whether the last line of the file (without its
// newline; terminated tells whether it had one) is what a crash during an
// append can leave behind: a record cut short, possibly followed by zero
// bytes; or a line with zero bytes where part of the record should be,
// which a file system that lost a page leaves. afterLine tells whether a
// complete line comes before it. The journal never writes a zero byte, and
// every line it writes starts with recordPrefix; anything else is not a
// remnant but damage.
func isCrashRemnant(line []byte, terminated, afterLine bool) bool {
	if len(line) == 0 {
		return false // an empty line is not written by an append
	}
	t := bytes.TrimRight(line, "\x00")
	switch {
	case len(t) == 0:
		return true // zeros only
	case bytes.HasPrefix(t, []byte(recordPrefix)):
		return !terminated || bytes.IndexByte(line, 0) >= 0
	case bytes.IndexByte(t, 0) < 0 && !terminated:
		return bytes.HasPrefix([]byte(recordPrefix), t) // cut within the prefix
	}
	// Zeros at the start of the line: the page holding it was lost. Only
	// after a complete line, so that a file that was never a journal is not
	// taken for one.
	return t[0] == 0 && afterLine
}

// malformed reports whether the line is not a record that can be shown.
func (p *parsedLine) malformed() bool {
	return p.decodeErr != nil || (p.bad != nil && p.bad.reason != ReasonContentHash)
}

func lineDetail(err error, last bool) string {
	msg := strings.TrimPrefix(err.Error(), errSyntax.Error()+": ")
	if last {
		return "not a valid record (" + msg + ")"
	}
	return fmt.Sprintf("not a valid record (%s); a damaged line before the end is not a crash remnant", msg)
}

func seqDetail(want, got uint64) string {
	switch {
	case got > want:
		return fmt.Sprintf("seq is %d where %d was expected: %d record(s) deleted before this line", got, want, got-want)
	default:
		return fmt.Sprintf("seq is %d where %d was expected: a record was inserted, copied or moved", got, want)
	}
}

func chainDetail(line int) string {
	if line == 1 {
		return "prev is not the genesis value: records were deleted before this line"
	}
	return fmt.Sprintf("prev does not match the hash of line %d: line %d was edited, or lines were inserted or deleted before this one", line-1, line-1)
}

func stateReason(err error) Reason {
	var dup *DuplicateTraceError
	var conflict *OutcomeConflictError
	var repeat *errRepeat
	switch {
	case errors.As(err, &dup):
		return ReasonDuplicateIntent
	case errors.As(err, &conflict):
		return ReasonConflictingOutcome
	case errors.As(err, &repeat):
		return ReasonRepeatedOutcome
	}
	return ReasonOrphanOutcome
}

func stateDetail(err error) string {
	var repeat *errRepeat
	if errors.As(err, &repeat) {
		return fmt.Sprintf("repeats the outcome of trace %s, which the journal never writes", repeat.existing.Intent.Trace)
	}
	return strings.TrimPrefix(err.Error(), "journal: ")
}

// IntactLines is how many lines at the start of the file the chain vouches
// for: every line before the first problem whose hash the next line's prev
// confirms. A problem at line L that is about L itself (its seq, its
// content, its place in the state) leaves L-1 lines vouched for; one that
// breaks the chain at L, or leaves L unreadable, leaves L-2, as line L-1
// may be the one that was changed. Without problems it is Count (the last
// line is vouched for only by HeadHash kept elsewhere).
func (r *Report) IntactLines() int {
	if r.Intact() {
		return r.Count
	}
	line := r.FirstBad.Line
	n := line - 1
	for _, p := range r.Problems {
		if p.Line == line && (p.Reason == ReasonChain || p.Reason == ReasonMalformed) {
			n = line - 2
		}
	}
	return max(n, 0)
}
