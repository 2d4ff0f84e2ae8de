package ui

import (
	"io"
	"os"
	"strings"

	"github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"
)

// copiedMsg reports a copy to the clipboard.
type copiedMsg struct {
	what string // "snapshot id", "trace id", "payment link"
	err  error
}

// clipboardOut is where the OSC 52 sequence goes: the terminal, beside the
// screen (the sequence draws nothing). Tests replace it.
var clipboardOut io.Writer = os.Stderr

// copyCmd puts text on the clipboard with OSC 52, which works over SSH;
// inside tmux or screen the sequence is wrapped so that it reaches the
// outer terminal.
func copyCmd(what, text string) tea.Cmd {
	out := clipboardOut
	term := os.Getenv("TERM")
	inTmux := os.Getenv("TMUX") != "" || strings.HasPrefix(term, "tmux")
	inScreen := strings.HasPrefix(term, "screen") && !inTmux
	return func() tea.Msg {
		seq := osc52.New(text)
		switch {
		case inTmux:
			seq = seq.Tmux()
		case inScreen:
			seq = seq.Screen()
		}
		_, err := seq.WriteTo(out)
		return copiedMsg{what: what, err: err}
	}
}
