package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// manyProfiles is a config file with n profile tables of one key each,
// the last one named "last".
func manyProfiles(n int) string {
	var b strings.Builder
	b.WriteString("large_usd = \"1000\"\n\n")
	for i := range n - 1 {
		fmt.Fprintf(&b, "[profiles.p%05d]\nidle_lock = \"2m\"\n", i)
	}
	b.WriteString("[profiles.last]\nidle_lock = \"3m\"\n")
	return b.String()
}

// BenchmarkLoadPolicyProfiles loads config files of 1,000, 8,000 and
// 20,000 profile tables (about 34 bytes each).
func BenchmarkLoadPolicyProfiles(b *testing.B) {
	for _, n := range []int{1_000, 8_000, 20_000} {
		b.Run(fmt.Sprintf("profiles=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "config.toml")
			if err := os.WriteFile(path, []byte(manyProfiles(n)), 0o600); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				p, err := Load(path, "last")
				if err != nil {
					b.Fatal(err)
				}
				if p.IdleLock.Minutes() != 3 {
					b.Fatalf("idle lock %s", p.IdleLock)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/profile")
		})
	}
}

// loadBytesPerProfile loads a config file of n profile tables and returns
// the bytes allocated per profile.
func loadBytesPerProfile(t *testing.T, n int) float64 {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(manyProfiles(n)), 0o600); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := Load(path, "last")
	runtime.ReadMemStats(&after)
	if err != nil || p.IdleLock.Minutes() != 3 {
		t.Fatalf("%v, idle lock %s", err, p.IdleLock)
	}
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
}

// TestLoadPolicyIsLinear: a config file of eight times the profiles takes
// about eight times the bytes to load, not more (finding each key's line
// by a pass over the whole file made it 150 KB a profile at 500 profiles
// and 1.1 MB at 4,000). Bytes, not time: a slow machine does not fail it.
func TestLoadPolicyIsLinear(t *testing.T) {
	small, large := loadBytesPerProfile(t, 500), loadBytesPerProfile(t, 4000)
	t.Logf("%.0f B a profile at 500 profiles, %.0f B at 4,000", small, large)
	if large > 2*small {
		t.Fatalf("%.0f B a profile at 4,000 profiles, %.0f B at 500: loading grows faster than the file", large, small)
	}
}

// TestLoadPolicyFirstProblemInBigFile: in a file of many profiles, the
// problem reported in a table is the first one in the file, with its line.
func TestLoadPolicyFirstProblemInBigFile(t *testing.T) {
	const n = 3000
	// The last profile's table: its header at line 1+2*n. Its keys sort
	// the other way round from the file.
	text := manyProfiles(n) + "duplicate_window = \"0\"\n"
	text = strings.Replace(text, "idle_lock = \"3m\"", "idle_lock = \"1s\"", 1)
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, "last")
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Line != 2+2*n || !strings.Contains(ce.Reason, "profiles.last.idle_lock") {
		t.Fatalf("%v", err)
	}
}
