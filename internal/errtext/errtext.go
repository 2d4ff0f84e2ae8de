// Package errtext shapes outside text that an error line quotes: a cell of
// a file or a value cut to a readable length, and the line of a byte
// offset in a file.
package errtext

import "bytes"

// Cut cuts a text quoted by an error message to 40 characters, with an
// ellipsis when it was longer.
func Cut(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// LineAt is the 1-based line of byte offset off in data (an offset past
// either end counts as the nearest end).
func LineAt(data []byte, off int64) int {
	off = max(0, min(off, int64(len(data))))
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}
