package worldfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// demo is a sandbox state as the sandboxes lay theirs out.
type demo struct {
	Head
	Name string `json:"name"`
	JTIs []JTI  `json:"jtis,omitempty"`
}

func TestHeadRoundTrip(t *testing.T) {
	src := rand.NewPCG(1, 2)
	src.Uint64()
	head, err := NewHead(3, src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, demo{Head: head, Name: "x"}, "  "); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "{\n  \"version\": 3,\n  \"random\": ") {
		t.Fatalf("the head does not open the state: %q", buf.String())
	}
	var got demo
	again, err := Read(&buf, &got, 3)
	if err != nil || got.Name != "x" {
		t.Fatal(err)
	}
	if a, b := again.Uint64(), src.Uint64(); a != b {
		t.Fatalf("the loaded source drew %d, the saved one %d", a, b)
	}
}

func TestHeadRefusals(t *testing.T) {
	head, err := NewHead(1, rand.NewPCG(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	read := func(h Head, version int) error {
		var buf bytes.Buffer
		if err := Write(&buf, demo{Head: h}, ""); err != nil {
			t.Fatal(err)
		}
		_, err := Read(&buf, &demo{}, version)
		return err
	}
	if err := read(head, 2); err == nil || !strings.Contains(err.Error(), "version 1 is not supported") {
		t.Fatalf("another version: %v", err)
	}
	head.Random = head.Random[:3]
	if err := read(head, 1); err == nil || !strings.Contains(err.Error(), "random source is damaged") {
		t.Fatalf("a damaged source: %v", err)
	}
}

func TestReadIsStrict(t *testing.T) {
	for _, in := range []string{`{"version":1,"random":"","nick":"x"}`, `{"version":`, `[]`} {
		var d demo
		if _, err := Read(strings.NewReader(in), &d, 1); err == nil || !strings.Contains(err.Error(), "not valid JSON of the expected shape") {
			t.Fatalf("Read(%s) = %v", in, err)
		}
	}
}

func TestJTIs(t *testing.T) {
	at := time.Unix(100, 0).UTC()
	seen := map[string]time.Time{"b": at, "a": at.Add(time.Second)}
	list := JTIs(seen)
	if len(list) != 2 || list[0].ID != "a" || list[1].ID != "b" || !list[0].Forget.Equal(at.Add(time.Second)) {
		t.Fatalf("JTIs = %+v", list)
	}
	if JTIs(map[string]time.Time{}) != nil {
		t.Fatal("no ids should be no list (omitted from the state)")
	}
	back := map[string]time.Time{}
	Remember(back, list)
	if len(back) != 2 || !back["b"].Equal(at) {
		t.Fatalf("Remember = %v", back)
	}
}

func TestSaveFileAndLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "world.json")
	load := func(r io.Reader) (string, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	}
	if _, err := LoadFile(path, load); !errors.Is(err, fs.ErrNotExist) || strings.HasPrefix(err.Error(), "sandbox:") {
		t.Fatalf("a missing world: %v, want the not-exist error as it is", err)
	}
	if err := SaveFile(path, func(w io.Writer) error { _, err := io.WriteString(w, "world"); return err }); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("world file %v, %v; want a regular file, mode 0600", fi, err)
	}
	if got, err := LoadFile(path, load); err != nil || got != "world" {
		t.Fatalf("LoadFile = %q, %v", got, err)
	}

	failed := errors.New("no state")
	if err := SaveFile(path, func(io.Writer) error { return failed }); !errors.Is(err, failed) {
		t.Fatalf("a failed save: %v", err)
	}
	if got, _ := LoadFile(path, load); got != "world" {
		t.Fatalf("a failed save changed the file: %q", got)
	}
}

func TestLinksRefused(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "world.json")
	if err := os.Symlink(victim, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := SaveFile(link, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("SaveFile through a link: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me" {
		t.Fatalf("the link's target was written: %q", b)
	}
	if _, err := LoadFile(link, func(io.Reader) (int, error) { return 0, nil }); err == nil || !strings.HasPrefix(err.Error(), "sandbox: ") {
		t.Fatalf("LoadFile through a link: %v", err)
	}
}
