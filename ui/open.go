package ui

import (
	"context"
	"errors"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
	"mixdesk/keystore"
	"mixdesk/payout"
)

// Deps is what the console is built on. Main fills it; tests fill it with a
// sandbox and an in-memory keyring.
type Deps struct {
	// Env is where profiles are opened: the keyring, the API, the data
	// directory, the policy file and the review configuration.
	Env     account.Env
	Profile string // the profile asked for with --profile; "" = the default
	Sandbox bool   // show the SANDBOX marker
	// InMemory: the profiles are held in memory for this run (the
	// sandbox's), not in the OS keyring; the screens say so.
	InMemory bool
	// IdleLock, when not zero, overrides the profile's idle-lock time
	// (negative: never lock, as on the sandbox, whose PIN nobody types).
	IdleLock time.Duration
	// SandboxPay, on the sandbox only, pays a payment link as another user
	// of the sandbox's world (through its real transaction path) and says
	// the payment in one line: the key p on a payment request shown. nil
	// elsewhere.
	SandboxPay func(ctx context.Context, link string) (string, error)
	// SandboxPeople, on the sandbox only, are the other users of its world:
	// home names them, so that a newcomer has someone to pay.
	SandboxPeople []SandboxPerson
}

// SandboxPerson is another user of the sandbox's world, as home names
// them.
type SandboxPerson struct {
	Name    string
	MixinID string
	// NotOnSafe: the user has no Safe account; a Safe payout to them is
	// refused (so that the refusal can be tried).
	NotOnSafe bool
}

// pinForgottenMsg: the profile without its refused PIN was saved (err nil)
// or could not be.
type pinForgottenMsg struct{ err error }

// keptPINRefused is called with the PIN a request carried and what became
// of it. When that PIN is the one kept in the keyring and the server
// refused it (wrong, or its form), it is never sent again: the profile asks
// for the PIN at every transfer from now on, and is saved so, so that the
// next start does not send it either. The operator is told why.
func (a *App) keptPINRefused(used string, errs ...error) tea.Cmd {
	acct := a.acct
	if acct == nil || !acct.ForgetRefusedPIN(used, errs...) {
		return nil
	}
	a.setStatus("The server refused the PIN kept for this profile. It is not used again: type the PIN at each payout, or set the profile up again (n) to keep the right one.", false)
	return func() tea.Msg {
		ctx, cancel := within(timeoutKeyring)
		defer cancel()
		return pinForgottenMsg{err: acct.SaveProfile(ctx)}
	}
}

// Messages of the start-up and setup flows.
type (
	// startMsg: the profile to open was read from the keyring (or there is none).
	startMsg struct {
		name    string
		profile keystore.Profile
		none    bool
		err     error
	}
	// openedMsg: a profile was opened (or failed to open).
	openedMsg struct {
		acct *account.Account
		err  error
	}
	// recoveredMsg: in-doubt payouts were settled at start-up.
	recoveredMsg struct {
		results []payout.Result
		err     error
		pin     string // the PIN the settlement carried ("" when none)
	}
)

// findProfileCmd reads the profile to open from the keyring.
func findProfileCmd(d Deps) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := within(timeoutRead)
		defer cancel()
		name, p, err := d.Env.Find(ctx, d.Profile)
		if errors.Is(err, account.ErrNoProfile) {
			return startMsg{none: true}
		}
		return startMsg{name: name, profile: p, err: err}
	}
}
