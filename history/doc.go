// Package history is an account's payout history: the movements a rail
// lists, loaded page by page, joined with the journal of the payouts this
// desk sent, so that each row says what it stands for (done, in doubt,
// refused, received, a deposit from the asset's chain, or sent by another
// tool), with the network transaction's hash when the rail tells it (the
// Safe rail does). It filters the rows (Filter, Query), caches the
// counterparties' names (Names), and exports the rows as CSV and reads
// such an export back (WriteCSV, SaveCSV, ReadCSV).
//
// It reads through the rail's types (package payout/rail) and the journal
// (package journal), never through a desk: New takes what lists the
// movements and the journal, NewNames what reads users and a clock. The
// console's account (package account) builds both for an open profile.
package history
