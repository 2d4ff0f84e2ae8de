package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/safe"
	"mixdesk/safe/mixaddress"
	"mixdesk/safe/paylink"
	"mixdesk/ui"
)

const payurlUsage = `mixdesk payurl: print a payment link (and its QR code) and exit

Usage:
  mixdesk payurl --asset ID --amount A [--memo M] [--trace UUID]
                 [--recipient ID | --profile NAME] [--safe | --legacy] [--qr]

Flags:
  --asset ID       the asset to be paid (its UUID)
  --amount A       the amount: digits with at most 8 after the point
  --memo M         the memo the payment carries (at most 140 characters; on a
                   Safe link also at most 256 bytes)
  --trace UUID     the payment's trace id (default: a new one); a link pays once
  --recipient ID   the user id to be paid, or a MIX address (Safe links only)
                   (default: the app of the profile)
  --profile NAME   the keyring profile whose app is paid (default: the default
                   profile); only its client id or app id is read
  --safe           make the Safe link: https://mixin.one/pay/RECIPIENT?asset=…
  --legacy         make the legacy link: https://mixin.one/pay?recipient=…
  --qr             print the QR code under the link
  --help           print this help and exit

Which link: --safe or --legacy when given; else the Safe link for a MIX
address or for a Safe profile's app, and the legacy link for a user id given
with --recipient or a legacy profile's app (as before there were two forms).
A Safe link is announced with one line on stderr; the legacy link prints
alone, as it always has.

The link goes to stdout on one line; nothing is sent to the API. Whether it
was paid shows by its trace: a legacy link through GET /transfers/trace/UUID,
a Safe link as the Safe transaction with request id UUID
(GET /safe/transactions/UUID). Bad input: one line on stderr naming the flag,
exit status 2.
`

// payurlKeyring is the keyring payurl reads the profile's client id from;
// tests put an in-memory one in its place.
var payurlKeyring = keystore.System

// payurlArgs are the flags of payurl.
type payurlArgs struct {
	asset, amount, memo, trace, recipient, profile string
	safe, legacy, qr                               bool
}

// runPayURL prints a payment link, legacy (MIXIN-API.md §7) or Safe
// (package safe/paylink), and, with --qr, its QR code under it. It starts
// no screen and never waits on the terminal; the keyring is read only when
// no --recipient is given.
func runPayURL(args []string, profile string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mixdesk payurl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a := payurlArgs{profile: profile}
	fs.StringVar(&a.asset, "asset", "", "the asset to be paid (UUID)")
	fs.StringVar(&a.amount, "amount", "", "the amount")
	fs.StringVar(&a.memo, "memo", "", "the memo the payment carries")
	fs.StringVar(&a.trace, "trace", "", "the payment's trace id (default: a new one)")
	fs.StringVar(&a.recipient, "recipient", "", "the user id or MIX address to be paid (default: the profile's app)")
	fs.StringVar(&a.profile, "profile", profile, "the keyring profile whose app is paid")
	fs.BoolVar(&a.safe, "safe", false, "make the Safe link")
	fs.BoolVar(&a.legacy, "legacy", false, "make the legacy link")
	fs.BoolVar(&a.qr, "qr", false, "print the QR code under the link")
	fail := func(format string, v ...any) int {
		fmt.Fprintf(stderr, "mixdesk payurl: "+format+"\n", v...)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, payurlUsage)
			return 0
		}
		return fail("%s (see mixdesk payurl --help)", flagProblem(err))
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q (see mixdesk payurl --help)", fs.Arg(0))
	}
	if msg := a.check(); msg != "" {
		return fail("%s", msg)
	}
	if a.trace == "" {
		a.trace = payout.NewTraceID()
	}
	safeLink, why := a.safe, "--safe"
	if a.recipient == "" {
		id, isSafe, err := profileRecipient(a.profile)
		if err != nil {
			return fail("%v", err)
		}
		a.recipient = id
		if isSafe && !a.legacy && !a.safe {
			safeLink, why = true, "the profile's app is a Safe wallet"
		}
	} else if isAddress(a.recipient) {
		safeLink, why = true, "the recipient is a MIX address"
	}
	link, err := a.link(safeLink)
	if err != nil {
		var fe *mixin.FieldError
		if errors.As(err, &fe) && fe.Field == mixin.FieldMemo {
			return fail("--memo: %s", fe.Reason)
		}
		return fail("%v", err)
	}
	fmt.Fprintln(stdout, link)
	if safeLink {
		fmt.Fprintf(stderr, "mixdesk payurl: a Safe link (%s); it is paid by the Safe transaction with request id %s\n", why, a.trace)
	}
	if a.qr {
		text, err := ui.QRText(link)
		if err != nil {
			fmt.Fprintf(stderr, "mixdesk payurl: the link is printed, but its QR code cannot be drawn: %v\n", err)
			return 1
		}
		fmt.Fprint(stdout, "\n"+text)
	}
	return 0
}

// check checks every flag before the keyring is asked anything, and
// returns the first mistake in one line ("" when there is none).
func (a payurlArgs) check() string {
	switch {
	case a.asset == "":
		return "--asset is required: the UUID of the asset to be paid"
	case a.amount == "":
		return "--amount is required"
	case a.safe && a.legacy:
		return "--safe and --legacy: choose one form of link"
	case a.legacy && isAddress(a.recipient):
		return "--recipient: a MIX address is paid only through a Safe link; drop --legacy"
	}
	fields := []struct {
		flag  string
		check func() error
	}{
		{"--asset", func() error { _, err := mixin.ParseUUID(mixin.FieldAsset, a.asset); return err }},
		{"--amount", func() error { _, _, err := mixin.ParseAmount(a.amount); return err }},
		{"--memo", func() error {
			if a.safe || isAddress(a.recipient) {
				return safe.ValidateMemo(a.memo)
			}
			return mixin.ValidateMemo(a.memo) // a Safe profile's link is checked again once known
		}},
		{"--trace", func() error {
			if a.trace == "" {
				return nil
			}
			_, err := mixin.ParseUUID(mixin.FieldTrace, a.trace)
			return err
		}},
		{"--recipient", func() error {
			switch {
			case a.recipient == "":
				return nil
			case isAddress(a.recipient):
				_, err := paylink.Request{Recipient: a.recipient}.Receivers()
				return err
			}
			_, err := mixin.ParseUUID(mixin.FieldRecipient, a.recipient)
			return err
		}},
	}
	for _, f := range fields {
		if err := f.check(); err != nil {
			return f.flag + ": " + fieldReason(err)
		}
	}
	return ""
}

// isAddress: the recipient is a MIX (or XIN) address, which only a Safe
// link can pay.
func isAddress(recipient string) bool {
	r := strings.TrimSpace(recipient)
	return strings.HasPrefix(r, mixaddress.Prefix) || strings.HasPrefix(r, mixaddress.KernelPrefix)
}

// link builds the link of the checked flags, in the form asked.
func (a payurlArgs) link(safeLink bool) (string, error) {
	if safeLink {
		return paylink.Build(paylink.Request{Recipient: a.recipient, AssetID: a.asset, Amount: a.amount, TraceID: a.trace, Memo: a.memo})
	}
	return mixin.PayURL(mixin.PayRequest{Recipient: a.recipient, AssetID: a.asset, Amount: a.amount, TraceID: a.trace, Memo: a.memo})
}

// fieldReason is the reason of a *mixin.FieldError, or the error's text.
func fieldReason(err error) string {
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return err.Error()
}

// profileRecipient reads the id to be paid of a keyring profile (the
// default one when name is ""): a legacy profile's client id, or a Safe
// profile's app id (isSafe). Only that id leaves this function; the errors
// say to pass --recipient instead.
func profileRecipient(name string) (id string, isSafe bool, err error) {
	store, err := keystore.New(payurlKeyring(), keystore.Options{})
	if err != nil {
		return "", false, fmt.Errorf("%v; pass --recipient USER_ID", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if name == "" {
		def, err := store.Default(ctx)
		switch {
		case errors.Is(err, keystore.ErrUnavailable):
			return "", false, fmt.Errorf("no keyring to read the recipient from (%s); pass --recipient USER_ID", strings.TrimPrefix(err.Error(), "keystore: "))
		case err != nil && !errors.Is(err, keystore.ErrNotFound):
			return "", false, fmt.Errorf("%v; pass --recipient USER_ID", err)
		case def == "":
			return "", false, errors.New("no default profile in the keyring to be paid; pass --recipient USER_ID (or --profile NAME)")
		}
		name = def
	}
	p, err := store.Load(ctx, name)
	switch {
	case errors.Is(err, keystore.ErrUnavailable):
		return "", false, fmt.Errorf("no keyring to read the recipient from (%s); pass --recipient USER_ID", strings.TrimPrefix(err.Error(), "keystore: "))
	case errors.Is(err, keystore.ErrNotFound):
		return "", false, fmt.Errorf("no profile named %q in the keyring; pass --recipient USER_ID", name)
	case err != nil:
		return "", false, fmt.Errorf("%v; pass --recipient USER_ID", err)
	}
	if p.Safe != nil {
		id, err := mixin.ParseUUID("app id", p.Safe.AppID)
		return id, true, err
	}
	id, err = mixin.ParseUUID(mixin.FieldClientID, p.Credentials.ClientID)
	return id, false, err
}
