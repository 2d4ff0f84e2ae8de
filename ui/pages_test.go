package ui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// The pages as their types, for the tests: nil when not built.

func (a *App) setup() *setupScreen       { p, _ := a.pages[screenSetup].(*setupScreen); return p }
func (a *App) home() *homeScreen         { p, _ := a.pages[screenHome].(*homeScreen); return p }
func (a *App) transfer() *transferScreen { p, _ := a.pages[screenTransfer].(*transferScreen); return p }
func (a *App) confirm() *confirmScreen   { p, _ := a.pages[screenConfirm].(*confirmScreen); return p }
func (a *App) result() *resultScreen     { p, _ := a.pages[screenResult].(*resultScreen); return p }
func (a *App) history() *historyScreen   { p, _ := a.pages[screenHistory].(*historyScreen); return p }
func (a *App) request() *requestScreen   { p, _ := a.pages[screenRequest].(*requestScreen); return p }
func (a *App) book() *bookScreen         { p, _ := a.pages[screenBook].(*bookScreen); return p }
func (a *App) batch() *batchScreen       { p, _ := a.pages[screenBatch].(*batchScreen); return p }

// TestPagesByScreen: every screen the balances open is built at its own
// index and is the one shown; esc goes back to the balances' page, which
// stays the same one.
func TestPagesByScreen(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a, p := startHome(t, r, termW, termH)
	home := a.home()
	if a.current() != component(home) {
		t.Fatalf("the balances are not the page shown")
	}
	for _, c := range []struct {
		key   string
		to    screen
		built func() bool
	}{
		{"t", screenTransfer, func() bool { return a.transfer() != nil }},
		{"f", screenBatch, func() bool { return a.batch() != nil }},
		{"h", screenHistory, func() bool { return a.history() != nil }},
		{"p", screenRequest, func() bool { return a.request() != nil }},
		{"b", screenBook, func() bool { return a.book() != nil }},
		{"n", screenSetup, func() bool { return a.setup() != nil }},
	} {
		p.typ(c.key)
		if a.screen != c.to || !c.built() || a.current() != a.pages[c.to] {
			t.Fatalf("%s: screen %d shown, its page built %v", c.key, a.screen, c.built())
		}
		p.press(tea.KeyEsc)
		if a.screen != screenHome || a.home() != home {
			t.Fatalf("%s: esc did not go back to the same balances (screen %d)", c.key, a.screen)
		}
	}
	if a.pages[screenLoading] != nil {
		t.Error("the loading screen has a page")
	}
}
