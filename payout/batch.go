package payout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
)

// A batch is a CSV file of payouts (ParseBatch) that is checked as a whole
// (PrepareBatch), shown, confirmed once, and paid row by row (RunBatch)
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
// was 20125 (the trace belongs to another transfer): such a row was edited
// after it was paid, and it is never paid under a new trace.

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

// maxBatchAttempts bounds the refused tries of one row that PrepareBatch
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
	// its key was already paid with other content (code 20125).
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

	User       mixin.User  // the recipient as resolved (zero when it could not be)
	Asset      mixin.Asset // the asset as read now, with balance and price
	Amount     decimal.Decimal
	AmountText string // canonical amount, what is posted; "" when invalid
	Memo       string
	ValueUSD   decimal.Decimal // Amount × the asset's USD price

	State ItemState
	// Already is set for a row that was done before this batch was
	// prepared: it is skipped.
	Already    bool
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
}

// AssetTotal is what a batch pays in one asset, beside the balance and the
// daily cap.
type AssetTotal struct {
	Asset mixin.Asset
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
	Left     decimal.Decimal
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
	inputs []mixin.TransferInput // per item; zero for invalid rows
	hashes []string
	errs   []RowError // row errors (not totals), in line order
	dups   []DupGroup
	totals []AssetTotal
	acked  bool
	// unpricedAcked: the operator checked the totals of the assets without
	// a USD price, which the typed total cannot stand for.
	unpricedAcked bool
	running       bool
	stopErr       error // why the last run ended early
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
			if it.Already {
				p.Skipped++
			} else {
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

// PrepareBatch checks a parsed batch file as a whole and returns what the
// review table shows. Every row is checked and every problem collected
// (RowError, with its line): recipient (a UUID is a user id, digits only a
// Mixin ID number, anything else a label of the address book, Config.Book,
// matched without regard to case; with AddressBookOnly, only saved
// recipients), asset (a UUID, or the symbol of one of held, the
// profile's assets as GET /assets lists them), amount and memo (the rules
// of a single payout), key, the per-transfer cap. Each distinct recipient
// and asset is looked up once (recipients a few at a time). The rows'
// traces are looked up in the journal: done rows are skipped when the
// batch runs, rows in doubt settled first, rows whose key was paid with
// other content refused. Then the duplicates (rows alike in recipient,
// asset and amount, and rows like a payout of the last DuplicateWindow),
// and the totals per asset beside the balance and the daily cap.
//
// The error is for a batch that cannot be checked at all: the journal
// refuses appends, or the server could not be asked (nothing about the
// rows is known then).
func (d *Desk) PrepareBatch(ctx context.Context, f *BatchFile, held []mixin.Asset) (*Batch, error) {
	if f == nil || len(f.Rows) == 0 {
		return nil, errors.New("payout: the batch has no rows")
	}
	if err := d.journal.Err(); err != nil {
		return nil, fmt.Errorf("no batch can be prepared: %w", err)
	}
	now := d.now()
	b := &Batch{ID: f.ID, Name: f.Name, PreparedAt: now, desk: d,
		items: make([]BatchItem, len(f.Rows)), inputs: make([]mixin.TransferInput, len(f.Rows)), hashes: make([]string, len(f.Rows))}
	for i, r := range f.Rows {
		b.items[i] = BatchItem{Row: r, Key: r.Key, Memo: r.Memo}
	}
	byLine := make(map[int]int, len(f.Rows))
	for i, r := range f.Rows {
		byLine[r.Line] = i
	}
	for _, p := range f.Problems {
		if i, ok := byLine[p.Line]; ok {
			b.items[i].Errors = append(b.items[i].Errors, p)
		}
	}

	checkCells(b.items)
	if err := d.resolveAssets(ctx, b.items, held); err != nil {
		return nil, err
	}
	if err := d.resolveRecipients(ctx, b.items); err != nil {
		return nil, err
	}
	d.checkRowCaps(b.items)

	earlier := d.earlierBatchKeys(b.ID)
	for i := range b.items {
		it := &b.items[i]
		if len(it.Errors) > 0 {
			it.State = ItemInvalid
			continue
		}
		d.rowState(b.ID, it, &b.inputs[i], &b.hashes[i], earlier)
		d.addNotes(it)
	}
	b.dups = d.findDuplicates(b.ID, b.items, now)
	for g := range b.dups {
		for _, line := range b.dups[g].Lines {
			b.items[byLine[line]].Dup = g + 1
		}
	}
	for i := range b.items {
		b.errs = append(b.errs, b.items[i].Errors...)
	}
	b.totalsLocked()
	return b, nil
}

// checkCells validates what needs no look-up: amount, memo, key, and that
// recipient and asset are given. Rows sharing an explicit key are refused
// (a key names one payment); identical rows without keys are duplicates.
func checkCells(items []BatchItem) {
	keys := make(map[string]int, len(items))
	for i := range items {
		it := &items[i]
		r := it.Row
		bad := func(field, reason string) {
			it.Errors = append(it.Errors, RowError{Line: r.Line, Field: field, Reason: reason})
		}
		if r.Recipient == "" {
			bad(BatchColRecipient, "empty")
		}
		if r.Asset == "" {
			bad(BatchColAsset, "empty")
		}
		if amount, text, err := mixin.ParseAmount(r.Amount); err != nil {
			bad(BatchColAmount, reasonOf(err))
		} else {
			it.Amount, it.AmountText = amount, text
		}
		if err := mixin.ValidateMemo(r.Memo); err != nil {
			bad(BatchColMemo, reasonOf(err))
		}
		if r.KeyGiven {
			switch {
			case !utf8.ValidString(r.Key):
				bad(BatchColKey, "not valid UTF-8 text")
			case len(r.Key) > MaxBatchKey:
				bad(BatchColKey, fmt.Sprintf("%d bytes; at most %d", len(r.Key), MaxBatchKey))
			case strings.IndexFunc(r.Key, unicode.IsControl) >= 0:
				bad(BatchColKey, "contains a control character")
			}
		}
		if first, dup := keys[r.Key]; dup && (r.KeyGiven || items[first].Row.KeyGiven) {
			bad(BatchColKey, fmt.Sprintf("%q is also the key of line %d; each payment needs a key of its own", shortCell(r.Key), items[first].Row.Line))
		} else if !dup {
			keys[r.Key] = i
		}
	}
}

// reasonOf is the reason of a field error, or the error's text.
func reasonOf(err error) string {
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return errorLine(err)
}

// resolveAssets maps each row's asset to a UUID (a symbol through held)
// and reads each distinct asset once, with its balance and price.
func (d *Desk) resolveAssets(ctx context.Context, items []BatchItem, held []mixin.Asset) error {
	bySymbol := map[string][]mixin.Asset{}
	for _, a := range held {
		s := strings.ToUpper(strings.TrimSpace(a.Symbol))
		if s != "" {
			bySymbol[s] = append(bySymbol[s], a)
		}
	}
	ids := make([]string, len(items))
	problem := map[string]string{} // as written → reason
	for i := range items {
		w := strings.TrimSpace(items[i].Row.Asset)
		if w == "" {
			continue
		}
		if id, err := mixin.ParseUUID(mixin.FieldAsset, w); err == nil {
			ids[i] = id
			continue
		}
		switch as := bySymbol[strings.ToUpper(w)]; len(as) {
		case 0:
			problem[w] = fmt.Sprintf("this profile holds no asset with the symbol %q; write the asset UUID", shortCell(w))
		case 1:
			if id, err := mixin.ParseUUID(mixin.FieldAsset, as[0].AssetID); err == nil {
				ids[i] = id
			} else {
				problem[w] = fmt.Sprintf("the asset %q has a bad id in the asset list", shortCell(w))
			}
		default:
			problem[w] = fmt.Sprintf("%d assets of this profile have the symbol %q; write the asset UUID", len(as), shortCell(w))
		}
	}
	read := map[string]*mixin.Asset{}
	for i, id := range ids {
		if id == "" {
			if reason, ok := problem[strings.TrimSpace(items[i].Row.Asset)]; ok {
				items[i].Errors = append(items[i].Errors, RowError{Line: items[i].Row.Line, Field: BatchColAsset, Reason: reason})
			}
			continue
		}
		a, done := read[id]
		if !done {
			got, err := d.api.Asset(ctx, id)
			switch {
			case mixin.IsNotFound(err):
				got = nil
			case err != nil:
				return fmt.Errorf("reading the asset %s: %w", id, err)
			default:
				if gid, err := mixin.ParseUUID(mixin.FieldAsset, got.AssetID); err != nil || gid != id {
					return fmt.Errorf("the API answered about asset %q when asked for %s", got.AssetID, id)
				}
				got.AssetID = id
				if _, err := decimal.NewFromString(orZero(got.Balance)); err != nil {
					return fmt.Errorf("the server sent a balance of %s that is not a number: %q", id, shortCell(got.Balance))
				}
			}
			read[id], a = got, got
		}
		if a == nil {
			items[i].Errors = append(items[i].Errors, RowError{Line: items[i].Row.Line, Field: BatchColAsset, Reason: "no such asset"})
			continue
		}
		items[i].Asset = *a
	}
	return nil
}

// maxResolvers is how many recipient look-ups run at once.
const maxResolvers = 8

// resolveRecipients resolves each distinct recipient once: a UUID or a
// Mixin ID number with the server, anything else as a label of the address
// book (then the saved user id with the server). Look-ups run a few at a
// time; the first failure to ask the server at all stops them.
func (d *Desk) resolveRecipients(ctx context.Context, items []BatchItem) error {
	type result struct {
		user   *mixin.User
		saved  *BookEntry
		reason string
	}
	var order []string // the first spelling of each distinct recipient
	results := map[string]*result{}
	for i := range items {
		w := strings.TrimSpace(items[i].Row.Recipient)
		if w == "" {
			continue
		}
		if k := recipientKey(w); results[k] == nil {
			results[k] = &result{}
			order = append(order, w)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	work := make(chan string)
	for range min(maxResolvers, len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range work {
				r := results[recipientKey(w)]
				u, saved, reason, err := d.resolveBatchRecipient(ctx, w)
				if err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					errMu.Unlock()
					continue
				}
				r.user, r.saved, r.reason = u, saved, reason
			}
		}()
	}
feed:
	for _, w := range order {
		select {
		case work <- w:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := range items {
		w := strings.TrimSpace(items[i].Row.Recipient)
		if w == "" {
			continue
		}
		r := results[recipientKey(w)]
		if r.reason != "" {
			items[i].Errors = append(items[i].Errors, RowError{Line: items[i].Row.Line, Field: BatchColRecipient, Reason: r.reason})
			continue
		}
		items[i].User = *r.user
		if r.saved != nil && r.saved.FullName != "" && r.saved.FullName != r.user.FullName {
			items[i].Notes = append(items[i].Notes, fmt.Sprintf("saved as %s; the server now says %s", r.saved.FullName, r.user.FullName))
		}
	}
	return nil
}

// recipientKey is a recipient as written, in the form its look-up depends
// on: a UUID in lower case, a label in lower case (labels match without
// regard to case), a Mixin ID number as it is.
func recipientKey(w string) string {
	if id, err := mixin.ParseUUID(mixin.FieldRecipient, w); err == nil {
		return id
	}
	return strings.ToLower(w)
}

// resolveBatchRecipient resolves one recipient. A recipient the operator
// must fix comes back as reason; err is for a server that could not be
// asked.
func (d *Desk) resolveBatchRecipient(ctx context.Context, w string) (u *mixin.User, saved *BookEntry, reason string, err error) {
	target := w
	_, uerr := mixin.ParseUUID(mixin.FieldRecipient, w)
	if uerr != nil && !isDigits(w) {
		if d.cfg.Book == nil {
			return nil, nil, fmt.Sprintf("%q is not a user UUID or Mixin ID number, and this profile has no address book to look it up in", shortCell(w)), nil
		}
		e, ok := d.cfg.Book.ByLabel(w)
		if !ok {
			return nil, nil, fmt.Sprintf("no recipient labelled %q in the address book (and not a user UUID or Mixin ID number)", shortCell(w)), nil
		}
		saved, target = &e, e.UserID
	}
	u, err = d.ResolveRecipient(ctx, target)
	if err != nil {
		var fe *mixin.FieldError
		if errors.As(err, &fe) {
			return nil, nil, fe.Reason, nil
		}
		return nil, nil, "", err
	}
	if saved == nil && d.cfg.Book != nil {
		if e, ok := d.cfg.Book.ByUser(u.UserID); ok {
			saved = &e
		}
	}
	if d.cfg.AddressBookOnly && saved == nil {
		return nil, nil, fmt.Sprintf("%s (Mixin ID %s) is not in the address book, and this profile accepts only saved recipients", u.FullName, u.IdentityNumber), nil
	}
	return u, saved, "", nil
}

// checkRowCaps refuses rows over their asset's per-transfer cap.
func (d *Desk) checkRowCaps(items []BatchItem) {
	for i := range items {
		it := &items[i]
		if it.Asset.AssetID == "" || it.AmountText == "" {
			continue
		}
		c, ok := d.caps[it.Asset.AssetID]
		if ok && c.hasPerTransfer && it.Amount.GreaterThan(c.perTransfer) {
			e := CapError{Kind: CapPerTransfer, AssetID: it.Asset.AssetID, Symbol: it.Asset.Symbol, Amount: it.Amount, Cap: c.perTransfer, Left: c.perTransfer}
			it.Errors = append(it.Errors, RowError{Line: it.Row.Line, Field: BatchColAmount, Reason: e.Reason()})
		}
	}
}

// rowState finds where a valid row stands in the journal: it walks the
// row's attempt traces while they are refusals (other than 20125), and
// sets Attempt, Trace, State, SnapshotID and Err, and the transfer and its
// content hash.
func (d *Desk) rowState(batchID string, it *BatchItem, in *mixin.TransferInput, hash *string, earlier map[string]earlierKey) {
	d.rowStateHere(batchID, it, in, hash)
	if it.State == ItemNew {
		// A key paid by another batch (the file grew, shrank or was
		// edited, so its id changed) is the same payment: never again.
		markEarlierKey(it, earlier)
	}
}

// rowStateHere is rowState within this batch's own traces.
func (d *Desk) rowStateHere(batchID string, it *BatchItem, in *mixin.TransferInput, hash *string) {
	it.Already, it.SnapshotID, it.Err = false, "", nil
	var earlier error
	for n := 0; n < maxBatchAttempts; n++ {
		trace := BatchTrace(batchID, it.Key, n)
		*in = mixin.TransferInput{AssetID: it.Asset.AssetID, OpponentID: it.User.UserID, Amount: it.AmountText, TraceID: trace, Memo: it.Memo}
		*hash = ContentHash(in.AssetID, in.OpponentID, in.Amount, in.Memo, trace)
		it.Attempt, it.Trace = n, trace
		e, ok := d.journal.Lookup(trace)
		if !ok {
			it.State, it.Err = ItemNew, earlier
			return
		}
		if e.State == StateFailed && e.Failed.Code != mixin.CodeTraceUsed {
			// Refused, nothing moved: the next attempt gets its own trace.
			earlier = fmt.Errorf("an earlier try was refused: %w", &mixin.Error{Code: e.Failed.Code, Description: e.Failed.Description})
			continue
		}
		if e.Intent.Hash != *hash {
			it.State = ItemFailed
			it.Err = &mixin.Error{Code: mixin.CodeTraceUsed, Description: fmt.Sprintf(
				"this row's key was already used for another payout (%s of asset %s to %s, %s); the row was changed since, and is not paid again",
				e.Intent.Amount, e.Intent.AssetID, e.Intent.RecipientID, e.State)}
			return
		}
		switch e.State {
		case StateDone:
			it.State, it.Already, it.SnapshotID = ItemDone, true, e.Done.SnapshotID
		case StateInDoubt:
			it.State = ItemInDoubt
			it.Err = errors.New("in doubt since an earlier run; settled by trace before the other rows")
		default: // refused with 20125: the trace belongs to another transfer
			it.State = ItemFailed
			it.Err = &mixin.Error{Code: e.Failed.Code, Description: e.Failed.Description}
		}
		return
	}
	it.State = ItemFailed
	it.Err = fmt.Errorf("refused %d times; give the row a new key to try again", maxBatchAttempts)
}

// earlierKey is a batch row of the journal: its intent and its state.
type earlierKey struct {
	e Entry
}

// earlierBatchKeys indexes the journal's batch rows of other batches by row
// key: done and in-doubt ones (a refused row moved nothing). The latest
// intent of a key wins.
func (d *Desk) earlierBatchKeys(batchID string) map[string]earlierKey {
	out := map[string]earlierKey{}
	for _, e := range d.journal.Entries() {
		if e.Intent.BatchID == "" || e.Intent.BatchID == batchID || e.Intent.RowKey == "" || e.State == StateFailed {
			continue
		}
		out[e.Intent.RowKey] = earlierKey{e: e}
	}
	return out
}

// markEarlierKey settles a new row whose key another batch already paid (or
// may have paid). With the same payment it is done and skipped; with other
// values it is refused, as the server refuses a trace reused with other
// fields. A row without a key of its own is keyed by its content, so the
// same payment in another batch is likewise not paid again.
func markEarlierKey(it *BatchItem, earlier map[string]earlierKey) {
	k, ok := earlier[it.Key]
	if !ok {
		return
	}
	in := k.e.Intent
	a, err := decimal.NewFromString(in.Amount)
	same := err == nil && in.RecipientID == it.User.UserID && in.AssetID == it.Asset.AssetID && a.Equal(it.Amount) && in.Memo == it.Memo
	switch {
	case !same:
		it.State = ItemFailed
		it.Err = &mixin.Error{Code: mixin.CodeTraceUsed, Description: fmt.Sprintf(
			"key %q was paid by batch %s with other values (%s of asset %s to %s); the row is not paid again: give it a new key if it is a new payment",
			it.Key, in.BatchID, in.Amount, in.AssetID, in.RecipientID)}
	case k.e.State == StateDone:
		it.State, it.Already, it.SnapshotID = ItemDone, true, k.e.Done.SnapshotID
	default:
		it.State = ItemFailed
		it.Err = fmt.Errorf("key %q is in doubt in batch %s; it is settled by its trace before anything else is sent, then run this file again", it.Key, in.BatchID)
	}
}

// addNotes adds what the operator may want to look at: a first payout to
// the recipient (as far as this journal knows), a large amount.
func (d *Desk) addNotes(it *BatchItem) {
	if !d.journal.HasPaid(it.User.UserID) {
		it.Notes = append(it.Notes, "first payout to this recipient from this console")
	}
	price, err := decimal.NewFromString(orZero(it.Asset.PriceUSD))
	if err != nil {
		price = decimal.Zero
	}
	it.ValueUSD = it.Amount.Mul(price)
	large := d.cfg.LargeUSD
	if large == "" {
		large = DefaultLargeUSD
	}
	if th, err := decimal.NewFromString(large); err == nil && th.IsPositive() && price.IsPositive() && it.ValueUSD.GreaterThanOrEqual(th) {
		it.Notes = append(it.Notes, fmt.Sprintf("large: about %s USD", GroupDigits(it.ValueUSD.StringFixed(2))))
	}
}

// findDuplicates groups the valid rows alike in recipient, asset and
// amount, and the rows still to pay that are like a payout of the journal
// (done or in doubt) of the last DuplicateWindow that is not one of this
// batch's rows.
func (d *Desk) findDuplicates(batchID string, items []BatchItem, now time.Time) []DupGroup {
	type sig struct{ user, asset, amount string }
	// keyed is a row's signature with its key: a second row with the same
	// one shares the first's trace.
	type keyed struct {
		sig
		key string
	}
	var groups []DupGroup
	first := map[sig]int{}
	group := map[sig]int{}
	keys := map[keyed]struct{}{} // the keys of the rows of the groups so far
	for i := range items {
		it := &items[i]
		if it.State == ItemInvalid {
			continue
		}
		s := sig{it.User.UserID, it.Asset.AssetID, it.AmountText}
		f, seen := first[s]
		if !seen {
			first[s] = i
			continue
		}
		g, ok := group[s]
		if !ok {
			g = len(groups)
			group[s] = g
			groups = append(groups, DupGroup{Kind: DupInFile, Lines: []int{items[f].Row.Line}, Recipient: it.User.FullName,
				UserID: it.User.UserID, Symbol: it.Asset.Symbol, AssetID: it.Asset.AssetID, Amount: it.AmountText})
			keys[keyed{s, items[f].Key}] = struct{}{}
		}
		groups[g].Lines = append(groups[g].Lines, it.Row.Line)
		k := keyed{s, it.Key}
		if _, same := keys[k]; same {
			groups[g].SameKey = true
		} else {
			keys[k] = struct{}{}
		}
	}

	// Payouts of the journal lately; this batch's own (any attempt, any
	// key) are not duplicates of its rows.
	recent := map[sig]Entry{}
	for _, e := range d.journal.Since(now.Add(-d.cfg.DuplicateWindow)) {
		if e.State == StateFailed || e.Intent.BatchID == batchID {
			continue
		}
		a, err := decimal.NewFromString(e.Intent.Amount)
		if err != nil {
			continue
		}
		recent[sig{e.Intent.RecipientID, e.Intent.AssetID, a.String()}] = e // the latest wins
	}
	if len(recent) == 0 {
		return groups
	}
	rg := map[sig]int{}
	for i := range items {
		it := &items[i]
		if it.State != ItemNew {
			continue
		}
		s := sig{it.User.UserID, it.Asset.AssetID, it.AmountText}
		e, ok := recent[s]
		if !ok {
			continue
		}
		g, ok := rg[s]
		if !ok {
			g = len(groups)
			rg[s] = g
			groups = append(groups, DupGroup{Kind: DupRecent, Recipient: it.User.FullName, UserID: it.User.UserID,
				Symbol: it.Asset.Symbol, AssetID: it.Asset.AssetID, Amount: it.AmountText,
				EarlierTrace: e.Intent.Trace, EarlierBatch: e.Intent.BatchID, EarlierAt: e.Intent.Time})
		}
		groups[g].Lines = append(groups[g].Lines, it.Row.Line)
	}
	slices.SortStableFunc(groups, func(a, b DupGroup) int { return a.Lines[0] - b.Lines[0] })
	return groups
}

// totalsLocked recomputes the totals per asset and their problems. The
// caller holds b.mu (or owns b alone).
func (b *Batch) totalsLocked() {
	d := b.desk
	now := d.now()
	var totals []AssetTotal
	at := map[string]int{}
	newPay := map[string]decimal.Decimal{} // new rows only: in-doubt ones are already in Used
	for i := range b.items {
		it := &b.items[i]
		if it.State == ItemInvalid {
			continue
		}
		k, ok := at[it.Asset.AssetID]
		if !ok {
			k = len(totals)
			at[it.Asset.AssetID] = k
			bal, _ := decimal.NewFromString(orZero(it.Asset.Balance))
			totals = append(totals, AssetTotal{Asset: it.Asset, Balance: bal})
		}
		t := &totals[k]
		t.Rows++
		t.Total = t.Total.Add(it.Amount)
		switch it.State {
		case ItemNew:
			t.ToPay = t.ToPay.Add(it.Amount)
			newPay[it.Asset.AssetID] = newPay[it.Asset.AssetID].Add(it.Amount)
		case ItemInDoubt:
			t.ToPay = t.ToPay.Add(it.Amount)
		}
	}
	for i := range totals {
		t := &totals[i]
		id := t.Asset.AssetID
		if price, err := decimal.NewFromString(orZero(t.Asset.PriceUSD)); err == nil {
			t.ValueUSD = t.ToPay.Mul(price)
		}
		if t.ToPay.GreaterThan(t.Balance) {
			t.Problem = fmt.Sprintf("%s: %s to pay, but the balance is %s", t.Asset.Symbol, GroupDigits(t.ToPay.String()), GroupDigits(t.Balance.String()))
		}
		c, ok := d.caps[id]
		if !ok {
			continue
		}
		t.PerTransfer = d.cfg.Limits[id].PerTransfer
		if !c.hasDaily {
			continue
		}
		used, err := d.dailyUsed(id, now, "")
		if err != nil {
			t.Problem = errorLine(err)
			continue
		}
		t.HasDaily, t.Daily, t.Used = true, c.daily, used
		t.Left = decimal.Max(c.daily.Sub(used), decimal.Zero)
		if n := newPay[id]; n.GreaterThan(t.Left) && t.Problem == "" {
			t.Problem = fmt.Sprintf("%s: %s to pay, but only %s is left of the daily cap of %s (used %s in the last 24 h, payouts in doubt included)",
				t.Asset.Symbol, GroupDigits(n.String()), GroupDigits(t.Left.String()), GroupDigits(c.daily.String()), GroupDigits(used.String()))
		}
	}
	b.totals = totals
}
