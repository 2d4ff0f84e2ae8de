package payout

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"mixdesk/payout/rail"
)

// A batch is a CSV file of payouts (ParseBatch) that is checked as a whole
// (PrepareBatchWith), shown, confirmed once, and paid row by row (RunBatch)
// through the journal, under the rules of a single payout: an intent on
// disk before every post, one trace per payment for ever, in-doubt
// transfers settled by trace before anything new is sent, the caps of the
// policy checked against the journal.
//
// # Traces
//
// A row's trace is a name-based UUID (version 5, SHA-1) in BatchNamespace
// of the batch id and the row's key (BatchTrace), so the same file run
// again computes the same traces: rows already done are skipped, rows in
// doubt are settled, and nothing is paid twice. A row the server refused
// (a failed outcome: nothing moved) is tried again under the next attempt
// trace, derived the same way with the attempt number, unless the refusal
// was a key used (rail.IsKeyUsed; 20125 on the legacy rail: the trace
// belongs to another transfer): such a row was edited after it was paid,
// and it is never paid under a new trace.

// BatchNamespace is the UUID namespace of batch traces. It never changes:
// a new value would make every earlier batch look new.
var BatchNamespace = uuid.MustParse("5b1f0c8e-3a47-4d62-9e1b-7c2a6f9d0b13")

// BatchTrace is the trace of a batch row: the version-5 UUID of
// BatchNamespace and batchID + "\x00" + key, and for the nth retry after a
// refusal (attempt n > 0) batchID + "\x00" + key + "\x00" + n.
func BatchTrace(batchID, key string, attempt int) string {
	name := batchID + "\x00" + key
	if attempt > 0 {
		name += "\x00" + strconv.Itoa(attempt)
	}
	return uuid.NewSHA1(BatchNamespace, []byte(name)).String()
}

// maxBatchAttempts bounds the refused tries of one row that PrepareBatchWith
// looks through in the journal.
const maxBatchAttempts = 1000

// ItemState is where a row of a batch stands.
type ItemState string

// The states of a batch row.
const (
	// ItemInvalid: the row has errors; the batch cannot be sent.
	ItemInvalid ItemState = "invalid"
	// ItemNew: not sent yet (after a stopped run: not reached).
	ItemNew ItemState = "new"
	// ItemDone: paid; BatchItem.SnapshotID names the transfer.
	ItemDone ItemState = "done"
	// ItemInDoubt: recorded and maybe posted, outcome unknown; settled by
	// trace before anything else is sent.
	ItemInDoubt ItemState = "in-doubt"
	// ItemFailed: refused by the server (nothing moved), or refused because
	// its key was already paid with other content (rail.IsKeyUsed).
	ItemFailed ItemState = "failed"
)

// BatchItem is one row of a batch as checked and, later, as sent. Items are
// values: the Batch hands out copies.
type BatchItem struct {
	Row BatchRow // as written
	// Key is the key the trace is derived from: the row's key, with a
	// "#2"-style suffix for a repeated identical row once duplicates are
	// acknowledged.
	Key     string
	Attempt int    // 0, or the number of earlier refused tries of this key
	Trace   string // "" for an invalid row

	User       rail.User  // the recipient as resolved (zero when it could not be)
	Asset      rail.Asset // the asset as read now, with balance and price
	Amount     decimal.Decimal
	AmountText string // canonical amount, what is posted; "" when invalid
	Memo       string
	ValueUSD   decimal.Decimal // Amount × the asset's USD price

	State ItemState
	// Already is set for a row that was done before this batch was
	// prepared: it is skipped.
	Already bool
	// Found is set for a row done by RunBatch although nothing moved then:
	// the server already had the payment under the row's trace (paid by an
	// earlier run, from this journal while the row was in doubt, or from
	// another console or data directory). A row done without Already or
	// Found was paid by the run.
	Found      bool
	SnapshotID string // when done
	// Err is why the row failed or is in doubt; for a new row that is a
	// retry, the earlier refusal.
	Err error

	Errors []RowError // the row's problems (State ItemInvalid)
	Notes  []string   // things worth a look: first payout, another saved name, large
	Dup    int        // 1-based index in Batch.Duplicates of the row's group, 0 for none
}

// Problem is the row's error, refusal or doubt in one line, "" for a row
// that is done or new without history.
func (it *BatchItem) Problem() string {
	switch {
	case len(it.Errors) > 0:
		parts := make([]string, len(it.Errors))
		for i, e := range it.Errors {
			parts[i] = e.Field + ": " + e.Reason
		}
		return strings.Join(parts, "; ")
	case it.Err != nil:
		return errorLine(it.Err)
	}
	return ""
}

// errorLine is an error as one line of text, without the package prefixes
// that wrapped errors repeat.
func errorLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "payout: ", "")
	s = strings.ReplaceAll(s, "mixin: ", "")
	return strings.Join(strings.Fields(s), " ")
}

// DupKind says what a duplicate group is a duplicate of.
type DupKind string

// The kinds of duplicate.
const (
	// DupInFile: rows of the file with the same recipient, asset and amount.
	DupInFile DupKind = "in-file"
	// DupRecent: a row like a payout of this journal (done or in doubt)
	// within the desk's duplicate window, outside this batch.
	DupRecent DupKind = "recent"
)

// DupGroup is a set of rows that look like the same payment. Every group
// must be acknowledged (AckDuplicates) before the batch can be sent.
type DupGroup struct {
	Kind      DupKind
	Lines     []int // the rows' lines
	Recipient string
	UserID    string
	Symbol    string
	AssetID   string
	Amount    string
	// SameKey is set when the rows are identical and have no key of their
	// own: they would share a trace and only one would be paid. The
	// acknowledgement gives the second one the key KEY#2, the third KEY#3,
	// and so on, so that each is paid once.
	SameKey bool
	// For DupRecent: the earlier payout.
	EarlierTrace string
	EarlierBatch string // its batch id, "" for a single payout
	EarlierAt    time.Time
	// Elsewhere: the earlier payout is one the rail lists and this journal
	// does not know, made by another console or tool from this account.
	Elsewhere bool
}

// AssetTotal is what a batch pays in one asset, beside the balance and the
// daily cap.
type AssetTotal struct {
	Asset rail.Asset
	Rows  int             // valid rows in this asset
	Total decimal.Decimal // all valid rows
	// ToPay is what is left to pay: new rows and rows in doubt (which may
	// or may not have moved already). Done and refused rows are not in it.
	ToPay    decimal.Decimal
	Balance  decimal.Decimal
	ValueUSD decimal.Decimal // ToPay × price; zero without a price

	// The daily cap of the policy, when the asset has one. Used is the
	// payouts of the last 24 hours (done and in doubt, this batch's rows in
	// doubt included); Left what remains of the cap before this batch.
	HasDaily bool
	Daily    decimal.Decimal
	Used     decimal.Decimal
	// UsedElsewhere is the part of Used paid by other consoles or tools.
	UsedElsewhere decimal.Decimal
	Left          decimal.Decimal
	// PerTransfer is the per-transfer cap, "" for none.
	PerTransfer string

	// Problem is why this total stops the batch ("" for none).
	Problem string
}

// Batch is a checked batch file: every row resolved and validated, its
// duplicates, totals and state in the journal. Fields other than ID, Name
// and PreparedAt are read through methods: RunBatch updates the rows while
// a screen may read them. A Batch is safe for concurrent use.
type Batch struct {
	ID         string // "b-…", derived from the rows (BatchID)
	Name       string // the file it was read from
	PreparedAt time.Time

	desk *Desk

	mu     sync.Mutex
	items  []BatchItem
	inputs []rail.Payment // per item; zero for invalid rows
	hashes []string
	errs   []RowError // row errors (not totals), in line order
	dups   []DupGroup
	totals []AssetTotal
	merges []BatchMerge // see Merges
	acked  bool
	// unpricedAcked: the operator checked the totals of the assets without
	// a USD price, which the typed total cannot stand for.
	unpricedAcked bool
	running       bool
	stopErr       error // why the last run ended early
	// spent is the account's outgoing movements as the rail listed them
	// when the batch was prepared, back to the start of the daily window
	// or the duplicate window, whichever is earlier. The run reads them
	// again before each group.
	spent *spent
}

// Len is the number of rows.
func (b *Batch) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.items)
}

// Row returns a copy of row i (0-based, file order).
func (b *Batch) Row(i int) (BatchItem, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if i < 0 || i >= len(b.items) {
		return BatchItem{}, false
	}
	return b.copyItem(i), true
}

// Rows returns copies of rows from to to-1, clipped to the batch: a screen
// asks only for the rows it shows.
func (b *Batch) Rows(from, to int) []BatchItem {
	b.mu.Lock()
	defer b.mu.Unlock()
	from, to = max(from, 0), min(to, len(b.items))
	if from >= to {
		return nil
	}
	out := make([]BatchItem, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, b.copyItem(i))
	}
	return out
}

func (b *Batch) copyItem(i int) BatchItem {
	it := b.items[i]
	it.Errors = slices.Clone(it.Errors)
	it.Notes = slices.Clone(it.Notes)
	return it
}

// Errors returns every problem of the batch: the row errors in line order,
// then the totals' (line 0). A batch with any cannot be sent.
func (b *Batch) Errors() []RowError {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := slices.Clone(b.errs)
	for _, t := range b.totals {
		if t.Problem != "" {
			out = append(out, RowError{Line: 0, Field: "total", Reason: t.Problem})
		}
	}
	return out
}

// Duplicates returns the duplicate groups, in order of their first line.
func (b *Batch) Duplicates() []DupGroup {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := slices.Clone(b.dups)
	for i := range out {
		out[i].Lines = slices.Clone(out[i].Lines)
	}
	return out
}

// Totals returns the totals per asset, in order of first appearance.
func (b *Batch) Totals() []AssetTotal {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.totals)
}

// Acked reports whether the duplicates were acknowledged (true when there
// are none).
func (b *Batch) Acked() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.acked || len(b.dups) == 0
}

// Ready reports whether the batch can be sent: no row error, no total over
// a balance or a cap, duplicates acknowledged.
func (b *Batch) Ready() bool {
	return len(b.Errors()) == 0 && b.Acked() && (len(b.Unpriced()) == 0 || b.UnpricedAcked())
}

// Unpriced lists the assets with something left to pay and no USD price,
// beside a batch that pays more than one asset: the total the operator
// types is of one asset, and without prices it cannot be said which asset
// weighs most, so each of these totals is acknowledged on its own.
func (b *Batch) Unpriced() []AssetTotal {
	b.mu.Lock()
	defer b.mu.Unlock()
	var paying, unpriced []AssetTotal
	for _, t := range b.totals {
		if !t.ToPay.IsPositive() {
			continue
		}
		paying = append(paying, t)
		if !t.ValueUSD.IsPositive() {
			unpriced = append(unpriced, t)
		}
	}
	if len(paying) < 2 {
		return nil
	}
	return unpriced
}

// AckUnpriced records that the operator checked the totals Unpriced lists.
func (b *Batch) AckUnpriced() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.running {
		b.unpricedAcked = true
	}
}

// UnpricedAcked reports whether AckUnpriced was called.
func (b *Batch) UnpricedAcked() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.unpricedAcked
}

// Counts returns how many rows are in each state, as a progress value
// (Rate and Remaining zero); Skipped counts the rows that were done before.
func (b *Batch) Counts() BatchProgress {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.countsLocked()
}

func (b *Batch) countsLocked() BatchProgress {
	var p BatchProgress
	for i := range b.items {
		it := &b.items[i]
		switch it.State {
		case ItemInvalid:
			continue
		case ItemDone:
			switch {
			case it.Already:
				p.Skipped++
			case it.Found:
				p.Found++
			default:
				p.Done++
			}
		case ItemFailed:
			p.Failed++
		case ItemInDoubt:
			p.InDoubt++
		}
		p.Total++
	}
	return p
}

// Stopped is why the last RunBatch ended before the last row, or nil.
func (b *Batch) Stopped() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stopErr
}

// LargestTotal is the total the operator types to confirm the batch: of
// the assets with something left to pay, the one whose ToPay is worth the
// most in USD, or, when any of them has no USD price, the one with the
// largest ToPay as a number; ties go to the asset that comes first in the
// file. text is that total as a canonical decimal string (the screen may
// show it with GroupDigits; Confirms accepts either). Both are "" when
// nothing is left to pay.
func (b *Batch) LargestTotal() (symbol, text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.largestLocked()
	if t == nil {
		return "", ""
	}
	return t.Asset.Symbol, t.ToPay.String()
}

func (b *Batch) largestLocked() *AssetTotal {
	// The asset worth most in USD among those with a price; the unpriced
	// ones are acknowledged apart (Unpriced). With no price at all, the
	// largest amount.
	var best *AssetTotal
	for i := range b.totals {
		t := &b.totals[i]
		if t.ToPay.IsPositive() && t.ValueUSD.IsPositive() && (best == nil || t.ValueUSD.GreaterThan(best.ValueUSD)) {
			best = t
		}
	}
	if best != nil {
		return best
	}
	for i := range b.totals {
		t := &b.totals[i]
		if t.ToPay.IsPositive() && (best == nil || t.ToPay.GreaterThan(best.ToPay)) {
			best = t
		}
	}
	return best
}

// Confirms reports whether typed is the LargestTotal, as a plain decimal or
// with thousands separators as GroupDigits shows it (spaces around it are
// ignored). With nothing left to pay, nothing confirms.
func (b *Batch) Confirms(typed string) bool {
	_, text := b.LargestTotal()
	typed = strings.TrimSpace(typed)
	return text != "" && (typed == text || typed == GroupDigits(text))
}

// AckDuplicates records the operator's acknowledgement of every duplicate
// group. Identical rows without a key of their own (DupGroup.SameKey) get
// distinct keys: the first keeps its key, the next ones get KEY#2, KEY#3…
// (the next free number, in file order), so that each is paid once and a
// re-run of the same file, acknowledged again, gives the same keys. It
// does nothing once the batch has been run.
func (b *Batch) AckDuplicates() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.acked || b.running {
		return
	}
	b.acked = true
	used := make(map[string]bool, len(b.items))
	for i := range b.items {
		used[b.items[i].Key] = true
	}
	seen := map[string]int{}
	for i := range b.items {
		it := &b.items[i]
		if it.State == ItemInvalid || it.Row.KeyGiven {
			continue
		}
		seen[it.Key]++
		n := seen[it.Key]
		if n == 1 {
			continue
		}
		base := it.Key
		for used[base+"#"+strconv.Itoa(n)] {
			n++
		}
		it.Key = base + "#" + strconv.Itoa(n)
		used[it.Key] = true
		b.desk.rowState(b.ID, it, &b.inputs[i], &b.hashes[i], b.desk.earlierBatchKeys(b.ID))
	}
	b.totalsLocked()
}
