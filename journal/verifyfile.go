package journal

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
)

// A journal file is read pieceBytes at a time. A line longer than
// maxLineBytes is no record (the longest the journal writes is a rail
// record of MaxRailData bytes, under 350 KiB in base64; an intent with a
// memo of MaxTextLen bytes all escaped is under 32 KiB): it is hashed as
// it goes by.
const (
	pieceBytes   = 1 << 20
	maxLineBytes = 1 << 20
)

// VerifyFile reads and verifies the journal at path as Open does, but
// read-only: it takes no lock (a console may hold the journal open), and
// changes nothing: a torn last line is reported (Report.TornTail), not cut
// off, and the file's mode is left as it is. A line being appended while
// the file is read shows as a torn tail. The error is for a file that cannot
// be read at all; what is wrong inside it is in the Report.
//
// The file is read a piece at a time; the Report keeps every record, so
// memory grows with the file. CheckFile verifies without keeping them.
func VerifyFile(path string) (*Report, error) {
	return verifyFile(path, true)
}

// CheckFile verifies the journal at path as VerifyFile does, without
// keeping the records: Report.Records is nil (Report.Valid counts them).
// It reads the file a piece at a time and keeps, for each trace, only what
// the state checks need (about 250 bytes a record), whatever the size of
// the records. A line over 1 MiB, which no record comes near, is reported
// as not a record (Open reads it whole, and says the same unless it is the
// last line).
func CheckFile(path string) (*Report, error) {
	return verifyFile(path, false)
}

func verifyFile(path string, keep bool) (*Report, error) {
	if path == "" {
		return nil, errors.New("journal: no path given")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("journal %s: stat: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("journal %s: not a regular file", path)
	}
	if fi.Size() > maxFileBytes {
		return nil, fmt.Errorf("journal %s: %d bytes is more than this console reads (%d)", path, fi.Size(), maxFileBytes)
	}
	// Read what is there now; the file may grow while it is read.
	v, err := verifyStream(path, io.LimitReader(f, maxFileBytes+1), fi.Size(), keep, pieceBytes, maxLineBytes)
	if err != nil {
		return nil, fmt.Errorf("journal %s: read: %w", path, err)
	}
	if v.report.Size > maxFileBytes {
		return nil, fmt.Errorf("journal %s: more than %d bytes, more than this console reads", path, maxFileBytes)
	}
	return v.report, nil
}

// verifyStream verifies the journal read from r (about size bytes; a
// hint), piece bytes at a time, in a buffer grown for a line up to maxLine
// bytes. Without keep, the records are made slim, so that nothing holds on
// to the bytes read. The next piece is read and parsed while the lines of
// the last one are checked.
func verifyStream(path string, r io.Reader, size int64, keep bool, piece, maxLine int) (verified, error) {
	hint := 0 // without the records, nothing is made to the size of the file
	if keep {
		hint = int(min(size, maxFileBytes) / 200)
	}
	v := newVerifier(path, 0, keep, hint)
	pieces := make(chan readPiece, 1)
	stop := make(chan struct{})
	defer close(stop)
	go readPieces(r, keep, piece, maxLine, pieces, stop)
	for p := range pieces {
		switch {
		case p.err != nil:
			return verified{}, p.err
		case p.long:
			if v.held {
				v.check(&v.heldLine, v.heldOff, false)
			}
			v.hold(&p.parsed[0], p.base, p.text, true)
		case p.end:
			v.rep.Size = p.base + p.restLen
			return v.finish([]byte(p.text), p.base, p.restLen), nil
		default:
			v.add(p.text, p.base, p.bounds, p.parsed)
		}
	}
	return verified{}, errors.New("the reader stopped")
}

// readPiece is a piece of a journal file, read and parsed: complete lines,
// a line too long to be a record, or the end of the file.
type readPiece struct {
	text    string // the lines; the first bytes of a long line; the bytes after the last newline
	base    int64  // the offset of text in the file
	bounds  []int
	parsed  []parsedLine
	long    bool  // parsed[0] is a line longer than any record
	end     bool  // text is what follows the last newline
	restLen int64 // at the end: the length of what follows the last newline
	err     error
}

// readPieces reads r in pieces and sends them parsed, until the end, an
// error or stop.
func readPieces(r io.Reader, keep bool, piece, maxLine int, out chan<- readPiece, stop <-chan struct{}) {
	defer close(out)
	send := func(p readPiece) bool {
		select {
		case out <- p:
			return true
		case <-stop:
			return false
		}
	}
	buf := make([]byte, 0, min(piece, maxLine))
	var base int64 // file offset of buf[0]
	for {
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			send(readPiece{err: err})
			return
		}
		// The complete lines in buf.
		var bounds []int
		off := 0
		for {
			nl := bytes.IndexByte(buf[off:], '\n')
			if nl < 0 {
				break
			}
			bounds = append(bounds, off, off+nl)
			off += nl + 1
		}
		if len(bounds) > 0 {
			text := string(buf[:off]) // the records' strings are substrings of it
			if !send(readPiece{text: text, base: base, bounds: bounds, parsed: parseLines(buf, text, bounds, !keep)}) {
				return
			}
			base += int64(off)
			buf = buf[:copy(buf, buf[off:])]
		}
		switch {
		case eof:
			send(readPiece{end: true, text: string(buf), base: base, restLen: int64(len(buf))})
			return
		case len(buf) < cap(buf):
		case cap(buf) < maxLine: // a line longer than the buffer
			buf = append(buf, make([]byte, min(cap(buf), maxLine-cap(buf)))...)[:len(buf)]
		default:
			// A line longer than any record: hashed as it goes by.
			long, rest, err := skipLongLine(r, buf, min(maxTornKept, len(buf)))
			if err != nil {
				send(readPiece{err: err})
				return
			}
			if !long.terminated {
				// Never a remnant: longer than any record.
				send(readPiece{end: true, text: string(long.head), base: base, restLen: long.n})
				return
			}
			p := parsedLine{decodeErr: fmt.Errorf("%w: longer than %d bytes, more than any record", errSyntax, maxLine)}
			long.sum.Sum(p.sum[:0])
			if !send(readPiece{long: true, text: string(long.head), base: base, parsed: []parsedLine{p}}) {
				return
			}
			base += long.n + 1
			buf = append(buf[:0], rest...)
		}
	}
}

// longLine is a line too long to be a record, as read past.
type longLine struct {
	n          int64 // its length, the newline left out
	head       []byte
	sum        hashWriter
	terminated bool // a newline ends it
}

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
}

// skipLongLine reads past the line that fills buf and returns it (its
// first bytes kept for display) with what follows its newline in the last
// piece read.
func skipLongLine(r io.Reader, buf []byte, keep int) (l longLine, rest []byte, err error) {
	l.sum = sha256.New()
	l.head = bytes.Clone(buf[:keep])
	piece := buf
	for {
		if nl := bytes.IndexByte(piece, '\n'); nl >= 0 {
			l.sum.Write(piece[:nl])
			l.n += int64(nl)
			l.terminated = true
			return l, bytes.Clone(piece[nl+1:]), nil
		}
		l.sum.Write(piece)
		l.n += int64(len(piece))
		n, err := r.Read(buf[:cap(buf)])
		piece = buf[:n]
		if errors.Is(err, io.EOF) && n == 0 {
			return l, nil, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return l, nil, err
		}
	}
}
