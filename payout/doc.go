// Package payout is the money logic of one profile: a Desk reviews a draft
// (recipient, asset, amount, memo) into what will be paid, with the
// warnings an operator must see and the caps of the profile's policy;
// sends a reviewed payout exactly once through the journal (the intent is
// durable before anything leaves, the trace id is made once and reused on
// every retry) and settles payouts in doubt by their trace; and runs
// batches of payouts from a CSV file, confirmed once and paid row by row
// under the same rules.
//
// The desk pays and reads only through a payment rail (package
// payout/rail); it knows nothing of PINs, endpoints or the shapes of a
// rail's answers beyond that interface. The rules of a post in flight
// (inflight.go) and of staged rails (staged.go) hold whatever the rail.
//
// A batch is a series of payouts of this desk, not a package of its own:
// its rows are posted under the desk's one-payment-at-a-time lock, its PIN
// gate and its in-flight windows, which a batch outside the desk could
// only reach through an exported back door into the send path.
package payout
