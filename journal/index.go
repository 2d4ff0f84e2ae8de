package journal

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// State is where a traced transfer stands according to the journal.
type State int

// The states of an entry.
const (
	// StateInDoubt: an intent without an outcome. The transfer may or may
	// not have been executed; settle it by a trace look-up.
	StateInDoubt State = iota
	// StateDone: the transfer was executed (Entry.Done).
	StateDone
	// StateFailed: the server refused the transfer (Entry.Failed).
	StateFailed
)

func (s State) String() string {
	switch s {
	case StateInDoubt:
		return "in-doubt"
	case StateDone:
		return "done"
	case StateFailed:
		return "failed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Entry is one traced transfer: its intent and its outcome. Entries are
// values; changing one does not change the journal.
type Entry struct {
	Intent Intent
	State  State
	Done   Done   // set when State is StateDone
	Failed Failed // set when State is StateFailed
	// Posts is how many times the transfer was (or was about to be) posted:
	// 1 for the intent, plus one for each post record.
	Posts int
	// LastPost is the time of the latest of those: the intent's time, or
	// the last post record's. A post may reach the payment system until
	// LastPost plus however long the system accepts a signed request (the
	// caller's post window).
	LastPost time.Time
	// Rail holds the payment rail's states of the transfer (rail records),
	// in the order they were kept, while it is in doubt; it is empty once
	// the transfer is settled (the records stay in the file). Their Data
	// is shared with the journal: read it, never change it.
	Rail []RailState
}

// entry is the index's form of an Entry. The records it points to are never
// changed once made.
type entry struct {
	intent   *Intent
	done     *Done
	failed   *Failed
	reposts  int          // post records
	lastPost time.Time    // the last post record's time; zero when none
	rail     []*RailState // rail records, while in doubt
}

func (e *entry) state() State {
	switch {
	case e.done != nil:
		return StateDone
	case e.failed != nil:
		return StateFailed
	}
	return StateInDoubt
}

// value returns the entry as an Entry, copying the records.
func (e *entry) value() Entry {
	v := Entry{Intent: *e.intent, State: e.state(), Posts: 1 + e.reposts, LastPost: e.intent.Time}
	if e.reposts > 0 {
		v.LastPost = e.lastPost
	}
	if e.done != nil {
		v.Done = *e.done
	}
	if e.failed != nil {
		v.Failed = *e.failed
	}
	if len(e.rail) > 0 {
		v.Rail = make([]RailState, len(e.rail))
		for i, r := range e.rail {
			v.Rail[i] = *r
		}
	}
	return v
}

// index is the state derived from the records, kept up to date on every
// append so that queries never read the file.
type index struct {
	entries []entry        // in intent order
	byTrace map[string]int // trace -> position in entries
	inDoubt map[string]int // trace -> position, for entries in doubt
	byTime  []int          // positions in entries, ordered by intent time
	paid    map[string]int // recipient id -> number of done entries
}

func newIndex(sizeHint int) *index {
	return &index{
		entries: make([]entry, 0, sizeHint),
		byTrace: make(map[string]int, sizeHint),
		inDoubt: make(map[string]int),
		byTime:  make([]int, 0, sizeHint),
		paid:    make(map[string]int),
	}
}

// errRepeat is returned by check for an outcome that repeats the recorded
// one; appending it changes nothing.
type errRepeat struct{ existing Entry }

func (e *errRepeat) Error() string { return "journal: outcome already recorded" }

// check tells whether rec may follow the records applied so far. It returns
// nil, *errRepeat for a harmless repeat, or the typed error for a refusal.
func (x *index) check(rec *Record) error {
	pos, ok := x.byTrace[rec.Trace()]
	if rec.Kind == KindIntent {
		if ok {
			e := &x.entries[pos]
			return &DuplicateTraceError{Existing: e.value(), SameContent: e.intent.Hash == rec.Intent.Hash}
		}
		return nil
	}
	if !ok {
		return fmt.Errorf("journal: %s for trace %s: %w", rec.Kind, rec.Trace(), ErrNoIntent)
	}
	e := &x.entries[pos]
	switch {
	case e.done == nil && e.failed == nil:
		return nil
	case rec.Kind == KindPost, rec.Kind == KindRail:
		// A post record after the outcome would say that a transfer was
		// posted again although it was settled; a rail record, that its
		// rail went on with it.
		return &OutcomeConflictError{Existing: e.value(), Refused: rec.Kind}
	case rec.Kind == KindDone && e.done != nil && rec.Done.SnapshotID == e.done.SnapshotID:
		return &errRepeat{e.value()}
	case rec.Kind == KindFailed && e.failed != nil &&
		rec.Failed.Code == e.failed.Code && rec.Failed.Description == e.failed.Description:
		return &errRepeat{e.value()}
	}
	return &OutcomeConflictError{Existing: e.value(), Refused: rec.Kind}
}

// apply adds rec, which check accepted, and returns the entry it touched.
// The index keeps rec's Intent, Done or Failed; they must not change.
func (x *index) apply(rec *Record) *entry {
	switch rec.Kind {
	case KindIntent:
		pos := len(x.entries)
		x.entries = append(x.entries, entry{intent: rec.Intent})
		x.byTrace[rec.Intent.Trace] = pos
		x.inDoubt[rec.Intent.Trace] = pos
		t := rec.Intent.Time
		if n := len(x.byTime); n == 0 || !t.Before(x.entries[x.byTime[n-1]].intent.Time) {
			x.byTime = append(x.byTime, pos)
		} else {
			// The clock went back: keep byTime ordered.
			at := sort.Search(n, func(i int) bool { return t.Before(x.entries[x.byTime[i]].intent.Time) })
			x.byTime = slices.Insert(x.byTime, at, pos)
		}
		return &x.entries[pos]
	case KindPost:
		pos := x.byTrace[rec.Post.Trace]
		e := &x.entries[pos]
		e.reposts++
		if rec.Post.Time.After(e.lastPost) {
			e.lastPost = rec.Post.Time
		}
		return e
	case KindRail:
		e := &x.entries[x.byTrace[rec.Rail.Trace]]
		e.rail = append(e.rail, rec.Rail)
		return e
	case KindDone:
		pos := x.byTrace[rec.Done.Trace]
		e := &x.entries[pos]
		e.done = rec.Done
		e.rail = nil // settled: the rail's states are not needed any more
		delete(x.inDoubt, rec.Done.Trace)
		x.paid[e.intent.RecipientID]++
		return e
	default:
		pos := x.byTrace[rec.Failed.Trace]
		e := &x.entries[pos]
		e.failed = rec.Failed
		e.rail = nil
		delete(x.inDoubt, rec.Failed.Trace)
		return e
	}
}

func (x *index) lookup(trace string) (Entry, bool) {
	pos, ok := x.byTrace[trace]
	if !ok {
		return Entry{}, false
	}
	return x.entries[pos].value(), true
}

// all returns every entry in intent order.
func (x *index) all() []Entry {
	out := make([]Entry, len(x.entries))
	for i := range x.entries {
		out[i] = x.entries[i].value()
	}
	return out
}

// inDoubtIntents returns the intents without outcome in journal order.
func (x *index) inDoubtIntents() []Intent {
	pos := make([]int, 0, len(x.inDoubt))
	for _, p := range x.inDoubt {
		pos = append(pos, p)
	}
	slices.Sort(pos)
	out := make([]Intent, len(pos))
	for i, p := range pos {
		out[i] = *x.entries[p].intent
	}
	return out
}

// inDoubtEntries returns the entries without outcome in journal order.
func (x *index) inDoubtEntries() []Entry {
	pos := make([]int, 0, len(x.inDoubt))
	for _, p := range x.inDoubt {
		pos = append(pos, p)
	}
	slices.Sort(pos)
	out := make([]Entry, len(pos))
	for i, p := range pos {
		out[i] = x.entries[p].value()
	}
	return out
}

// since returns the entries whose intent time is t or later, oldest first.
func (x *index) since(t time.Time) []Entry {
	n := len(x.byTime)
	at := sort.Search(n, func(i int) bool { return !x.entries[x.byTime[i]].intent.Time.Before(t) })
	out := make([]Entry, 0, n-at)
	for _, p := range x.byTime[at:] {
		out = append(out, x.entries[p].value())
	}
	return out
}
