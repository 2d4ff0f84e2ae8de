package keystore

// Tests of the real backend (go-keyring over D-Bus) in broken environments:
// no session bus, a bus address that leads nowhere, a bus that never
// answers, a bus without a Secret Service, and a Secret Service whose
// collection is not unlocked. Each runs the test binary again as a helper
// process with its own environment, because the D-Bus library keeps one
// session bus connection per process.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

const helperEnv = "MIXDESK_KEYSTORE_HELPER"

// TestHelperProcess is the helper: it probes the system keyring twice and
// prints one RESULT line. It does nothing in a normal test run.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	timeout, err := time.ParseDuration(os.Getenv(helperEnv + "_TIMEOUT"))
	if err != nil {
		timeout = 5 * time.Second
	}
	s, err := New(System(), Options{Service: "mixdesk-env-test", CallTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err1 := s.Probe(context.Background())
	d1 := time.Since(start)
	start = time.Now()
	err2 := s.Probe(context.Background())
	d2 := time.Since(start)
	msg := ""
	if err1 != nil {
		msg = err1.Error()
	}
	fmt.Printf("RESULT kind=%s ms=%d kind2=%s ms2=%d msg=%s\n",
		kindName(err1), d1.Milliseconds(), kindName(err2), d2.Milliseconds(), msg)
}

type helperResult struct {
	kind, kind2 string
	ms, ms2     int64
	msg         string
}

// runHelper runs TestHelperProcess with the D-Bus variables of this process
// removed and env added.
func runHelper(t *testing.T, timeout time.Duration, env ...string) helperResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1", "-test.v=false")
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DBUS_") || strings.HasPrefix(kv, helperEnv) {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, helperEnv+"=1", helperEnv+"_TIMEOUT="+timeout.String())
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		rest, ok := strings.CutPrefix(line, "RESULT ")
		if !ok {
			continue
		}
		var r helperResult
		fields, msg, _ := strings.Cut(rest, " msg=")
		r.msg = msg
		for _, f := range strings.Fields(fields) {
			k, v, _ := strings.Cut(f, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "kind":
				r.kind = v
			case "kind2":
				r.kind2 = v
			case "ms":
				r.ms = n
			case "ms2":
				r.ms2 = n
			}
		}
		t.Logf("helper: first probe %s after %dms, second %s after %dms: %s", r.kind, r.ms, r.kind2, r.ms2, r.msg)
		return r
	}
	t.Fatalf("helper process gave no result (%v):\n%s", err, out)
	return helperResult{}
}

// shortTempDir is a private directory with a short path (unix socket paths
// are limited to 108 bytes).
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("/tmp", "mxks")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}

func userBusExists() bool {
	dir := "/run/user/" + strconv.Itoa(os.Getuid())
	for _, n := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

func TestSystemNoSessionBus(t *testing.T) {
	if userBusExists() {
		t.Skip("this machine has a user bus under /run/user, so there is always a session bus")
	}
	// A dbus-launch on PATH that records being run: the Store must report
	// the missing bus without letting the D-Bus library autolaunch one.
	dir := shortTempDir(t)
	marker := filepath.Join(dir, "launched")
	script := "#!/bin/sh\ntouch " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "dbus-launch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r := runHelper(t, 5*time.Second, "PATH="+dir+":"+os.Getenv("PATH"))
	if r.kind != "no-bus" || r.kind2 != "no-bus" {
		t.Fatalf("kinds %s/%s, want no-bus: %s", r.kind, r.kind2, r.msg)
	}
	if r.ms > 1000 {
		t.Fatalf("took %dms", r.ms)
	}
	if !strings.Contains(r.msg, "no D-Bus session bus") {
		t.Fatalf("message: %s", r.msg)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("dbus-launch was run")
	}
}

func TestSystemDeadBusAddress(t *testing.T) {
	dir := shortTempDir(t)
	r := runHelper(t, 5*time.Second, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "nothing-here"))
	if r.kind != "no-bus" {
		t.Fatalf("kind %s, want no-bus: %s", r.kind, r.msg)
	}
}

func TestSystemBusNeverAnswers(t *testing.T) {
	// A socket that accepts connections and never says a word: the D-Bus
	// library waits forever in its handshake. The Store gives up after its
	// timeout, and refuses the next call at once while the first is stuck.
	dir := shortTempDir(t)
	sock := filepath.Join(dir, "silent")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	r := runHelper(t, 300*time.Millisecond, "DBUS_SESSION_BUS_ADDRESS=unix:path="+sock)
	if r.kind != "timeout" {
		t.Fatalf("kind %s, want timeout: %s", r.kind, r.msg)
	}
	if r.ms < 250 || r.ms > 3000 {
		t.Fatalf("first call took %dms with a 300ms timeout", r.ms)
	}
	if r.kind2 != "timeout" || r.ms2 > 100 {
		t.Fatalf("second call: %s after %dms, want an immediate timeout", r.kind2, r.ms2)
	}
	if !strings.Contains(r.msg, "300ms") {
		t.Fatalf("message: %s", r.msg)
	}
}

// privateBus starts a dbus-daemon with no service activation on a socket in
// dir and returns its address; it is stopped when the test ends.
func privateBus(t *testing.T, dir string) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		skipOrFail(t, "dbus-daemon is not installed (bash .ci/with-secret-service.sh installs it)")
	}
	sock := filepath.Join(dir, "bus")
	addr := "unix:path=" + sock
	conf := `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>` + addr + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
	confPath := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, exec.Command(daemon, "--config-file="+confPath, "--nofork", "--nopidfile"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatal("dbus-daemon did not open its socket")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startDaemon starts cmd and stops it (by its PID) when the test ends.
func startDaemon(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(cmd.Path), logs.String())
		}
	})
}

func TestSystemBusWithoutSecretService(t *testing.T) {
	dir := shortTempDir(t)
	addr := privateBus(t, dir)
	r := runHelper(t, 5*time.Second, "DBUS_SESSION_BUS_ADDRESS="+addr)
	if r.kind != "no-provider" {
		t.Fatalf("kind %s, want no-provider: %s", r.kind, r.msg)
	}
	if !strings.Contains(r.msg, "GNOME Keyring or KWallet") {
		t.Fatalf("message: %s", r.msg)
	}
}

func TestSystemSecretServiceLocked(t *testing.T) {
	gkd, err := exec.LookPath("gnome-keyring-daemon")
	if err != nil {
		skipOrFail(t, "gnome-keyring-daemon is not installed (bash .ci/with-secret-service.sh installs it)")
	}
	dir := shortTempDir(t)
	addr := privateBus(t, dir)
	for _, d := range []string{"data", "config", "run"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// A keyring daemon with no login keyring and nobody to create or
	// unlock one: the state of a fresh headless machine.
	cmd := exec.Command(gkd, "--foreground", "--components=secrets")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"DBUS_SESSION_BUS_ADDRESS=" + addr,
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_RUNTIME_DIR=" + filepath.Join(dir, "run"),
	}
	startDaemon(t, cmd)
	waitForName(t, addr, "org.freedesktop.secrets")
	r := runHelper(t, 5*time.Second, "DBUS_SESSION_BUS_ADDRESS="+addr)
	if r.kind != "locked" {
		t.Fatalf("kind %s, want locked: %s", r.kind, r.msg)
	}
	if !strings.Contains(r.msg, "unlock it") {
		t.Fatalf("message: %s", r.msg)
	}
}

// waitForName waits until a connection owns name on the bus at addr.
func waitForName(t *testing.T, addr, name string) {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connecting to the private bus: %v", err)
	}
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var owned bool
		err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&owned)
		if err == nil && owned {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared on the bus (%v)", name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClassifyDBusErrors(t *testing.T) {
	cases := []struct {
		err  error
		kind string
	}{
		{dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown"}, "no-provider"},
		{dbus.NewError("org.freedesktop.DBus.Error.NameHasNoOwner", nil), "no-provider"},
		{dbus.Error{Name: "org.freedesktop.DBus.Error.Spawn.ChildExited"}, "no-provider"},
		{dbus.Error{Name: "org.freedesktop.DBus.Error.TimedOut"}, "no-provider"},
		{dbus.Error{Name: "org.freedesktop.DBus.Error.NoReply"}, "timeout"},
		{dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked"}, "locked"},
		{dbus.Error{Name: "org.freedesktop.Secret.Error.NoSuchObject"}, "locked"},
		{fmt.Errorf("wrapped: %w", dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownObject"}), "locked"},
		{dbus.Error{Name: "org.example.Other", Body: []any{"text"}}, "unavailable"},
		{&exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound}, "no-bus"},
		{&net.OpError{Op: "dial", Net: "unix", Err: os.ErrNotExist}, "no-bus"},
		{dbus.ErrClosed, "no-bus"},
		{fmt.Errorf("dbus: authentication failed"), "no-bus"},
		{fmt.Errorf("dbus: couldn't determine address of session bus"), "no-bus"},
	}
	for _, tc := range cases {
		kind, detail := classify(tc.err, time.Second)
		err := &Error{Op: "probe", Kind: kind, Detail: detail, Err: tc.err}
		if got := kindName(err); got != tc.kind {
			t.Errorf("%v: kind %s, want %s", tc.err, got, tc.kind)
		}
		if detail == "" || strings.ContainsAny(detail, "\n\r") {
			t.Errorf("%v: detail %q", tc.err, detail)
		}
	}
}
