package durable

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestSyncDir: a directory syncs; one that is not there is an error where
// directories are synced at all.
func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(dir); err != nil {
		t.Fatalf("SyncDir(%s) = %v", dir, err)
	}
	err := SyncDir(filepath.Join(dir, "missing"))
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
		if !os.IsNotExist(err) {
			t.Fatalf("SyncDir of a missing directory = %v, want not-exist", err)
		}
	default:
		if err != nil {
			t.Fatalf("SyncDir here does nothing, but said %v", err)
		}
	}
}
