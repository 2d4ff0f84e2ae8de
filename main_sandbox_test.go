package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mixdesk/mixin/sandbox"
	safesandbox "mixdesk/safe/sandbox"
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

// TestSandboxFlag: a bare --sandbox is the Safe sandbox, =legacy the legacy
// one, =false none; any other value is one line naming both.
func TestSandboxFlag(t *testing.T) {
	for in, want := range map[string]string{"true": sandboxSafe, "safe": sandboxSafe, "legacy": sandboxLegacy, "LEGACY": sandboxLegacy, "false": ""} {
		kind := "x"
		if err := (sandboxFlag{&kind}).Set(in); err != nil || kind != want {
			t.Errorf("%q: %q, %v; want %q", in, kind, err, want)
		}
	}
	var kind string
	if err := (sandboxFlag{&kind}).Set("mixin"); err == nil || !strings.Contains(err.Error(), "--sandbox=legacy") {
		t.Fatalf("bad value: %v", err)
	}
	var e strings.Builder
	if rc := run([]string{"--sandbox=mixin"}, &e, &e); rc != 2 || strings.Count(e.String(), "\n") != 1 {
		t.Fatalf("rc %d, %q", rc, e.String())
	}
}

// TestSafeSandboxHostKeepsItsWorld: the Safe sandbox's world is saved in its
// directory (mode 0600) and the same world is loaded at the next start.
func TestSafeSandboxHostKeepsItsWorld(t *testing.T) {
	dir := sandboxDir(t.TempDir(), sandboxSafe)
	h, err := startSafeSandbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	op := h.world.OperatorUser.UserID
	if _, err := h.srv.Deposit(op, h.world.Assets[0].AssetID, "1.5"); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "world.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("world file %v, %v", fi, err)
	}
	h2, err := startSafeSandbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if h2.world.OperatorUser.UserID != op || len(h2.srv.Outputs(op)) != len(h.srv.Outputs(op)) {
		t.Fatalf("another world loaded: %s, %d outputs, want %s, %d", h2.world.OperatorUser.UserID, len(h2.srv.Outputs(op)), op, len(h.srv.Outputs(op)))
	}
}

// TestSafeFaultMapsEveryKind: each fault kind of MIXDESK_SANDBOX_FAULTS is
// the Safe sandbox's same kind.
func TestSafeFaultMapsEveryKind(t *testing.T) {
	for spec, want := range map[string]safesandbox.FaultKind{
		"500 POST /safe/transactions": safesandbox.FaultServerError, "429 POST /safe/transactions": safesandbox.FaultTooManyRequests,
		"delay GET /safe/outputs 2s": safesandbox.FaultDelay, "drop POST /safe/transactions": safesandbox.FaultCommitThenDrop,
		"hold POST /safe/transactions 20s x2": safesandbox.FaultHold,
	} {
		got, err := parseSandboxFaults(spec)
		if err != nil || len(got) != 1 {
			t.Fatalf("%q: %v", spec, err)
		}
		f := safeFault(got[0].fault)
		if f.Kind != want || f.Delay != got[0].fault.Delay || f.Times != got[0].fault.Times {
			t.Errorf("%q: %+v, want kind %d", spec, f, want)
		}
	}
}
