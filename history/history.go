package history

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/payout/rail"
)

// PageSize is how many movements one LoadMore asks the rail for.
const PageSize = 100

// ErrBadSnapshot: the server sent snapshots that cannot be shown (no id, no
// time, or an amount that is not a number). The other rows of the page are
// added; these are left out.
var ErrBadSnapshot = errors.New("the server sent snapshots that cannot be read")

// History is the account's movements, newest first: server snapshots
// loaded page by page with LoadMore, joined with the account's journal.
// Journal entries that have no snapshot (in doubt, failed) are rows from
// the start; a payout in doubt whose snapshot turns up is shown once, as
// the snapshot (done).
//
// The journal is read when the History is made; make a new History to see
// payouts sent since. Rows are ordered by time, newest first; journal-only
// rows older than every snapshot loaded so far sit at the end until older
// pages arrive and go before them.
//
// A History is safe for concurrent use; LoadMore calls are serialised.
type History struct {
	rail   MovementLister
	lookup func(trace string) (journal.Entry, bool) // the journal's; nil without one

	load chan struct{} // one token: held by the LoadMore in progress

	mu sync.Mutex
	// rows holds every row once, in the order the rows were added, and
	// keys[i] is what the filter reads of rows[i]. Both are only appended
	// to: callers (Rows, Query) hold rows[:n] and nothing below n is
	// written again; putting the rows in the order shown (compactLocked)
	// makes new arrays.
	rows []Row
	keys []rowKey
	// The rows are shown newest first: nsettled settled rows, then the
	// pending ones.
	//
	// settled lists the settled rows, as indexes into rows, in the order
	// shown; nil means rows[:nsettled] in their own order. Only appended
	// to, like rows.
	settled  []int32
	nsettled int
	// pending lists, in the order shown, the journal-only rows no newer
	// than the oldest snapshot loaded, which a later page may put snapshots
	// before. Never changed in place (callers hold it): a change makes a
	// new slice.
	pending   []int32
	jrows     map[string]struct{} // traces of the journal-only rows shown
	opps      []string            // counterparties, by first appearance; only appended to
	oppIdx    map[string]int32
	assets    []string // assets, by first appearance; only appended to
	assetIdx  map[string]int32
	operators map[string]string // "login@host", shared between rows

	// Paging; written under mu by the holder of the load token.
	offset   time.Time           // created_at of the oldest snapshot loaded
	boundary map[string]struct{} // ids of the loaded snapshots at offset
	done     bool
}

// rowKey is the part of a row that Filter reads, kept beside the rows so
// that a scan touches little memory.
type rowKey struct {
	memo  string // the memo lower-cased (the memo itself when it has no upper case)
	opp   int32  // index of the counterparty in History.opps
	asset int32  // index of the asset in History.assets
	sign  int8   // -1 out, +1 in
}

// histItem is a row with its key, while rows are being merged.
type histItem struct {
	row Row
	key rowKey
}

// MovementLister is the part of a rail a history reads (a rail.Rail is
// one).
type MovementLister interface {
	Movements(ctx context.Context, q rail.Query) ([]rail.Movement, error)
}

// New makes an empty history of the account whose movements r lists,
// joined with its journal j. The journal's payouts in doubt and refused
// payouts are rows from the start; call LoadMore for the server's
// snapshots. Either may be nil: a history without a rail cannot load, one
// without a journal joins nothing. An intent for which a skip function
// says true is no row (a merge of the account's outputs pays nobody).
func New(r MovementLister, j *journal.Journal, skip ...func(journal.Intent) bool) *History {
	h := &History{
		rail:      r,
		load:      make(chan struct{}, 1),
		jrows:     make(map[string]struct{}),
		oppIdx:    make(map[string]int32),
		assetIdx:  make(map[string]int32),
		operators: make(map[string]string),
		boundary:  make(map[string]struct{}),
	}
	if j == nil {
		return h
	}
	h.lookup = j.Lookup
	var its []histItem
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range j.Entries() {
		if e.State == journal.StateDone || slices.ContainsFunc(skip, func(f func(journal.Intent) bool) bool { return f(e.Intent) }) {
			continue // shown with its snapshot; or skipped: a merge pays nobody
		}
		if it, ok := h.journalItemLocked(e); ok {
			its = append(its, it)
			h.jrows[it.row.TraceID] = struct{}{}
		}
	}
	slices.SortStableFunc(its, func(a, b histItem) int { return b.row.Time.Compare(a.row.Time) })
	h.rows = make([]Row, len(its))
	h.keys = make([]rowKey, len(its))
	for i := range its {
		h.rows[i], h.keys[i] = its[i].row, its[i].key
	}
	// Before any snapshot, every journal row is pending.
	h.pending = run(0, len(its))
	return h
}

// run returns the indexes from, from+1, ..., to-1.
func run(from, to int) []int32 {
	out := make([]int32, to-from)
	for i := range out {
		out[i] = int32(from + i)
	}
	return out
}

// isRun reports whether idx is from, from+1, ...
func isRun(idx []int32, from int) bool {
	for i, x := range idx {
		if int(x) != from+i {
			return false
		}
	}
	return true
}

// Done reports whether the server has no older snapshots: every row is
// loaded. A nil History is done.
func (h *History) Done() bool {
	if h == nil {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.done
}

// Len returns the number of rows.
func (h *History) Len() int {
	if h == nil {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.rows)
}

// Rows returns the rows, newest first. The slice is a snapshot: later loads
// do not change it, and the caller must not modify it.
//
// While a journal-only row waits for older pages, the rows are not kept in
// the order shown, and Rows puts them in order, which copies them: a
// screen that follows the loading should use Query, which never copies.
func (h *History) Rows() []Row {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.orderedLocked() {
		h.compactLocked(nil)
	}
	n := len(h.rows)
	return h.rows[:n:n]
}

// orderedLocked reports whether the rows are kept in the order shown.
func (h *History) orderedLocked() bool {
	return h.settled == nil && isRun(h.pending, h.nsettled)
}

// LoadMore reads the next page of snapshots (PageSize, newest first,
// older than those loaded) and adds them, joined with the journal. It
// returns how many rows were added. The server's offset is inclusive, so a
// page starts with snapshots already loaded; they are dropped. After the
// last page Done is true and LoadMore adds nothing.
//
// On an error nothing is added and the next call asks for the same page;
// the exception is ErrBadSnapshot, which comes with the readable rows of the
// page added.
func (h *History) LoadMore(ctx context.Context) (added int, err error) {
	if h == nil || h.rail == nil {
		return 0, errors.New("history: this history has no connection to the server")
	}
	select {
	case h.load <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-h.load }()

	h.mu.Lock()
	offset, boundary, done := h.offset, h.boundary, h.done
	h.mu.Unlock()
	for !done {
		page, err := h.rail.Movements(ctx, rail.Query{Limit: PageSize, Before: offset})
		if err != nil {
			return 0, fmt.Errorf("history: loading history: %w", err)
		}
		fresh, next, nextBoundary := siftPage(page, offset, boundary)
		done = len(page) < PageSize
		if len(fresh) == 0 && !done {
			if next.Equal(offset) {
				// A whole page at one instant, or nothing older than the
				// offset: asking again would give the same page.
				return 0, &mixin.ProtocolError{Op: "history",
					Reason: "a full page brought no snapshot older than the last one loaded; history cannot page further"}
			}
			offset, boundary = next, nextBoundary
			continue
		}
		added, bad := h.commitPage(fresh, next, nextBoundary, done)
		if len(bad) > 0 {
			return added, fmt.Errorf("history: %w: %d left out (%s)", ErrBadSnapshot, len(bad), strings.Join(bad[:min(len(bad), 3)], "; "))
		}
		return added, nil
	}
	return 0, nil
}

// siftPage returns the snapshots of a page not loaded yet, newest first, with
// the offset and boundary set for the next page. A snapshot newer than the
// offset, or at the offset and in the boundary set, was loaded already. The
// order of the page is not trusted; a snapshot without time is passed on
// (addLocked reports it) but does not move the offset.
func siftPage(page []rail.Movement, offset time.Time, boundary map[string]struct{}) (fresh []rail.Movement, next time.Time, nextBoundary map[string]struct{}) {
	sorted := slices.Clone(page)
	slices.SortStableFunc(sorted, func(a, b rail.Movement) int { return b.CreatedAt.Compare(a.CreatedAt) })
	next = offset
	seen := make(map[string]struct{}, len(sorted))
	for _, s := range sorted {
		id := strings.ToLower(s.SnapshotID)
		if !offset.IsZero() && s.CreatedAt.After(offset) {
			continue
		}
		if _, dup := seen[id]; dup {
			continue
		}
		if _, dup := boundary[id]; dup && s.CreatedAt.Equal(offset) {
			continue
		}
		seen[id] = struct{}{}
		fresh = append(fresh, s)
		if !s.CreatedAt.IsZero() {
			next = s.CreatedAt // sorted: the last one with a time is the oldest
		}
	}
	nextBoundary = make(map[string]struct{})
	if next.Equal(offset) {
		for id := range boundary {
			nextBoundary[id] = struct{}{}
		}
	}
	for _, s := range fresh {
		if s.CreatedAt.Equal(next) {
			nextBoundary[strings.ToLower(s.SnapshotID)] = struct{}{}
		}
	}
	return fresh, next, nextBoundary
}

// commitPage adds the fresh snapshots of a page and moves the paging state
// on; it returns what addLocked returns.
func (h *History) commitPage(fresh []rail.Movement, next time.Time, boundary map[string]struct{}, done bool) (added int, bad []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	added, bad = h.addLocked(fresh)
	h.offset, h.boundary, h.done = next, boundary, done
	if done && !h.orderedLocked() {
		// Every row is loaded: from now on the rows are read, not
		// added to, so they are put in the order shown once.
		h.compactLocked(nil)
	}
	return added, bad
}

// addLocked adds snapshots (newest first, none of them loaded before) and
// returns how many rows it added and a description of each snapshot it
// could not read.
func (h *History) addLocked(snaps []rail.Movement) (added int, bad []string) {
	fresh := make([]histItem, 0, len(snaps))
	var drop map[string]struct{} // journal-only rows now shown by their snapshot
	for i := range snaps {
		it, trace, err := h.snapshotItemLocked(&snaps[i])
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		if trace != "" {
			if drop == nil {
				drop = make(map[string]struct{})
			}
			drop[trace] = struct{}{}
		}
		fresh = append(fresh, it)
	}
	h.mergeLocked(fresh, drop)
	return len(fresh), bad
}

// mergeLocked puts fresh rows (newest first, all at or before the oldest
// snapshot loaded) among the pending journal-only rows, and takes out the
// journal-only rows in drop. The fresh rows are appended to the arrays and
// only the order shown is worked out, so a page costs what it adds plus
// the pending rows, however many rows are loaded; taking rows out copies
// them all (compactLocked), which a payout in doubt whose snapshot turns
// up does once.
func (h *History) mergeLocked(fresh []histItem, drop map[string]struct{}) {
	if len(drop) > 0 {
		h.compactLocked(drop)
		for trace := range drop {
			delete(h.jrows, trace)
		}
	}
	base := len(h.rows)
	for _, it := range fresh {
		h.rows = append(h.rows, it.row)
		h.keys = append(h.keys, it.key)
	}
	if len(h.pending) == 0 {
		h.settleLocked(run(base, len(h.rows)))
		return
	}
	// Merge, newest first; a snapshot goes before a journal row of the
	// same instant, so the journal rows after the last snapshot stay
	// pending.
	merged := make([]int32, 0, len(fresh)+len(h.pending))
	settled := 0 // merged[:settled] ends with the last fresh row
	for i, j := 0, 0; i < len(fresh) || j < len(h.pending); {
		if i < len(fresh) && (j == len(h.pending) || !fresh[i].row.Time.Before(h.rows[h.pending[j]].Time)) {
			merged = append(merged, int32(base+i))
			i++
			settled = len(merged)
		} else {
			merged = append(merged, h.pending[j])
			j++
		}
	}
	h.settleLocked(merged[:settled])
	h.pending = merged[settled:len(merged):len(merged)]
}

// settleLocked adds rows (indexes into rows) after the settled ones.
func (h *History) settleLocked(idx []int32) {
	if h.settled == nil {
		if isRun(idx, h.nsettled) {
			h.nsettled += len(idx)
			return
		}
		// The rows are no longer kept in the order shown: the order
		// is listed from now on.
		h.settled = make([]int32, h.nsettled, h.nsettled+len(idx)+PageSize)
		for i := range h.nsettled {
			h.settled[i] = int32(i)
		}
	}
	h.settled = append(h.settled, idx...)
	h.nsettled += len(idx)
}

// compactLocked puts the rows in new arrays in the order shown, leaving out
// the journal-only rows of the traces in drop. Rows handed out before keep
// the old arrays.
func (h *History) compactLocked(drop map[string]struct{}) {
	n := len(h.rows)
	rows := make([]Row, 0, n+PageSize)
	keys := make([]rowKey, 0, n+PageSize)
	settled := 0
	for p := range h.nsettled + len(h.pending) {
		i := h.indexLocked(p)
		r := &h.rows[i]
		if _, ok := drop[r.TraceID]; ok && r.SnapshotID == "" {
			continue
		}
		rows = append(rows, *r)
		keys = append(keys, h.keys[i])
		if p < h.nsettled {
			settled++
		}
	}
	h.rows, h.keys = rows, keys
	h.settled, h.nsettled = nil, settled
	h.pending = run(settled, len(rows))
}

// indexLocked returns the index into rows of the row shown at position p.
func (h *History) indexLocked(p int) int {
	switch {
	case p >= h.nsettled:
		return int(h.pending[p-h.nsettled])
	case h.settled == nil:
		return p
	}
	return int(h.settled[p])
}

// snapshotItemLocked makes the row of a snapshot. trace is set when the row
// replaces a journal-only row (a payout in doubt, or recorded as refused,
// whose snapshot this is).
func (h *History) snapshotItemLocked(s *rail.Movement) (it histItem, trace string, err error) {
	id := strings.ToLower(s.SnapshotID)
	if id == "" {
		return histItem{}, "", errors.New("a snapshot without id")
	}
	if s.CreatedAt.IsZero() {
		return histItem{}, "", fmt.Errorf("snapshot %s has no time", shortSnapID(id))
	}
	// An exponent is refused: "1e-999999999" is a number, but not one
	// that could be shown or exported.
	amount, err := decimal.NewFromString(s.Amount)
	if err != nil || len(s.Amount) > journal.MaxDecimalLen || strings.ContainsAny(s.Amount, "eE") {
		return histItem{}, "", fmt.Errorf("snapshot %s has an amount that is not a decimal number", shortSnapID(id))
	}
	r := Row{
		SnapshotID: id,
		TraceID:    strings.ToLower(s.Key),
		Amount:     amount,
		Memo:       s.Memo,
		Time:       s.CreatedAt.UTC(),
		Closing:    plainBalance(s.ClosingBalance),
		TxHash:     strings.ToLower(s.TxHash),
	}
	k := h.keyLocked(&r, s.AssetID, s.OpponentID)
	switch {
	case !amount.IsNegative() && s.Deposit != nil:
		r.State, r.Deposit = StateDeposit, newDeposit(s.Deposit)
	case !amount.IsNegative():
		r.State = StateReceived
	default:
		r.State = StateOther
		if h.lookup == nil || r.TraceID == "" {
			break
		}
		e, ok := h.lookup(r.TraceID)
		if !ok || !s.Matches(paymentOfIntent(e.Intent)) {
			break // another transfer under a trace the journal knows
		}
		r.State = StateDone
		r.Operator = h.operatorLocked(e.Intent)
		if r.Closing == "" && e.State == journal.StateDone {
			r.Closing = plainBalance(e.Done.ClosingBalance)
		}
		if _, shown := h.jrows[r.TraceID]; shown {
			trace = r.TraceID
		}
	}
	return histItem{r, k}, trace, nil
}

// journalItemLocked makes the row of a journal entry in doubt or failed.
func (h *History) journalItemLocked(e journal.Entry) (histItem, bool) {
	amount, err := decimal.NewFromString(e.Intent.Amount)
	if err != nil {
		return histItem{}, false // the journal validates amounts; never here
	}
	r := Row{
		TraceID:  e.Intent.Trace,
		Amount:   amount.Neg(),
		Memo:     e.Intent.Memo,
		Time:     e.Intent.Time.UTC(),
		State:    StateInDoubt,
		Operator: h.operatorLocked(e.Intent),
	}
	if e.State == journal.StateFailed {
		r.State, r.Code, r.Reason = StateFailed, e.Failed.Code, e.Failed.Description
	}
	k := h.keyLocked(&r, e.Intent.AssetID, e.Intent.RecipientID)
	return histItem{r, k}, true
}

// keyLocked sets the row's asset and counterparty (shared strings, one per
// distinct id) and returns its filter key.
func (h *History) keyLocked(r *Row, assetID, opponentID string) rowKey {
	k := rowKey{memo: strings.ToLower(r.Memo), sign: 1}
	if r.Amount.IsNegative() {
		k.sign = -1
	}
	r.AssetID, k.asset = internID(strings.ToLower(assetID), &h.assets, h.assetIdx)
	r.OpponentID, k.opp = internID(strings.ToLower(opponentID), &h.opps, h.oppIdx)
	return k
}

// internID returns the table's copy of s and its index, adding it if new.
func internID(s string, table *[]string, idx map[string]int32) (string, int32) {
	if i, ok := idx[s]; ok {
		return (*table)[i], i
	}
	i := int32(len(*table))
	*table = append(*table, s)
	idx[s] = i
	return s, i
}

// operatorLocked names who confirmed an intent, as login@host.
func (h *History) operatorLocked(in journal.Intent) string {
	who := in.Operator
	if in.Host != "" {
		who += "@" + in.Host
	}
	if s, ok := h.operators[who]; ok {
		return s
	}
	h.operators[who] = who
	return who
}

// paymentOfIntent is the payment an intent stands for.
func paymentOfIntent(in journal.Intent) rail.Payment {
	return rail.Payment{Key: in.Trace, AssetID: in.AssetID, RecipientID: in.RecipientID, Amount: in.Amount, Memo: in.Memo}
}

// plainBalance returns s when it is a plain non-negative decimal string,
// else "".
func plainBalance(s string) string {
	if s == "" || !journal.PlainDecimal(s) { // "" on a rail without balances (Safe)
		return ""
	}
	return s
}

// shortSnapID is the start of an id, for messages.
func shortSnapID(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}
