package ui

import (
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
	"mixdesk/payout"
	"mixdesk/payout/rail"
)

// shared is what every screen shares, the one context a component gets
// instead of the root: the styles, the terminal's size, the global keys,
// the open profile, its balances, the status line, the numbering of
// asynchronous requests and the clock. A screen asks the root for what is
// not its own (another screen, a payout sent) with ask; the root takes
// those requests as soon as the screen's update returns, before any other
// message, so that the next key already finds the screen asked for.
type shared struct {
	st            Styles
	keys          globalKeys
	width, height int

	// sandbox: the console runs on the embedded sandbox; inMemory: its
	// profiles are held in memory, not in the OS keyring (see Deps).
	sandbox, inMemory bool
	// people are the sandbox world's other users (Deps.SandboxPeople).
	people []SandboxPerson

	acct     *account.Account // the open profile, or nil
	balances []rail.Asset     // the profile's assets as last read, largest value first
	// recovering: in-doubt payouts are being settled (and may be re-posted).
	recovering bool
	// bodyHeight is the height a screen gets between the header and the
	// footer, as the root lays them out now.
	bodyHeight func() int
	// lockAfter is the idle time after which the console locks; zero: never.
	lockAfter func() time.Duration

	// status is one line at the bottom: the latest notice or error. It
	// belongs to where the operator was when it was set (see scopeStatus):
	// statusAt is the moment it was set.
	status   string
	statusOK bool
	statusAt int
	// moment numbers the messages the root handles, one by one.
	moment int

	// gen numbers every asynchronous request of every screen, so that a
	// late answer meant for a screen that was left never matches the next
	// one.
	gen int
	now func() time.Time

	asks []tea.Msg // what screens asked of the root, not taken yet
}

func newShared() shared {
	return shared{st: DefaultStyles(), keys: defaultGlobalKeys(), now: time.Now}
}

// nextGen gives the number of a new asynchronous request.
func (c *shared) nextGen() int {
	c.gen++
	return c.gen
}

func (c *shared) setStatus(s string, ok bool) {
	c.status, c.statusOK, c.statusAt = s, ok, c.moment
}

// ask hands a request to the root (showMsg, sendPayoutMsg…).
func (c *shared) ask(msg tea.Msg) { c.asks = append(c.asks, msg) }

// takeAsks returns the requests made since the last call, in order.
func (c *shared) takeAsks() []tea.Msg {
	out := c.asks
	c.asks = nil
	return out
}

// component is a screen: it takes its messages, draws itself in the
// height it is given (the width and the rest are in its shared context),
// and names its keys: the help line's, and its whole key map for ? (nil:
// the help line's).
type component interface {
	update(msg tea.Msg) tea.Cmd
	view(height int) string
	keys() []key.Binding
	fullKeys() []key.Binding
	typing() bool // the focused element takes free text
}

// What a page may do besides being a component; the root looks for it on
// every page built.
type (
	// sender has a payout on its way (busy).
	sender interface{ busy() bool }
	// secretKeeper drops the secrets typed into it when the console locks.
	secretKeeper interface{ forgetSecrets() }
	// stopper ends its work when the console quits, waiting at most limit
	// for what is on its way.
	stopper interface{ shutdown(limit time.Duration) }
)

// Requests a screen makes of the root. The root hands refreshMsg,
// editDraftMsg and saveRecipientMsg on to the page that does them (the
// balances, the transfer form, the address book).
type (
	// showMsg shows a screen already built (the form a confirmation came
	// from, the balances).
	showMsg struct{ to screen }
	// openMsg opens a screen: a new one, or the one kept (a running batch,
	// the history and requests of the profile).
	openMsg struct{ to screen }
	// settleMsg settles the payouts in doubt by their trace; then, when
	// set, is delivered once the settlement is over.
	settleMsg struct{ then tea.Msg }
	// unlockedMsg: the PIN typed at the lock is right.
	unlockedMsg struct{}
	// quitMsg ends the program.
	quitMsg struct{}
	// refreshMsg reads the balances again.
	refreshMsg struct{}
	// editDraftMsg goes back to the transfer form after a payout was not
	// sent (the draft keeps its trace) or refused (renew: a new trace).
	editDraftMsg struct{ renew bool }
	// saveRecipientMsg opens the address book's form for a recipient paid.
	saveRecipientMsg struct{ user rail.User }
	// sentEndedMsg: a payout's post or settlement answered; the PIN it
	// carried is dropped if it was the kept one and the server refused it
	// (errs), and the balances are read again if money moved.
	sentEndedMsg struct {
		pin   string
		errs  []error
		moved bool
	}
	// confirmMsg shows the confirmation of a review.
	confirmMsg struct{ review *payout.Review }
	// sendPayoutMsg sends a confirmed payout: with the PIN typed for it,
	// or (asked false) the profile's kept one.
	sendPayoutMsg struct {
		review *payout.Review
		pin    string
		asked  bool
	}
	// batchEndedMsg: a batch run ended; the PIN it carried is dropped if
	// it was the kept one and the server refused it.
	batchEndedMsg struct {
		pin string
		err error
	}
)
