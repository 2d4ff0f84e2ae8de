package account

import (
	"context"
	"errors"
	"fmt"

	"mixdesk/journal"
	"mixdesk/keystore"
	"mixdesk/payout/rail"
	"mixdesk/payout/saferail"
	"mixdesk/safe"
)

// openSafe opens a Safe profile: the rail on the profile's keystore, the
// wallet checked with GET /safe/me (registered, with the pasted spend key),
// and balances summed from the wallet's unspent outputs. A Safe payout is
// signed with the keystore's spend key: no PIN is asked or kept.
func (e Env) openSafe(ctx context.Context, name string, p keystore.Profile, reuse *journal.Journal) (*Account, error) {
	r, err := saferail.Dial(e.APIURL, *p.Safe, e.SafeOptions...)
	if err != nil {
		return nil, err
	}
	me, err := r.Client().CheckRegistered(ctx)
	if err != nil {
		if errors.Is(err, safe.ErrNotRegistered) {
			return nil, errNotRegistered{}
		}
		return nil, fmt.Errorf("checking the Safe wallet: %w", err)
	}
	if me.UserID != r.Self() {
		return nil, fmt.Errorf("the API says this session belongs to %s, not to app id %s", me.UserID, r.Self())
	}
	a, err := e.assemble(name, p, r.Self(), r, reuse)
	if err != nil {
		return nil, err
	}
	a.Me = rail.User{UserID: me.UserID, IdentityNumber: me.IdentityNumber, FullName: me.FullName}
	a.incoming = r.Incoming()
	client := r.Client()
	a.holdings = func(ctx context.Context) ([]rail.Asset, error) {
		return safeHoldings(ctx, client)
	}
	return a, nil
}

// safeHoldings reads the wallet's balances (sums of its unspent outputs,
// exact) with each asset's name and price, in asset id order. An asset the
// API does not describe is shown by its id.
func safeHoldings(ctx context.Context, c *safe.Client) ([]rail.Asset, error) {
	bs, err := c.Balances(ctx)
	if err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.AssetID
	}
	meta, err := c.FetchAssets(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]safe.Asset, len(meta))
	for _, m := range meta {
		byID[m.AssetID] = m
	}
	out := make([]rail.Asset, len(bs))
	for i, b := range bs {
		out[i] = rail.Asset{AssetID: b.AssetID, Symbol: b.AssetID, Balance: b.Amount}
		if m, ok := byID[b.AssetID]; ok {
			out[i].ChainID, out[i].Symbol, out[i].Name = m.ChainID, m.ShownSymbol(), m.ShownName()
			out[i].IconURL, out[i].PriceUSD, out[i].ChangeUSD = m.IconURL, m.PriceUSD, m.ChangeUSD
		}
	}
	return out, nil
}

// errNotRegistered is safe.ErrNotRegistered in the console's words: what
// to do, in one line.
type errNotRegistered struct{}

func (errNotRegistered) Error() string {
	return "this app's wallet is not registered for Safe: in the developer dashboard open the app, Secret, App Wallet, register its spend key, then open the profile again"
}

func (errNotRegistered) Unwrap() error { return safe.ErrNotRegistered }
