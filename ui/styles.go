package ui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"

	"earlyterm"
)

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
	// Placeholder draws a field's placeholder (see setPlaceholder).
	Placeholder lipgloss.Style
	// Help draws the help line: keys in the terminal's own colour, their
	// words in the subtle one.
	Help help.Styles
}

// palette is the console's colours for one kind of background.
type palette struct {
	accent, subtle, good, bad, warn lipgloss.TerminalColor
}

// The palettes. Light and dark are for a background that is known (from
// MIXDESK_THEME or COLORFGBG, see earlyterm); either is for one that is not
// (inside tmux, most often), and reads on white and on black alike: each
// colour sits halfway in brightness, a colour of the 256-colour palette so
// that no terminal rounds it to a brighter or darker one. styles_test
// measures the contrast of each.
var (
	lightPalette = palette{
		accent: lipgloss.Color("#005FAF"),
		subtle: lipgloss.Color("#6C6C6C"),
		good:   lipgloss.Color("#007A3D"),
		bad:    lipgloss.Color("#AF0000"),
		warn:   lipgloss.Color("#AF5F00"),
	}
	darkPalette = palette{
		accent: lipgloss.Color("#5FAFFF"),
		subtle: lipgloss.Color("#8A8A8A"),
		good:   lipgloss.Color("#5FD787"),
		bad:    lipgloss.Color("#FF5F5F"),
		warn:   lipgloss.Color("#FFAF00"),
	}
	eitherPalette = palette{
		accent: lipgloss.Color("31"),  // #0087AF
		subtle: lipgloss.Color("243"), // #767676
		good:   lipgloss.Color("29"),  // #00875F
		bad:    lipgloss.Color("196"), // #FF0000
		warn:   lipgloss.Color("130"), // #AF5F00
	}
)

func paletteFor(b earlyterm.Background) palette {
	switch b {
	case earlyterm.Light:
		return lightPalette
	case earlyterm.Dark:
		return darkPalette
	}
	return eitherPalette
}

// DefaultStyles builds the console's styles for the terminal's background
// as decided at start (see earlyterm).
func DefaultStyles() Styles { return StylesFor(earlyterm.Current()) }

// StylesFor builds the console's styles for a background.
func StylesFor(b earlyterm.Background) Styles {
	p := paletteFor(b)
	subtle := lipgloss.NewStyle().Foreground(p.subtle)
	return Styles{
		App:         lipgloss.NewStyle().Padding(0, 1),
		Title:       lipgloss.NewStyle().Bold(true).Foreground(p.accent),
		Sandbox:     lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("0")).Background(lipgloss.Color("11")),
		Subtle:      subtle,
		Label:       subtle,
		Focused:     lipgloss.NewStyle().Bold(true).Foreground(p.accent),
		Value:       lipgloss.NewStyle(),
		Money:       lipgloss.NewStyle().Bold(true),
		Good:        lipgloss.NewStyle().Foreground(p.good),
		Warn:        lipgloss.NewStyle().Foreground(p.warn),
		Error:       lipgloss.NewStyle().Foreground(p.bad),
		Button:      lipgloss.NewStyle().Padding(0, 1),
		ButtonOn:    lipgloss.NewStyle().Padding(0, 1).Bold(true).Reverse(true),
		ButtonOff:   lipgloss.NewStyle().Padding(0, 1).Foreground(p.subtle),
		ID:          lipgloss.NewStyle().Bold(true).Foreground(p.good),
		Placeholder: subtle,
		Help: help.Styles{
			ShortKey:       lipgloss.NewStyle(),
			ShortDesc:      subtle,
			ShortSeparator: subtle,
			Ellipsis:       subtle,
			FullKey:        lipgloss.NewStyle(),
			FullDesc:       subtle,
			FullSeparator:  subtle,
		},
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

// setPlaceholder gives a field its placeholder, in parentheses, so that it
// never reads as a value typed, with colours or without (NO_COLOR, where
// it would look exactly like one): "(0.00)", "(optional)". The field grows
// by the parentheses when the text filled it; a text longer than the field
// is cut inside them.
func setPlaceholder(in *textinput.Model, text string) {
	in.PlaceholderStyle = DefaultStyles().Placeholder
	if w := lipgloss.Width(text); in.Width > 0 && w <= in.Width && w+2 > in.Width {
		in.Width = w + 2
	}
	in.Placeholder = placeholderText(text, in.Width)
}

func placeholderText(text string, width int) string {
	if text == "" {
		return ""
	}
	if width > 2 {
		text = truncate(text, width-2)
	}
	return "(" + text + ")"
}
