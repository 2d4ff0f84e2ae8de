package main

import (
	"bytes"
	"strings"
	"testing"

	"earlyterm"
)

// TestThemeDetect: MIXDESK_THEME first, then COLORFGBG, else unknown (the
// console then draws with colours that read on either background).
func TestThemeDetect(t *testing.T) {
	for _, c := range []struct {
		theme, fgbg string
		want        earlyterm.Background
		bad         bool
	}{
		{"light", "", earlyterm.Light, false},
		{"Dark", "0;15", earlyterm.Dark, false},
		{"", "0;15", earlyterm.Light, false},
		{"", "15;0", earlyterm.Dark, false},
		{"auto", "0;15", earlyterm.Light, false},
		{"", "", earlyterm.Unknown, false},
		{"", "0;300", earlyterm.Unknown, false},
		{"purple", "0;15", earlyterm.Light, true},
		{"purple", "", earlyterm.Unknown, true},
	} {
		got, err := earlyterm.Detect(c.theme, c.fgbg)
		if got != c.want || (err != nil) != c.bad {
			t.Errorf("MIXDESK_THEME=%q COLORFGBG=%q: %v (%v), want %v (error %v)", c.theme, c.fgbg, got, err, c.want, c.bad)
		}
	}
}

// TestThemeFlag: --theme overrides what was read at start; a name that is
// not one is one line and exit status 2, before anything starts.
func TestThemeFlag(t *testing.T) {
	was := earlyterm.Current()
	t.Cleanup(func() { earlyterm.Set(was) })
	t.Setenv("COLORFGBG", "0;15")
	var errs bytes.Buffer
	for flag, want := range map[string]earlyterm.Background{"light": earlyterm.Light, "dark": earlyterm.Dark, "auto": earlyterm.Light} {
		if !applyTheme(flag, &errs) || earlyterm.Current() != want {
			t.Errorf("--theme %s: %v, want %v (%s)", flag, earlyterm.Current(), want, errs.String())
		}
	}
	var out bytes.Buffer
	errs.Reset()
	if code := run([]string{"--theme", "sepia", "--sandbox"}, &out, &errs); code != 2 {
		t.Errorf("--theme sepia: exit %d, want 2", code)
	}
	if got := errs.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, `--theme "sepia": want light, dark or auto`) {
		t.Errorf("--theme sepia said %q", got)
	}
}
