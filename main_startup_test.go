//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"earlyterm"
)

// openPTY opens a pseudo-terminal: the master end, which nothing answers
// (no terminal emulator behind it), and the terminal the console runs on.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}); err != nil {
		t.Fatal(err)
	}
	return m, s
}

// TestStartupHelper is the console started by TestStartupAsksTheTerminalNothing
// in a child process, on the sandbox in the data directory it names.
func TestStartupHelper(t *testing.T) {
	dir := os.Getenv("MIXDESK_STARTUP_HELPER")
	if dir == "" {
		t.Skip("started by TestStartupAsksTheTerminalNothing")
	}
	os.Exit(run([]string{"--sandbox", "--data-dir", dir}, os.Stdout, os.Stderr))
}

// TestStartupAsksTheTerminalNothing starts the console on a terminal that
// answers nothing (a pseudo-terminal with no emulator behind it, like some
// serial and CI consoles): the first frame must not wait for the terminal,
// so the console writes no query (background colour, ESC ] 11 ; ?, or
// cursor position, ESC [ 6 n) before it. A query left unanswered held the
// first frame for 5 s. The time to the first frame is logged, not checked.
func TestStartupAsksTheTerminalNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the console")
	}
	master, tty := openPTY(t)
	defer master.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStartupHelper$")
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "MIXDESK_STARTUP_HELPER="+t.TempDir(), "TERM=xterm-256color", "COLORFGBG=",
		"HOME="+home, "XDG_CONFIG_HOME="+home)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()

	var (
		mu    sync.Mutex
		out   bytes.Buffer
		first time.Duration
	)
	// The home screen of the sandbox shows its banner.
	const frame = "SANDBOX"
	shown := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			if first == 0 && strings.Contains(out.String(), frame) {
				first = time.Since(start)
				close(shown)
			}
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-shown:
	case <-time.After(60 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("no first frame in 60 s; the console wrote %q", out.String())
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("first frame after %s", first.Round(time.Millisecond))
	before, _, _ := strings.Cut(out.String(), frame)
	for _, q := range []string{"\x1b]11;?", "\x1b]10;?", "\x1b[6n"} {
		if strings.Contains(before, q) {
			t.Errorf("the console asked the terminal %q before its first frame (first frame after %s)", q, first.Round(time.Millisecond))
		}
	}
}

// TestDarkBackground: COLORFGBG's background colour is read as the
// terminal's answer would be; without one, dark.
func TestDarkBackground(t *testing.T) {
	for in, want := range map[string]bool{
		"": true, "15;0": true, "0;15": false, "0;default;15": false, "15;default;0": true,
		"0;7": false, "0;8": false, "7;4": true, "0;x": true, "0;-1": true, "0;300": true, "0;": true, "15": true,
	} {
		if got := earlyterm.DarkBackground(in); got != want {
			t.Errorf("COLORFGBG=%q: dark %v, want %v", in, got, want)
		}
	}
}
