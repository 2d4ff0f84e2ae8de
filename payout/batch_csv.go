package payout

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"mixdesk/internal/csvcell"
	"mixdesk/internal/errtext"
	"mixdesk/mixin"
)

// Limits of a batch file.
const (
	// MaxBatchRows is the most rows one batch file may hold.
	MaxBatchRows = 10_000
	// MaxBatchKey is the longest row key, in bytes of UTF-8. A key is
	// journalled with every intent of its row, and a duplicate's key gets
	// a "#2"-style suffix, so this stays well under journal.MaxLabelLen.
	MaxBatchKey = 200
	// maxBatchBytes bounds the size of a batch file ParseBatch reads.
	maxBatchBytes = 8 << 20
)

// The columns of a batch file. recipient, asset and amount are required;
// memo and key are optional. Names are matched without regard to case or
// surrounding spaces, in any order.
const (
	BatchColRecipient = "recipient"
	BatchColAsset     = "asset"
	BatchColAmount    = "amount"
	BatchColMemo      = "memo"
	BatchColKey       = "key"
)

var batchColumns = []string{BatchColRecipient, BatchColAsset, BatchColAmount, BatchColMemo, BatchColKey}

// RowError is one problem of a batch, with the line of the file it is on.
// Line 0 is a problem of the whole batch (a total over a balance or a cap).
type RowError struct {
	Line   int
	Field  string // a column name, "row" for the row's shape, "total" for a batch total
	Reason string // one sentence for the operator
}

func (e RowError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("batch: %s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Reason)
}

// BatchFileError is a batch file that cannot be read as a table at all: no
// header, a missing or unknown column, a broken quote, too large. Nothing
// of it is used.
type BatchFileError struct {
	Name   string // the file as given to ParseBatch
	Line   int    // 0 when the problem is the whole file
	Column int    // 1-based byte column, 0 when unknown
	Reason string
}

func (e *BatchFileError) Error() string {
	where := e.Name
	if where == "" {
		where = "batch file"
	}
	switch {
	case e.Line > 0 && e.Column > 0:
		where += fmt.Sprintf(" line %d, column %d", e.Line, e.Column)
	case e.Line > 0:
		where += fmt.Sprintf(" line %d", e.Line)
	}
	return where + ": " + e.Reason
}

// BatchRow is one row of a batch file as written, each cell without its
// surrounding spaces. Nothing in it is checked yet: PrepareBatchWith does that.
type BatchRow struct {
	Line      int // 1-based line of the file where the row starts
	Recipient string
	Asset     string
	Amount    string
	Memo      string
	// Key names the payment for ever: the row's trace is derived from the
	// batch id and the key. It is the key column's cell, or, when that is
	// absent or empty, the default key (see DefaultRowKey).
	Key string
	// KeyGiven is set when the key came from the key column.
	KeyGiven bool
}

// BatchFile is a parsed batch file: its rows and the batch id derived from
// them.
type BatchFile struct {
	Name    string // the file as given to ParseBatch (the report goes next to it)
	ID      string // "b-" and 16 hex digits; see BatchID
	Rows    []BatchRow
	HasKeys bool // the file has a key column
	// Problems are rows whose shape is wrong (a cell too many or too few).
	// Such a row is in Rows too, with the cells it has; PrepareBatchWith
	// reports it with the other row errors, and a batch with any cannot be
	// sent.
	Problems []RowError
}

// ParseBatch reads a batch file: a CSV table (RFC 4180, comma separated,
// UTF-8, an optional byte order mark) whose header names the columns
// recipient, asset, amount and optionally memo and key, in any order.
// Blank lines, and rows whose cells are all empty (as spreadsheets add at
// the end), are skipped. A row with the wrong number of cells is recorded
// in Problems (and kept in Rows) and parsing goes on; a broken header, a broken quote, more
// than MaxBatchRows rows or more than 8 MiB is a *BatchFileError and
// nothing is returned. Cells are not checked here (PrepareBatchWith collects
// every row error); the only thing derived is each row's key and the batch
// id. name is only used in messages and to place the report.
func ParseBatch(r io.Reader, name string) (*BatchFile, error) {
	fail := func(line, col int, format string, a ...any) error {
		return &BatchFileError{Name: name, Line: line, Column: col, Reason: fmt.Sprintf(format, a...)}
	}
	lr := &io.LimitedReader{R: r, N: maxBatchBytes + 1}
	cr := csv.NewReader(bufio.NewReader(lr))
	cr.FieldsPerRecord = -1 // checked here, so that every bad row is listed

	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		if lr.N <= 0 {
			return nil, fail(0, 0, "larger than %d MiB; split the batch", maxBatchBytes>>20)
		}
		return nil, fail(0, 0, "the file is empty; it needs a header line such as recipient,asset,amount,memo,key")
	}
	if err != nil {
		return nil, csvFailure(name, lr, err)
	}
	cols, err := batchHeader(head)
	if err != nil {
		return nil, fail(1, 0, "%s", err.Error())
	}
	f := &BatchFile{Name: name, HasKeys: cols[BatchColKey] >= 0}
	cell := func(rec []string, col string) string {
		if i := cols[col]; i >= 0 && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvFailure(name, lr, err)
		}
		line, _ := cr.FieldPos(0)
		if allEmpty(rec) {
			continue
		}
		if len(f.Rows) >= MaxBatchRows {
			return nil, fail(line, 0, "more than %d rows; split the batch", MaxBatchRows)
		}
		if len(rec) != len(head) {
			// Kept, with the cells it has, so that the report lists it.
			f.Problems = append(f.Problems, RowError{Line: line, Field: "row",
				Reason: fmt.Sprintf("%d cells, but the header has %d columns (a comma too many or too few? quote a cell that holds a comma)", len(rec), len(head))})
		}
		row := BatchRow{Line: line, Recipient: cell(rec, BatchColRecipient), Asset: cell(rec, BatchColAsset),
			Amount: cell(rec, BatchColAmount), Memo: cell(rec, BatchColMemo), Key: cell(rec, BatchColKey)}
		row.KeyGiven = row.Key != ""
		if !row.KeyGiven {
			row.Key = DefaultRowKey(row.Recipient, row.Asset, row.Amount, row.Memo)
		}
		f.Rows = append(f.Rows, row)
	}
	if lr.N <= 0 {
		return nil, fail(0, 0, "larger than %d MiB; split the batch", maxBatchBytes>>20)
	}
	if len(f.Rows) == 0 {
		return nil, fail(0, 0, "the file has a header but no rows")
	}
	keys := make([]string, len(f.Rows))
	for i := range f.Rows {
		keys[i] = f.Rows[i].Key
	}
	f.ID = BatchID(keys)
	return f, nil
}

// ParseBatchFile reads the batch file at path with ParseBatch; the path is
// the file's name in messages and where the report goes. A path that is
// not a regular file, or cannot be opened, is an error naming it.
func ParseBatchFile(path string) (*BatchFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("payout: batch file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("payout: batch file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, &BatchFileError{Name: path, Reason: "not a regular file"}
	}
	return ParseBatch(f, path)
}

// csvFailure words a CSV reading error; a file cut by the size limit is
// reported as too large rather than as the broken quote it may look like.
func csvFailure(name string, lr *io.LimitedReader, err error) error {
	if lr.N <= 0 {
		return &BatchFileError{Name: name, Reason: fmt.Sprintf("larger than %d MiB; split the batch", maxBatchBytes>>20)}
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &BatchFileError{Name: name, Reason: "reading: " + err.Error()}
	}
	reason := pe.Err.Error()
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		reason = `a quote (") inside a cell that does not start with one; quote the whole cell and double the quotes inside it ("say ""hi""")`
	case errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line:
		// The quote that is not closed is where the cell starts.
		return &BatchFileError{Name: name, Line: pe.StartLine,
			Reason: fmt.Sprintf(`a quoted cell that starts on this line is not closed (it runs on to line %d)`, pe.Line)}
	case errors.Is(pe.Err, csv.ErrQuote):
		reason = `a quoted cell is not closed, or its closing quote is followed by more text`
	}
	return &BatchFileError{Name: name, Line: pe.Line, Column: pe.Column, Reason: reason}
}

// batchHeader maps each known column to its index (-1 when absent) and
// refuses unknown, repeated and missing columns, all named in one error.
func batchHeader(head []string) (map[string]int, error) {
	cols := make(map[string]int, len(batchColumns))
	for _, c := range batchColumns {
		cols[c] = -1
	}
	var unknown, repeated, missing []string
	for i, h := range head {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		name := strings.ToLower(strings.TrimSpace(h))
		j, known := cols[name]
		switch {
		case !known:
			unknown = append(unknown, strconv.Quote(errtext.Cut(strings.TrimSpace(h))))
		case j >= 0:
			repeated = append(repeated, name)
		default:
			cols[name] = i
		}
	}
	for _, c := range []string{BatchColRecipient, BatchColAsset, BatchColAmount} {
		if cols[c] < 0 {
			missing = append(missing, c)
		}
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "missing column "+strings.Join(missing, ", "))
	}
	if len(unknown) > 0 {
		parts = append(parts, "unknown column "+strings.Join(unknown, ", "))
	}
	if len(repeated) > 0 {
		parts = append(parts, "column "+strings.Join(repeated, ", ")+" given twice")
	}
	if len(parts) > 0 {
		return nil, errors.New(strings.Join(parts, "; ") + " (the columns are recipient, asset, amount and optionally memo and key)")
	}
	return cols, nil
}

func allEmpty(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// DefaultRowKey is the key of a row without one: its recipient, asset,
// amount and memo joined with "|", so that two rows alike in all four get
// the same key (and are flagged as duplicates). So that the same payment
// written a little differently keeps its key, a UUID is written in lower
// case, a symbol in upper case, a label in lower case and an amount in its
// canonical form ("10.50" is "10.5"); the memo is kept as written. A key
// that would be longer than MaxBatchKey bytes is "sha256:" and the first
// 32 hex digits of the SHA-256 of the four parts instead.
func DefaultRowKey(recipient, asset, amount, memo string) string {
	recipient = strings.ToLower(recipient)
	if id, err := mixin.ParseUUID("", asset); err == nil {
		asset = id
	} else {
		asset = strings.ToUpper(asset)
	}
	if _, canon, err := mixin.ParseAmount(amount); err == nil {
		amount = canon
	}
	key := recipient + "|" + asset + "|" + amount + "|" + memo
	if len(key) <= MaxBatchKey {
		return key
	}
	h := sha256.New()
	for _, p := range []string{recipient, asset, amount, memo} {
		h.Write(binary.AppendUvarint(nil, uint64(len(p))))
		h.Write([]byte(p))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:32]
}

// BatchID derives a batch id from the keys of a batch's rows: "b-" and the
// first 16 hex digits of the SHA-256 of the keys, sorted, each preceded by
// its length. It depends on nothing else: not on line ends (CRLF or LF), a
// trailing newline, a byte order mark, quoting, spaces around cells, column
// order or row order. Without a key column each key is the row itself
// (DefaultRowKey), so the id is a fingerprint of the payments; with keys it
// names the set of keys, so a file whose amounts were edited under the same
// keys keeps its id (and its traces: the edited row is then refused, not
// paid a second time).
func BatchID(keys []string) string {
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	h := sha256.New()
	h.Write([]byte("mixdesk batch v1\n"))
	var n [binary.MaxVarintLen64]byte
	for _, k := range sorted {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(k)))])
		h.Write([]byte(k))
	}
	return "b-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// batchReportHeader is the first line of a batch report.
var batchReportHeader = []string{
	"line", "recipient", "recipient_name", "recipient_id", "asset", "asset_id", "amount", "memo",
	"key", "batch_id", "trace_id", "state", "snapshot_id", "error", "paid",
}

// The paid column of a batch report, for a done row.
const (
	// ReportPaidNow: paid by the run the report follows.
	ReportPaidNow = "now"
	// ReportPaidFound: found on the server, paid before (BatchItem.Found):
	// nothing moved now.
	ReportPaidFound = "before, found on the server"
	// ReportPaidJournal: done before as the journal says (BatchItem.Already):
	// not sent.
	ReportPaidJournal = "before, in the journal"
)

// paidCell is the paid column of a row: when a done row was paid.
func paidCell(it *BatchItem) string {
	switch {
	case it.State != ItemDone:
		return ""
	case it.Already:
		return ReportPaidJournal
	case it.Found:
		return ReportPaidFound
	}
	return ReportPaidNow
}

// BatchReportPath is where the report of the batch file at input goes: in
// the same folder, NAME.report.csv, where NAME is the input's file name
// without its extension ("payroll.csv" gives "payroll.report.csv").
func BatchReportPath(input string) string {
	base := filepath.Base(input)
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return filepath.Join(filepath.Dir(input), base+".report.csv")
}

// WriteBatchReport writes the report of a batch next to its input file (see
// BatchReportPath) and returns the path it wrote. An existing report is
// never replaced: the name gets -2, -3… ("payroll.report-2.csv"). The file
// is readable by its owner only (mode 0600), synced to disk, and removed
// if it could not be written in full.
//
// Every row of the input is in it, in file order, with its line, the
// recipient and asset as written and as resolved, the amount (canonical
// when valid, else as written), memo, key, batch id, trace id, state
// (ItemState), snapshot id when done, the error when failed, in doubt,
// not sent or invalid (a row of a batch that cannot be sent says why it
// was not: its total's problem, or the invalid rows), and for a done row
// when it was paid (ReportPaidNow, ReportPaidFound, ReportPaidJournal). Text cells go through csvcell.Text, as in
// the history export: display-safe (no escape sequence, control or
// invisible character reaches a terminal that shows the file) and
// protected from spreadsheet formulas.
func WriteBatchReport(input string, b *Batch) (string, error) {
	if b == nil {
		return "", errors.New("payout: no batch to report")
	}
	first := BatchReportPath(input)
	stem := strings.TrimSuffix(first, ".csv")
	for n := 1; n <= 1000; n++ {
		path := first
		if n > 1 {
			path = stem + "-" + strconv.Itoa(n) + ".csv"
		}
		err := saveBatchReport(path, b)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return path, nil
	}
	return "", fmt.Errorf("payout: report: %s and 999 numbered reports beside it exist already", first)
}

func saveBatchReport(path string, b *Batch) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return err
		}
		return fmt.Errorf("payout: report: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("payout: report: %w", cerr)
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := writeBatchReport(bw, b); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("payout: report: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("payout: report: %w", err)
	}
	return nil
}

// notSendable says why a row without a problem of its own was not sent
// when the batch cannot be sent (it has errors: rows that are invalid, a
// total over a balance or a cap): the problem of its asset's total, else
// the invalid rows. It is nil for a batch without errors.
func notSendable(b *Batch) func(*BatchItem) string {
	errs := b.Errors()
	if len(errs) == 0 {
		return nil
	}
	const head = "not sent: the batch cannot be sent"
	why := head + " until the rows marked invalid are fixed"
	var all []string
	totals := map[string]string{}
	for _, t := range b.Totals() {
		if t.Problem != "" {
			totals[t.Asset.AssetID] = t.Problem
			all = append(all, t.Problem)
		}
	}
	if errs[0].Line == 0 { // no row error: the totals alone stop it
		why = head + ": " + strings.Join(all, "; ")
	}
	return func(it *BatchItem) string {
		if p, ok := totals[it.Asset.AssetID]; ok {
			return head + ": " + p
		}
		return why
	}
}

// writeBatchReport writes the report's CSV to w.
func writeBatchReport(w io.Writer, b *Batch) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(batchReportHeader); err != nil {
		return fmt.Errorf("payout: writing the report: %w", err)
	}
	stopped := b.Stopped()
	unsendable := notSendable(b)
	for _, it := range b.Rows(0, b.Len()) {
		amount := it.AmountText
		if amount == "" {
			amount = csvcell.Text(it.Row.Amount)
		}
		state := it.State
		problem := it.Problem()
		switch {
		case state == ItemNew && stopped != nil:
			problem = "not sent: " + errorLine(stopped)
		case state == ItemNew && problem == "" && unsendable != nil:
			problem = unsendable(&it)
		}
		rec := []string{
			strconv.Itoa(it.Row.Line),
			csvcell.Text(it.Row.Recipient),
			csvcell.Text(it.User.FullName),
			csvcell.Text(it.User.UserID),
			csvcell.Text(it.Row.Asset),
			csvcell.Text(it.Asset.AssetID),
			amount,
			csvcell.Text(it.Row.Memo),
			csvcell.Text(it.Key),
			csvcell.Text(b.ID),
			csvcell.Text(it.Trace),
			string(state),
			csvcell.Text(it.SnapshotID),
			csvcell.Text(problem),
			paidCell(&it),
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("payout: writing the report: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("payout: writing the report: %w", err)
	}
	return nil
}
