package qrscan

import (
	"fmt"
	"strings"
	"testing"

	"rsc.io/qr"
)

// draw draws a code the console's way: light modules as blocks, two
// module rows a line, in a quiet zone of four modules.
func draw(t *testing.T, text string) string {
	t.Helper()
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		t.Fatal(err)
	}
	const quiet = 4
	n := c.Size + 2*quiet
	light := func(y, x int) bool { return y >= n || !c.Black(x-quiet, y-quiet) }
	var b strings.Builder
	for y := 0; y < n; y += 2 {
		for x := range n {
			switch top, bottom := light(y, x), light(y+1, x); {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteRune(' ')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestDecodeReadsLargeCodes: codes of version 10 (Safe payment links),
// which the detector misses at one module size or another, all read.
func TestDecodeReadsLargeCodes(t *testing.T) {
	for i := range 60 {
		link := fmt.Sprintf("https://mixin.one/pay/09632094-79a8-4ff1-b202-38c0b16634c7?asset=4d8c508b-91c5-375b-92b0-ee702ed2dac5&amount=12.5&memo=invoice%%207%%20%%C2%%B7%%20%%E8%%8C%%B6&trace=0b4f49dc-8fb4-4539-9a89-%012x", i*7919)
		got, err := Decode(draw(t, link))
		if err != nil || got != link {
			t.Fatalf("link %d reads %q, %v", i, got, err)
		}
	}
	if _, err := Decode("█ x\n"); err == nil {
		t.Fatal("read a code from text that is not one")
	}
	if _, err := Decode(strings.Repeat("█", 30) + "\n"); err == nil {
		t.Fatal("read a code from blocks only")
	}
}
