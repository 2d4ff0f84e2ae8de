package payout

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
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
// ErrJournalBroken) naming the first problem.
func (r *Report) Err() error {
	if r.Intact() {
		return nil
	}
	return &BrokenError{Path: r.Path, First: *r.FirstBad, Problems: r.ProblemCount}
}

// String summarises the report in a few lines for the operator.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "journal %s: %s", r.Path, plural(len(r.Records), "record"))
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

// parseChunk is how many lines one worker parses at a time.
const parseChunk = 2048

// parseLines hashes, decodes and validates every line, spreading the work
// over the available processors; lines are independent of each other.
func parseLines(data []byte, text string, bounds []int) []parsedLine {
	n := len(bounds) / 2
	out := make([]parsedLine, n)
	if n == 0 {
		return out
	}
	chunks := (n + parseChunk - 1) / parseChunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		defer wg.Done()
		scratch := make([]byte, 0, 512)
		for {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			for i := c * parseChunk; i < min(n, (c+1)*parseChunk); i++ {
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

// verify reads the journal bytes. Every complete line is hashed as it is
// (the chain covers exact bytes), decoded and validated; then, in file
// order, checked against the previous line (seq and prev) and against the
// state so far (duplicate intents, outcomes without intent or contradicting
// one), and applied to the index. Checking goes on after a problem so that
// the whole file can be shown.
func verify(path string, data []byte) verified {
	rep := &Report{Path: path, Size: int64(len(data))}
	v := verified{report: rep, tornOffset: -1}

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
	lines := parseLines(data, text, bounds)

	// A crash during an append can leave a remnant as the last line.
	torn := -1
	if off < len(data) {
		if isCrashRemnant(data[off:], false, len(lines) > 0) {
			torn = off
		}
	} else if n := len(lines); n > 0 && lines[n-1].malformed() {
		if a, b := bounds[2*n-2], bounds[2*n-1]; isCrashRemnant(data[a:b], true, n > 1) {
			torn = a
			lines = lines[:n-1]
		}
	}

	rep.Records = make([]Record, 0, len(lines))
	v.idx = newIndex(len(lines)/2 + 1)
	var (
		prevHash [32]byte // of the previous complete line; zeros before line 1
		lastSeq  uint64   // seq of the last valid record
	)
	for i := range lines {
		p := &lines[i]
		lineNo, lineOff := i+1, int64(bounds[2*i])
		rep.Count++
		if p.malformed() {
			detail := ""
			if p.decodeErr != nil {
				detail = lineDetail(p.decodeErr, i == len(lines)-1 && off == len(data))
			} else {
				detail = p.bad.detail
			}
			rep.addProblem(lineNo, lineOff, ReasonMalformed, detail)
			prevHash = p.sum
			continue
		}
		rec := p.rec
		if rec.Seq != lastSeq+1 {
			rep.addProblem(lineNo, lineOff, ReasonSeq, seqDetail(lastSeq+1, rec.Seq))
		}
		if !hexEqual(rec.Prev, &prevHash) {
			rep.addProblem(lineNo, lineOff, ReasonChain, chainDetail(lineNo))
		}
		if p.bad != nil { // content hash: the record is kept for display
			rep.addProblem(lineNo, lineOff, p.bad.reason, p.bad.detail)
		}
		lastSeq = rec.Seq
		prevHash = p.sum
		rec.Line, rec.Offset = lineNo, lineOff
		rep.Records = append(rep.Records, rec)

		if err := v.idx.check(&rec); err != nil {
			rep.addProblem(lineNo, lineOff, stateReason(err), stateDetail(err))
			continue
		}
		v.idx.apply(&rec)
	}

	switch {
	case torn >= 0:
		remnant := bytes.TrimSuffix(data[torn:], []byte{'\n'})
		rep.TornTail = true
		rep.TornOffset = int64(torn)
		rep.TornLen = int64(len(data) - torn)
		rep.TornBytes = bytes.Clone(data[torn:min(len(data), torn+maxTornKept)])
		var w wireRecord
		if decodeLine(string(remnant), &w) == nil {
			var scratch []byte
			_, bad := w.toRecord(&scratch)
			rep.TornComplete = bad == nil
		}
		v.tornOffset = int64(torn)
	case off < len(data):
		rep.addProblem(rep.Count+1, int64(off), ReasonMalformed,
			"the last line has no newline and is not a record cut short by a crash (this may not be a mixdesk journal)")
	}

	v.headSeq = lastSeq
	v.headHash = prevHash
	rep.HeadSeq = lastSeq
	rep.HeadHash = hex.EncodeToString(prevHash[:])
	return v
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

// VerifyFile reads and verifies the journal at path as Open does, but
// read-only: it takes no lock (a console may hold the journal open), and
// changes nothing: a torn last line is reported (Report.TornTail), not cut
// off, and the file's mode is left as it is. A line being appended while
// the file is read shows as a torn tail. The error is for a file that cannot
// be read at all; what is wrong inside it is in the Report.
func VerifyFile(path string) (*Report, error) {
	if path == "" {
		return nil, errors.New("journal: no path given")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("journal %s: stat: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("journal %s: not a regular file", path)
	}
	if fi.Size() > maxJournalBytes {
		return nil, fmt.Errorf("journal %s: %d bytes is more than this console reads (%d)", path, fi.Size(), maxJournalBytes)
	}
	// Read what is there now; the file may grow while it is read.
	data, err := io.ReadAll(io.LimitReader(f, maxJournalBytes+1))
	if err != nil {
		return nil, fmt.Errorf("journal %s: read: %w", path, err)
	}
	if len(data) > maxJournalBytes {
		return nil, fmt.Errorf("journal %s: more than %d bytes, more than this console reads", path, maxJournalBytes)
	}
	return verify(path, data).report, nil
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
