package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mixdesk/mixin/sandbox"
)

func TestParseSandboxFaults(t *testing.T) {
	got, err := parseSandboxFaults(" hold POST /transfers 20s; 429 post /transfers ;drop POST /transfers x3; ")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].fault.Kind != sandbox.FaultHold || got[0].fault.Delay != 20*time.Second ||
		got[1].fault.Kind != sandbox.FaultTooManyRequests || got[1].method != "POST" || got[2].fault.Times != 3 || got[2].path != "/transfers" {
		t.Fatalf("parsed %+v", got)
	}
	if got, err := parseSandboxFaults(""); err != nil || len(got) != 0 {
		t.Fatalf("empty: %+v, %v", got, err)
	}
	for spec, want := range map[string]string{
		"hold POST /transfers":         "need a duration",
		"boom POST /transfers":         "unknown kind",
		"500 PUT /transfers":           "GET or POST",
		"500 POST transfers":           "starts with /",
		"delay GET /me 1h":             "at most 10m",
		"500 POST /transfers x0":       "count from 1",
		"500 POST":                     "needs a kind",
		"429 POST /transfers; 500 GET": "fault 2",
	} {
		_, err := parseSandboxFaults(spec)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line saying %q", spec, err, want)
		}
	}
}

// TestSandboxSaveIgnoresAPlantedLink: a link planted where a fixed
// temporary name would be is never followed: its target keeps its
// content and mode, and the world is saved.
func TestSandboxSaveIgnoresAPlantedLink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "world.json.tmp")); err != nil {
		t.Fatal(err)
	}
	h, err := startSandbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep" {
		t.Fatalf("the link's target was written: %q, %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "world.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("world.json: %v, %v", fi, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".world-*.tmp"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// TestSandboxWorldLinkRefused: a world file that is a link is neither read
// nor written through.
func TestSandboxWorldLinkRefused(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "world.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := startSandbox(dir); err == nil || !strings.Contains(err.Error(), "link") {
		t.Fatalf("start on a linked world: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatal("the link's target was written")
	}
}
