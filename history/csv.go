package history

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"mixdesk/internal/csvcell"
	"mixdesk/internal/errtext"
	"mixdesk/journal"
)

// csvHeader is the first line of a history export; an export made
// WithTxHash has one more column, csvTxHash.
var csvHeader = []string{
	"time", "direction", "asset", "asset_id", "amount", "counterparty", "counterparty_id",
	"memo", "trace_id", "snapshot_id", "state", "closing_balance",
}

// csvTxHash is the name of the column WithTxHash adds.
const csvTxHash = "tx_hash"

// The columns of a history export.
const (
	colTime = iota
	colDirection
	colAsset
	colAssetID
	colAmount
	colCounterparty
	colCounterpartyID
	colMemo
	colTrace
	colSnapshot
	colState
	colClosing
	csvColumns
	colTxHash = csvColumns // the column WithTxHash adds after the others
)

// CSVOption changes what an export holds.
type CSVOption func(*csvFormat)

// csvFormat is what the options of an export chose.
type csvFormat struct {
	txHash bool
}

// WithTxHash adds a thirteenth column after closing_balance, tx_hash: the
// network transaction's hash of each row (Row.TxHash, "" when it has none).
// The console adds it to the exports of a Safe profile, whose movements
// have one; without it an export has the twelve columns it always had.
// ReadCSV reads both.
func WithTxHash() CSVOption { return func(f *csvFormat) { f.txHash = true } }

// CSVRow is one row of a history export read back, every column as the text
// it holds (with the export's leading-quote protection taken off).
type CSVRow struct {
	Time           string // RFC 3339, UTC
	Direction      string // "in" or "out"
	Asset          string // symbol
	AssetID        string
	Amount         string // exact signed decimal
	Counterparty   string // name
	CounterpartyID string
	Memo           string
	TraceID        string
	SnapshotID     string // "" for payouts in doubt or refused
	State          string // a State
	ClosingBalance string
	TxHash         string // "" also when the export has no tx_hash column
}

// WriteCSV writes rows as a CSV history export (RFC 4180, comma separated,
// "\n" line ends, UTF-8 without byte order mark), with a header line:
//
//	time,direction,asset,asset_id,amount,counterparty,counterparty_id,memo,trace_id,snapshot_id,state,closing_balance
//
// and ",tx_hash" at its end WithTxHash. time is RFC 3339 in UTC with the fraction of a second the server gave
// (time.RFC3339Nano), so that rows of one second keep their order and
// reconcile exactly. direction is "in" or "out". amount is the exact signed
// decimal (negative for money out, never rounded, no exponent). symbol and
// name give an asset's symbol and a counterparty's name; either may be nil
// (the column is left empty). state is a State: a deposit's is "deposit",
// with no counterparty.
//
// # Terminal safety
//
// Every text cell is made display-safe first (mixin.DisplayText: no escape
// sequences, control, invisible or direction-changing characters), so that
// showing the file in a terminal replays nothing. Tabs and line breaks in
// a cell become spaces.
//
// # Spreadsheet formulas
//
// A text cell that starts with = + - @ (or a full-width form of them), a
// space or a line break could be run as a formula by a spreadsheet, so it
// is written with a leading apostrophe ('), which spreadsheets show as "this is text" and hide; a cell
// that itself starts with an apostrophe gets one more, so ReadCSV can take
// exactly one off and give back the text. The amount column is the
// exception: it is always a plain decimal number ("-12.5"), which a
// spreadsheet reads as a number and never as a formula, and it stays
// exactly that so that it can be parsed back. The time and closing balance
// columns never start with those characters.
func WriteCSV(w io.Writer, rows []Row, symbol func(assetID string) string, name func(userID string) string, opts ...CSVOption) error {
	var f csvFormat
	for _, o := range opts {
		o(&f)
	}
	head := csvHeader
	if f.txHash {
		head = append(slices.Clip(csvHeader), csvTxHash)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return fmt.Errorf("history: writing the export: %w", err)
	}
	rec := make([]string, len(head))
	for i := range rows {
		r := &rows[i]
		rec[colTime] = r.Time.UTC().Format(time.RFC3339Nano)
		rec[colDirection] = "in"
		if r.Outgoing() {
			rec[colDirection] = "out"
		}
		rec[colAsset] = ""
		if symbol != nil {
			rec[colAsset] = csvcell.Text(symbol(r.AssetID))
		}
		rec[colAssetID] = csvcell.Text(r.AssetID)
		rec[colAmount] = r.Amount.String()
		rec[colCounterparty] = ""
		if name != nil {
			rec[colCounterparty] = csvcell.Text(name(r.OpponentID))
		}
		rec[colCounterpartyID] = csvcell.Text(r.OpponentID)
		rec[colMemo] = csvcell.Text(r.Memo)
		rec[colTrace] = csvcell.Text(r.TraceID)
		rec[colSnapshot] = csvcell.Text(r.SnapshotID)
		rec[colState] = csvcell.Text(string(r.State))
		rec[colClosing] = csvcell.Text(r.Closing)
		if f.txHash {
			rec[colTxHash] = csvcell.Text(r.TxHash)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("history: writing the export: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("history: writing the export: %w", err)
	}
	return nil
}

// ReadCSV reads a history export written by WriteCSV, with or without the
// tx_hash column. The header must be the export's (a byte order mark
// before it is allowed, as spreadsheets save one). Each row must have every
// column, a time in RFC 3339 and an amount that is a plain signed decimal;
// the first row that does not is reported with its line number and nothing
// is returned.
func ReadCSV(r io.Reader) ([]CSVRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // the header is checked below
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("history: the export is empty (no header line)")
		}
		return nil, fmt.Errorf("history: reading the export: %w", err)
	}
	head[0] = strings.TrimPrefix(head[0], "\ufeff")
	if len(head) != csvColumns && len(head) != csvColumns+1 {
		return nil, fmt.Errorf("history: not a history export: the header has %d columns, want %d (or %d with %s)", len(head), csvColumns, csvColumns+1, csvTxHash)
	}
	want := csvHeader
	if len(head) > csvColumns {
		want = append(slices.Clip(csvHeader), csvTxHash)
	}
	for i, h := range want {
		if head[i] != h {
			return nil, fmt.Errorf("history: not a history export: column %d of the header is %q, want %q", i+1, errtext.Cut(head[i]), h)
		}
	}
	cr.FieldsPerRecord = len(want)
	var out []CSVRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("history: reading the export: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if _, err := time.Parse(time.RFC3339Nano, rec[colTime]); err != nil {
			return nil, fmt.Errorf("history: export line %d: time %q is not an RFC 3339 time", line, errtext.Cut(rec[colTime]))
		}
		if !journal.PlainDecimal(strings.TrimPrefix(rec[colAmount], "-")) {
			return nil, fmt.Errorf("history: export line %d: amount %q is not a plain decimal number", line, errtext.Cut(rec[colAmount]))
		}
		row := CSVRow{
			Time:           rec[colTime],
			Direction:      csvcell.Unguard(rec[colDirection]),
			Asset:          csvcell.Unguard(rec[colAsset]),
			AssetID:        csvcell.Unguard(rec[colAssetID]),
			Amount:         rec[colAmount],
			Counterparty:   csvcell.Unguard(rec[colCounterparty]),
			CounterpartyID: csvcell.Unguard(rec[colCounterpartyID]),
			Memo:           csvcell.Unguard(rec[colMemo]),
			TraceID:        csvcell.Unguard(rec[colTrace]),
			SnapshotID:     csvcell.Unguard(rec[colSnapshot]),
			State:          csvcell.Unguard(rec[colState]),
			ClosingBalance: csvcell.Unguard(rec[colClosing]),
		}
		if len(rec) > colTxHash {
			row.TxHash = csvcell.Unguard(rec[colTxHash])
		}
		out = append(out, row)
	}
}

// ExportPath is the default file of a history export made at now, in the
// exports folder of the data directory: DATA/exports/history-YYYYMMDD-HHMMSS.csv
// (now as given, in its own time zone).
func ExportPath(dataDir string, now time.Time) string {
	return filepath.Join(dataDir, "exports", "history-"+now.Format("20060102-150405")+".csv")
}

// SaveCSV writes rows as a history export (WriteCSV, with its options) to a new file at path,
// readable by the owner only (mode 0600, its folder 0700: a history is
// private). It never replaces a file: when path exists the error wraps
// os.ErrExist. A file that could not be written in full is removed.
func SaveCSV(path string, rows []Row, symbol func(assetID string) string, name func(userID string) string, opts ...CSVOption) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("history: export folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("history: export: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("history: export: %w", cerr)
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := WriteCSV(bw, rows, symbol, name, opts...); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("history: export: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("history: export: %w", err)
	}
	return nil
}
