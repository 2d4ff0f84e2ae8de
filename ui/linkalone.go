package ui

import (
	"errors"
	"fmt"
	"io"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// A link alone. The console's frame cuts every line at the terminal's
// edge, so a link longer than the terminal is wide can only be drawn in it
// in pieces, which a mouse selection takes apart (with a line break
// between them). l prints the link outside the frame, on the terminal's
// own screen: on a line of its own from the first column, wrapped by the
// terminal, which a mouse selection (or the terminal's link detection)
// takes whole. Enter comes back to the console.

// linkShower is a page showing a link (the payment request shown); "" when
// there is none to show now.
type linkShower interface{ shownLink() string }

// linkAloneKey is the root's key for the link alone, on the pages that
// show one.
var linkAloneKey = newKey([]string{"l"}, "l", "link alone").long("l", "show the link alone, whole, for selecting it with the mouse (enter comes back)")

// linkShownMsg: the link alone was left (err: it could not be shown).
type linkShownMsg struct{ err error }

func (s *requestScreen) shownLink() string {
	if s.mode != reqShow || s.detail == nil || s.detail.cur.Spent() {
		return ""
	}
	return s.detail.link
}

// shownLink is the link of the page shown, if any.
func (a *App) shownLink() string {
	if p, ok := a.current().(linkShower); ok && a.lock == nil {
		return p.shownLink()
	}
	return ""
}

// onLinkKey shows the link alone when k asks for it (ok false otherwise).
func (a *App) onLinkKey(k tea.KeyMsg) (cmd tea.Cmd, ok bool) {
	link := a.shownLink()
	if link == "" || a.typing() || !key.Matches(k, linkAloneKey.Binding) {
		return nil, false
	}
	if !printableASCII(link) {
		// A link is made of URL characters only; anything else is not
		// written outside the frame, where nothing cleans it.
		a.setStatus("This link cannot be shown alone: it holds characters a link never has.", false)
		return nil, true
	}
	return tea.Exec(&linkAlone{link: link}, func(err error) tea.Msg { return linkShownMsg{err: err} }), true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return s != ""
}

// linkAlone is the link printed on the terminal's own screen, waiting for
// Enter; Bubble Tea hands it the terminal (tea.Exec).
type linkAlone struct {
	link string
	in   io.Reader
	out  io.Writer
}

func (l *linkAlone) SetStdin(r io.Reader)  { l.in = r }
func (l *linkAlone) SetStdout(w io.Writer) { l.out = w }
func (l *linkAlone) SetStderr(io.Writer)   {}

// Run prints the link and waits for a line (Enter), or the end of the
// input.
func (l *linkAlone) Run() error {
	if l.in == nil || l.out == nil {
		return errors.New("no terminal to show the link on")
	}
	_, err := fmt.Fprintf(l.out, "\n\nThe link, whole (the terminal wraps it; select it with the mouse):\n\n%s\n\nPress Enter to go back to mixdesk.\n", l.link)
	if err != nil {
		return err
	}
	b := make([]byte, 1)
	for {
		n, err := l.in.Read(b)
		if n > 0 && (b[0] == '\n' || b[0] == '\r') || err != nil {
			return nil
		}
	}
}
