package history

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// Direction selects rows by the way money moved.
type Direction int

// The directions of a filter.
const (
	DirAll Direction = 0  // every row
	DirIn  Direction = 1  // money received
	DirOut Direction = -1 // money sent (also in doubt and refused payouts)
)

// Filter selects history rows. Its zero value selects every row.
type Filter struct {
	AssetID   string // "" = all
	Direction Direction
	// Text is a case-insensitive substring looked for in the memo, the
	// counterparty's name and id, the trace id, the snapshot id, the
	// network transaction's hash and a deposit's chain transaction.
	// Leading and trailing spaces are ignored; "" = all.
	Text     string
	From, To time.Time // inclusive range on Row.Time; zero = open
}

// Filter returns the indexes into Rows() of the rows f selects, newest
// first. name gives a counterparty's name for the text search (nil: names
// are not searched); it is called once per distinct counterparty, without
// any lock of the History held.
//
// The indexes are those of Rows() as it is now; a LoadMore in between may
// move rows. Query returns the rows and the indexes together.
func (h *History) Filter(f Filter, name func(userID string) string) []int {
	_, shown, _ := h.query(f, name, true)
	return shown
}

// Query returns the rows and the indexes into them of those f selects, in
// the order shown (newest first), taken together so that they agree. The
// rows are a snapshot, as Rows returns, but they are in the order shown
// only once every row is loaded (Done); until then read them through the
// indexes. Query never copies the rows.
func (h *History) Query(f Filter, name func(userID string) string) (rows []Row, idx []int) {
	rows, idx, _ = h.query(f, name, false)
	return rows, idx
}

// rowOrder is the order rows are shown in, as the History keeps it (see
// History.settled and History.pending).
type rowOrder struct {
	settled  []int32
	nsettled int
	pending  []int32
}

func (o *rowOrder) len() int { return o.nsettled + len(o.pending) }

// index returns the index into the rows of the row shown at position p.
func (o *rowOrder) index(p int) int {
	switch {
	case p >= o.nsettled:
		return int(o.pending[p-o.nsettled])
	case o.settled == nil:
		return p
	}
	return int(o.settled[p])
}

// query returns the rows, the rows f selects in the order shown (their
// positions in that order, or their indexes into the rows), and the order.
func (h *History) query(f Filter, name func(userID string) string, positions bool) (rows []Row, shown []int, order rowOrder) {
	if h == nil {
		return nil, []int{}, rowOrder{}
	}
	h.mu.Lock()
	n := len(h.rows)
	rows, keys := h.rows[:n:n], h.keys[:n:n]
	order = rowOrder{nsettled: h.nsettled, pending: h.pending}
	if h.settled != nil {
		order.settled = h.settled[:h.nsettled:h.nsettled]
	}
	opps := h.opps[:len(h.opps):len(h.opps)]
	asset := int32(-1)
	if id := strings.ToLower(strings.TrimSpace(f.AssetID)); id != "" {
		i, ok := h.assetIdx[id]
		if !ok {
			h.mu.Unlock()
			return rows, []int{}, order
		}
		asset = i
	}
	h.mu.Unlock()

	// Rows are shown by time, newest first: the range is a run of
	// positions.
	lo, hi := 0, order.len()
	if !f.To.IsZero() {
		lo = sort.Search(hi, func(p int) bool { return !rows[order.index(p)].Time.After(f.To) })
	}
	if !f.From.IsZero() {
		hi = sort.Search(hi, func(p int) bool { return rows[order.index(p)].Time.Before(f.From) })
	}
	if hi <= lo {
		return rows, []int{}, order
	}

	var sign int8
	if f.Direction == DirIn || f.Direction == DirOut {
		sign = int8(f.Direction)
	}
	needle := strings.ToLower(strings.TrimSpace(f.Text))
	hexNeedle := isHexText(needle)
	// Whether a counterparty's id or name holds the needle is worked out
	// once per counterparty, and only for one a row needs: 0 not yet, 1
	// yes, 2 no.
	var oppHit []int8
	if needle != "" {
		oppHit = make([]int8, len(opps))
	}
	oppMatches := func(o int32) bool {
		if oppHit[o] == 0 {
			oppHit[o] = 2
			id := opps[o]
			if strings.Contains(id, needle) || name != nil && strings.Contains(strings.ToLower(name(id)), needle) {
				oppHit[o] = 1
			}
		}
		return oppHit[o] == 1
	}
	// Positions (the order shown) or indexes into the rows.
	out := func(p, i int) int {
		if positions {
			return p
		}
		return i
	}
	if asset < 0 && sign == 0 && needle == "" {
		shown = make([]int, hi-lo)
		for p := lo; p < hi; p++ {
			shown[p-lo] = out(p, order.index(p))
		}
		return rows, shown, order
	}
	shown = make([]int, 0, min(hi-lo, 1024))
	for p := lo; p < hi; p++ {
		i := p
		switch {
		case p >= order.nsettled:
			i = int(order.pending[p-order.nsettled])
		case order.settled != nil:
			i = int(order.settled[p])
		}
		k := &keys[i]
		if asset >= 0 && k.asset != asset || sign != 0 && k.sign != sign {
			continue
		}
		if needle != "" && !strings.Contains(k.memo, needle) && !strings.Contains(rows[i].TraceID, needle) &&
			!strings.Contains(rows[i].SnapshotID, needle) && !oppMatches(k.opp) && !hashMatches(&rows[i], needle, hexNeedle) {
			continue
		}
		shown = append(shown, out(p, i))
	}
	return rows, shown, order
}

// Counterparties returns the distinct counterparty ids of the rows, in the
// order they first appeared (for Names.Resolve).
func (h *History) Counterparties() []string {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.opps)
}

// Assets returns the distinct asset ids of the rows, in the order they
// first appeared.
func (h *History) Assets() []string {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.assets)
}

// hashMatches reports whether a row's network transaction hash (kept in
// lower-case hex) or its deposit's chain transaction holds needle (lower
// case). hex says whether needle is all hex digits: a hash cannot hold one
// that is not.
func hashMatches(r *Row, needle string, hex bool) bool {
	if hex && r.TxHash != "" && strings.Contains(r.TxHash, needle) {
		return true
	}
	return r.Deposit != nil && strings.Contains(r.Deposit.lower, needle)
}

// isHexText reports whether s is all lower-case hex digits.
func isHexText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
