package ui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
)

// TestLinkAloneIsOneLine: the link alone is a line of its own, from the
// first column, nothing else on it, for the terminal to wrap; Enter ends
// it.
func TestLinkAloneIsOneLine(t *testing.T) {
	const link = "https://mixin.one/pay?recipient=6c4ffb2a-7a4f-4b5e-9f4e-0a51f1c0d1aa&asset=4d8c508b-91c5-375b-92b0-ee702ed2dac5&amount=12&trace=0b9c6c0e-5c69-4bfc-9a55-3b1c5e0a1f77&memo=rent%20M%C3%A4rz"
	var out bytes.Buffer
	l := &linkAlone{link: link}
	l.SetStdin(strings.NewReader("\nmore"))
	l.SetStdout(&out)
	if err := l.Run(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	n := 0
	for _, s := range lines {
		if strings.Contains(s, "mixin.one") {
			n++
			if s != link {
				t.Errorf("the link's line is %q, want the link alone", s)
			}
		}
	}
	if n != 1 {
		t.Errorf("the link is on %d lines, want 1:\n%s", n, out.String())
	}
	mustContain(t, out.String(), "Press Enter to go back to mixdesk.")
	if (&linkAlone{link: link}).Run() == nil {
		t.Error("shown with no terminal")
	}
}

// TestLinkAloneFromTheRequestShown: l on the request shown prints its link
// whole outside the frame, and the console comes back; the list has no l,
// and ? lists it where it acts. In the frame, the link's second piece is
// labelled with the key.
func TestLinkAloneFromTheRequestShown(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	f := r.start(termW, termH)
	f.waitHome()
	f.newRequest("usdt", "12", "rent · März")
	f.press(tea.KeyEnter)
	f.until("the request", func(a *App) bool { return a.request().mode == reqShow })
	var link string
	f.probe(func(a *App) { link = a.request().detail.link })
	mustContain(t, f.view(), "Link       https://mixin.one/pay?", "l: 1 line  ")

	f.typ("?")
	mustContain(t, flat(f.view()), "l show the link alone, whole, for selecting it with the mouse")
	f.press(tea.KeyEsc)

	f.typ("l")
	teatest.WaitFor(t, f.tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("\n"+link+"\n")) && bytes.Contains(b, []byte("Press Enter to go back to mixdesk."))
	}, teatest.WithDuration(waitLong), teatest.WithCheckInterval(10*time.Millisecond))
	// The test's input is empty: the link alone ends at once, as on Enter.
	f.until("the request again", func(a *App) bool { return a.screen == screenRequest && a.request().mode == reqShow })
	if s := f.statusOf(); strings.Contains(s, "link") && !strings.HasPrefix(s, "Payment request created") {
		t.Errorf("status after the link alone: %q", s)
	}

	f.press(tea.KeyEsc)
	f.until("the list", func(a *App) bool { return a.request().mode == reqList })
	var cmd tea.Cmd
	f.probe(func(a *App) {
		if a.shownLink() != "" {
			t.Error("the list offers a link alone")
		}
		cmd, _ = a.onLinkKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'l'}})
	})
	if cmd != nil {
		t.Error("l acts on the list")
	}
}
