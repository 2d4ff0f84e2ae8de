// Package addressbook is the saved recipients of a profile: labels, user
// ids, the name and Mixin ID number the server gave when each was saved,
// and the operator's notes, kept in DATA/addressbook-PROFILE.json (Path).
//
// A Book is opened from its file (Open: a missing file is an empty book, a
// malformed one is refused and left as it is), looked up by label, user id
// or a picker's query, and changed with Save and Remove, each of which
// writes the whole book durably (a temporary file, fsynced, renamed over
// the book) before the book in memory changes. Labels that read as a Mixin
// ID number or a user id are refused, and saved names are kept
// display-safe. A bad field is a *mixin.FieldError naming it (FieldLabel,
// FieldUserID, FieldNote, or mixin.FieldRecipient).
//
// The package knows nothing of reviews, payouts or screens: payout reads a
// book to warn about recipients and to resolve batch labels, and the console
// edits it.
package addressbook
