package payout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mixdesk/journal"
	"mixdesk/payout/rail"
)

// Group commit. A row's intent must be on disk before its post, and on a
// fast server an fsync costs about as much as a post. So the intents of a
// group of rows are made durable with one fsync (Journal.AppendIntents), and the
// done outcomes of a group are appended together after its posts, without
// waiting for the disk (Journal.AppendDonesDeferred: durable with the
// next fsync; one lost in a crash leaves its intent in doubt, and the trace
// look-up that settles it finds the transfer again). While a group is
// posted, the next group's intents are written and fsynced in the
// background, so that the disk's time hides behind the server's.
//
// Groups grow (1, 2, 4… up to maxBatchWindow rows) while every row of a
// group is done, but never beyond about batchWindowSpan of posting: over a
// real network, where a post takes far longer than an fsync, a group stays
// one row and nothing is written ahead. Any refusal or doubt brings the
// group back to one row. Nothing is written ahead before a whole group of
// rows went through (the PIN and the server proven); so rows recorded but
// not posted when the batch stops are at most the rest of the current
// group and the group written ahead.
const maxBatchWindow = 64

// batchWindowSpan bounds a group by time; a variable so that a test can
// take the machine's speed out of the group sizes.
var batchWindowSpan = 20 * time.Millisecond

// batchWindow is the size of the next group of rows.
type batchWindow struct {
	size int
	avg  time.Duration // moving average of one row's post
}

func (w *batchWindow) observe(d time.Duration) {
	if w.avg == 0 {
		w.avg = d
		return
	}
	w.avg = (7*w.avg + d) / 8
}

func (w *batchWindow) grow() {
	limit := maxBatchWindow
	if w.avg > 0 {
		limit = min(limit, max(1, int(batchWindowSpan/w.avg)))
	}
	w.size = max(1, min(2*w.size, limit))
}

// Why rows recorded but not posted are in doubt.
var (
	errNotPostedPIN     = errors.New("recorded but not posted: the batch stopped on a refused PIN; it is settled by trace, and posted with the PIN typed then, before anything else is sent")
	errNotPostedStopped = errors.New("recorded but not posted: the batch was interrupted; it is settled by trace before anything else is sent")
	errNotPostedJournal = errors.New("recorded but not posted: the journal failed; it is settled by trace before anything else is sent")
)

// RunBatch pays a prepared, acknowledged and confirmed batch, row by row in
// file order, and returns where it stands at the end. pin is the
// operator's PIN. ctl (may be nil) pauses or stops it; progress (may be
// nil) is called from RunBatch's goroutine before and after every row,
// when it pauses and at the end; it must return quickly (hand the value to
// the screen and return). Other sends and settlements of the desk wait
// while a batch runs (not while it is paused).
//
// First each row's state is read again from the journal, and every
// transfer in doubt is settled by trace (this batch's rows in doubt and any
// other payout's), as before any send, and the merges the rows need
// (rail.Merger, Batch.Merges) are paid. Then, group by group
// (see maxBatchWindow): anything left in doubt is settled, the caps are
// checked against the journal as it is now, the rows' intents (with the
// batch id and row key) are made durable, and each row is posted with its
// trace and its outcome recorded. Rows done before are skipped; rows
// refused before are tried again under their next attempt trace (see
// BatchTrace). A row refused by the server does not stop the others,
// except:
//
//   - a PIN refusal (rail.IsPINRefused) stops the batch at once: no other
//     post is made with that PIN. Rows already recorded stay in doubt;
//     they are settled by trace (and posted, if they were not) before
//     anything else is sent, with the PIN typed then;
//   - an insufficient balance (rail.IsInsufficient) stops the batch once the rows
//     already recorded are posted;
//   - a row over a cap (*CapError) stops the batch before it;
//   - transfers that settling leaves in doubt (the server is not
//     answering) stop the batch before any new row.
//
// A pause or stop (ctl) also takes effect once the rows already recorded
// are posted. A cancelled ctx stops at once; rows recorded and not posted
// stay in doubt.
//
// The error is nil when every row was tried, a *BatchStopError when the
// batch ended early (the rows not reached stay new: running the file again
// sends them), or an error from the checks before anything was sent
// (ErrBatchNotReady, ErrBatchStale, a malformed PIN, ErrBatchRunning).
func (d *Desk) RunBatch(ctx context.Context, b *Batch, pin string, ctl *BatchControl, progress func(BatchProgress)) (BatchProgress, error) {
	if b == nil || b.desk != d {
		return BatchProgress{}, errors.New("payout: this batch was not prepared by this desk")
	}
	if !b.Ready() {
		return b.Counts(), ErrBatchNotReady
	}
	if d.now().Sub(b.PreparedAt) > MaxReviewAge {
		return b.Counts(), ErrBatchStale
	}
	if err := d.checkPIN(pin); err != nil {
		return b.Counts(), err
	}
	// Locks are taken in this order everywhere: d.sendMu, then b.mu.
	d.sendMu.Lock()
	b.mu.Lock()
	if b.running {
		b.mu.Unlock()
		d.sendMu.Unlock()
		return b.Counts(), ErrBatchRunning
	}
	b.running, b.stopErr = true, nil
	// The journal may have moved since the batch was prepared (a payout
	// settled meanwhile, or this file run from another review of it).
	byTrace := make(map[string]int, len(b.items))
	earlier := d.earlierBatchKeys(b.ID)
	for i := range b.items {
		if it := &b.items[i]; it.State != ItemInvalid {
			d.rowState(b.ID, it, &b.inputs[i], &b.hashes[i], earlier)
			byTrace[it.Trace] = i
		}
	}
	b.mu.Unlock()
	d.sendMu.Unlock()

	r := &batchRun{d: d, b: b, pin: pin, ctl: ctl, progress: progress, byTrace: byTrace, start: time.Now(), w: batchWindow{size: 1},
		posted: make(map[string]time.Time)}
	err := r.run(ctx)
	if !r.crashed {
		if serr := d.journal.SyncDeferred(); serr != nil && err == nil {
			err = &BatchStopError{Err: fmt.Errorf("the outcomes of the last rows may not be on disk: %w", serr)}
		}
	}
	b.mu.Lock()
	b.running, b.stopErr = false, err
	b.mu.Unlock()
	p := r.snapshot(0, false)
	if progress != nil {
		progress(p)
	}
	return p, err
}

// batchRun is one RunBatch.
type batchRun struct {
	d        *Desk
	b        *Batch
	pin      string
	ctl      *BatchControl
	progress func(BatchProgress)
	byTrace  map[string]int // item index by trace

	start    time.Time
	paused   time.Duration
	finished int // rows finished by this run
	w        batchWindow
	next     int  // the next item to look at
	crashed  bool // a test hook stood for a crash: nothing more is done
	// waiting is the post window the batch waits out, nil when none.
	waiting *PostPendingError
	// posted is the desk's time of this run's first post of each trace it
	// posted (see paidBefore).
	posted map[string]time.Time
}

// rowGroup is a group of rows whose intents are recorded together.
type rowGroup struct {
	idx     []int // item indexes
	ins     []rail.Payment
	intents []journal.Intent
	// capStop is the cap that cut the group short: the batch stops after it.
	capStop error

	written chan struct{} // closed once a write ahead is over; nil for a write in line
	err     error         // why the intents could not be recorded

	dones   []journal.Done  // outcomes to append after the posts
	done    map[string]bool // the traces of dones: known done, not in flight
	allDone bool
}

func (r *batchRun) newGroup(idx []int, capStop error) *rowGroup {
	b := r.b
	g := &rowGroup{idx: idx, capStop: capStop, ins: make([]rail.Payment, len(idx)), intents: make([]journal.Intent, len(idx)), done: map[string]bool{}}
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, i := range idx {
		in := b.inputs[i]
		g.ins[k] = in
		g.intents[k] = journal.Intent{Trace: in.Key, AssetID: in.AssetID, RecipientID: in.RecipientID, Amount: in.Amount, Memo: in.Memo,
			Hash: b.hashes[i], BatchID: b.ID, RowKey: b.items[i].Key}
	}
	return g
}

// write records the group's intents with one fsync.
func (r *batchRun) write(g *rowGroup) error {
	traces := make([]string, len(g.ins))
	for k, in := range g.ins {
		traces[k] = in.Key
	}
	r.d.markUnposted(traces...)
	_, g.err = r.d.journal.AppendIntents(g.intents)
	return g.err
}

// writeAhead records the group's intents in the background.
func (r *batchRun) writeAhead(g *rowGroup) {
	g.written = make(chan struct{})
	go func() {
		defer close(g.written)
		r.write(g)
	}()
}

// wait waits for a write ahead and returns its error.
func (g *rowGroup) wait() error {
	if g.written != nil {
		<-g.written
	}
	return g.err
}

func (g *rowGroup) traces() map[string]bool {
	m := make(map[string]bool, len(g.ins))
	for _, in := range g.ins {
		m[in.Key] = true
	}
	return m
}

func (r *batchRun) run(ctx context.Context) error {
	d := r.d
	d.sendMu.Lock()
	defer d.sendMu.Unlock() // wait lets go of it while paused
	if err := r.settle(ctx, nil); err != nil {
		return err
	}
	if err := r.mergeFirst(ctx); err != nil {
		return err
	}
	var ahead *rowGroup
	defer func() {
		// A group written ahead and never posted is in doubt; it is
		// settled by trace before anything else is sent.
		if ahead != nil && ahead.wait() == nil {
			r.mark(ahead.idx, ItemInDoubt, errNotPostedStopped)
		}
	}()
	for {
		cur := ahead
		ahead = nil
		if cur != nil {
			if err := cur.wait(); err != nil {
				return &BatchStopError{Line: r.lineOf(cur.idx[0]), Err: fmt.Errorf("recording the intents (nothing more was sent): %w", err)}
			}
			// A row of the last group may have been left in doubt: it is
			// settled before anything new is posted.
			if err := r.settle(ctx, cur.traces()); err != nil {
				r.mark(cur.idx, ItemInDoubt, errNotPostedStopped)
				return err
			}
		} else {
			if err := r.wait(ctx); err != nil {
				return &BatchStopError{Line: r.nextLine(), Err: err}
			}
			if err := d.journal.Err(); err != nil {
				return &BatchStopError{Line: r.nextLine(), Err: fmt.Errorf("nothing more was sent: %w", err)}
			}
			if err := r.settle(ctx, nil); err != nil {
				return err
			}
			idx := r.nextGroup()
			if len(idx) == 0 {
				return nil
			}
			idx, over := r.withinCaps(ctx, idx)
			if len(idx) == 0 {
				return &BatchStopError{Line: r.nextLine(), Err: over}
			}
			cur = r.newGroup(idx, over)
			if err := r.write(cur); err != nil {
				return &BatchStopError{Line: r.lineOf(idx[0]), Err: fmt.Errorf("recording the intents (nothing was sent): %w", err)}
			}
		}

		if cur.capStop == nil && r.w.size >= 2 && !r.ctl.Paused() && !r.ctl.Stopped() && ctx.Err() == nil {
			if idx := r.nextGroup(); len(idx) > 0 {
				if idx, over := r.withinCaps(ctx, idx); len(idx) > 0 {
					ahead = r.newGroup(idx, over)
					r.writeAhead(ahead)
				}
			}
		}

		stop, err := r.post(ctx, cur)
		if r.crashed {
			return err
		}
		if ferr := r.flush(cur); err == nil {
			err = ferr
		}
		if err != nil {
			return err
		}
		if stop == nil && cur.capStop != nil {
			stop = &BatchStopError{Line: r.nextLine(), Err: cur.capStop}
		}
		if stop != nil && ahead != nil {
			// Rows recorded ahead are posted too, so that none is left
			// in doubt, unless the PIN was refused or ctx is done.
			g := ahead
			ahead = nil
			if g.wait() == nil {
				switch {
				case rail.IsPINRefused(stop):
					r.mark(g.idx, ItemInDoubt, errNotPostedPIN)
				case ctx.Err() != nil:
					r.mark(g.idx, ItemInDoubt, errNotPostedStopped)
				default:
					_, aerr := r.post(ctx, g)
					if !r.crashed {
						if ferr := r.flush(g); aerr == nil {
							aerr = ferr
						}
					}
					if aerr != nil {
						return aerr
					}
				}
			}
		}
		if stop != nil {
			return stop
		}
		if cur.allDone {
			r.w.grow()
		} else {
			r.w.size = 1
		}
	}
}

// post posts the rows of a recorded group in order. stop is a
// *BatchStopError for a refusal that stops the batch (the rest of the group
// is still posted, but not after a PIN refusal); err is for a journal that
// could not record an outcome, or a crash the test hook stands for.
func (r *batchRun) post(ctx context.Context, g *rowGroup) (stop, err error) {
	d := r.d
	g.allDone = true
	for k, i := range g.idx {
		line := r.lineOf(i)
		if testHookAfterIntent != nil {
			if err := testHookAfterIntent(); err != nil {
				r.crashed = true
				r.mark(g.idx[k:], ItemInDoubt, err)
				return stop, &BatchStopError{Line: line, Err: err}
			}
		}
		if rail.IsPINRefused(stop) {
			r.mark(g.idx[k:], ItemInDoubt, errNotPostedPIN)
			g.allDone = false
			break
		}
		if cerr := ctx.Err(); cerr != nil {
			r.mark(g.idx[k:], ItemInDoubt, errNotPostedStopped)
			g.allDone = false
			if stop == nil {
				stop = &BatchStopError{Line: line, Err: cerr}
			}
			break
		}
		if gerr := d.pinGateExcept(g.done); gerr != nil {
			// A post of an earlier row may still reach the server: the
			// rest of the group waits, recorded and not posted, and is
			// settled (posted) once that post's window is over. Rows
			// of the group done (recorded after it) are not in flight.
			r.mark(g.idx[k:], ItemInDoubt, &NotPostedError{Reason: gerr})
			g.allDone = false
			break
		}
		if r.progress != nil {
			r.progress(r.snapshot(line, false))
		}
		in := g.ins[k]
		r.notePost(in.Key, d.now())
		t := time.Now()
		snap, perr := d.post(ctx, in, r.pin)
		var res Result
		if perr == nil && checkAnswer(snap, in) == nil {
			res = Result{TraceID: in.Key, State: journal.StateDone, Snap: snap}
			g.dones = append(g.dones, doneRecord(in.Key, snap))
			g.done[in.Key] = true
		} else {
			var rerr error
			res, rerr = d.record(ctx, in, snap, perr, false)
			if rerr != nil {
				r.apply(in.Key, res, res.State == journal.StateDone && r.paidBefore(in.Key, res.Snap, rail.IsKeyUsed(perr)))
				r.mark(g.idx[k+1:], ItemInDoubt, errNotPostedJournal)
				return stop, &BatchStopError{Line: line, Err: rerr}
			}
		}
		r.w.observe(time.Since(t))
		r.finished++
		r.apply(in.Key, res, res.State == journal.StateDone && r.paidBefore(in.Key, res.Snap, rail.IsKeyUsed(perr)))
		if res.State != journal.StateDone {
			g.allDone = false
		}
		if stop == nil && res.State == journal.StateFailed && (rail.IsPINRefused(res.Err) || rail.IsInsufficient(res.Err)) {
			stop = &BatchStopError{Line: line, Err: res.Err}
		}
	}
	return stop, nil
}

// flush appends the done outcomes of a posted group.
func (r *batchRun) flush(g *rowGroup) error {
	if len(g.dones) == 0 {
		return nil
	}
	ds := g.dones
	g.dones = nil
	if _, err := r.d.journal.AppendDonesDeferred(ds); err != nil {
		return &BatchStopError{Err: fmt.Errorf("%d transfer(s) were made but recording them failed (they are settled by trace at the next start): %w", len(ds), err)}
	}
	return nil
}

// wait holds while the batch is paused, letting go of the desk's send lock
// meanwhile; it returns ErrBatchStopped or the context's error when the
// batch must end.
func (r *batchRun) wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		paused, stopped, changed := r.ctl.state()
		if stopped {
			return ErrBatchStopped
		}
		if !paused {
			return nil
		}
		if r.progress != nil {
			r.progress(r.snapshot(0, true))
		}
		t := time.Now()
		r.d.sendMu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
		}
		r.d.sendMu.Lock()
		r.paused += time.Since(t)
	}
}

// nextGroup returns the indexes of the next rows to send: new rows, at
// most the window's size.
func (r *batchRun) nextGroup() []int {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	var group []int
	for ; r.next < len(b.items) && len(group) < r.w.size; r.next++ {
		if b.items[r.next].State == ItemNew {
			group = append(group, r.next)
		}
	}
	return group
}

// nextLine is the line of the next new row, 0 when none is left.
func (r *batchRun) nextLine() int {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := r.next; i < len(b.items); i++ {
		if b.items[i].State == ItemNew {
			return b.items[i].Row.Line
		}
	}
	return 0
}

// settle settles the transfers of the journal in doubt, as Send does
// before a new payout, but those of skip (a group recorded and about to be
// posted). A transfer whose post may still reach the server is waited for
// (the batch shows until when; a stop ends the wait), then settled. The
// caller holds d.sendMu.
func (r *batchRun) settle(ctx context.Context, skip map[string]bool) error {
	for {
		var still int
		var last error
		var wait *PostPendingError
		for _, e := range r.d.journal.InDoubtEntries() {
			if skip[e.Intent.Trace] {
				continue
			}
			at := r.d.now()
			res, err := r.d.settle(ctx, e, r.pin)
			if res.Reposted {
				r.notePost(e.Intent.Trace, at)
			}
			line := r.apply(e.Intent.Trace, res, res.State == journal.StateDone && r.paidBefore(e.Intent.Trace, res.Snap, false))
			if err != nil {
				return &BatchStopError{Line: line, Err: err}
			}
			if res.State == journal.StateFailed && rail.IsPINRefused(res.Err) {
				return &BatchStopError{Line: line, Err: fmt.Errorf("settling a transfer in doubt, the PIN was refused (nothing more was sent): %w", res.Err)}
			}
			if res.State != journal.StateInDoubt {
				continue
			}
			var pe *PostPendingError
			if errors.As(res.Err, &pe) {
				if wait == nil || pe.Until.After(wait.Until) {
					wait = pe
				}
				continue
			}
			still, last = still+1, res.Err
		}
		if still > 0 {
			return &BatchStopError{Line: r.nextLine(), Err: fmt.Errorf(
				"%d transfer(s) are still in doubt (the server could not tell: %v); nothing more is sent until they are settled: run the batch again later", still, last)}
		}
		if wait == nil {
			return nil
		}
		if err := r.waitOut(ctx, wait); err != nil {
			return &BatchStopError{Line: r.nextLine(), Err: err}
		}
	}
}

// waitOut waits until pe.Until on the desk's clock, or at most
// waitLookAgain before the caller looks the traces up again, letting go of
// the desk's send lock meanwhile and showing the wait in the progress; it
// returns ErrBatchStopped or the context's error when the batch must end.
func (r *batchRun) waitOut(ctx context.Context, pe *PostPendingError) error {
	r.waiting = pe
	defer func() { r.waiting = nil }()
	t := time.Now()
	defer func() { r.paused += time.Since(t) }()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, stopped, changed := r.ctl.state()
		if stopped {
			return ErrBatchStopped
		}
		left := pe.Until.Sub(r.d.now())
		if left <= 0 || time.Since(t) >= waitLookAgain {
			// Over, or time to look the traces up again: a held post that
			// has executed meanwhile is found, and the batch goes on
			// without waiting out the rest of the window.
			return nil
		}
		if r.progress != nil {
			r.progress(r.snapshot(0, false))
		}
		r.d.sendMu.Unlock()
		tm := time.NewTimer(min(left, waitPoll))
		select {
		case <-tm.C:
		case <-changed:
		case <-ctx.Done():
		}
		tm.Stop()
		r.d.sendMu.Lock()
	}
}

// waitPoll is how often a wait for a post window looks at the clock.
const waitPoll = 250 * time.Millisecond

// waitLookAgain is how often, while a batch waits for a post window, the
// posts in doubt are looked up again (reads only: nothing is posted before
// the window is over).
var waitLookAgain = 10 * time.Second
