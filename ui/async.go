package ui

import (
	"context"
	"errors"
	"time"
)

// How long each kind of asynchronous work may take before it is given up.
// Every call that can wait runs in a tea.Cmd with one of these.
const (
	timeoutOpen    = 30 * time.Second // opening a profile: the session checked, the journal opened
	timeoutSetup   = 45 * time.Second // a new profile checked with the API and saved
	timeoutRead    = 20 * time.Second // the profile read from the keyring; balances, names, a request's payment, a PIN check
	timeoutKeyring = 10 * time.Second // the profile saved again (without a kept PIN the server refused)
	timeoutLookup  = 15 * time.Second // a user or an asset looked up
	timeoutPage    = 30 * time.Second // a page of history; a review
	timeoutSend    = 60 * time.Second // a payout posted or settled; in-doubt payouts settled
	timeoutPrepare = 2 * time.Minute  // every row of a batch checked
	timeoutTmux    = 2 * time.Second  // tmux asked how it passes a copy on
)

// within is a context that gives up after d.
func within(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// lifetime is the life of a screen's asynchronous work: the requests the
// screen makes while it is shown run in a context of its lifetime, and
// leaving the screen ends them all (a look-up, a review, the check of a
// batch file: given up at once instead of at its timeout, since their
// answers would be dropped). The next request starts a new lifetime. Work
// that must outlive its screen never runs in one: a payout posted or
// settled, a batch run, the balances read behind other screens, a write to
// disk, and work whose result is kept outside the message (a page of
// history, names, a request's payment written to its book). A lifetime is used on the UI goroutine: a
// command takes its context when it is made, not when it runs.
type lifetime struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// within is a context of the lifetime that gives up after d.
func (l *lifetime) within(d time.Duration) (context.Context, context.CancelFunc) {
	if l.ctx == nil {
		l.ctx, l.cancel = context.WithCancel(context.Background())
	}
	return context.WithTimeout(l.ctx, d)
}

// end cancels the work of the lifetime; the answers of the requests cut
// short carry context.Canceled (see leftBehind).
func (l *lifetime) end() {
	if l.cancel != nil {
		l.cancel()
	}
	l.ctx, l.cancel = nil, nil
}

// leftBehind reports whether an answer is that of a request given up
// because its screen was left: it says nothing about what was asked, and
// is dropped.
func leftBehind(err error) bool { return errors.Is(err, context.Canceled) }

// leaver is a screen whose asynchronous work ends when it is left.
type leaver interface{ left() }
