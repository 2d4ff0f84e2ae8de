// Package payreq keeps a profile's payment requests: payment links that ask
// someone to pay this wallet, each with the trace id its payment will carry.
// A request's link has the form of the profile's rail when it was made, and
// keeps it: the legacy link (https://mixin.one/pay?recipient=…) or the Safe
// link (https://mixin.one/pay/<user id>?…, package safe/paylink), whose
// payment is a Safe transaction with the trace as its request id.
// A Book is the requests of one profile, kept in a JSON file (no secrets)
// that is rewritten whole and made durable at every change. Whether a
// request was paid is learnt by looking its trace up through any
// rail.Looker (Book.Check): the payment asked for marks it paid, another
// transfer under its trace closes it as spent.
//
// payreq builds on payout (trace ids, amounts as shown) and the rail's
// types; payout knows nothing of it.
package payreq
