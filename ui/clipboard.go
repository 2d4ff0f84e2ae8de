package ui

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"
)

// copiedMsg says what became of a copy to the clipboard, as the status
// line: what was sent, and to whom. Whether the terminal put it on the
// clipboard cannot be known (OSC 52 has no answer), so it is never claimed.
type copiedMsg struct {
	note string
	ok   bool // false: nothing was sent, or writing it failed
}

// clipboardOut is where the OSC 52 sequence goes: the terminal, beside the
// screen (the sequence draws nothing). Tests replace it.
var clipboardOut io.Writer = os.Stderr

// terminalEnv reads the environment that tells where the console runs
// (TERM, TMUX, TMUX_PANE, STY). Tests replace it.
var terminalEnv = os.Getenv

// tmuxOptions reads the options of the tmux pane the console runs in that
// decide whether an OSC 52 sequence leaves tmux: set-clipboard (on: tmux
// takes the sequence itself and passes it on to its terminal) and
// allow-passthrough (on: a sequence wrapped for tmux goes through as it
// is). Tests replace it.
var tmuxOptions = func(ctx context.Context, pane string) (setClipboard, passthrough string, err error) {
	args := []string{"display-message", "-p"}
	if pane != "" {
		args = append(args, "-t", pane)
	}
	out, err := exec.CommandContext(ctx, "tmux", append(args, "#{set-clipboard}|#{allow-passthrough}")...).Output()
	if err != nil {
		return "", "", err
	}
	setClipboard, passthrough, _ = strings.Cut(strings.TrimSpace(string(out)), "|")
	return setClipboard, passthrough, nil
}

// copyCmd asks the terminal to put text on the clipboard with OSC 52,
// which works over SSH. Inside tmux it reads tmux's options to send the
// sequence the way tmux lets through, or says that tmux lets none through
// and how to allow it; inside screen the sequence is wrapped for it.
func copyCmd(what, text string) tea.Cmd {
	out, env := clipboardOut, terminalEnv
	return func() tea.Msg {
		r := routeFor(env)
		if r.askTmux {
			ctx, cancel := within(timeoutTmux)
			sc, pt, err := tmuxOptions(ctx, env("TMUX_PANE"))
			cancel()
			if err == nil {
				r = tmuxRoute(sc, pt)
			}
		}
		var seqs []osc52.Sequence
		if r.plain {
			seqs = append(seqs, osc52.New(text))
		}
		if r.tmux {
			seqs = append(seqs, osc52.New(text).Tmux())
		}
		if r.screen {
			seqs = append(seqs, osc52.New(text).Screen())
		}
		for _, s := range seqs {
			if _, err := s.WriteTo(out); err != nil {
				return copiedMsg{note: "Not copied: writing to the terminal failed: " + explain(err)}
			}
		}
		return copiedMsg{note: r.note(what), ok: len(seqs) > 0}
	}
}

// clipRoute is how an OSC 52 sequence can reach the terminal, and what the
// status line says of it.
type clipRoute struct {
	plain, tmux, screen bool // the sequences written: as is, wrapped for tmux, for screen
	// askTmux: the console runs in a tmux of this machine, whose options
	// decide (see tmuxOptions).
	askTmux bool
	note    func(what string) string
}

// routeFor is the route as the environment tells it. A tmux that cannot be
// asked (TERM names it but TMUX is not set: a session on another machine,
// reached through ssh) is sent both sequences, one of which it may let
// through.
func routeFor(env func(string) string) clipRoute {
	term := env("TERM")
	switch {
	case env("TMUX") != "":
		r := tmuxUnknown()
		r.askTmux = true
		return r
	case strings.HasPrefix(term, "tmux"):
		return tmuxUnknown()
	case env("STY") != "" || strings.HasPrefix(term, "screen"):
		return clipRoute{screen: true, note: func(what string) string {
			return "Asked the terminal, through screen, to copy the " + what + " (OSC 52): it is on the clipboard if the terminal allows OSC 52."
		}}
	}
	return clipRoute{plain: true, note: func(what string) string {
		return "Asked the terminal to copy the " + what + " (OSC 52): it is on the clipboard if the terminal allows OSC 52."
	}}
}

func tmuxUnknown() clipRoute {
	return clipRoute{plain: true, tmux: true, note: func(what string) string {
		return "Asked the terminal, through tmux, to copy the " + what + " (OSC 52): it arrives only if tmux has set-clipboard on or allow-passthrough on, and the terminal allows OSC 52."
	}}
}

// tmuxRoute is the route through a tmux with these options (as tmux shows
// them: set-clipboard on, external or off; allow-passthrough 0 or 1, or
// on, off, all).
func tmuxRoute(setClipboard, passthrough string) clipRoute {
	switch {
	case setClipboard == "on":
		return clipRoute{plain: true, note: func(what string) string {
			return "Asked tmux to copy the " + what + " (OSC 52; set-clipboard on): it is in tmux's paste buffer, and on the clipboard if the terminal outside tmux allows OSC 52."
		}}
	case passthrough != "" && passthrough != "0" && passthrough != "off":
		return clipRoute{tmux: true, note: func(what string) string {
			return "Asked the terminal outside tmux to copy the " + what + " (OSC 52 through allow-passthrough): it is on the clipboard if the terminal allows OSC 52."
		}}
	}
	return clipRoute{note: func(string) string {
		return "Not copied: this tmux passes no OSC 52 on (set-clipboard " + orDash(clean(setClipboard)) + ", allow-passthrough off). " +
			"Allow it with `tmux set -g set-clipboard on` (or allow-passthrough on), and in ~/.tmux.conf."
	}}
}
