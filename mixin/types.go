// Package mixin is a small client for the Mixin Messenger wallet API: signed
// requests, PIN encryption, typed errors, transfers, assets, snapshots, users
// and payment links. It imports no other package of this module.
package mixin

import "time"

// User is a Mixin user or app as the API returns it.
type User struct {
	UserID         string    `json:"user_id"`
	IdentityNumber string    `json:"identity_number"`
	FullName       string    `json:"full_name"`
	SessionID      string    `json:"session_id,omitempty"`
	PINTokenBase64 string    `json:"pin_token_base64,omitempty"`
	HasPIN         bool      `json:"has_pin,omitempty"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
}

// Asset is one asset of the caller with its balance. Every number is a
// decimal string exactly as the server sent it.
type Asset struct {
	AssetID   string `json:"asset_id"`
	ChainID   string `json:"chain_id"`
	Symbol    string `json:"symbol"`
	Name      string `json:"name"`
	IconURL   string `json:"icon_url"`
	Balance   string `json:"balance"`
	PriceUSD  string `json:"price_usd"`
	ChangeUSD string `json:"change_usd"`
}

// Snapshot is one movement of an asset as the caller sees it. Amount is
// negative for the sender and positive for the recipient.
type Snapshot struct {
	Type           string    `json:"type"`
	SnapshotID     string    `json:"snapshot_id"`
	TraceID        string    `json:"trace_id"`
	AssetID        string    `json:"asset_id"`
	OpponentID     string    `json:"opponent_id"`
	Amount         string    `json:"amount"`
	OpeningBalance string    `json:"opening_balance"`
	ClosingBalance string    `json:"closing_balance"`
	Memo           string    `json:"memo"`
	CreatedAt      time.Time `json:"created_at"`
}

// TransferInput is the body of POST /transfers without the PIN, which the
// client encrypts afresh for every post.
type TransferInput struct {
	AssetID    string `json:"asset_id"`
	OpponentID string `json:"opponent_id"`
	Amount     string `json:"amount"`
	TraceID    string `json:"trace_id"`
	Memo       string `json:"memo,omitempty"`
}
