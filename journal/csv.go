package journal

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"mixdesk/internal/csvcell"
)

// csvHeader is the first line of a journal export.
var csvHeader = []string{
	"seq", "time", "kind", "trace_id", "asset_id", "recipient_id", "amount", "memo", "operator", "host",
	"snapshot_id", "closing_balance", "code", "description", "hash", "prev", "via", "batch_id", "row_key",
	"stage", "data_sha256",
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
	jcStage
	jcDataSHA256
	csvColumns
)

// WriteCSV writes journal records as CSV (RFC 4180, comma separated,
// "\n" line ends, UTF-8 without byte order mark), one row per record in the
// order given, after a header line:
//
//	seq,time,kind,trace_id,asset_id,recipient_id,amount,memo,operator,host,snapshot_id,closing_balance,code,description,hash,prev,via,batch_id,row_key,stage,data_sha256
//
// Each row holds the fields of its kind and leaves the others empty: an
// intent has asset_id to host, hash (its content hash), batch_id and
// row_key; done has snapshot_id, closing_balance and via; failed has code
// and description; post has nothing more; rail has its stage and the hex
// SHA-256 of its data (the data itself, up to MaxRailData bytes, is in the
// journal, not in a spreadsheet cell). Every row has seq, time (RFC
// 3339 UTC with nanoseconds, as recorded), kind, trace_id and prev (the
// hash of the line before). Text cells are display-safe and protected from
// spreadsheet formulas as in every export of mixdesk (csvcell.Text);
// amounts and balances are plain decimals, seq and code plain integers.
func WriteCSV(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("journal: writing the export: %w", err)
	}
	row := make([]string, csvColumns)
	for i := range recs {
		rec := &recs[i]
		clear(row)
		row[jcSeq] = strconv.FormatUint(rec.Seq, 10)
		row[jcTime] = rec.Time.UTC().Format(time.RFC3339Nano)
		row[jcKind] = csvcell.Text(string(rec.Kind))
		row[jcTrace] = csvcell.Text(rec.Trace())
		row[jcPrev] = csvcell.Text(rec.Prev)
		switch {
		case rec.Intent != nil:
			in := rec.Intent
			row[jcAsset] = csvcell.Text(in.AssetID)
			row[jcRecipient] = csvcell.Text(in.RecipientID)
			row[jcAmount] = numberCell(in.Amount)
			row[jcMemo] = csvcell.Text(in.Memo)
			row[jcOperator] = csvcell.Text(in.Operator)
			row[jcHost] = csvcell.Text(in.Host)
			row[jcHash] = csvcell.Text(in.Hash)
			row[jcBatch] = csvcell.Text(in.BatchID)
			row[jcRowKey] = csvcell.Text(in.RowKey)
		case rec.Done != nil:
			row[jcSnapshot] = csvcell.Text(rec.Done.SnapshotID)
			row[jcClosing] = numberCell(rec.Done.ClosingBalance)
			row[jcVia] = csvcell.Text(string(rec.Done.Via))
		case rec.Failed != nil:
			row[jcCode] = strconv.Itoa(rec.Failed.Code)
			row[jcDescription] = csvcell.Text(rec.Failed.Description)
		case rec.Rail != nil:
			row[jcStage] = csvcell.Text(rec.Rail.Stage)
			sum := sha256.Sum256(rec.Rail.Data)
			row[jcDataSHA256] = hex.EncodeToString(sum[:])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("journal: writing the export: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("journal: writing the export: %w", err)
	}
	return nil
}

// numberCell is a decimal cell: the number as it is when it is a plain
// decimal (records are checked when read, so it always is), else a text
// cell (csvcell.Text), so that nothing else reaches the file raw.
func numberCell(s string) string {
	if s == "" || checkDecimal("amount", s, false) == nil {
		return s
	}
	return csvcell.Text(s)
}

// SaveCSV writes records (WriteCSV) to a new file at path,
// readable by the owner only (mode 0600). It never replaces a file: when
// path exists the error wraps os.ErrExist. Its folder must exist. A file
// that could not be written in full is removed.
func SaveCSV(path string, recs []Record) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("journal: export: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("journal: export: %w", cerr)
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := WriteCSV(bw, recs); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("journal: export: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("journal: export: %w", err)
	}
	return nil
}
