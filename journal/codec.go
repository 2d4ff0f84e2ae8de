package journal

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// This file holds the line format of the journal: how a record is written as
// one JSON object and read back. The writer always produces the same field
// order and the reader is strict (known fields only, each at most once, the
// right JSON type, valid UTF-8), so a line that the reader accepts is one the
// journal could have written. The reader is hand-written for speed: opening a
// journal of 100,000 records must stay well under a third of a second.

// Field bits of wireRecord.seen.
const (
	fSeq uint32 = 1 << iota
	fPrev
	fKind
	fTime
	fTrace
	fAsset
	fRecipient
	fAmount
	fMemo
	fHash
	fOperator
	fHost
	fBatch
	fRow
	fSnapshot
	fClosing
	fVia
	fCode
	fDesc
	fStage
	fData
)

// Required and allowed fields of each record kind.
const (
	fCommon        = fSeq | fPrev | fKind | fTime | fTrace
	intentRequired = fCommon | fAsset | fRecipient | fAmount | fHash
	intentAllowed  = intentRequired | fMemo | fOperator | fHost | fBatch | fRow
	doneRequired   = fCommon | fSnapshot
	doneAllowed    = doneRequired | fClosing | fVia
	failedRequired = fCommon | fCode
	failedAllowed  = failedRequired | fDesc
	postRequired   = fCommon
	postAllowed    = postRequired
	railRequired   = fCommon | fStage | fData
	railAllowed    = railRequired
)

// fieldNames gives the JSON name of each field bit, for error messages.
var fieldNames = [...]string{
	"seq", "prev", "kind", "time", "trace_id", "asset_id", "recipient_id",
	"amount", "memo", "hash", "operator", "host", "batch_id", "row_key",
	"snapshot_id", "closing_balance", "via", "code", "description",
	"stage", "data",
}

// wireRecord is one journal line, field for field, before validation.
type wireRecord struct {
	seen      uint32
	Seq       uint64
	Code      int64
	Prev      string
	Kind      string
	Time      string
	Trace     string
	Asset     string
	Recipient string
	Amount    string
	Memo      string
	Hash      string
	Operator  string
	Host      string
	Batch     string
	Row       string
	Snapshot  string
	Closing   string
	Via       string
	Desc      string
	Stage     string
	Data      string // base64, as on the line
}

// sameValues reports whether two records carry the same field values.
func (w *wireRecord) sameValues(o *wireRecord) bool {
	a, b := *w, *o
	a.seen, b.seen = 0, 0
	return a == b
}

// appendLine appends the record as one JSON object (no newline). Optional
// fields are written only when they are not empty.
func (w *wireRecord) appendLine(b []byte) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, w.Seq, 10)
	b = appendStringField(b, "prev", w.Prev)
	b = appendStringField(b, "kind", w.Kind)
	b = appendStringField(b, "time", w.Time)
	b = appendStringField(b, "trace_id", w.Trace)
	switch Kind(w.Kind) {
	case KindIntent:
		b = appendStringField(b, "asset_id", w.Asset)
		b = appendStringField(b, "recipient_id", w.Recipient)
		b = appendStringField(b, "amount", w.Amount)
		b = appendOptionalField(b, "memo", w.Memo)
		b = appendStringField(b, "hash", w.Hash)
		b = appendOptionalField(b, "operator", w.Operator)
		b = appendOptionalField(b, "host", w.Host)
		b = appendOptionalField(b, "batch_id", w.Batch)
		b = appendOptionalField(b, "row_key", w.Row)
	case KindDone:
		b = appendStringField(b, "snapshot_id", w.Snapshot)
		b = appendOptionalField(b, "closing_balance", w.Closing)
		b = appendOptionalField(b, "via", w.Via)
	case KindFailed:
		b = append(b, `,"code":`...)
		b = strconv.AppendInt(b, w.Code, 10)
		b = appendOptionalField(b, "description", w.Desc)
	case KindRail:
		b = appendStringField(b, "stage", w.Stage)
		b = appendStringField(b, "data", w.Data)
	}
	return append(b, '}')
}

func appendOptionalField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	return appendStringField(b, name, value)
}

func appendStringField(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, value)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. s must be valid UTF-8 (the
// journal refuses anything else before it gets here); quote, backslash and
// control characters are escaped, everything else is written as is.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// errSyntax is wrapped by every decoding error.
var errSyntax = errors.New("not a journal record")

// lineDecoder reads one line. Every method reports failure instead of
// panicking, whatever the input.
type lineDecoder struct {
	s string
	i int
}

func (d *lineDecoder) fail(format string, args ...any) error {
	return fmt.Errorf("%w: byte %d: %s", errSyntax, d.i+1, fmt.Sprintf(format, args...))
}

func (d *lineDecoder) skipSpace() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

// expect consumes byte c after optional white space.
func (d *lineDecoder) expect(c byte) error {
	d.skipSpace()
	if d.i >= len(d.s) {
		return d.fail("line ends where %q was expected", c)
	}
	if d.s[d.i] != c {
		return d.fail("found %q where %q was expected", d.s[d.i], c)
	}
	d.i++
	return nil
}

// decodeLine parses line into w. It accepts exactly one JSON object whose
// members are known journal fields, each at most once, with a string or an
// integer value as that field requires.
func decodeLine(line string, w *wireRecord) error {
	d := lineDecoder{s: line}
	if err := d.expect('{'); err != nil {
		return err
	}
	d.skipSpace()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
	} else {
		for {
			if err := d.member(w); err != nil {
				return err
			}
			d.skipSpace()
			if d.i >= len(d.s) {
				return d.fail("line ends inside the object")
			}
			c := d.s[d.i]
			d.i++
			if c == '}' {
				break
			}
			if c != ',' {
				d.i--
				return d.fail("found %q where ',' or '}' was expected", c)
			}
		}
	}
	d.skipSpace()
	if d.i != len(d.s) {
		return d.fail("extra bytes after the record")
	}
	return nil
}

// member reads one "name": value pair into w.
func (d *lineDecoder) member(w *wireRecord) error {
	d.skipSpace()
	if d.i >= len(d.s) || d.s[d.i] != '"' {
		return d.fail("expected a field name")
	}
	keyAt := d.i
	key, err := d.str()
	if err != nil {
		return err
	}
	if err := d.expect(':'); err != nil {
		return err
	}
	d.skipSpace()
	var bit uint32
	var dst *string
	switch key {
	case "seq":
		bit = fSeq
	case "code":
		bit = fCode
	case "prev":
		bit, dst = fPrev, &w.Prev
	case "kind":
		bit, dst = fKind, &w.Kind
	case "time":
		bit, dst = fTime, &w.Time
	case "trace_id":
		bit, dst = fTrace, &w.Trace
	case "asset_id":
		bit, dst = fAsset, &w.Asset
	case "recipient_id":
		bit, dst = fRecipient, &w.Recipient
	case "amount":
		bit, dst = fAmount, &w.Amount
	case "memo":
		bit, dst = fMemo, &w.Memo
	case "hash":
		bit, dst = fHash, &w.Hash
	case "operator":
		bit, dst = fOperator, &w.Operator
	case "host":
		bit, dst = fHost, &w.Host
	case "batch_id":
		bit, dst = fBatch, &w.Batch
	case "row_key":
		bit, dst = fRow, &w.Row
	case "snapshot_id":
		bit, dst = fSnapshot, &w.Snapshot
	case "closing_balance":
		bit, dst = fClosing, &w.Closing
	case "via":
		bit, dst = fVia, &w.Via
	case "description":
		bit, dst = fDesc, &w.Desc
	case "stage":
		bit, dst = fStage, &w.Stage
	case "data":
		bit, dst = fData, &w.Data
	default:
		d.i = keyAt
		return d.fail("unknown field %s", shortQuote(key))
	}
	if w.seen&bit != 0 {
		d.i = keyAt
		return d.fail("field %q appears twice", key)
	}
	w.seen |= bit
	if d.i >= len(d.s) {
		return d.fail("line ends where the value of %q was expected", key)
	}
	switch bit {
	case fSeq:
		v, err := d.uint()
		if err != nil {
			return err
		}
		w.Seq = v
	case fCode:
		v, err := d.int()
		if err != nil {
			return err
		}
		w.Code = v
	default:
		if d.s[d.i] != '"' {
			return d.fail("the value of %q must be a string", key)
		}
		v, err := d.str()
		if err != nil {
			return err
		}
		*dst = v
	}
	return nil
}

// str reads a JSON string starting at the opening quote. A string without
// escapes is returned as a substring of the line, without copying.
func (d *lineDecoder) str() (string, error) {
	start := d.i + 1
	rest := d.s[start:]
	// Skip eight plain bytes at a time: most strings are ids and hashes.
	j := 0
	for ; j+8 <= len(rest); j += 8 {
		x := uint64(rest[j]) | uint64(rest[j+1])<<8 | uint64(rest[j+2])<<16 | uint64(rest[j+3])<<24 |
			uint64(rest[j+4])<<32 | uint64(rest[j+5])<<40 | uint64(rest[j+6])<<48 | uint64(rest[j+7])<<56
		if !plainWord(x) {
			break
		}
	}
	ascii := true
	for ; j < len(rest); j++ {
		switch c := rest[j]; {
		case c == '"':
			v := rest[:j]
			if !ascii && !utf8.ValidString(v) {
				d.i = start
				return "", d.fail("string is not valid UTF-8")
			}
			d.i = start + j + 1
			return v, nil
		case c == '\\':
			d.i = start
			return d.escaped()
		case c < 0x20:
			d.i = start + j
			return "", d.fail("control character in a string")
		case c >= 0x80:
			ascii = false
		}
	}
	d.i = len(d.s)
	return "", d.fail("string is not closed")
}

// Byte masks for plainWord.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// plainWord reports whether none of the eight bytes in x is a quote, a
// backslash, a control character or a non-ASCII byte.
func plainWord(x uint64) bool {
	q := x ^ ('"' * lowBits)
	b := x ^ ('\\' * lowBits)
	// (v - lowBits) &^ v has a high bit set where v has a zero byte;
	// x - 0x20*lowBits has one where a byte is below 0x20, and x itself
	// where a byte is 0x80 or above.
	special := (q - lowBits) &^ q
	special |= (b - lowBits) &^ b
	special |= (x - 0x20*lowBits) | x
	return special&highBits == 0
}

// escaped reads the rest of a string that holds escapes; d.i is just after
// the opening quote.
func (d *lineDecoder) escaped() (string, error) {
	buf := make([]byte, 0, 64)
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(buf) {
				return "", d.fail("string is not valid UTF-8")
			}
			return string(buf), nil
		case c < 0x20:
			return "", d.fail("control character in a string")
		case c != '\\':
			buf = append(buf, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.s) {
			return "", d.fail("string is not closed")
		}
		e := d.s[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", d.fail("bad \\u escape")
			}
			if r >= 0xDC00 && r <= 0xDFFF {
				return "", d.fail("lone surrogate in \\u escape")
			}
			if r >= 0xD800 && r <= 0xDBFF {
				if d.i+1 >= len(d.s) || d.s[d.i] != '\\' || d.s[d.i+1] != 'u' {
					return "", d.fail("lone surrogate in \\u escape")
				}
				d.i += 2
				lo, ok := d.hex4()
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return "", d.fail("bad surrogate pair in \\u escape")
				}
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
			}
			buf = utf8.AppendRune(buf, r)
		default:
			d.i -= 2
			return "", d.fail("unknown escape \\%c", e)
		}
	}
	return "", d.fail("string is not closed")
}

// hex4 reads four hexadecimal digits.
func (d *lineDecoder) hex4() (rune, bool) {
	if d.i+4 > len(d.s) {
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		c := d.s[d.i+k]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	d.i += 4
	return r, true
}

// digits returns the run of decimal digits at d.i, refusing a leading zero
// and a number that goes on as a fraction or an exponent.
func (d *lineDecoder) digits() (string, error) {
	start := d.i
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		d.i++
	}
	n := d.s[start:d.i]
	switch {
	case n == "":
		return "", d.fail("expected a number")
	case len(n) > 1 && n[0] == '0':
		d.i = start
		return "", d.fail("number with a leading zero")
	}
	if d.i < len(d.s) {
		if c := d.s[d.i]; c == '.' || c == 'e' || c == 'E' {
			return "", d.fail("expected a whole number")
		}
	}
	return n, nil
}

func (d *lineDecoder) uint() (uint64, error) {
	n, err := d.digits()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return 0, d.fail("number out of range")
	}
	return v, nil
}

func (d *lineDecoder) int() (int64, error) {
	neg := false
	if d.s[d.i] == '-' {
		neg = true
		d.i++
	}
	n, err := d.digits()
	if err != nil {
		return 0, err
	}
	if neg {
		n = "-" + n
	}
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return 0, d.fail("number out of range")
	}
	return v, nil
}

// shortQuote quotes s for an error message, cut to a readable length.
func shortQuote(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}
