package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"mixdesk/internal/durable"
)

// maxFileBytes bounds the size of a journal Open will read (about three
// million records).
const maxFileBytes = 1 << 30

// Path is the journal file of a profile in a data directory:
// DATA/journal-PROFILE.jsonl.
func Path(dataDir, profile string) string {
	return filepath.Join(dataDir, "journal-"+profile+".jsonl")
}

// Journal is an open journal file: its lock, its verified state and an
// index of its entries in memory. See the package documentation for the
// file, the chain and what appends guarantee.
type Journal struct {
	path string
	opts options

	// wmu serialises appends and Close; it guards f, size, torn and buf,
	// and is held (with mu) to change the fields guarded by mu.
	wmu   sync.Mutex
	f     *os.File
	size  int64 // bytes of complete lines in the file
	torn  int64 // offset of a torn tail to cut off, or -1
	buf   []byte
	fsync func(*os.File) error
	// deferred is set while records appended without an fsync
	// (AppendDonesDeferred) may not be on disk yet.
	deferred bool
	// syncs counts the fsyncs of the file (Syncs).
	syncs atomic.Uint64

	// mu guards the state read by queries.
	mu      sync.RWMutex
	idx     *index
	seq     uint64   // seq of the last record
	head    [32]byte // hash of the last line
	refusal error    // why appends are refused; nil when they are allowed
}

// Option changes a default of Open.
type Option func(*options)

type options struct {
	now      func() time.Time
	operator string
	host     string
}

// WithClock sets the clock that stamps records (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithOperator sets the operator recorded on intents that name none
// (default: the login of the OS user).
func WithOperator(login string) Option {
	return func(o *options) { o.operator = login }
}

// WithHost sets the host recorded on intents that name none (default: the
// OS host name).
func WithHost(name string) Option {
	return func(o *options) { o.host = name }
}

// Open opens the journal at path, creating it (mode 0600, and its directory
// with mode 0700) if it does not exist, locks it against other processes,
// and reads and verifies every record.
//
// Open fails only when the file cannot be used at all: it cannot be created
// or read, it is not a regular file, it is too large, or another mixdesk holds
// it (ErrInUse). Whatever the content, Open then returns the journal
// and a Report of what it found. When the report is not Intact, the journal
// can be read (Entries, Lookup, the Report's Records) but every append fails
// with the report's error (ErrBroken). An existing file with a wider
// mode is narrowed to 0600.
//
// The caller must Close the journal to release the lock.
func Open(path string, opts ...Option) (*Journal, *Report, error) {
	if path == "" {
		return nil, nil, errors.New("journal: no path given")
	}
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.operator == "" {
		o.operator = currentLogin()
	}
	if o.host == "" {
		o.host, _ = os.Hostname()
	}
	o.operator, o.host = label(o.operator), label(o.host)

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("journal: create directory: %w", err)
	}
	f, created, err := openFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("journal: open: %w", err)
	}
	j, rep, err := load(path, dir, f, created, o)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return j, rep, nil
}

// openFile opens path for reading and appending, creating it with mode 0600
// when it does not exist; created tells which.
func openFile(path string) (f *os.File, created bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, os.ErrExist) {
		return nil, false, err
	}
	// The journal is never opened through a link (or as anything but a
	// regular file): a link planted at its path would send the audit trail,
	// and its mode, elsewhere.
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, false, err
	}
	if !fi.Mode().IsRegular() {
		return nil, false, fmt.Errorf("%s is not a regular file (a link?); the journal is never opened through one: move it away", path)
	}
	f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, false, err
	}
	if got, serr := f.Stat(); serr != nil || !os.SameFile(fi, got) {
		f.Close()
		return nil, false, fmt.Errorf("%s changed while it was opened; try again", path)
	}
	return f, false, nil
}

// load locks and reads an opened journal file.
func load(path, dir string, f *os.File, created bool, o options) (*Journal, *Report, error) {
	if err := lockFile(f); err != nil {
		if errors.Is(err, ErrInUse) {
			return nil, nil, fmt.Errorf("journal %s: %w (close the other console first)", path, ErrInUse)
		}
		return nil, nil, fmt.Errorf("journal %s: lock: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("journal: stat: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("journal %s: not a regular file", path)
	}
	if err := tightenMode(f, fi.Mode()); err != nil {
		return nil, nil, fmt.Errorf("journal %s: make the file private (mode 0600): %w", path, err)
	}
	if created {
		if err := durable.SyncDir(dir); err != nil {
			return nil, nil, fmt.Errorf("journal: sync directory %s: %w", dir, err)
		}
	}
	size := fi.Size()
	if size > maxFileBytes {
		return nil, nil, fmt.Errorf("journal %s: %d bytes is more than this console reads (%d)", path, size, maxFileBytes)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, size), data); err != nil {
		return nil, nil, fmt.Errorf("journal %s: read: %w", path, err)
	}

	v := verify(path, data)
	j := &Journal{
		path:  path,
		opts:  o,
		f:     f,
		size:  size,
		torn:  v.tornOffset,
		fsync: (*os.File).Sync,
		idx:   v.idx,
		seq:   v.headSeq,
		head:  v.headHash,
	}
	if v.tornOffset >= 0 {
		j.size = v.tornOffset
	}
	j.refusal = v.report.Err()
	return j, v.report, nil
}

// Path returns the name of the journal's file.
func (j *Journal) Path() string { return j.path }

// Err returns nil when appends are allowed, else why not: a *BrokenError
// (ErrBroken), ErrWrite or ErrClosed.
func (j *Journal) Err() error {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.refusal
}

// Head returns the seq of the last record and the hex SHA-256 of its line
// (0 and 64 zeros for an empty journal).
func (j *Journal) Head() (seq uint64, hash string) {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.seq, hex.EncodeToString(j.head[:])
}

// AppendIntent records that the transfer in is about to be posted.
// It fills Seq and Time, and Hash, Operator and Host when they are empty,
// validates the fields (ErrInvalidRecord), and refuses a trace that already
// has an intent with a *DuplicateTraceError (ErrDuplicateTrace), whatever its
// content: the caller decides what a repeat means. The record is on
// disk when AppendIntent returns without error; the returned Entry is in
// doubt.
func (j *Journal) AppendIntent(in Intent) (Entry, error) {
	if in.Operator == "" {
		in.Operator = j.opts.operator
	}
	if in.Host == "" {
		in.Host = j.opts.host
	}
	if err := validateIntent(&in); err != nil {
		return Entry{}, err
	}
	if in.Hash == "" {
		in.Hash = in.ContentHash()
	}
	return j.append(Record{Kind: KindIntent, Intent: &in})
}

// AppendDone records that the transfer with d.Trace was executed as snapshot
// d.SnapshotID. The trace must have an intent (ErrNoIntent). Done again with
// the same snapshot changes nothing and returns the entry; any other outcome
// already recorded refuses it with an *OutcomeConflictError
// (ErrConflictingOutcome).
func (j *Journal) AppendDone(d Done) (Entry, error) {
	if err := validateDone(&d); err != nil {
		return Entry{}, err
	}
	return j.append(Record{Kind: KindDone, Done: &d})
}

// AppendPost records, durably, that the transfer in doubt with trace is
// about to be posted again. It is refused for a trace without an intent or
// with an outcome.
func (j *Journal) AppendPost(trace string) (Entry, error) {
	if err := checkUUID("trace_id", trace); err != nil {
		return Entry{}, fmt.Errorf("journal: post: %w", err)
	}
	return j.append(Record{Kind: KindPost, Post: &Post{Trace: trace}})
}

// AppendRail records, durably, a payment rail's state of the transfer in
// doubt with s.Trace (see KindRail): when it returns without error the
// state is on disk, and the rail may go on. s.Data is copied. It is refused
// for a trace without an intent (ErrNoIntent) or with an outcome (an
// *OutcomeConflictError): once a transfer is settled its rail keeps nothing
// more. A bad stage or data too large is a *FieldError.
func (j *Journal) AppendRail(s RailState) (Entry, error) {
	if err := validateRail(&s); err != nil {
		return Entry{}, err
	}
	s.Data = bytes.Clone(s.Data)
	return j.append(Record{Kind: KindRail, Rail: &s})
}

// AppendFailed records that the payment system refused the transfer with
// f.Trace: nothing moved.
// The trace must have an intent (ErrNoIntent). The same failure again (code
// and description) changes nothing and returns the entry; any other outcome
// already recorded refuses it with an *OutcomeConflictError
// (ErrConflictingOutcome).
func (j *Journal) AppendFailed(f Failed) (Entry, error) {
	if err := validateFailed(&f); err != nil {
		return Entry{}, err
	}
	return j.append(Record{Kind: KindFailed, Failed: &f})
}

// append writes rec after the last record: stamps it, checks it against the
// state, writes its line and fsyncs, then updates the index.
func (j *Journal) append(rec Record) (Entry, error) {
	es, err := j.appendRecords([]Record{rec}, true)
	if err != nil {
		return Entry{}, err
	}
	return es[0], nil
}

// appendRecords writes recs after the last record, in order, with one write
// and, when durable, one fsync (which also makes any deferred record
// durable): each is stamped, checked against the state and encoded first,
// so that either every line is written or none. No two records of one call
// may be about the same trace. A record that repeats the recorded outcome
// is not written; its entry is returned as it is.
//
// A record appended without durable is in the file and the index when
// appendRecords returns, but may be lost in a crash until the next durable
// append or SyncDeferred. Only outcomes that a trace look-up can find
// again may be appended so (see AppendDonesDeferred).
func (j *Journal) appendRecords(recs []Record, durable bool) ([]Entry, error) {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if j.refusal != nil {
		return nil, j.refusal
	}
	out := make([]Entry, len(recs))
	written := make([]bool, len(recs))
	var group map[string]bool
	if len(recs) > 1 {
		group = make(map[string]bool, len(recs))
	}
	seq, head := j.seq, j.head
	now := j.opts.now().UTC()
	buf := j.buf[:0]
	for i := range recs {
		rec := &recs[i]
		if group != nil {
			if group[rec.Trace()] {
				return nil, fmt.Errorf("journal: two records of one append are about trace %s", rec.Trace())
			}
			group[rec.Trace()] = true
		}
		rec.Seq = seq + 1
		rec.Prev = hex.EncodeToString(head[:])
		rec.Time = now
		switch {
		case rec.Intent != nil:
			rec.Intent.Seq, rec.Intent.Time = rec.Seq, rec.Time
		case rec.Done != nil:
			rec.Done.Seq, rec.Done.Time = rec.Seq, rec.Time
		case rec.Failed != nil:
			rec.Failed.Seq, rec.Failed.Time = rec.Seq, rec.Time
		case rec.Post != nil:
			rec.Post.Seq, rec.Post.Time = rec.Seq, rec.Time
		case rec.Rail != nil:
			rec.Rail.Seq, rec.Rail.Time = rec.Seq, rec.Time
		}

		if err := j.idx.check(rec); err != nil {
			var repeat *errRepeat
			if errors.As(err, &repeat) {
				out[i] = repeat.existing
				continue
			}
			return nil, err
		}

		w := toWire(rec.Seq, rec.Prev, rec.Kind, rec.Time, rec.Intent, rec.Done, rec.Failed, rec.Post, rec.Rail)
		at := len(buf)
		buf = w.appendLine(buf)
		if err := selfCheck(buf[at:], &w); err != nil {
			return nil, err
		}
		head = sha256.Sum256(buf[at:])
		buf = append(buf, '\n')
		seq++
		written[i] = true
	}
	j.buf = buf
	if len(buf) == 0 {
		return out, nil
	}

	if j.torn >= 0 {
		if err := j.f.Truncate(j.torn); err != nil {
			return nil, fmt.Errorf("journal: cut off the torn last line: %w", err)
		}
		j.torn = -1
	}
	if _, err := j.f.Write(buf); err != nil {
		return nil, j.writeFailed("write", err)
	}
	if durable {
		if err := j.sync(); err != nil {
			return nil, j.writeFailed("fsync", err)
		}
	}
	j.size += int64(len(buf))
	j.deferred = !durable

	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq, j.head = seq, head
	for i := range recs {
		if written[i] {
			out[i] = j.idx.apply(&recs[i]).value()
		}
	}
	return out, nil
}

// AppendIntents records several intents with one write and one fsync, as
// AppendIntent records one: when it returns without error, every one of
// them is on disk and the entries are returned in the order given; when it
// fails, none was recorded (a *DuplicateTraceError or *FieldError names the
// first refused intent). No two of them may have the same trace. It lets a
// caller that posts several transfers make all their intents durable with
// one fsync before posting any of them.
func (j *Journal) AppendIntents(ins []Intent) ([]Entry, error) {
	recs := make([]Record, len(ins))
	for i := range ins {
		in := ins[i]
		if in.Operator == "" {
			in.Operator = j.opts.operator
		}
		if in.Host == "" {
			in.Host = j.opts.host
		}
		if err := validateIntent(&in); err != nil {
			return nil, err
		}
		if in.Hash == "" {
			in.Hash = in.ContentHash()
		}
		recs[i] = Record{Kind: KindIntent, Intent: &in}
	}
	return j.appendRecords(recs, true)
}

// AppendDonesDeferred records done outcomes like AppendDone (a repeat of
// the recorded outcome changes nothing; a contradicting one is refused and
// nothing is written), with one write and without waiting for the disk:
// they are in the index at once, and become durable with the next append
// by any other method, SyncDeferred or Close. Losing them
// in a crash is harmless: their intents are then in doubt, and the trace
// look-ups that settle them find the transfers again. That is why only
// done outcomes may be deferred: a lost intent would hide a transfer that
// may have been posted, and a lost failure would look like a transfer never
// tried. A caller that defers must call SyncDeferred (or Close) before it
// reports the outcomes as final.
func (j *Journal) AppendDonesDeferred(ds []Done) ([]Entry, error) {
	recs := make([]Record, len(ds))
	for i := range ds {
		d := ds[i]
		if err := validateDone(&d); err != nil {
			return nil, err
		}
		recs[i] = Record{Kind: KindDone, Done: &d}
	}
	return j.appendRecords(recs, false)
}

// SyncDeferred makes the records appended by AppendDonesDeferred or
// AppendRailDeferred durable with one fsync; it does nothing when there are
// none, or after Close. A failed fsync refuses further appends (ErrWrite),
// as a failed append does; the deferred records stay in the index, and a
// fresh Open shows what reached the disk.
func (j *Journal) SyncDeferred() error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if !j.deferred || j.f == nil {
		return nil
	}
	if err := j.sync(); err != nil {
		refusal := fmt.Errorf("%w (fsync: %w); open the journal again to verify it", ErrWrite, err)
		j.mu.Lock()
		j.refusal = refusal
		j.mu.Unlock()
		return refusal
	}
	j.deferred = false
	return nil
}

// sync fsyncs the file and counts it; wmu must be held.
func (j *Journal) sync() error {
	j.syncs.Add(1)
	return j.fsync(j.f)
}

// Syncs returns how many times the file was fsynced since Open, failed
// attempts included: one for each durable append or group of appends, and
// one for each SyncDeferred or Close that had deferred records to make
// durable. It lets a caller check that grouped appends (AppendIntents,
// AppendDonesDeferred) are grouped.
func (j *Journal) Syncs() uint64 { return j.syncs.Load() }

// selfCheck reads an encoded line back as Open would, so that nothing is
// written that a later Open would reject.
func selfCheck(line []byte, w *wireRecord) error {
	var back wireRecord
	var scratch []byte
	if err := decodeLine(string(line), &back); err != nil {
		return fmt.Errorf("journal: record does not read back (%v); nothing was written", err)
	}
	if !back.sameValues(w) {
		return errors.New("journal: record does not read back unchanged; nothing was written")
	}
	if _, bad := back.toRecord(&scratch); bad != nil {
		return fmt.Errorf("journal: record does not read back (%s); nothing was written", bad.detail)
	}
	return nil
}

// writeFailed takes back a failed append as far as it can and refuses
// further appends: after a failed write or fsync the file's state is not
// known, and only a fresh Open can verify it.
func (j *Journal) writeFailed(op string, err error) error {
	_ = j.f.Truncate(j.size)
	refusal := fmt.Errorf("%w (%s: %w); open the journal again to verify it", ErrWrite, op, err)
	j.mu.Lock()
	j.refusal = refusal
	j.mu.Unlock()
	return refusal
}

// Close releases the lock and closes the file. Queries still answer from
// memory afterwards; appends fail with ErrClosed. Closing twice is
// harmless.
func (j *Journal) Close() error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if j.f == nil {
		return nil
	}
	if j.deferred {
		// Best effort: a deferred record lost here is settled by trace.
		_ = j.sync()
		j.deferred = false
	}
	err := j.f.Close()
	j.f = nil
	j.mu.Lock()
	j.refusal = ErrClosed
	j.mu.Unlock()
	if err != nil {
		return fmt.Errorf("journal: close: %w", err)
	}
	return nil
}

// currentLogin names the OS user for the operator field.
func currentLogin() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "LOGNAME", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return fmt.Sprintf("uid %d", os.Getuid())
}

// label makes a default operator or host name fit a record: valid UTF-8 of
// at most MaxLabelLen bytes.
func label(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= MaxLabelLen {
		return s
	}
	cut := MaxLabelLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
