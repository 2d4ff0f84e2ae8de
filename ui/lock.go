package ui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
)

// lockCheckEvery is how often the idle time is looked at.
const lockCheckEvery = 5 * time.Second

// lockScreen hides everything of the profile until the PIN is typed. It is
// a component drawn instead of the screen shown; it asks the root to
// unlock.
type lockScreen struct {
	ctx      *shared
	idle     time.Duration // the idle time it locked after
	pin      pinField
	wrong    int    // wrong PINs typed at this lock
	err      string // the last refusal
	checking bool
	gen      int
	since    time.Time
	unlock   keyDef
}

type (
	lockTickMsg struct{}
	unlockMsg   struct {
		gen   int
		ok    bool
		wrong bool  // the PIN was refused
		err   error // the check itself failed (network, lock)
	}
)

// lockTick schedules the next idle check.
func lockTick() tea.Cmd {
	return tea.Tick(lockCheckEvery, func(time.Time) tea.Msg { return lockTickMsg{} })
}

func newLockScreen(ctx *shared, idle time.Duration) *lockScreen {
	pin := newPINField()
	pin.Focus()
	return &lockScreen{ctx: ctx, idle: idle, pin: pin, since: time.Now(), unlock: newKey([]string{"enter"}, "enter", "unlock")}
}

// idleLock is the configured idle time; zero turns the lock off. A profile
// with no PIN to type (Safe) is never locked: see account.Lockable.
func (a *App) idleLock() time.Duration {
	switch {
	case a.deps.IdleLock < 0, a.acct != nil && !a.acct.Lockable():
		return 0
	case a.deps.IdleLock > 0:
		return a.deps.IdleLock
	case a.acct != nil:
		return a.acct.Policy.IdleLock
	}
	return 0
}

// startLockTicks begins the idle checks once a profile is open.
func (a *App) startLockTicks() tea.Cmd {
	if a.lockTicking || a.idleLock() <= 0 {
		return nil
	}
	a.lockTicking = true
	return lockTick()
}

// onLockTick locks the console when it was idle long enough. A send in
// progress is never interrupted: the lock waits for its result.
func (a *App) onLockTick() tea.Cmd {
	if a.idleLock() <= 0 {
		a.lockTicking = false
		return nil
	}
	if a.lock == nil && a.acct != nil && a.now().Sub(a.lastInput) >= a.idleLock() {
		// A running batch goes on behind the lock (its keys are behind it
		// too); a single payout being sent is waited for.
		batchOnly := a.busy(screenBatch) && !a.recovering && !(a.screen == screenResult && a.busy(screenResult))
		if a.sending() && !batchOnly {
			a.lockPending = true
		} else {
			a.engageLock()
		}
	}
	return lockTick()
}

func (a *App) engageLock() {
	a.lock = newLockScreen(&a.shared, a.idleLock())
	a.lockPending = false
	a.showHelp = false
	a.status = ""
	// Secrets typed into a form are not left behind a locked screen.
	for _, p := range a.pages {
		if s, ok := p.(secretKeeper); ok {
			s.forgetSecrets()
		}
	}
}

// afterSend locks the console if the idle time ran out during a send.
func (a *App) afterSend() {
	if a.lockPending && !a.sending() {
		a.engageLock()
	}
}

func (l *lockScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case unlockMsg:
		if msg.gen != l.gen {
			return nil
		}
		l.checking = false
		if msg.ok {
			l.ctx.ask(unlockedMsg{})
			return nil
		}
		l.pin.clear()
		if msg.wrong {
			l.wrong++
			l.err = "Wrong PIN: still locked."
		} else {
			l.err = "The PIN could not be checked: " + explain(msg.err)
		}
		return nil
	case tea.KeyMsg:
		if l.checking {
			return nil
		}
		if l.unlock.matches(msg) {
			return l.tryUnlock()
		}
		var cmd tea.Cmd
		l.pin.Model, cmd = l.pin.Update(msg)
		return cmd
	}
	return nil
}

// tryUnlock checks the typed PIN: against the kept PIN, or with the server
// (POST /pin/verify) when the profile asks for the PIN at every transfer.
func (l *lockScreen) tryUnlock() tea.Cmd {
	pin := l.pin.Value()
	if !l.pin.valid() {
		l.err = "The PIN is 6 digits."
		return nil
	}
	acct := l.ctx.acct
	l.gen = l.ctx.nextGen()
	if acct.KeepsPIN() {
		ok := acct.MatchesKeptPIN(pin)
		l.pin.clear()
		gen := l.gen
		return func() tea.Msg { return unlockMsg{gen: gen, ok: ok, wrong: !ok} }
	}
	l.checking = true
	l.pin.clear()
	gen := l.gen
	return func() tea.Msg {
		ctx, cancel := within(timeoutRead)
		defer cancel()
		// Through the desk: no PIN check goes out while a payout's post
		// may still reach the server.
		err := acct.VerifyPIN(ctx, pin)
		if account.WrongPIN(err) {
			return unlockMsg{gen: gen, wrong: true}
		}
		return unlockMsg{gen: gen, ok: err == nil, err: err}
	}
}

func (l *lockScreen) view(height int) string {
	st := l.ctx.st
	var b strings.Builder
	b.WriteString("\n" + st.Title.Render("Locked") + "\n\n")
	b.WriteString(para("The console locked itself after "+l.idle.String()+" without a key. Nothing of the profile is shown until its PIN is typed.", l.ctx.width-2, "") + "\n\n")
	b.WriteString(l.pin.row(st, true))
	switch {
	case l.checking:
		b.WriteString("\n" + st.Subtle.Render("Checking the PIN with the API…") + "\n")
	case l.err != "":
		b.WriteString("\n" + st.Error.Render(l.err) + "\n")
	}
	if l.wrong > 0 {
		b.WriteString(st.Warn.Render(plural(l.wrong, "wrong try")+" at this lock.") + "\n")
	}
	return b.String()
}

func (l *lockScreen) keys() []key.Binding     { return []key.Binding{l.unlock.Binding} }
func (l *lockScreen) fullKeys() []key.Binding { return nil }
func (l *lockScreen) typing() bool            { return true }
