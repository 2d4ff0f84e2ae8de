package main

import (
	"fmt"
	"io"
	"os"

	"earlyterm"
)

// applyTheme settles the terminal's background for the console: --theme
// when given, else what earlyterm read from MIXDESK_THEME and COLORFGBG
// as the program started. A name that is none of light, dark or auto is
// reported in one line (false).
func applyTheme(flagValue string, stderr io.Writer) bool {
	if flagValue == "" {
		if err := earlyterm.ThemeErr(); err != nil {
			fmt.Fprintf(stderr, "mixdesk: %v\n", err)
			return false
		}
		return true
	}
	b, err := earlyterm.ParseTheme(flagValue)
	if err != nil {
		fmt.Fprintf(stderr, "mixdesk: --theme %q: want light, dark or auto\n", flagValue)
		return false
	}
	if b == earlyterm.Unknown {
		// auto: as if MIXDESK_THEME were unset.
		b, _ = earlyterm.Detect("", os.Getenv("COLORFGBG"))
	}
	earlyterm.Set(b)
	return true
}
