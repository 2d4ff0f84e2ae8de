package payout

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// journalCSVHeader is the first line of a journal export.
var journalCSVHeader = []string{
	"seq", "time", "kind", "trace_id", "asset_id", "recipient_id", "amount", "memo", "operator", "host",
	"snapshot_id", "closing_balance", "code", "description", "hash", "prev", "via", "batch_id", "row_key",
}

// The columns of a journal export.
const (
	jcSeq = iota
	jcTime
	jcKind
	jcTrace
	jcAsset
	jcRecipient
	jcAmount
	jcMemo
	jcOperator
	jcHost
	jcSnapshot
	jcClosing
	jcCode
	jcDescription
	jcHash
	jcPrev
	jcVia
	jcBatch
	jcRowKey
	journalCSVColumns
)

// WriteJournalCSV writes journal records as CSV (RFC 4180, comma separated,
// "\n" line ends, UTF-8 without byte order mark), one row per record in the
// order given, after a header line:
//
//	seq,time,kind,trace_id,asset_id,recipient_id,amount,memo,operator,host,snapshot_id,closing_balance,code,description,hash,prev,via,batch_id,row_key
//
// Each row holds the fields of its kind and leaves the others empty: an
// intent has asset_id to host, hash (its content hash), batch_id and
// row_key; done has snapshot_id, closing_balance and via; failed has code
// and description. Every row has seq, time (RFC 3339 UTC with nanoseconds,
// as recorded), kind, trace_id and prev (the hash of the line before). Text
// cells are display-safe and protected from spreadsheet formulas as in
// WriteCSV (CSVText); amounts and balances are plain decimals, seq and code
// plain integers.
func WriteJournalCSV(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(journalCSVHeader); err != nil {
		return fmt.Errorf("payout: writing the journal export: %w", err)
	}
	row := make([]string, journalCSVColumns)
	for i := range recs {
		rec := &recs[i]
		clear(row)
		row[jcSeq] = strconv.FormatUint(rec.Seq, 10)
		row[jcTime] = rec.Time.UTC().Format(time.RFC3339Nano)
		row[jcKind] = CSVText(string(rec.Kind))
		row[jcTrace] = CSVText(rec.Trace())
		row[jcPrev] = CSVText(rec.Prev)
		switch {
		case rec.Intent != nil:
			in := rec.Intent
			row[jcAsset] = CSVText(in.AssetID)
			row[jcRecipient] = CSVText(in.RecipientID)
			row[jcAmount] = numberCell(in.Amount)
			row[jcMemo] = CSVText(in.Memo)
			row[jcOperator] = CSVText(in.Operator)
			row[jcHost] = CSVText(in.Host)
			row[jcHash] = CSVText(in.Hash)
			row[jcBatch] = CSVText(in.BatchID)
			row[jcRowKey] = CSVText(in.RowKey)
		case rec.Done != nil:
			row[jcSnapshot] = CSVText(rec.Done.SnapshotID)
			row[jcClosing] = numberCell(rec.Done.ClosingBalance)
			row[jcVia] = CSVText(string(rec.Done.Via))
		case rec.Failed != nil:
			row[jcCode] = strconv.Itoa(rec.Failed.Code)
			row[jcDescription] = CSVText(rec.Failed.Description)
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("payout: writing the journal export: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("payout: writing the journal export: %w", err)
	}
	return nil
}

// numberCell is a decimal cell: the number as it is when it is a plain
// decimal (records are checked when read, so it always is), else a text
// cell (CSVText), so that nothing else reaches the file raw.
func numberCell(s string) string {
	if s == "" || checkDecimal("amount", s, false) == nil {
		return s
	}
	return CSVText(s)
}

// SaveJournalCSV writes records (WriteJournalCSV) to a new file at path,
// readable by the owner only (mode 0600). It never replaces a file: when
// path exists the error wraps os.ErrExist. Its folder must exist. A file
// that could not be written in full is removed.
func SaveJournalCSV(path string, recs []Record) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("payout: journal export: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("payout: journal export: %w", cerr)
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := WriteJournalCSV(bw, recs); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("payout: journal export: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("payout: journal export: %w", err)
	}
	return nil
}
