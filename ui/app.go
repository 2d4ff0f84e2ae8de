// Package ui is the console: Bubble Tea screens that ask payout, payreq and
// keystore for everything. Every call that can wait runs in a tea.Cmd;
// Update never blocks.
package ui

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"mixdesk/journal"
)

// Minimum terminal size; below it a notice replaces the screens.
const (
	minWidth  = 72
	minHeight = 22
)

type screen int

const (
	screenLoading screen = iota
	screenSetup
	screenHome
	screenTransfer
	screenConfirm
	screenResult
	screenHistory
	screenRequest
	screenBook
	screenBatch
	screenCount // the number of screens, not one of them
)

// App is the root model.
type App struct {
	shared // what the screens share: styles, size, profile, balances, status
	deps   Deps
	help   help.Model

	screen   screen
	showHelp bool
	helpTop  int    // the first line of the help shown, when it scrolls
	loading  string // what the loading screen is waiting for
	fatal    string // a start-up failure that leaves nothing to do but quit

	// pages are the screens built, by screen: nil for one not built yet
	// (and always for the loading screen, which the root draws itself).
	pages [screenCount]component

	lock        *lockScreen // the console is locked (idle time ran out)
	lockPending bool        // the idle time ran out during a send
	lockTicking bool        // idle checks are scheduled
	lastInput   time.Time   // the last key

	quitArmed bool // ctrl+c pressed once during a send
	quitting  bool

	where place // where the operator was after the last message
}

// New builds the console.
func New(d Deps) *App {
	h := help.New()
	h.ShortSeparator = "  "
	a := &App{shared: newShared(), deps: d, help: h, screen: screenLoading, loading: "Opening the profile…"}
	a.help.Styles = a.st.Help
	a.sandbox, a.inMemory, a.people = d.Sandbox, d.InMemory, d.SandboxPeople
	a.bodyHeight = a.layoutBodyHeight
	a.lockAfter = a.idleLock
	a.lastInput = a.now()
	return a
}

// Init reads the profile to open.
func (a *App) Init() tea.Cmd {
	return findProfileCmd(a.deps)
}

// Close releases the open profile's journal. Call it after the program ends.
func (a *App) Close() {
	for _, p := range a.pages {
		if s, ok := p.(stopper); ok {
			s.shutdown(5 * time.Second)
		}
	}
	if l, ok := a.current().(leaver); ok {
		l.left()
	}
	if a.acct != nil {
		_ = a.acct.Close()
	}
}

// sending reports whether a transfer is on its way.
func (a *App) sending() bool {
	return a.recovering || a.screen == screenResult && a.busy(screenResult) || a.busy(screenBatch)
}

// busy reports whether the page of s has a payout on its way.
func (a *App) busy(s screen) bool {
	p, ok := a.pages[s].(sender)
	return ok && p.busy()
}

// deliver hands msg to the page of s, shown or not (nothing when it is not
// built), and does what it asks.
func (a *App) deliver(s screen, msg tea.Msg) tea.Cmd {
	p := a.pages[s]
	if p == nil {
		return nil
	}
	return tea.Batch(p.update(msg), a.takeAsks())
}

// Update routes messages (see route); then the status line is kept only
// where it belongs.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	a.moment++
	cmd := a.route(msg)
	a.scopeStatus()
	return a, cmd
}

// route routes a message: size first, then results of commands, then keys
// (global ones last, so that typing into a field is never taken as a
// shortcut).
func (a *App) route(msg tea.Msg) tea.Cmd {
	if cmd, ok := a.addressed(msg); ok {
		return cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		// The help line is never cut with "…": the footer wraps it instead.
		a.help.Width = 0
		return nil
	case startMsg:
		return a.onStart(msg)
	case openedMsg:
		return a.onOpened(msg)
	case recoveredMsg:
		cmd := a.onRecovered(msg)
		a.afterSend()
		return cmd
	case pinForgottenMsg:
		if msg.err != nil {
			a.setStatus("The server refused the PIN kept for this profile, and removing it from the keyring failed ("+explain(msg.err)+"): it is not used in this session; set the profile up again (n) to replace it.", false)
		}
		return nil
	case lockTickMsg:
		return a.onLockTick()
	case copiedMsg:
		a.setStatus(msg.note, msg.ok)
		return nil
	case tea.KeyMsg:
		a.lastInput = a.now()
		if key.Matches(msg, a.keys.Quit) {
			return a.onQuitKey()
		}
		if a.lock != nil {
			return tea.Batch(a.lock.update(msg), a.takeAsks())
		}
		a.quitArmed = false
		if a.showHelp {
			a.onHelpKey(msg)
			return nil
		}
		if a.opensHelp(msg) {
			a.showHelp, a.helpTop = true, 0
			return nil
		}
		if cmd, ok := a.onLinkKey(msg); ok {
			return cmd
		}
	case linkShownMsg:
		a.lastInput = a.now()
		if msg.err != nil {
			a.setStatus("The link could not be shown alone: "+explain(msg.err), false)
		}
		return nil
	}
	cmd := a.updateScreen(msg)
	a.afterSend()
	return cmd
}

// addressed delivers an answer to the screen that asked for it, wherever
// the operator is (ok is false for any other message): the lock's PIN
// check, a running batch's reports, the address book's writes, and the
// balances, which are read behind other screens too (after a payout).
func (a *App) addressed(msg tea.Msg) (cmd tea.Cmd, ok bool) {
	switch msg.(type) {
	case unlockMsg:
		if a.lock != nil {
			return tea.Batch(a.lock.update(msg), a.takeAsks()), true
		}
		return nil, true
	case batchProgressMsg, batchDoneMsg:
		cmd = a.deliver(screenBatch, msg)
		if a.pages[screenBatch] != nil {
			a.afterSend()
		}
		return cmd, true
	case bookSavedMsg, bookRemovedMsg:
		return a.deliver(screenBook, msg), true
	case assetsMsg:
		return a.deliver(screenHome, msg), true
	}
	return nil, false
}

// current is the screen shown, or nil on the loading screen (or for a
// screen not built yet).
func (a *App) current() component { return a.pages[a.screen] }

// setScreen shows the screen to; the screen left ends its asynchronous
// work (its lifetime).
func (a *App) setScreen(to screen) {
	if to != a.screen {
		if l, ok := a.current().(leaver); ok {
			l.left()
		}
	}
	a.screen = to
}

// typing reports whether the focused element takes free text, so that "?"
// and letters go to it.
func (a *App) typing() bool {
	m := a.current()
	return m != nil && m.typing()
}

func (a *App) updateScreen(msg tea.Msg) tea.Cmd {
	if m := a.current(); m != nil {
		cmd := m.update(msg)
		return tea.Batch(cmd, a.takeAsks())
	}
	if k, ok := msg.(tea.KeyMsg); ok && a.screen == screenLoading && key.Matches(k, a.keys.Q, a.keys.Back) && a.fatal != "" {
		a.quitting = true
		return tea.Quit
	}
	return nil
}

func (a *App) onQuitKey() tea.Cmd {
	if a.sending() && !a.quitArmed {
		a.quitArmed = true
		a.setStatus("A transfer is being sent or settled. If you quit now it stays in doubt and is settled by its trace at the next start. Press ctrl+c again to quit.", false)
		return nil
	}
	a.quitting = true
	return tea.Quit
}

func (a *App) onStart(msg startMsg) tea.Cmd {
	switch {
	case msg.err != nil:
		if msg.name != "" {
			a.goSetup(msg.name, explain(msg.err), false)
			return nil
		}
		a.fatal = explain(msg.err)
		return nil
	case msg.none:
		a.goSetup("", "", false)
		return nil
	}
	a.loading = "Connecting profile " + msg.name + "…"
	d, name, p := a.deps, msg.name, msg.profile
	return func() tea.Msg {
		ctx, cancel := within(timeoutOpen)
		defer cancel()
		acct, err := d.Env.Open(ctx, name, p, nil)
		return openedMsg{acct: acct, err: err}
	}
}

func (a *App) onOpened(msg openedMsg) tea.Cmd {
	if msg.err != nil {
		a.fatal = "Cannot open the profile: " + explain(msg.err)
		a.setScreen(screenLoading)
		return nil
	}
	// The account it replaces is closed, unless the new one kept its
	// journal (the same profile set up again).
	if a.acct != nil && a.acct.Journal() != msg.acct.Journal() {
		_ = a.acct.Close()
	}
	a.acct = msg.acct
	a.pages[screenHome] = newHomeScreen(&a.shared)
	a.balances = nil // the balances of the profile opened are read anew
	a.setScreen(screenHome)
	if rep := msg.acct.Report; rep != nil && !rep.Intact() {
		a.setStatus("JOURNAL PROBLEM: "+explain(rep.Err()), false)
	} else if n := len(msg.acct.Journal().InDoubt()); n > 0 {
		a.setStatus("Settling "+plural(n, "in-doubt payout")+" by trace…", true)
	}
	a.lastInput = a.now()
	return tea.Batch(a.deliver(screenHome, refreshMsg{}), a.recoverCmd(), a.startLockTicks())
}

// recoverCmd settles the profile's in-doubt payouts by trace.
func (a *App) recoverCmd() tea.Cmd {
	acct := a.acct
	if acct == nil || len(acct.Journal().InDoubt()) == 0 {
		return nil
	}
	if a.recovering {
		return nil
	}
	a.recovering = true
	desk, pin := acct.Desk, acct.PIN()
	return func() tea.Msg {
		ctx, cancel := within(timeoutSend)
		defer cancel()
		res, err := desk.Recover(ctx, pin)
		return recoveredMsg{results: res, err: err, pin: pin}
	}
}

func (a *App) onRecovered(msg recoveredMsg) tea.Cmd {
	a.recovering = false
	var done, failed, doubt int
	var pending time.Time
	errs := []error{msg.err}
	for _, r := range msg.results {
		errs = append(errs, r.Err)
		switch r.State {
		case journal.StateDone:
			done++
		case journal.StateFailed:
			failed++
		default:
			doubt++
			if until, ok := pendingUntil(r); ok && until.After(pending) {
				pending = until
			}
		}
	}
	// The payouts in doubt are counted again; settling may have moved money
	// (a payout found paid, or posted again): the balances are read again.
	refresh := a.deliver(screenHome, journalMovedMsg{moneyMoved: done > 0})
	forget := a.keptPINRefused(msg.pin, errs...)
	if forget != nil {
		return tea.Batch(refresh, forget) // its status line says what happened
	}
	if msg.err != nil {
		a.setStatus("Settling in-doubt payouts failed: "+explain(msg.err), false)
		return refresh
	}
	line := "In-doubt payouts settled: " + itoa(done) + " paid, " + itoa(failed) + " refused, " + itoa(doubt) + " still in doubt"
	switch {
	case !pending.IsZero():
		line += " (a post may still reach the server until " + pending.Local().Format("15:04:05") + "; they are looked up again then, s to settle)"
	case doubt > 0:
		line += " (they are settled again before the next send)"
	}
	a.setStatus(line+".", doubt == 0)
	return refresh
}

// goSetup shows a new setup form for the profile name ("" for a new one),
// with the problem that brought the operator there; canCancel: it was
// opened from the balances, which esc goes back to.
func (a *App) goSetup(name, problem string, canCancel bool) {
	s := newSetupScreen(&a.shared, a.deps.Env, name)
	if problem != "" {
		s.formErr = problem
	}
	s.canCancel = canCancel
	a.pages[screenSetup] = s
	a.setScreen(screenSetup)
	if a.inMemory {
		a.setStatus("Sandbox: a profile set up here is kept in memory until mixdesk quits; nothing is saved to the OS keyring.", true)
	}
}

// View draws the screen. It only reads the model.
func (a *App) View() string {
	if a.quitting {
		return ""
	}
	if a.width == 0 {
		return "mixdesk: starting…"
	}
	if a.width < minWidth || a.height < minHeight {
		return lipgloss.Place(a.width, a.height, lipgloss.Center, lipgloss.Center,
			"Terminal too small: mixdesk needs at least 72×22.\n(This one is "+itoa(a.width)+"×"+itoa(a.height)+".)")
	}
	header, footer, bodyH := a.layout()
	var body string
	if a.lock != nil {
		body = a.lock.view(bodyH)
	} else if a.showHelp {
		body = a.helpView(bodyH) // wrapped, and as high as the body at most
	} else {
		body = a.body(bodyH)
	}
	// Lines too long for the terminal are wrapped where the height allows:
	// Bubble Tea cuts them at the right edge, and the operator would never
	// see their end. Wrapping never pushes the bottom (the buttons) out.
	if wrapped := fitWidth(body, a.width-2); lipgloss.Height(wrapped) <= bodyH {
		body = wrapped
	}
	body = lipgloss.NewStyle().Height(bodyH).MaxHeight(bodyH).Render(body)
	// A last pass: nothing but the console's own styles and line breaks
	// reaches the terminal, whatever a screen let through.
	return safeView(a.st.App.Render(lipgloss.JoinVertical(lipgloss.Left, header, body, footer)))
}

// layout draws the header and footer and says how many rows the body gets.
func (a *App) layout() (header, footer string, bodyH int) {
	header, footer = a.header(), a.footer()
	return header, footer, max(1, a.height-lipgloss.Height(header)-lipgloss.Height(footer))
}

// layoutBodyHeight is the height the screens get between header and footer.
func (a *App) layoutBodyHeight() int {
	_, _, h := a.layout()
	return h
}

func (a *App) header() string {
	left := a.st.Title.Render("mixdesk")
	if a.acct != nil && a.lock == nil {
		left += a.st.Subtle.Render(" · " + a.acct.Name + " · " + truncate(nameText(a.acct.Me.FullName), 32))
	}
	right := ""
	if a.deps.Sandbox {
		right = a.st.Sandbox.Render(" SANDBOX: no real funds ")
	}
	gap := a.width - 2 - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		gap = 1
	}
	return left + strings.Repeat(" ", gap) + right + "\n"
}

func (a *App) footer() string { return a.footerWith(a.shortHelp()) }

// footerWith is the footer with the hint line of ks.
func (a *App) footerWith(ks []key.Binding) string {
	lines := a.standing()
	if a.status != "" {
		st := a.st.Error
		if a.statusOK {
			st = a.st.Good
		}
		lines = append(lines, st.Render(fitWidth(a.status, a.width-2)))
	}
	// The hint line wraps between two keys, never inside one.
	lines = append(lines, a.hintView(ks, a.width-2))
	return "\n" + strings.Join(lines, "\n")
}

// shortHelp is the footer's hint line: the help's keys while it is shown,
// else the screen's.
func (a *App) shortHelp() []key.Binding {
	if a.showHelp && a.lock == nil {
		return a.helpModeKeys()
	}
	return a.screenHints()
}

// screenHints is the hint line of the screen shown: its keys, then the help
// key that works where the focus is and the quit key.
func (a *App) screenHints() []key.Binding {
	if a.lock != nil {
		return append(a.lock.keys(), a.keys.Quit)
	}
	var ks []key.Binding
	if m := a.current(); m != nil {
		ks = m.keys()
	}
	return append(ks, a.helpKey(), a.quitKey())
}

func (a *App) fullHelp() string {
	var b strings.Builder
	// A key's words wrap under themselves, not under the keys.
	descW := max(a.width-2-16, 20)
	row := func(k, desc string) {
		desc = strings.ReplaceAll(fitWidth(desc, descW), "\n", "\n"+strings.Repeat(" ", 16))
		b.WriteString("  " + a.st.Focused.Render(padRight(k, 14)) + desc + "\n")
	}
	b.WriteString(a.st.Title.Render("Keys on this screen") + "\n\n")
	rows := 0
	ks := a.helpKeys()
	if a.shownLink() != "" {
		ks = append(ks[:len(ks):len(ks)], linkAloneKey.full()) // the root's key for the page
	}
	for _, k := range ks {
		if k.Enabled() && !a.global(k) {
			row(k.Help().Key, k.Help().Desc)
			rows++
		}
	}
	if rows == 0 {
		b.WriteString("  " + a.st.Subtle.Render("none but those below") + "\n")
	}
	b.WriteString("\n" + a.st.Title.Render("Everywhere") + "\n\n")
	row("esc", "go back (a form keeps what was typed)")
	row("q", "in a list or a page with no text field: as esc; on the balances: quit")
	row("?", "this help, where no text field has the focus (in a field ? is text)")
	row("ctrl+g or F1", "this help, also from a text field")
	row("ctrl+c", "quit; during a send it first says what happens to the transfer")
	b.WriteString("\n" + a.st.Subtle.Render("Every payout is written to the journal before it is posted, under a trace id made once; an unknown outcome is settled by that trace, never paid again under a new one."))
	return b.String()
}

func (a *App) body(h int) string {
	if m := a.current(); m != nil {
		return m.view(h)
	}
	if a.fatal != "" {
		return "\n" + a.st.Error.Render(a.fatal) + "\n\n" + a.st.Subtle.Render("Press q to quit.")
	}
	return "\n" + a.loading
}

func padRight(s string, n int) string {
	if w := lipgloss.Width(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s + " "
}

// plural counts a noun: "1 payout", "2 payouts", "3 tries".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	switch {
	case strings.HasSuffix(noun, "y") && !strings.HasSuffix(noun, "ay") && !strings.HasSuffix(noun, "ey"):
		noun = noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "s"):
	default:
		noun += "s"
	}
	return itoa(n) + " " + noun
}

func itoa(n int) string { return strconv.Itoa(n) }
