package payout

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/payout/rail"
)

// BatchProgress is where a batch stands while it runs. Counts are of valid
// rows; Total = Done + Found + Failed + InDoubt + Skipped + the rows not
// sent yet.
type BatchProgress struct {
	Total int
	Done  int // paid now, by this run
	// Found counts the rows this run found paid before on the server (see
	// BatchItem.Found): done, but nothing moved now.
	Found   int
	Failed  int // refused: by the server, or because the key was paid with other content
	InDoubt int // outcome unknown; settled by trace before anything else is sent
	Skipped int // done before this run, as the journal says: not sent
	Line    int // the line being sent, 0 when none
	Paused  bool
	// Rate is rows finished per second of this run, pauses left out (a
	// speed, not money, hence a float); 0 until a row is finished.
	Rate float64
	// Remaining is the time the rows not sent yet would take at Rate; 0
	// when unknown.
	Remaining time.Duration
	// WaitUntil, when not zero, is the end of the window of a post that may
	// still reach the server: the batch waits for it before it posts
	// anything (see DefaultPostWindow). WaitLine is that row's line, 0 when
	// the post is not a row of this batch.
	WaitUntil time.Time
	WaitLine  int
}

// Left is the number of rows not sent yet.
func (p BatchProgress) Left() int {
	return p.Total - p.Done - p.Found - p.Failed - p.InDoubt - p.Skipped
}

// BatchControl pauses and stops a running batch from another goroutine (the
// screen's keys). A pause or stop takes effect once the rows already
// recorded in the journal are posted, so that none is left in doubt: the
// rest of the current group and, on a fast server, the group recorded
// ahead (see RunBatch) — over a real network, the row being sent. The zero
// value is ready to use; a nil *BatchControl never pauses or stops.
type BatchControl struct {
	mu      sync.Mutex
	paused  bool
	stopped bool
	changed chan struct{} // closed at the next change
}

// Pause holds the batch before the next rows it would record.
func (c *BatchControl) Pause() { c.set(func() { c.paused = true }) }

// Resume lets a paused batch go on.
func (c *BatchControl) Resume() { c.set(func() { c.paused = false }) }

// Stop ends the batch before the next rows it would record; a paused
// batch ends at once. The rows not sent are left new: running the file
// again sends them.
func (c *BatchControl) Stop() { c.set(func() { c.stopped = true }) }

// Paused reports whether Pause was called without a Resume since.
func (c *BatchControl) Paused() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused
}

// Stopped reports whether Stop was called.
func (c *BatchControl) Stopped() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

func (c *BatchControl) set(f func()) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f()
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// state returns the flags and a channel closed at the next change.
func (c *BatchControl) state() (paused, stopped bool, changed <-chan struct{}) {
	if c == nil {
		return false, false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.paused, c.stopped, c.changed
}

// Errors of RunBatch.
var (
	// ErrBatchNotReady: the batch has errors, or duplicates not
	// acknowledged; nothing was sent.
	ErrBatchNotReady = errors.New("payout: the batch cannot be sent: it has errors or duplicates not acknowledged; nothing was sent")
	// ErrBatchStale: the batch was prepared more than MaxReviewAge ago;
	// prepare it again (balances, caps and the journal may have changed).
	ErrBatchStale = errors.New("payout: this batch was checked more than 10 minutes ago; check it again (balances and caps may have changed); nothing was sent")
	// ErrBatchStopped: the operator stopped the batch.
	ErrBatchStopped = errors.New("payout: the batch was stopped")
	// ErrBatchRunning: RunBatch was called for a batch already running.
	ErrBatchRunning = errors.New("payout: this batch is already being sent")
)

// BatchStopError says why and where a batch ended before its last row.
// Err is ErrBatchStopped, the context's error, a PIN refusal
// (rail.IsPINRefused), an insufficient balance (rail.IsInsufficient),
// a *CapError, transfers that stay in doubt, or a journal failure.
type BatchStopError struct {
	Line int // the row it stopped at (the refused one, or the next not sent); 0 when none
	Err  error
}

func (e *BatchStopError) Error() string {
	if e.Line == 0 {
		return "payout: the batch stopped: " + errorLine(e.Err)
	}
	return fmt.Sprintf("payout: the batch stopped at line %d: %s", e.Line, errorLine(e.Err))
}

func (e *BatchStopError) Unwrap() error { return e.Err }

// apply records the result of a row (by trace) in the batch and returns
// its line; 0 for a trace that is not this batch's. found says that a done
// row was paid before this run (see paidBefore).
func (r *batchRun) apply(trace string, res Result, found bool) int {
	b := r.b
	b.mu.Lock()
	i, ok := r.byTrace[trace]
	if !ok {
		b.mu.Unlock()
		return 0
	}
	it := &b.items[i]
	switch res.State {
	case journal.StateDone:
		it.State, it.Err, it.Found = ItemDone, nil, found
		if res.Snap != nil {
			it.SnapshotID = res.Snap.SnapshotID
		}
	case journal.StateFailed:
		it.State, it.Err = ItemFailed, res.Err
	default:
		it.State, it.Err = ItemInDoubt, res.Err
		if it.Err == nil {
			it.Err = errors.New("in doubt")
		}
	}
	line := it.Row.Line
	b.mu.Unlock()
	if r.progress != nil {
		r.progress(r.snapshot(0, false))
	}
	return line
}

// mark sets the state of rows.
func (r *batchRun) mark(idx []int, st ItemState, err error) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, i := range idx {
		b.items[i].State, b.items[i].Err = st, err
	}
}

// lineOfTrace is the line of the row with trace, 0 when none.
func (r *batchRun) lineOfTrace(trace string) int {
	i, ok := r.byTrace[trace]
	if !ok {
		return 0
	}
	return r.lineOf(i)
}

func (r *batchRun) lineOf(i int) int {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.items[i].Row.Line
}

// snapshot is the progress now.
func (r *batchRun) snapshot(line int, paused bool) BatchProgress {
	b := r.b
	b.mu.Lock()
	p := b.countsLocked()
	b.mu.Unlock()
	p.Line, p.Paused = line, paused
	if r.waiting != nil {
		p.WaitUntil = r.waiting.Until
		p.WaitLine = r.lineOfTrace(r.waiting.Trace)
	}
	if el := time.Since(r.start) - r.paused; r.finished > 0 && el > 0 {
		p.Rate = float64(r.finished) / el.Seconds()
		if left := p.Left(); left > 0 {
			p.Remaining = time.Duration(float64(left) / p.Rate * float64(time.Second))
		}
	}
	return p
}

// paidBeforeMargin is how much older than this run's first post of a row
// the transfer that proves it paid must be to count as paid before: more
// than the clock skew a session can have and still be answered (the
// server takes a token until its exp, TokenTTL after our iat, and an iat
// up to TokenTTL ahead of its own clock), and a minute more. A transfer
// made under the trace less than that before the post cannot be told from
// one made by it, and is counted as paid now.
const paidBeforeMargin = mixin.TokenTTL + time.Minute

// notePost notes the desk's time of this run's first post of trace.
func (r *batchRun) notePost(trace string, at time.Time) {
	if _, ok := r.posted[trace]; !ok {
		r.posted[trace] = at
	}
}

// paidBefore tells whether a row found done was paid before this run
// rather than by it: the server answered its first post as a trace used
// already (traceUsed), this run never posted it (it was found by a trace
// look-up), or the transfer is older than this run's first post of it by
// more than paidBeforeMargin (the server answers a post of a trace paid
// with the same content with that transfer, and moves nothing).
func (r *batchRun) paidBefore(trace string, snap *rail.Movement, traceUsed bool) bool {
	at, posted := r.posted[trace]
	switch {
	case !posted || traceUsed:
		return true
	case snap == nil || snap.CreatedAt.IsZero():
		return false
	}
	return snap.CreatedAt.Before(at.Add(-paidBeforeMargin))
}
