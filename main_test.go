package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mixdesk/mixin"
)

func TestVersionAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if rc := run([]string{"--version"}, &out, &errb); rc != 0 || !strings.HasPrefix(out.String(), "mixdesk ") {
		t.Fatalf("--version: rc %d, %q", rc, out.String())
	}
	out.Reset()
	if rc := run([]string{"--help"}, &out, &errb); rc != 0 || !strings.Contains(out.String(), "--sandbox") {
		t.Fatalf("--help: rc %d, %q", rc, out.String())
	}
	errb.Reset()
	if rc := run([]string{"paynow"}, &out, &errb); rc != 2 || !strings.Contains(errb.String(), `unknown command "paynow"`) {
		t.Fatalf("unknown command: rc %d, %q", rc, errb.String())
	}
}

// TestNoKeyringSaysSoAndExitsNonZero: without a session bus the console
// does not start; one line says why and that --sandbox works without it.
func TestNoKeyringSaysSoAndExitsNonZero(t *testing.T) {
	if os.Getenv("MIXDESK_REQUIRE_KEYRING") != "" {
		t.Skip("a keyring is running for this test run")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir()) // no bus socket there
	var out, errb bytes.Buffer
	rc := run([]string{"--data-dir", t.TempDir()}, &out, &errb)
	if rc == 0 {
		t.Fatal("started without a keyring")
	}
	msg := errb.String()
	if !strings.Contains(msg, "D-Bus") || !strings.Contains(msg, "--sandbox") {
		t.Fatalf("message %q does not say what is missing and that --sandbox works", msg)
	}
}

// TestSandboxWorldSurvivesRestart: a payout made on the sandbox is still
// there after the sandbox host is stopped and started again.
func TestSandboxWorldSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	h, err := startSandbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "world.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("world file: %v %v", fi, err)
	}
	sess, err := mixin.NewSession(h.world.Operator)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := mixin.NewClient(h.url, sess, mixin.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	usdt := ""
	for _, a := range h.world.Assets {
		if a.Symbol == "USDT" {
			usdt = a.AssetID
		}
	}
	trace := "11111111-2222-4333-8444-555555555555"
	if _, err := c.Transfer(context.Background(), mixin.TransferInput{AssetID: usdt, OpponentID: h.world.Users[0].UserID, Amount: "12.5", TraceID: trace}, h.world.Operator.PIN); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h2, err := startSandbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if h2.world.OperatorUser.UserID != h.world.OperatorUser.UserID {
		t.Fatal("a new world was made instead of the saved one")
	}
	if got := h2.srv.Balance(h2.world.OperatorUser.UserID, usdt); got != "49987.5" {
		t.Fatalf("balance after restart %s", got)
	}
	sess2, _ := mixin.NewSession(h2.world.Operator)
	c2, _ := mixin.NewClient(h2.url, sess2)
	if s, err := c2.TransferByTrace(context.Background(), trace); err != nil || s.Amount != "-12.5" {
		t.Fatalf("history after restart: %+v %v", s, err)
	}
}

func TestDamagedWorldFileIsReportedNotReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "world.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := startSandbox(dir)
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "{not json" {
		t.Fatal("the damaged file was overwritten")
	}
}

func TestConfigFlagMalformedStopsStartUp(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "policy.toml")
	if err := os.WriteFile(bad, []byte("idle_lock = \"5m\"\nlarge_usd = 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	rc := run([]string{"--config", bad, "--sandbox", "--data-dir", t.TempDir()}, &out, &errb)
	if rc != 1 || !strings.Contains(errb.String(), bad+":2:") || !strings.Contains(errb.String(), "large_usd") {
		t.Fatalf("rc %d, %q", rc, errb.String())
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(bad), "sandbox")); err == nil {
		t.Fatal("something was started")
	}
}
