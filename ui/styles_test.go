package ui

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"earlyterm"
)

// luminance is the relative luminance of a colour as a terminal of the
// profile draws it (WCAG 2).
func luminance(c termenv.Color) float64 {
	rgb := termenv.ConvertToRGB(c)
	lin := func(v float64) float64 {
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(rgb.R) + 0.7152*lin(rgb.G) + 0.0722*lin(rgb.B)
}

// contrast is the WCAG contrast ratio of two colours, 1 to 21.
func contrast(a, b termenv.Color) float64 {
	x, y := luminance(a), luminance(b)
	if x < y {
		x, y = y, x
	}
	return (x + 0.05) / (y + 0.05)
}

// termColor is a style's colour as a terminal of the profile gets it (nil:
// none, the terminal's own).
func termColor(c lipgloss.TerminalColor, p termenv.Profile) termenv.Color {
	switch c := c.(type) {
	case lipgloss.Color:
		return p.Color(string(c))
	case lipgloss.NoColor, nil:
		return nil
	}
	return p.Color("invalid")
}

// everyStyle lists the styles of s by name, the help line's included.
func everyStyle(s Styles) map[string]lipgloss.Style {
	out := map[string]lipgloss.Style{}
	for _, v := range []reflect.Value{reflect.ValueOf(s), reflect.ValueOf(s.Help)} {
		for i := 0; i < v.NumField(); i++ {
			if st, ok := v.Field(i).Interface().(lipgloss.Style); ok {
				out[v.Type().Name()+"."+v.Type().Field(i).Name] = st
			}
		}
	}
	return out
}

// TestColoursReadOnTheirBackground: every coloured style reaches a
// contrast of 4.5 (WCAG AA) on the background its palette is for, and the
// palette for an unknown background (inside tmux, where nothing tells it)
// reaches 3.9 on white and on black (pure red, the best of the 256 colours,
// has 4.0 on white) and 3.5 on a dark grey, as a truecolor
// terminal draws the colours and as a 256-colour one (tmux) rounds them.
// The dark palette on white, as tmux showed it, reached 2.3; the help
// line's default grey on white 2.2.
func TestColoursReadOnTheirBackground(t *testing.T) {
	type floor struct {
		bg  string
		min float64
	}
	for _, c := range []struct {
		bg     earlyterm.Background
		floors []floor
	}{
		{earlyterm.Light, []floor{{"#FFFFFF", 4.5}}},
		{earlyterm.Dark, []floor{{"#000000", 4.5}, {"#1E1E1E", 4.5}}},
		{earlyterm.Unknown, []floor{{"#FFFFFF", 3.9}, {"#000000", 3.9}, {"#1E1E1E", 3.5}}},
	} {
		styles := everyStyle(StylesFor(c.bg))
		if len(styles) < 20 {
			t.Fatalf("only %d styles found", len(styles))
		}
		for _, p := range []termenv.Profile{termenv.TrueColor, termenv.ANSI256} {
			for name, st := range styles {
				fg := termColor(st.GetForeground(), p)
				if fg == nil {
					continue
				}
				if bg := termColor(st.GetBackground(), p); bg != nil {
					// Its own background, whatever the terminal's.
					if r := contrast(fg, bg); r < 4.5 {
						t.Errorf("%s %s: contrast %.2f on its own background", c.bg, name, r)
					}
					continue
				}
				for _, f := range c.floors {
					if r := contrast(fg, p.Color(f.bg)); r < f.min {
						t.Errorf("%s background, profile %d, %s: contrast %.2f on %s, want at least %.1f", c.bg, p, name, r, f.bg, f.min)
					}
				}
			}
		}
	}
}

// TestStylesFollowTheBackground: the palette is the background's, and the
// help line and the placeholders take the console's styles, not the
// library's (whose greys are made for one background).
func TestStylesFollowTheBackground(t *testing.T) {
	if !reflect.DeepEqual(paletteFor(earlyterm.Light), lightPalette) || !reflect.DeepEqual(paletteFor(earlyterm.Dark), darkPalette) ||
		!reflect.DeepEqual(paletteFor(earlyterm.Unknown), eitherPalette) {
		t.Error("a background gets another palette")
	}
	a := New(Deps{})
	if got, want := a.help.Styles.ShortDesc.GetForeground(), a.st.Subtle.GetForeground(); got != want {
		t.Errorf("the help line's words are drawn in %v, want %v", got, want)
	}
	in := textInput("0.00", 29, 44)
	if got, want := in.PlaceholderStyle.GetForeground(), DefaultStyles().Placeholder.GetForeground(); got != want {
		t.Errorf("a placeholder is drawn in %v, want %v", got, want)
	}
}

// TestPlaceholderInParentheses: without colours a placeholder would read
// as a value typed: it is drawn in parentheses, which grow the field when
// the text filled it, and which a cut keeps.
func TestPlaceholderInParentheses(t *testing.T) {
	for _, c := range []struct {
		text  string
		width int
		want  string
		field int
	}{
		{"0.00", 44, "(0.00)", 44},
		{"", 44, "", 44},
		{"optional", 0, "(optional)", 0},
		{"the whole key, or the Safe keystore JSON", 40, "(the whole key, or the Safe keystore JSON)", 42},
		{strings.Repeat("x", 50), 20, "(" + strings.Repeat("x", 17) + "…)", 20},
	} {
		in := textInput(c.text, 100, c.width)
		if in.Placeholder != c.want || in.Width != c.field {
			t.Errorf("%q in %d: %q in %d, want %q in %d", c.text, c.width, in.Placeholder, in.Width, c.want, c.field)
		}
		if v := in.View(); c.want != "" && !strings.Contains(v, strings.TrimPrefix(c.want, "(")) {
			t.Errorf("%q drawn as %q", c.text, v)
		}
	}
}
