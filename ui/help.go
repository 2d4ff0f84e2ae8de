package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// The help (the overlay of a screen's whole key map) and the footer's hint
// line, which the root draws for every screen.

// helpKey is the help key that works where the focus is: ? where no text
// field has it, ctrl+g (F1 too) in a field, where ? is text.
func (a *App) helpKey() key.Binding {
	if a.typing() {
		return a.keys.HelpAnywhere
	}
	return a.keys.Help
}

// quitKey is the hint of the quit key: q/ctrl+c where q quits too (the
// balances, a start-up failure), else ctrl+c.
func (a *App) quitKey() key.Binding {
	switch {
	case a.lock != nil:
	case a.screen == screenHome && a.current() != nil,
		a.screen == screenLoading && a.fatal != "":
		return a.keys.QuitQ
	}
	return a.keys.Quit
}

// opensHelp reports whether k opens the help where the focus is.
func (a *App) opensHelp(k tea.KeyMsg) bool {
	return key.Matches(k, a.keys.HelpAnywhere) || key.Matches(k, a.keys.Help) && !a.typing()
}

// helpCloseKey closes the help: esc, q, or a help key again.
var helpCloseKey = key.NewBinding(key.WithKeys("esc", "q", "?", "ctrl+g", "f1"), key.WithHelp("esc/q", "close the help"))

// onHelpKey takes a key while the help is shown: it closes or scrolls it;
// any other key is dropped (it is not meant for the screen under it).
func (a *App) onHelpKey(k tea.KeyMsg) {
	g := a.keys
	page := max(1, a.layoutBodyHeight()-2)
	switch {
	case key.Matches(k, helpCloseKey):
		a.showHelp, a.helpTop = false, 0
		return
	case key.Matches(k, g.HelpUp):
		a.helpTop--
	case key.Matches(k, g.HelpDown):
		a.helpTop++
	case key.Matches(k, g.HelpPageUp):
		a.helpTop -= page
	case key.Matches(k, g.HelpPageDown):
		a.helpTop += page
	case key.Matches(k, g.HelpTop):
		a.helpTop = 0
	case key.Matches(k, g.HelpBottom):
		a.helpTop = len(a.helpLines())
	}
	a.helpTop = clampTop(a.helpTop, len(a.helpLines()), a.layoutBodyHeight())
}

// clampTop keeps the first line shown of n lines in a window h rows high
// (one of them the "more" line) where the last page still fills it.
func clampTop(top, n, h int) int {
	if n <= h {
		return 0
	}
	return max(0, min(top, n-(h-1)))
}

// helpLines is the help as drawn, wrapped to the terminal's width.
func (a *App) helpLines() []string {
	return strings.Split(fitWidth(a.fullHelp(), a.width-2), "\n")
}

// helpOverflows reports whether the help is taller than the body.
func (a *App) helpOverflows(bodyH int) bool { return len(a.helpLines()) > bodyH }

// helpView draws the help in h rows: all of it when it fits, else the rows
// from helpTop and, in the last row, where they are and how to see more.
func (a *App) helpView(h int) string {
	lines := a.helpLines()
	if len(lines) <= h {
		return strings.Join(lines, "\n")
	}
	top := clampTop(a.helpTop, len(lines), h)
	end := top + h - 1
	more := itoa(top+1) + "–" + itoa(end) + " of " + itoa(len(lines)) + " lines"
	switch {
	case top == 0:
		more += " · ↓/pgdn for more"
	case end >= len(lines):
		more += " · ↑/pgup for the start"
	default:
		more += " · ↑/↓ pgup/pgdn to scroll"
	}
	return strings.Join(lines[top:end], "\n") + "\n" + a.st.Subtle.Render("── "+more+" ──")
}

// helpModeKeys is the hint line while the help is shown: the scrolling
// keys when it is taller than the body.
func (a *App) helpModeKeys() []key.Binding {
	all := []key.Binding{a.keys.HelpUp, a.keys.HelpPageUp, helpCloseKey, a.keys.Quit}
	// The body's height with this footer (the footer with the scrolling
	// keys or without is as high: one hint line).
	bodyH := a.height - lipgloss.Height(a.header()) - lipgloss.Height(a.footerWith(all))
	if a.helpOverflows(max(1, bodyH)) {
		return all
	}
	return all[2:]
}

// hintView lays the hint line out w cells wide: the keys in order, two
// spaces apart, a line breaking only between two of them (a key and its
// words stay together; one alone wider than w is wrapped by words).
func (a *App) hintView(ks []key.Binding, w int) string {
	st := a.help.Styles
	sep := st.ShortSeparator.Inline(true).Render(a.help.ShortSeparator)
	var lines []string
	line, lineW := "", 0
	for _, k := range ks {
		h := k.Help()
		if !k.Enabled() || h.Key == "" && h.Desc == "" {
			continue
		}
		item := st.ShortKey.Inline(true).Render(h.Key) + " " + st.ShortDesc.Inline(true).Render(h.Desc)
		iw := lipgloss.Width(item)
		switch {
		case lineW == 0:
		case lineW+lipgloss.Width(sep)+iw <= w:
			line, lineW = line+sep+item, lineW+lipgloss.Width(sep)+iw
			continue
		default:
			lines = append(lines, line)
		}
		line, lineW = item, iw
		if iw > w {
			line = fitWidth(item, w)
			lineW = lipgloss.Width(line[strings.LastIndex(line, "\n")+1:])
		}
	}
	if lineW > 0 {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}
