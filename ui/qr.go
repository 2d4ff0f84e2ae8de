package ui

import (
	"errors"
	"fmt"
	"strings"

	"rsc.io/qr"
)

// QRMaxRows is the height in terminal rows under which QRText keeps a code
// for a typical payment link (about 170 characters: 31 rows).
const QRMaxRows = 40

// QRText draws link as a QR code in text: half-block characters (▀ ▄ █ and
// space), each character one module wide and two modules tall, so that the
// modules come out square in a usual terminal cell. The code has its quiet
// zone of four modules all round.
//
// Light modules are drawn as blocks and dark modules as spaces, as most
// terminal QR tools do: on a terminal with light text on a dark background
// (the common default) the code appears dark on light, exactly as printed,
// and every phone reads it. On a dark-on-light terminal it appears
// inverted, which many readers accept but not all; the console draws it
// with explicit colours where the terminal has them.
//
// The code uses error correction level M; a link too long for M within
// QRMaxRows falls back to level L, the smaller code. QRText returns plain
// text (no styles), so that it can be printed by a script as it is. The
// lines carry no trailing spaces and end with a newline.
func QRText(link string) (text string, err error) {
	if link == "" {
		return "", errors.New("qr: nothing to encode")
	}
	// The encoder checks its own work with panics; turn one into an error
	// rather than end the program over a drawing.
	defer func() {
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("qr: the encoder failed: %v", r)
		}
	}()
	bits, err := qrBitmap(link, qr.M)
	if err != nil {
		return "", err
	}
	if rows(bits) > QRMaxRows {
		if low, lerr := qrBitmap(link, qr.L); lerr == nil && len(low) < len(bits) {
			bits = low
		}
	}
	return halfBlocks(bits), nil
}

// qrBitmap encodes link; bits[y][x] is true for a dark module, and the
// bitmap includes the four-module quiet zone.
func qrBitmap(link string, level qr.Level) ([][]bool, error) {
	c, err := qr.Encode(link, level)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	// The code's modules, dark = true, inside a quiet zone of four light
	// modules on every side.
	const quiet = 4
	n := c.Size + 2*quiet
	bits := make([][]bool, n)
	for y := range bits {
		bits[y] = make([]bool, n)
		for x := range bits[y] {
			bits[y][x] = c.Black(x-quiet, y-quiet)
		}
	}
	return bits, nil
}

// rows is the height of a bitmap in text rows.
func rows(bits [][]bool) int { return (len(bits) + 1) / 2 }

// halfBlocks draws a bitmap two module rows per text row, light modules as
// blocks. A missing last module row (an odd height) is light: it only
// widens the quiet zone.
func halfBlocks(bits [][]bool) string {
	light := func(y, x int) bool {
		if y >= len(bits) || x >= len(bits[y]) {
			return true
		}
		return !bits[y][x]
	}
	var b strings.Builder
	for y := 0; y < len(bits); y += 2 {
		line := make([]rune, len(bits[y]))
		for x := range bits[y] {
			switch top, bottom := light(y, x), light(y+1, x); {
			case top && bottom:
				line[x] = '█'
			case top:
				line[x] = '▀'
			case bottom:
				line[x] = '▄'
			default:
				line[x] = ' '
			}
		}
		b.WriteString(string(line)) // ends in the light quiet zone: no trailing space
		b.WriteByte('\n')
	}
	return b.String()
}
