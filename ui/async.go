package ui

import (
	"context"
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
)

// within is a context that gives up after d.
func within(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
