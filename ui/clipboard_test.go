package ui

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// useTerminal makes the console run in env (tmux answering opts) for one
// test, which must not be parallel: copies read these package variables.
func useTerminal(t *testing.T, env map[string]string, opts func(ctx context.Context, pane string) (string, string, error)) *bytes.Buffer {
	t.Helper()
	var out bytes.Buffer
	oldOut, oldEnv, oldOpts := clipboardOut, terminalEnv, tmuxOptions
	clipboardOut, terminalEnv, tmuxOptions = &out, func(k string) string { return env[k] }, opts
	t.Cleanup(func() { clipboardOut, terminalEnv, tmuxOptions = oldOut, oldEnv, oldOpts })
	return &out
}

// TestCopySaysWhatWasSent: a copy is sent the way the terminal (or the
// tmux or screen in front of it) lets it through, and the status line says
// what was sent to whom, never that it is on the clipboard: OSC 52 has no
// answer. A tmux that lets nothing through gets nothing, and the operator
// is told how to allow it.
func TestCopySaysWhatWasSent(t *testing.T) {
	const id = "0b9c6c0e-5c69-4bfc-9a55-3b1c5e0a1f77"
	b64 := base64.StdEncoding.EncodeToString([]byte(id))
	plain := "\x1b]52;c;" + b64 + "\a"
	wrappedTmux := "\x1bPtmux;\x1b\x1b]52;c;" + b64 + "\a\x1b\\"
	wrappedScreen := "\x1bP\x1b]52;c;" + b64 + "\a\x1b\\"
	tmux := map[string]string{"TERM": "tmux-256color", "TMUX": "/tmp/tmux-0/default,1,0", "TMUX_PANE": "%3"}
	answer := func(sc, pt string, err error) func(context.Context, string) (string, string, error) {
		return func(_ context.Context, pane string) (string, string, error) {
			if pane != "%3" {
				t.Errorf("tmux was asked about pane %q, want %%3", pane)
			}
			return sc, pt, err
		}
	}
	never := func(context.Context, string) (string, string, error) {
		t.Error("a tmux that cannot be reached was asked")
		return "", "", errors.New("no")
	}
	for _, c := range []struct {
		name    string
		env     map[string]string
		opts    func(context.Context, string) (string, string, error)
		written string
		ok      bool
		note    []string
	}{
		{"terminal", map[string]string{"TERM": "xterm-256color"}, never, plain, true,
			[]string{"Asked the terminal to copy the trace id (OSC 52): it is on the clipboard if the terminal allows OSC 52."}},
		{"screen", map[string]string{"TERM": "screen.xterm-256color", "STY": "123.pts-0"}, never, wrappedScreen, true,
			[]string{"through screen"}},
		{"tmux set-clipboard on", tmux, answer("on", "0", nil), plain, true,
			[]string{"Asked tmux to copy the trace id", "set-clipboard on", "tmux's paste buffer", "if the terminal outside tmux allows OSC 52"}},
		{"tmux allow-passthrough on", tmux, answer("external", "1", nil), wrappedTmux, true,
			[]string{"Asked the terminal outside tmux", "allow-passthrough"}},
		{"tmux allow-passthrough all", tmux, answer("off", "2", nil), wrappedTmux, true,
			[]string{"allow-passthrough"}},
		{"tmux as it comes", tmux, answer("external", "0", nil), "", false,
			[]string{"Not copied: this tmux passes no OSC 52 on (set-clipboard external, allow-passthrough off).",
				"`tmux set -g set-clipboard on`", "allow-passthrough on", "~/.tmux.conf"}},
		{"tmux that does not answer", tmux, answer("", "", errors.New("no server")), plain + wrappedTmux, true,
			[]string{"through tmux", "only if tmux has set-clipboard on or allow-passthrough on"}},
		{"tmux on another machine", map[string]string{"TERM": "tmux-256color"}, never, plain + wrappedTmux, true,
			[]string{"only if tmux has set-clipboard on or allow-passthrough on"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := useTerminal(t, c.env, c.opts)
			msg, _ := copyCmd("trace id", id)().(copiedMsg)
			if got := out.String(); got != c.written {
				t.Errorf("written %q, want %q", got, c.written)
			}
			if msg.ok != c.ok {
				t.Errorf("ok %v, want %v (%q)", msg.ok, c.ok, msg.note)
			}
			for _, w := range c.note {
				if !strings.Contains(msg.note, w) {
					t.Errorf("the status %q lacks %q", msg.note, w)
				}
			}
			if strings.Contains(msg.note, "Copied") {
				t.Errorf("the status claims the copy: %q", msg.note)
			}
		})
	}
}

// TestCopyInTmuxThatLetsNothingThrough: the request shown, in a tmux with
// its default options: c says what to change, in the status line.
func TestCopyInTmuxThatLetsNothingThrough(t *testing.T) {
	out := useTerminal(t, map[string]string{"TERM": "screen-256color", "TMUX": "/tmp/tmux-0/default,1,0"},
		func(context.Context, string) (string, string, error) { return "external", "0", nil })
	r := newRig(t, rigOpts{})
	f := r.start(termW, termH)
	f.waitHome()
	f.newRequest("usdt", "12", "")
	f.press(tea.KeyEnter)
	f.until("the request", func(a *App) bool { return a.request().mode == reqShow })
	f.typ("c")
	f.until("the answer", func(a *App) bool { return strings.HasPrefix(a.status, "Not copied") })
	v := f.view()
	checkGolden(t, "request", v, termW)
	if out.Len() != 0 {
		t.Errorf("a sequence tmux drops was written: %q", out.String())
	}
	var ok bool
	f.probe(func(a *App) { ok = a.statusOK })
	if ok {
		t.Error("the refusal is drawn as good news")
	}
}
