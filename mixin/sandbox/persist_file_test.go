package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mixdesk/mixin"
)

// TestSaveFileRefusesLinks: the world is written through a new file of a
// random name, so a link planted at world.json.tmp is neither followed nor
// replaced; a link at the world's own path is refused, and so is loading
// one.
func TestSaveFileRefusesLinks(t *testing.T) {
	srv, w, err := NewWorld(Options{Seed: 11, Operator: SessionOptions{Kind: mixin.KeyEd25519}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "world.json")
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o640); err != nil {
		t.Fatal(err)
	}
	untouched := func() {
		t.Helper()
		b, err := os.ReadFile(victim)
		fi, serr := os.Stat(victim)
		if err != nil || serr != nil || string(b) != "keep me" || fi.Mode().Perm() != 0o640 {
			t.Fatalf("the link's target was written: %q %v", b, fi.Mode())
		}
	}
	for _, planted := range []string{path + ".tmp", filepath.Join(dir, ".world.json.tmp")} {
		if err := os.Symlink(victim, planted); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.SaveFile(path); err != nil {
		t.Fatalf("SaveFile: %v", err)
	}
	untouched()
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("world file %v, %v; want a regular file, mode 0600", fi.Mode(), err)
	}
	loaded, err := LoadFile(path, Options{})
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	if lw, ok := loaded.World(); !ok || lw.Operator.ClientID != w.Operator.ClientID {
		t.Fatal("the loaded world is not the saved one")
	}
	// Saved again over itself: still one regular file, no temporary left.
	if err := srv.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("a temporary file stayed: %s", e.Name())
		}
	}

	// A link at the world's path: refused both ways.
	linked := filepath.Join(dir, "linked.json")
	if err := os.Symlink(victim, linked); err != nil {
		t.Fatal(err)
	}
	if err := srv.SaveFile(linked); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("SaveFile over a link = %v", err)
	}
	untouched()
	if _, err := LoadFile(linked, Options{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("LoadFile of a link = %v", err)
	}
	if _, err := LoadFile(filepath.Join(dir, "none.json"), Options{}); !os.IsNotExist(err) {
		t.Fatalf("LoadFile of a missing file = %v, want not-exist", err)
	}
}
