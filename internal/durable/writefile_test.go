package durable

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteFile: the new content replaces the old with mode 0600, a link at
// the path is replaced and its target untouched, no temporary file is left,
// and a directory that is not there changes nothing.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	for _, content := range []string{"one", "two"} {
		if err := WriteFile(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Fatalf("read %q, want %q", b, content)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatal("written through a link")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(left) != 0 {
		t.Fatalf("left %v", left)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "f"), []byte("x")); err == nil {
		t.Fatal("wrote into a directory that is not there")
	}
	link2 := filepath.Join(dir, "link2.json")
	if err := os.Symlink(victim, link2); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenRegular(link2); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("OpenRegular of a link = %v", err)
	}
	f, err := OpenRegular(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	if err := os.WriteFile(path, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadRegular(path, 5); err != nil || string(data) != "12345" {
		t.Fatalf("ReadRegular at the limit = %q, %v", data, err)
	}
	var big *TooLargeError
	if _, err := ReadRegular(path, 4); !errors.As(err, &big) || big.Max != 4 {
		t.Fatalf("ReadRegular over the limit = %v, want a TooLargeError", err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(path, link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	if _, err := ReadRegular(link, 5); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("ReadRegular through a link = %v, want it refused", err)
	}
}
