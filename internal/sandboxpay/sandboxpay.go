// Package sandboxpay pays a payment link as another user of a sandbox
// world, the way that user's wallet would: on the Safe sandbox through the
// Safe API over HTTP with the user's own keystore (outputs listed, ghost
// keys asked, the transaction verified, signed with the user's spend key
// and submitted under the link's trace as request id); on the legacy
// sandbox through the sandbox's transfer path as that user (its users have
// no session, so the transfer enters the server below the HTTP layer, with
// every check of POST /transfers but the token and PIN). Nothing edits a
// balance: the payment is a transaction or transfer like any other, and it
// pays once (the trace).
//
// It serves the console's sandbox (a key on a payment request) and tests;
// it is never used on a real API.
package sandboxpay

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"mixdesk/mixin"
	mixsandbox "mixdesk/mixin/sandbox"
	"mixdesk/safe"
	"mixdesk/safe/mixaddress"
	"mixdesk/safe/paylink"
	safesandbox "mixdesk/safe/sandbox"
)

// Paid is a payment made: who paid what, under which trace.
type Paid struct {
	PayerID   string
	PayerName string
	AssetID   string
	Amount    string
	TraceID   string
	// Ref is the Safe transaction's hash, or the legacy transfer's
	// snapshot id (the payer's).
	Ref string
	// Safe: paid as a Safe transaction (else a legacy transfer).
	Safe bool
	// Symbol is the asset's symbol in the world ("" when unknown).
	Symbol string
}

// String says the payment in one line.
func (p Paid) String() string {
	what := "transfer (snapshot " + short(p.Ref) + ")"
	if p.Safe {
		what = "Safe transaction " + short(p.Ref)
	}
	return fmt.Sprintf("%s paid %s %s under trace %s: %s", p.PayerName, p.Amount, assetWord(p.Symbol, p.AssetID), short(p.TraceID), what)
}

// safeSymbol is the symbol of an asset of a Safe world, or "".
func safeSymbol(w safesandbox.World, id string) string {
	for _, a := range w.Assets {
		if strings.EqualFold(a.AssetID, id) {
			return a.Symbol
		}
	}
	return ""
}

// legacySymbol is the symbol of an asset of a legacy world, or "".
func legacySymbol(w mixsandbox.World, id string) string {
	for _, a := range w.Assets {
		if strings.EqualFold(a.AssetID, id) {
			return a.Symbol
		}
	}
	return ""
}

// assetWord names an asset by its symbol, or by the start of its id.
func assetWord(symbol, id string) string {
	if symbol != "" {
		return symbol
	}
	return "of asset " + short(id)
}

func short(s string) string {
	if len(s) > 8 {
		return s[:8] + "…"
	}
	return s
}

// ErrNoPayer: no other user of the world can pay the link (none holds
// enough of the asset, or the world keeps no keys for its users).
var ErrNoPayer = errors.New("no other user of the sandbox can pay this link")

// read reads a Safe or a legacy link as the fields of a payment to one
// user: a Safe link's recipient must be a user id or a MIX address of one
// user.
func read(link string) (paylink.Request, error) {
	r, err := paylink.Parse(link)
	if err != nil {
		p, lerr := mixin.ParsePayURL(link)
		if lerr != nil {
			return r, err // the Safe reader's words: they name the part that is wrong
		}
		return paylink.Request{Recipient: p.Recipient, AssetID: p.AssetID, Amount: p.Amount, TraceID: p.TraceID, Memo: p.Memo}, nil
	}
	if strings.HasPrefix(r.Recipient, mixaddress.Prefix) {
		a, err := mixaddress.Parse(r.Recipient)
		if err != nil {
			return r, err
		}
		m := a.Members()
		if a.Kind() != mixaddress.UserMembers || len(m) != 1 {
			return r, fmt.Errorf("sandboxpay: the link pays a group (%d of %d members); the sandbox pays links to one user", a.Threshold(), len(m))
		}
		r.Recipient = m[0]
	} else if strings.HasPrefix(r.Recipient, mixaddress.KernelPrefix) {
		return r, errors.New("sandboxpay: the link pays a kernel address; the sandbox pays links to one user")
	}
	return r, nil
}

// Safe pays link (a Safe link, or a legacy one: its fields are the same)
// on the Safe sandbox served at baseURL, as the first of the world's other
// users on Safe (w.Payers) who is not the recipient and holds enough of the
// asset. opts are the options of the payer's Safe client.
func Safe(ctx context.Context, baseURL string, w safesandbox.World, link string, opts ...safe.Option) (Paid, error) {
	req, err := read(link)
	if err != nil {
		return Paid{}, err
	}
	if len(w.Payers) == 0 {
		return Paid{}, fmt.Errorf("%w: this world keeps no keys for its other users (it was made by an older mixdesk); move its world.json away to start a fresh world", ErrNoPayer)
	}
	want, err := decimal.NewFromString(req.Amount)
	if err != nil {
		return Paid{}, err
	}
	for _, ks := range w.Payers {
		if strings.EqualFold(ks.AppID, req.Recipient) {
			continue
		}
		acct, err := ks.Open()
		if err != nil {
			return Paid{}, fmt.Errorf("sandboxpay: a payer's keystore: %w", err)
		}
		c, err := safe.NewClient(baseURL, acct, opts...)
		if err != nil {
			return Paid{}, err
		}
		bal, err := c.Balances(ctx)
		if err != nil {
			return Paid{}, err
		}
		if !holds(bal, req.AssetID, want) {
			continue
		}
		name := nameOf(w, ks.AppID)
		p := safe.Payment{RequestID: req.TraceID, AssetID: req.AssetID, Recipient: req.Recipient, Amount: req.Amount, Memo: req.Memo}
		u, err := c.Prepare(ctx, p, nil)
		if err != nil {
			return Paid{}, fmt.Errorf("%s could not pay: %w", name, err)
		}
		signed, err := c.VerifyAndSign(ctx, u)
		if err != nil {
			return Paid{}, fmt.Errorf("%s could not pay: %w", name, err)
		}
		if _, err := c.Submit(ctx, req.TraceID, signed, u.Hash); err != nil {
			return Paid{}, fmt.Errorf("%s could not pay: %w", name, err)
		}
		return Paid{PayerID: ks.AppID, PayerName: name, AssetID: req.AssetID, Amount: req.Amount, TraceID: req.TraceID,
			Ref: u.Hash.String(), Safe: true, Symbol: safeSymbol(w, req.AssetID)}, nil
	}
	return Paid{}, fmt.Errorf("%w: none holds %s %s", ErrNoPayer, req.Amount, assetWord(safeSymbol(w, req.AssetID), req.AssetID))
}

func holds(bal []safe.Balance, assetID string, want decimal.Decimal) bool {
	for _, b := range bal {
		if b.AssetID != assetID {
			continue
		}
		have, err := decimal.NewFromString(b.Amount)
		return err == nil && have.GreaterThanOrEqual(want)
	}
	return false
}

func nameOf(w safesandbox.World, id string) string {
	for _, u := range w.Users {
		if strings.EqualFold(u.UserID, id) {
			return u.FullName
		}
	}
	return id
}

// Legacy pays link (a legacy link, or a Safe one to a user id) on the
// legacy sandbox srv as the first of the world's other users who is not
// the recipient and holds enough of the asset, through the sandbox's
// transfer path (Server.Transfer: the checks and trace idempotency of POST
// /transfers; the world's other users have no session to sign with).
func Legacy(srv *mixsandbox.Server, w mixsandbox.World, link string) (Paid, error) {
	req, err := read(link)
	if err != nil {
		return Paid{}, err
	}
	want, err := decimal.NewFromString(req.Amount)
	if err != nil {
		return Paid{}, err
	}
	for _, u := range w.Users {
		if strings.EqualFold(u.UserID, req.Recipient) {
			continue
		}
		have, err := decimal.NewFromString(srv.Balance(u.UserID, req.AssetID))
		if err != nil || have.LessThan(want) {
			continue
		}
		snap, err := srv.Transfer(u.UserID, mixin.TransferInput{AssetID: req.AssetID, OpponentID: req.Recipient, Amount: req.Amount,
			TraceID: req.TraceID, Memo: req.Memo})
		if err != nil {
			return Paid{}, fmt.Errorf("%s could not pay: %w", u.FullName, err)
		}
		return Paid{PayerID: u.UserID, PayerName: u.FullName, AssetID: req.AssetID, Amount: req.Amount, TraceID: req.TraceID,
			Ref: snap.SnapshotID, Symbol: legacySymbol(w, req.AssetID)}, nil
	}
	return Paid{}, fmt.Errorf("%w: none holds %s %s", ErrNoPayer, req.Amount, assetWord(legacySymbol(w, req.AssetID), req.AssetID))
}
