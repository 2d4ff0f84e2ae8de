package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/google/uuid"

	"mixdesk/mixin"
	"mixdesk/payout"
)

// The console's key conventions, screen by screen: enter on the
// confirmation, the help key where the focus is, q in lists, one selection
// marker, the address book form's enter, and the footer and help laid out
// on the smallest terminal.

// hintLine is the footer's hint line as drawn (the last lines of a view,
// after the status line), flattened to one line.
func hintLine(a *App) string {
	return flat(a.hintView(a.shortHelp(), a.width-2))
}

// send presses keys on the App as the terminal sends them (names as
// keyPress takes them, "type:" for text).
func send(a *App, keys ...string) {
	for _, k := range keys {
		if text, ok := strings.CutPrefix(k, "type:"); ok {
			for _, r := range text {
				if r == ' ' {
					a.Update(keyPress("space"))
					continue
				}
				a.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
			}
			continue
		}
		a.Update(keyPress(k))
	}
}

// TestConfirmEnterGoesOnToConfirm: enter in the amount field, once the
// amount matches (spaces around it do not count), goes on to Confirm, or
// to the PIN first when one is asked; never to Cancel. Confirm still takes
// an enter of its own, which sends.
func TestConfirmEnterGoesOnToConfirm(t *testing.T) {
	for _, askPIN := range []bool{false, true} {
		ctx, c, rv := confirmComponent(askPIN)
		press(c, "tab", "tab", "enter", "enter") // Confirm, then both warnings acknowledged
		if !c.on(cfAmount) {
			t.Fatalf("PIN %v: focus %+v after the warnings", askPIN, c.focus)
		}
		want := "on to Confirm"
		if askPIN {
			want = "next field"
		}
		if help := strings.Join(helpKeyNames(c.keys()), " "); !strings.Contains(help, "enter") || c.km.Enter.Help().Desc != want {
			t.Errorf("PIN %v: in the amount field the help line is %v, enter %q; want enter %q", askPIN, help, c.km.Enter.Help().Desc, want)
		}
		press(c, "space", "type:1,250.5", "space", "space", "enter")
		if askPIN {
			if !c.on(cfPIN) {
				t.Fatalf("enter after the amount: focus %+v, want the PIN", c.focus)
			}
			press(c, "type:123456", "enter")
		}
		if !c.on(cfConfirm) || !c.canConfirm() {
			t.Fatalf("PIN %v: enter from the last field: focus %+v (Confirm enabled %v), want Confirm", askPIN, c.focus, c.canConfirm())
		}
		if asks := ctx.takeAsks(); len(asks) != 0 {
			t.Fatalf("PIN %v: enter in a field asked %v of the root", askPIN, asks)
		}
		press(c, "enter")
		if send, ok := onlyAsk(ctx.takeAsks()).(sendPayoutMsg); !ok || send.review != rv {
			t.Fatalf("PIN %v: enter on Confirm did not send", askPIN)
		}
	}
}

// TestConfirmEnterGolden: on the smallest terminal, the amount typed with
// a space after it and enter: the focus is on Confirm, enabled.
func TestConfirmEnterGolden(t *testing.T) {
	rv := reviewOf("250", alice)
	rv.Warnings = []payout.Warning{{Kind: payout.WarnFirstTime, Text: "First payout to Alice Ng: check the recipient."}}
	a := confirmApp(rv, minWidth, minHeight)
	send(a, "tab", "tab", "enter", "type:250 ", "enter")
	v := a.View()
	requireGolden(t, v, minWidth)
	mustContain(t, v, "(250): 250", "✓", "> Confirm and send <")
	mustNotContain(t, v, "does not match", "> Cancel <")
	if lipgloss.Height(v) > minHeight {
		t.Errorf("the view is %d lines", lipgloss.Height(v))
	}
}

// TestConfirmSaysWhyNot: enter on a Confirm not ready yet, or in a field
// whose text is not right, says what is missing on the status line, moves
// nothing and sends nothing; the next key takes the line away.
func TestConfirmSaysWhyNot(t *testing.T) {
	rv := reviewOf("250", alice)
	rv.Warnings = []payout.Warning{
		{Kind: payout.WarnFirstTime, Text: "First payout to Alice Ng: check the recipient."},
		{Kind: payout.WarnLarge, Text: "Large payout: 250 USDT."},
	}
	a := confirmApp(rv, minWidth, minHeight)
	c := a.confirm()
	send(a, "tab", "enter") // Cancel → Confirm, disabled
	if !c.on(cfConfirm) || a.screen != screenConfirm {
		t.Fatalf("focus %+v, screen %d", c.focus, a.screen)
	}
	const why = "Not yet: 2 warnings to acknowledge, the amount to type."
	if a.status != why {
		t.Fatalf("status %q, want %q", a.status, why)
	}
	v := a.View()
	checkGolden(t, "disabled", v, minWidth)
	mustContain(t, v, why, "> (Confirm and send) <")

	send(a, "tab") // the first warning: the line is gone
	if a.status != "" {
		t.Fatalf("the status line stays: %q", a.status)
	}
	send(a, "enter", "enter", "type:25", "enter")
	if !c.on(cfAmount) || a.status != "The amount: does not match the amount shown (250)." {
		t.Fatalf("enter on a wrong amount: focus %+v, status %q", c.focus, a.status)
	}
	send(a, "type:0", "shift+tab", "shift+tab", "space", "tab", "tab", "tab", "tab", "enter")
	if !c.on(cfConfirm) || a.status != "Not yet: 1 warning to acknowledge." {
		t.Fatalf("focus %+v, status %q", c.focus, a.status)
	}
	// Another status line set since is not taken away.
	a.setStatus("Settled.", true)
	send(a, "left")
	if a.status != "Settled." {
		t.Fatalf("status %q", a.status)
	}

	// The PIN: enter with fewer than 6 digits stays and says so.
	ctx, pc, _ := confirmComponent(true)
	press(pc, "tab", "tab", "enter", "enter", "enter")
	if !pc.on(cfAmount) || !strings.HasPrefix(ctx.status, "The amount: type the amount shown (1,250.5)") {
		t.Fatalf("enter in an empty amount field: focus %+v, status %q", pc.focus, ctx.status)
	}
	press(pc, "type:1250.5", "enter", "type:123", "enter")
	if !pc.on(cfPIN) || ctx.status != "The PIN is 6 digits." {
		t.Fatalf("enter on a short PIN: focus %+v, status %q", pc.focus, ctx.status)
	}
	press(pc, "tab", "tab", "enter")
	if ctx.status != "Not yet: the PIN to type." || len(ctx.takeAsks()) != 0 {
		t.Fatalf("status %q", ctx.status)
	}
}

// TestHelpKeyWhereTheFocusIs: the help line names the help key that works
// where the focus is: ? where no text field has it, ctrl+g in a field
// (where ? is text); ctrl+g and F1 open the help from a field.
func TestHelpKeyWhereTheFocusIs(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a, p := startHome(t, r, termW, termH)
	if h := hintLine(a); !strings.Contains(h, "? help") || strings.Contains(h, "ctrl+g") {
		t.Errorf("home: %q", h)
	}
	p.typ("t")
	p.until("the transfer form", func(a *App) bool { return a.screen == screenTransfer })
	if h := hintLine(a); !strings.Contains(h, "ctrl+g help") || strings.Contains(h, "? help") {
		t.Errorf("the transfer form's asset field: %q", h)
	}
	p.typ("?")
	if a.showHelp || a.transfer().field(tfAsset).Value() != "?" {
		t.Fatal("? in a field is not text")
	}
	for _, k := range []tea.KeyType{tea.KeyCtrlG, tea.KeyF1} {
		p.press(k)
		if !a.showHelp {
			t.Fatalf("%s does not open the help from a field", tea.KeyMsg{Type: k})
		}
		mustContain(t, a.View(), "Keys on this screen", "ctrl+g or F1")
		p.press(k)
		if a.showHelp {
			t.Fatalf("%s does not close the help", tea.KeyMsg{Type: k})
		}
	}
	if a.transfer().field(tfAsset).Value() != "?" {
		t.Fatal("the help keys typed into the field")
	}
	// On Review, no field: ? again.
	a.transfer().setFocus(tfSend)
	if h := hintLine(a); !strings.Contains(h, "? help") {
		t.Errorf("on Review: %q", h)
	}
}

// TestHelpFitsOrScrolls: on the smallest terminal the help of the longest
// key map scrolls: it never runs past the edges, says where it is, and
// every line of it can be brought on the screen; where it fits, it has no
// scrolling.
func TestHelpFitsOrScrolls(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a, p := startHome(t, r, minWidth, minHeight)
	p.typ("h")
	p.until("the history", func(a *App) bool { return a.screen == screenHistory && !a.history().loading })
	p.typ("?")
	v := a.View()
	checkGolden(t, "top", v, minWidth)
	if lipgloss.Height(v) > minHeight {
		t.Fatalf("the help is %d lines", lipgloss.Height(v))
	}
	mustContain(t, v, "Keys on this screen", "↓/pgdn for more", "↑/↓ scroll", "esc/q close the help")
	seen := flat(v)
	for range 40 {
		p.press(tea.KeyDown)
		seen += " " + flat(a.View())
	}
	for _, k := range a.helpKeys() {
		if k.Enabled() && !strings.Contains(seen, k.Help().Desc) {
			t.Errorf("scrolling down never shows %q", k.Help().Desc)
		}
	}
	mustContain(t, seen, "home/end g/G", "pgup/pgdn", "never paid again under a new one.")
	p.press(tea.KeyHome)
	if a.helpTop != 0 {
		t.Fatalf("home: top %d", a.helpTop)
	}
	p.press(tea.KeyEnd)
	v = a.View()
	checkGolden(t, "end", v, minWidth)
	mustContain(t, flat(v), "↑/pgup for the start", "never paid again")
	p.typ("q")
	if a.showHelp || a.screen != screenHistory {
		t.Fatal("q did not close the help (and only the help)")
	}

	// A tall terminal: all of it, no scrolling.
	p.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	p.typ("?")
	v = a.View()
	mustContain(t, v, "Keys on this screen", "esc/q close the help")
	mustNotContain(t, v, "lines ·", "↑/↓ scroll")
}

// TestHintLineWrapsBetweenKeys: the hint line breaks between two keys,
// never inside one ("s settle" / "in-doubt payouts"), at every width.
func TestHintLineWrapsBetweenKeys(t *testing.T) {
	a := New(Deps{})
	h := newHomeScreen(&a.shared)
	h.doubt = 2
	hs := &historyScreen{km: newHistoryKeys()}
	for _, ks := range [][]key.Binding{h.keys(), hs.keys(), newConfirmKeysHints()} {
		ks = append(ks, a.keys.Help, a.keys.QuitQ)
		var items []string
		for _, k := range ks {
			if k.Enabled() && k.Help().Key != "" {
				items = append(items, k.Help().Key+" "+k.Help().Desc)
			}
		}
		for w := 20; w <= 120; w++ {
			lines := strings.Split(a.hintView(ks, w), "\n")
			var got []string
			for _, l := range lines {
				if lipgloss.Width(l) > w && !strings.Contains(l, "  ") {
					continue // one key wider than the line: wrapped by words
				}
				if lipgloss.Width(l) > w {
					t.Fatalf("width %d: %q is wider", w, l)
				}
				got = append(got, strings.Split(l, "  ")...)
			}
			if w >= 30 && strings.Join(got, "|") != strings.Join(items, "|") {
				t.Fatalf("width %d: a key was cut:\n%s", w, strings.Join(lines, "\n"))
			}
		}
	}
}

// newConfirmKeysHints is the confirmation's help line on Cancel.
func newConfirmKeysHints() []key.Binding {
	_, c, _ := confirmComponent(false)
	return c.keys()
}

// TestHomeFooterGolden: the balances with payouts in doubt on the smallest
// terminal: the hint line wraps between keys, and names q with ctrl+c.
func TestHomeFooterGolden(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a, _ := startHome(t, r, minWidth, minHeight)
	a.home().doubt = 2
	v := a.View()
	requireGolden(t, v, minWidth)
	mustContain(t, v, "s settle in-doubt payouts", "q/ctrl+c quit")
}

// TestQIsBackInLists: in every list and page with no text field (the
// address book, the history and an entry of it, the payment requests), q
// does what esc does and the help line says so (esc/q); where a field
// takes text, q is text. One marker, ▸, shows the row selected.
func TestQIsBackInLists(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	if _, err := r.srv.Transfer(r.rcpt.UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.op, Amount: "7", TraceID: uuid.NewString(), Memo: "refund"}); err != nil {
		t.Fatal(err)
	}
	a, p := startHome(t, r, termW, termH)
	if h := hintLine(a); !strings.Contains(h, "q/ctrl+c quit") {
		t.Errorf("home: %q", h)
	}
	back := func(where string, to screen) {
		t.Helper()
		if a.typing() {
			t.Fatalf("%s: a field has the focus", where)
		}
		if h := hintLine(a); !strings.Contains(h, "esc/q ") {
			t.Errorf("%s: the help line does not name q: %q", where, h)
		}
		p.typ("q")
		if a.screen != to || a.quitting {
			t.Fatalf("%s: q did not go back", where)
		}
	}
	marked := func(where string) {
		t.Helper()
		v := a.View()
		if !strings.Contains(v, "\n "+listMark) || strings.Contains(v, "› ") {
			t.Errorf("%s: the row selected is not marked %q:\n%s", where, listMark, v)
		}
	}

	// The address book: q in the filter is text.
	p.typ("b")
	p.typ("/q")
	if !a.book().filter.Focused() || a.book().filter.Value() != "q" || a.screen != screenBook {
		t.Fatal("q in the book's filter is not text")
	}
	p.press(tea.KeyBackspace, tea.KeyEsc)
	back("the address book", screenHome)

	p.typ("h")
	p.until("the history", func(a *App) bool { return a.screen == screenHistory && len(a.history().idx) > 0 })
	marked("the history")
	p.press(tea.KeyEnter)
	back("an entry of the history", screenHistory)
	if a.history().detail {
		t.Fatal("q did not close the entry")
	}
	back("the history", screenHome)

	p.typ("p")
	p.until("the requests", func(a *App) bool { return a.request() != nil && a.request().book != nil })
	back("the payment requests", screenHome)
	d := newRequestDetail(&a.shared, nil)
	if !key.Matches(keyPress("q"), d.km.Back.Binding) || d.km.Back.Help().Key != "esc/q" {
		t.Error("q does not go back from a payment request shown")
	}
}

// TestListsMarkTheSelectionAlike: the payment requests mark the row
// selected as every other list does.
func TestListsMarkTheSelectionAlike(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a, p := startHome(t, r, termW, termH)
	p.typ("b")
	u := railUser(r.rcpt)
	a.book().startEdit(nil, &u)
	p.press(tea.KeyTab, tea.KeyTab, tea.KeyTab, tea.KeyEnter)
	p.until("the entry saved", func(a *App) bool { return !a.book().editing })
	for _, v := range []string{a.View()} {
		if l := lineWith(v, r.rcpt.IdentityNumber); !strings.HasPrefix(strings.TrimSpace(l), strings.TrimSpace(listMark)) {
			t.Errorf("the book's row selected: %q", l)
		}
	}
	p.press(tea.KeyEsc)
	p.typ("p")
	p.until("the requests", func(a *App) bool { return a.request() != nil && a.request().book != nil })
	p.typ("n")
	p.typ("usdt")
	p.press(tea.KeyEnter)
	p.typ("5")
	p.press(tea.KeyEnter, tea.KeyEnter, tea.KeyEnter)
	p.until("the request made", func(a *App) bool { return a.request().mode == reqShow })
	p.press(tea.KeyEsc)
	v := a.View()
	if l := lineWith(v, "○ open"); !strings.HasPrefix(strings.TrimSpace(l), strings.TrimSpace(listMark)) {
		t.Errorf("the request selected: %q", l)
	}
}

// TestBookFormEnterGoesOn: the address book's form does as the other
// forms: enter goes to the next field (the help line says so), and saves
// on Save; the help line names enter save only there, when ready.
func TestBookFormEnterGoesOn(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a, p := startHome(t, r, minWidth, minHeight)
	p.typ("b")
	p.typ("n")
	if h := hintLine(a); !strings.Contains(h, "tab/enter next field") || strings.Contains(h, "enter save") {
		t.Fatalf("on the label: %q", h)
	}
	p.typ("amara")
	p.press(tea.KeyEnter)
	if a.book().focus != bfRecipient || a.book().editing != true {
		t.Fatalf("enter on the label: focus %d", a.book().focus)
	}
	p.typ(r.rcpt.IdentityNumber)
	p.until("the recipient", func(a *App) bool { return a.book().rcpt.ready() })
	p.press(tea.KeyEnter)
	p.typ("payroll")
	p.press(tea.KeyEnter)
	if a.book().focus != bfSave {
		t.Fatalf("enter on the note: focus %d", a.book().focus)
	}
	v := a.View()
	requireGolden(t, v, minWidth)
	mustContain(t, v, "enter save", "> Save <")
	p.press(tea.KeyEnter)
	p.until("the entry saved", func(a *App) bool { return !a.book().editing })
	mustContain(t, a.View(), "Saved amara")
}
