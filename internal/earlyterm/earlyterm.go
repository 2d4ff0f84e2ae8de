// Package earlyterm decides, as the program starts, whether the terminal's
// background is dark, so that nothing asks the terminal.
//
// Bubble Tea v1 asks the terminal for its background colour (ESC ] 11 ; ?,
// then ESC [ 6 n) while its package is initialised, through Lip Gloss, and
// waits up to 5 s for a terminal that answers neither (a plain pty, some
// serial and CI consoles) before anything is drawn. Packages are
// initialised in the order of their import paths, each as soon as its
// imports are: "earlyterm" sorts before "github.com/charmbracelet/...", so
// this init runs first and settles the answer, and the question is never
// asked. It is a module of its own only for that path.
package earlyterm

import (
	"os"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

func init() {
	lipgloss.SetHasDarkBackground(DarkBackground(os.Getenv("COLORFGBG")))
}

// DarkBackground tells from COLORFGBG ("FG;BG", as rxvt and Konsole set
// it, BG an ANSI colour 0-15) whether the terminal's background is dark, as
// the terminal's own answer would be read. Without it, or with a value that
// is not one, the background is taken as dark: on a light terminal,
// COLORFGBG="0;15" gives the light colours.
func DarkBackground(colorfgbg string) bool {
	i := strings.LastIndexByte(colorfgbg, ';')
	if i < 0 {
		return true
	}
	bg, err := strconv.Atoi(colorfgbg[i+1:])
	if err != nil || bg < 0 || bg > 15 {
		return true
	}
	_, _, l := termenv.ConvertToRGB(termenv.ANSIColor(bg)).Hsl()
	return l < 0.5
}
