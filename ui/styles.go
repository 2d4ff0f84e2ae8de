package ui

import "github.com/charmbracelet/lipgloss"

// Styles are the console's styles, built once. Every focus or selection cue
// also has a glyph, so that it survives NO_COLOR (where bold and reverse
// vanish too).
type Styles struct {
	App       lipgloss.Style
	Title     lipgloss.Style
	Sandbox   lipgloss.Style
	Subtle    lipgloss.Style
	Label     lipgloss.Style
	Focused   lipgloss.Style
	Value     lipgloss.Style
	Money     lipgloss.Style
	Good      lipgloss.Style
	Warn      lipgloss.Style
	Error     lipgloss.Style
	Button    lipgloss.Style
	ButtonOn  lipgloss.Style
	ButtonOff lipgloss.Style
	// ID draws what the server verified (a Mixin ID, a user id), in rows
	// or columns of their own, apart from names, which anyone may choose.
	ID lipgloss.Style
}

var (
	accent = lipgloss.AdaptiveColor{Light: "#005FAF", Dark: "#5FAFFF"}
	subtle = lipgloss.AdaptiveColor{Light: "#6C6C6C", Dark: "#8A8A8A"}
	good   = lipgloss.AdaptiveColor{Light: "#007A3D", Dark: "#5FD787"}
	bad    = lipgloss.AdaptiveColor{Light: "#AF0000", Dark: "#FF5F5F"}
	warn   = lipgloss.AdaptiveColor{Light: "#AF5F00", Dark: "#FFAF00"}
)

// DefaultStyles builds the console's styles.
func DefaultStyles() Styles {
	return Styles{
		App:       lipgloss.NewStyle().Padding(0, 1),
		Title:     lipgloss.NewStyle().Bold(true).Foreground(accent),
		Sandbox:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("0")).Background(lipgloss.Color("11")),
		Subtle:    lipgloss.NewStyle().Foreground(subtle),
		Label:     lipgloss.NewStyle().Foreground(subtle),
		Focused:   lipgloss.NewStyle().Bold(true).Foreground(accent),
		Value:     lipgloss.NewStyle(),
		Money:     lipgloss.NewStyle().Bold(true),
		Good:      lipgloss.NewStyle().Foreground(good),
		Warn:      lipgloss.NewStyle().Foreground(warn),
		Error:     lipgloss.NewStyle().Foreground(bad),
		Button:    lipgloss.NewStyle().Padding(0, 1),
		ButtonOn:  lipgloss.NewStyle().Padding(0, 1).Bold(true).Reverse(true),
		ButtonOff: lipgloss.NewStyle().Padding(0, 1).Foreground(subtle),
		ID:        lipgloss.NewStyle().Bold(true).Foreground(good),
	}
}

// button draws a button; the focused one is framed by "> <" so that focus
// shows without colour, a disabled one is bracketed in "( )".
func (s Styles) button(label string, focused, enabled bool) string {
	switch {
	case !enabled && focused:
		return s.ButtonOff.Render("> (" + label + ") <")
	case !enabled:
		return s.ButtonOff.Render("(" + label + ")")
	case focused:
		return s.ButtonOn.Render("> " + label + " <")
	}
	return s.Button.Render("[ " + label + " ]")
}

// listMark is the glyph before the row selected in a list (the balances'
// assets, the address book, the payment requests, the asset picker…): one
// glyph for a selection everywhere, apart from marker's, the field with
// the focus.
const listMark = "▸ "

// marker is the focus glyph before a field's label.
func marker(focused bool) string {
	if focused {
		return "› "
	}
	return "  "
}
