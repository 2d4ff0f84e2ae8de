package payout

import (
	"context"
	"errors"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/rail"
)

// The desk pays through a rail.Rail (NewDeskOn). The names below are the
// legacy shapes the console held before it spoke the rail's types; the
// console uses none of them any more. NewDesk, LookupUser,
// LookupAsset and PrepareBatch are still called by this package's tests;
// legacyUser and legacyAsset fill Review and BatchItem, which still hold
// mixin.User and mixin.Asset.

// API is the legacy client as NewDesk takes it (legacyrail.Client);
// *mixin.Client is one. Kept for the console until it passes a rail.
type API = legacyrail.Client

// NewDesk builds a desk on the legacy API: NewDeskOn(legacyrail.New(api)).
// Kept for the console until it passes a rail.
func NewDesk(api API, j *journal.Journal, cfg Config) (*Desk, error) {
	if api == nil {
		return nil, errors.New("payout: a desk needs an API client and an open journal")
	}
	return NewDeskOn(legacyrail.New(api), j, cfg)
}

// LookupUser reads a user by id, for example the payer of a request, in the
// console's shape.
func (d *Desk) LookupUser(ctx context.Context, userID string) (*mixin.User, error) {
	id, err := mixin.ParseUUID("user id", userID)
	if err != nil {
		return nil, err
	}
	u, err := d.rail.User(ctx, id)
	if err != nil {
		return nil, err
	}
	lu := legacyUser(*u)
	return &lu, nil
}

// LookupAsset reads an asset by id, also one this wallet holds none of, in
// the console's shape.
func (d *Desk) LookupAsset(ctx context.Context, assetID string) (*mixin.Asset, error) {
	id, err := mixin.ParseUUID(mixin.FieldAsset, assetID)
	if err != nil {
		return nil, err
	}
	a, err := d.rail.Asset(ctx, id)
	if err != nil {
		return nil, err
	}
	la := legacyAsset(*a)
	return &la, nil
}

// PrepareBatch is PrepareBatchWith on the console's asset list.
func (d *Desk) PrepareBatch(ctx context.Context, f *BatchFile, held []mixin.Asset) (*Batch, error) {
	as := make([]rail.Asset, len(held))
	for i, a := range held {
		as[i] = railAsset(a)
	}
	return d.PrepareBatchWith(ctx, f, as)
}

// legacyUser is a rail's user in the console's shape (Review.Recipient,
// BatchItem.User).
func legacyUser(u rail.User) mixin.User {
	return mixin.User{UserID: u.UserID, IdentityNumber: u.IdentityNumber, FullName: u.FullName}
}

// legacyAsset is a rail's asset in the console's shape (Review.Asset,
// BatchItem.Asset, AssetTotal.Asset).
func legacyAsset(a rail.Asset) mixin.Asset {
	return mixin.Asset{AssetID: a.AssetID, ChainID: a.ChainID, Symbol: a.Symbol, Name: a.Name, IconURL: a.IconURL,
		Balance: a.Balance, PriceUSD: a.PriceUSD, ChangeUSD: a.ChangeUSD}
}

// railAsset is an asset of the console's list as the rail's.
func railAsset(a mixin.Asset) rail.Asset {
	return rail.Asset{AssetID: a.AssetID, ChainID: a.ChainID, Symbol: a.Symbol, Name: a.Name, IconURL: a.IconURL,
		Balance: a.Balance, PriceUSD: a.PriceUSD, ChangeUSD: a.ChangeUSD}
}
