package errtext

import (
	"strings"
	"testing"
)

func TestCut(t *testing.T) {
	if got := Cut("short"); got != "short" {
		t.Errorf("Cut(short) = %q", got)
	}
	long := strings.Repeat("é", 41)
	if got := Cut(long); got != strings.Repeat("é", 40)+"…" {
		t.Errorf("Cut(41 runes) = %q, want 40 runes and an ellipsis", got)
	}
}

func TestLineAt(t *testing.T) {
	data := []byte("a\nbb\nccc")
	for _, c := range []struct {
		off  int64
		want int
	}{{-5, 1}, {0, 1}, {1, 1}, {2, 2}, {5, 3}, {100, 3}} {
		if got := LineAt(data, c.off); got != c.want {
			t.Errorf("LineAt(%d) = %d, want %d", c.off, got, c.want)
		}
	}
}
