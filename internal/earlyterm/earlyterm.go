// Package earlyterm decides, as the program starts, whether the terminal's
// background is dark or light, so that nothing asks the terminal.
//
// Bubble Tea v1 asks the terminal for its background colour (ESC ] 11 ; ?,
// then ESC [ 6 n) while its package is initialised, through Lip Gloss, and
// waits up to 5 s for a terminal that answers neither (a plain pty, some
// serial and CI consoles) before anything is drawn. Packages are
// initialised in the order of their import paths, each as soon as its
// imports are: "earlyterm" sorts before "github.com/charmbracelet/...", so
// this init runs first and settles the answer, and the question is never
// asked. It is a module of its own only for that path.
//
// The answer comes from MIXDESK_THEME (light or dark), else from COLORFGBG
// (as rxvt and Konsole set it); without either the background is Unknown
// (inside tmux, COLORFGBG is usually not passed on), and the console
// draws with colours that read on a light and on a dark background alike.
package earlyterm

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Background is what is known of the terminal's background.
type Background int32

const (
	Unknown Background = iota // neither MIXDESK_THEME nor COLORFGBG says
	Dark
	Light
)

func (b Background) String() string {
	switch b {
	case Dark:
		return "dark"
	case Light:
		return "light"
	}
	return "unknown"
}

// ThemeEnv is the variable that names the background: light, dark, or
// auto (the same as unset: COLORFGBG, else unknown).
const ThemeEnv = "MIXDESK_THEME"

var current atomic.Int32

// themeErr is a MIXDESK_THEME that is none of its values, kept for the
// program to report (this init has no one to tell).
var themeErr error

func init() {
	b, err := Detect(os.Getenv(ThemeEnv), os.Getenv("COLORFGBG"))
	themeErr = err
	Set(b)
}

// Current is the background decided at start (or by Set).
func Current() Background { return Background(current.Load()) }

// ThemeErr is the problem with MIXDESK_THEME at start, nil when it is
// unset or valid.
func ThemeErr() error { return themeErr }

// Set decides the background (a flag read after start). Lip Gloss's
// adaptive colours take the light side only for Light.
func Set(b Background) {
	current.Store(int32(b))
	lipgloss.SetHasDarkBackground(b != Light)
}

// Detect tells the background from MIXDESK_THEME's value and COLORFGBG's.
// A theme that is none of light, dark, auto or "" is an error; the
// background is then taken from COLORFGBG as if it were unset.
func Detect(theme, colorfgbg string) (Background, error) {
	b, err := ParseTheme(theme)
	if err == nil && b != Unknown {
		return b, nil
	}
	if _, ok := colorFGBGBackground(colorfgbg); !ok {
		return Unknown, err
	}
	if DarkBackground(colorfgbg) {
		return Dark, err
	}
	return Light, err
}

// ParseTheme reads a theme's name: light, dark, or auto or "" (Unknown:
// decided from COLORFGBG).
func ParseTheme(s string) (Background, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "light":
		return Light, nil
	case "dark":
		return Dark, nil
	case "", "auto":
		return Unknown, nil
	}
	return Unknown, fmt.Errorf("%s=%q: want light, dark or auto", ThemeEnv, s)
}

// DarkBackground tells from COLORFGBG ("FG;BG", as rxvt and Konsole set
// it, BG an ANSI colour 0-15) whether the terminal's background is dark, as
// the terminal's own answer would be read. Without it, or with a value that
// is not one, the background is taken as dark: on a light terminal,
// COLORFGBG="0;15" gives the light colours.
func DarkBackground(colorfgbg string) bool {
	bg, ok := colorFGBGBackground(colorfgbg)
	if !ok {
		return true
	}
	_, _, l := termenv.ConvertToRGB(termenv.ANSIColor(bg)).Hsl()
	return l < 0.5
}

// colorFGBGBackground is COLORFGBG's background colour, when it names one.
func colorFGBGBackground(colorfgbg string) (int, bool) {
	i := strings.LastIndexByte(colorfgbg, ';')
	if i < 0 {
		return 0, false
	}
	bg, err := strconv.Atoi(colorfgbg[i+1:])
	if err != nil || bg < 0 || bg > 15 {
		return 0, false
	}
	return bg, true
}
