package payout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"mixdesk/addressbook"
	"mixdesk/internal/errtext"
	"mixdesk/mixin"
	"mixdesk/payout/rail"
)

// PrepareBatchWith checks a parsed batch file as a whole and returns what the
// review table shows. Every row is checked and every problem collected
// (RowError, with its line): recipient (a UUID is a user id, digits only a
// Mixin ID number, anything else a label of the address book, Config.Book,
// matched without regard to case; with AddressBookOnly, only saved
// recipients), asset (a UUID, or the symbol of one of held, the
// profile's assets as the balances list them), amount and memo (the rules
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
func (d *Desk) PrepareBatchWith(ctx context.Context, f *BatchFile, held []rail.Asset) (*Batch, error) {
	if f == nil || len(f.Rows) == 0 {
		return nil, errors.New("payout: the batch has no rows")
	}
	if err := d.journal.Err(); err != nil {
		return nil, fmt.Errorf("no batch can be prepared: %w", err)
	}
	now := d.now()
	b := &Batch{ID: f.ID, Name: f.Name, PreparedAt: now, desk: d,
		items: make([]BatchItem, len(f.Rows)), inputs: make([]rail.Payment, len(f.Rows)), hashes: make([]string, len(f.Rows))}
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
	// What the account paid lately, whichever console paid it: for the
	// daily caps and the duplicates.
	var err error
	if b.spent, err = d.readSpent(ctx, now.Add(-max(DailyWindow, d.cfg.DuplicateWindow))); err != nil {
		return nil, fmt.Errorf("checking the batch: %w", err)
	}

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
	b.dups = d.findDuplicates(b.ID, b.items, now, b.spent)
	for g := range b.dups {
		for _, line := range b.dups[g].Lines {
			b.items[byLine[line]].Dup = g + 1
		}
	}
	for i := range b.items {
		b.errs = append(b.errs, b.items[i].Errors...)
	}
	merges, err := d.planMerges(ctx, b.items)
	if err != nil {
		return nil, err
	}
	b.merges = merges
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
			bad(BatchColKey, fmt.Sprintf("%q is also the key of line %d; each payment needs a key of its own", errtext.Cut(r.Key), items[first].Row.Line))
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
func (d *Desk) resolveAssets(ctx context.Context, items []BatchItem, held []rail.Asset) error {
	bySymbol := map[string][]rail.Asset{}
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
			problem[w] = fmt.Sprintf("this profile holds no asset with the symbol %q; write the asset UUID", errtext.Cut(w))
		case 1:
			if id, err := mixin.ParseUUID(mixin.FieldAsset, as[0].AssetID); err == nil {
				ids[i] = id
			} else {
				problem[w] = fmt.Sprintf("the asset %q has a bad id in the asset list", errtext.Cut(w))
			}
		default:
			problem[w] = fmt.Sprintf("%d assets of this profile have the symbol %q; write the asset UUID", len(as), errtext.Cut(w))
		}
	}
	read := map[string]*rail.Asset{}
	for i, id := range ids {
		if id == "" {
			if reason, ok := problem[strings.TrimSpace(items[i].Row.Asset)]; ok {
				items[i].Errors = append(items[i].Errors, RowError{Line: items[i].Row.Line, Field: BatchColAsset, Reason: reason})
			}
			continue
		}
		a, done := read[id]
		if !done {
			got, err := d.rail.Asset(ctx, id)
			switch {
			case errors.Is(err, rail.ErrNotFound):
				got = nil
			case err != nil:
				return fmt.Errorf("reading the asset %s: %w", id, err)
			default:
				if gid, err := mixin.ParseUUID(mixin.FieldAsset, got.AssetID); err != nil || gid != id {
					return fmt.Errorf("the API answered about asset %q when asked for %s", got.AssetID, id)
				}
				got.AssetID = id
				if _, err := decimal.NewFromString(orZero(got.Balance)); err != nil {
					return fmt.Errorf("the server sent a balance of %s that is not a number: %q", id, errtext.Cut(got.Balance))
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
		user   *rail.User
		saved  *addressbook.Entry
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
func (d *Desk) resolveBatchRecipient(ctx context.Context, w string) (u *rail.User, saved *addressbook.Entry, reason string, err error) {
	target := w
	_, uerr := mixin.ParseUUID(mixin.FieldRecipient, w)
	if uerr != nil && !mixin.IsMixinID(w) {
		if d.cfg.Book == nil {
			return nil, nil, fmt.Sprintf("%q is not a user UUID or Mixin ID number, and this profile has no address book to look it up in", errtext.Cut(w)), nil
		}
		e, ok := d.cfg.Book.ByLabel(w)
		if !ok {
			return nil, nil, fmt.Sprintf("no recipient labelled %q in the address book (and not a user UUID or Mixin ID number)", errtext.Cut(w)), nil
		}
		saved, target = &e, e.UserID
	}
	u, err = d.Recipient(ctx, target)
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
