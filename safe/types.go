package safe

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"mixdesk/mixin"
)

// User is the caller as GET /safe/me answers (docs/safe-api.md §2).
type User struct {
	UserID         string    `json:"user_id"`
	IdentityNumber string    `json:"identity_number"`
	FullName       string    `json:"full_name"`
	SessionID      string    `json:"session_id,omitempty"`
	HasSafe        bool      `json:"has_safe"`
	HasPIN         bool      `json:"has_pin"`
	SpendPublicKey string    `json:"spend_public_key,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// Asset is an asset's metadata (docs/safe-api.md §3.2). Numbers other than
// Precision are decimal strings as sent.
type Asset struct {
	AssetID       string `json:"asset_id"`
	ChainID       string `json:"chain_id"`
	KernelAssetID string `json:"kernel_asset_id"`
	Symbol        string `json:"symbol"`
	Name          string `json:"name"`
	DisplaySymbol string `json:"display_symbol,omitempty"`
	DisplayName   string `json:"display_name,omitempty"`
	IconURL       string `json:"icon_url"`
	Precision     int    `json:"precision"`
	PriceUSD      string `json:"price_usd"`
	ChangeUSD     string `json:"change_usd"`
}

// ShownSymbol is display_symbol, or symbol when there is none.
func (a *Asset) ShownSymbol() string {
	if a.DisplaySymbol != "" {
		return a.DisplaySymbol
	}
	return a.Symbol
}

// ShownName is display_name, or name when there is none.
func (a *Asset) ShownName() string {
	if a.DisplayName != "" {
		return a.DisplayName
	}
	return a.Name
}

// Receiver is one output group of a transaction request.
type Receiver struct {
	Members     []string `json:"members"`
	MembersHash string   `json:"members_hash"`
	Threshold   int      `json:"threshold"`
}

// TransactionRequest is what the verify, submit and look-up calls answer
// (docs/safe-api.md §4.4, §4.6, §4.7).
type TransactionRequest struct {
	Type             string     `json:"type,omitempty"`
	RequestID        string     `json:"request_id"`
	TransactionHash  string     `json:"transaction_hash"`
	Asset            string     `json:"asset,omitempty"`
	KernelAssetID    string     `json:"kernel_asset_id,omitempty"`
	AssetID          string     `json:"asset_id,omitempty"`
	Amount           string     `json:"amount"`
	Extra            string     `json:"extra"`
	UserID           string     `json:"user_id,omitempty"`
	Receivers        []Receiver `json:"receivers"`
	Senders          []string   `json:"senders"`
	SendersHash      string     `json:"senders_hash"`
	SendersThreshold int        `json:"senders_threshold"`
	Signers          []string   `json:"signers"`
	State            string     `json:"state"`
	RawTransaction   string     `json:"raw_transaction"`
	Views            []string   `json:"views"`
	SnapshotID       string     `json:"snapshot_id,omitempty"`
	SnapshotHash     string     `json:"snapshot_hash,omitempty"`
	SnapshotAt       time.Time  `json:"snapshot_at"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// Snapshot is one movement of the wallet (docs/safe-api.md §3.3). Amount is
// negative for money out. Memo is the transaction's extra as hex, as sent;
// MemoText is its text, display-safe.
type Snapshot struct {
	SnapshotID      string    `json:"snapshot_id"`
	Type            string    `json:"type"`
	UserID          string    `json:"user_id"`
	OpponentID      string    `json:"opponent_id"`
	TransactionHash string    `json:"transaction_hash"`
	AssetID         string    `json:"asset_id"`
	KernelAssetID   string    `json:"kernel_asset_id"`
	Amount          string    `json:"amount"`
	Memo            string    `json:"memo"`
	RequestID       string    `json:"request_id"`
	TraceID         string    `json:"trace_id,omitempty"`
	CreatedAt       time.Time `json:"created_at"`

	// Deposit is set on a deposit: coins that came in from the asset's
	// chain, not from a user (docs/safe-api.md §3.3). Nil otherwise.
	Deposit *SnapshotDeposit `json:"deposit,omitempty"`

	MemoText string `json:"-"`
}

// SnapshotDeposit is the deposit object of a snapshot: the chain's
// transaction and the address it came from, display-safe ("" when the
// answer did not say).
type SnapshotDeposit struct {
	DepositHash string `json:"deposit_hash"`
	Sender      string `json:"sender,omitempty"`
}

// ---- checks: every answer is checked and cleaned once, here ---------------

func checkID(name string, s *string, required bool) error {
	if *s == "" && !required {
		return nil
	}
	u, err := uuid.Parse(*s)
	if err != nil || len(*s) != 36 {
		return fmt.Errorf("%s is not a UUID", name)
	}
	*s = u.String()
	return nil
}

func checkHex32(name, s string, required bool) error {
	if s == "" && !required {
		return nil
	}
	if len(s) != 64 || !isHex(s) {
		return fmt.Errorf("%s is not 64 hex characters", name)
	}
	return nil
}

func (u *User) check() error {
	if err := checkID("user_id", &u.UserID, true); err != nil {
		return err
	}
	if err := checkID("session_id", &u.SessionID, false); err != nil {
		return err
	}
	if err := checkHex32("spend_public_key", u.SpendPublicKey, false); err != nil {
		return err
	}
	u.IdentityNumber = mixin.DisplayText(u.IdentityNumber)
	u.FullName = mixin.DisplayText(u.FullName)
	return nil
}

func (a *Asset) check() error {
	if err := checkID("asset_id", &a.AssetID, true); err != nil {
		return err
	}
	if err := checkID("chain_id", &a.ChainID, false); err != nil {
		return err
	}
	if a.KernelAssetID == "" {
		a.KernelAssetID = KernelAssetID(a.AssetID).String()
	}
	if !strings.EqualFold(a.KernelAssetID, KernelAssetID(a.AssetID).String()) {
		return fmt.Errorf("kernel_asset_id of %s is not SHA3-256 of its id", a.AssetID)
	}
	for _, p := range []*string{&a.Symbol, &a.Name, &a.DisplaySymbol, &a.DisplayName, &a.IconURL, &a.PriceUSD, &a.ChangeUSD} {
		*p = mixin.DisplayText(*p)
	}
	return nil
}

func (o *Output) check() error {
	if err := checkID("output_id", &o.OutputID, true); err != nil {
		return err
	}
	if err := checkID("asset_id", &o.AssetID, true); err != nil {
		return err
	}
	if err := checkHex32("transaction_hash", o.TransactionHash, true); err != nil {
		return err
	}
	if err := checkHex32("kernel_asset_id", o.KernelAssetID, false); err != nil {
		return err
	}
	if _, _, err := mixin.ParseAmount(o.Amount); err != nil {
		return fmt.Errorf("amount of output %s: not a positive decimal", o.OutputID)
	}
	switch o.State {
	case StateUnspent, StateSigned, StateSpent:
	default:
		return fmt.Errorf("output %s has an unknown state", o.OutputID)
	}
	for i := range o.Receivers {
		if err := checkID("receivers", &o.Receivers[i], true); err != nil {
			return err
		}
	}
	o.InscriptionHash = mixin.DisplayText(o.InscriptionHash)
	return nil
}

func (g *GhostKeys) check() error {
	if err := checkHex32("mask", g.Mask, true); err != nil {
		return err
	}
	for _, k := range g.Keys {
		if err := checkHex32("keys", k, true); err != nil {
			return err
		}
	}
	g.Type = mixin.DisplayText(g.Type)
	return nil
}

func (r *TransactionRequest) check() error {
	if err := checkID("request_id", &r.RequestID, true); err != nil {
		return err
	}
	if err := checkHex32("transaction_hash", r.TransactionHash, true); err != nil {
		return err
	}
	switch r.State {
	case StateUnspent, StateSigned, StateSpent:
	default:
		return fmt.Errorf("request %s has an unknown state", r.RequestID)
	}
	for _, v := range r.Views {
		if err := checkHex32("views", v, true); err != nil {
			return err
		}
	}
	if r.RawTransaction != "" && !isHex(r.RawTransaction) {
		return fmt.Errorf("raw_transaction is not hex")
	}
	if err := checkID("snapshot_id", &r.SnapshotID, false); err != nil {
		return err
	}
	r.Amount = mixin.DisplayText(r.Amount)
	return nil
}

func (s *Snapshot) check() error {
	if err := checkID("snapshot_id", &s.SnapshotID, true); err != nil {
		return err
	}
	if err := checkID("asset_id", &s.AssetID, true); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		p    *string
	}{{"user_id", &s.UserID}, {"opponent_id", &s.OpponentID}, {"request_id", &s.RequestID}, {"trace_id", &s.TraceID}} {
		if err := checkID(f.name, f.p, false); err != nil {
			return err
		}
	}
	if s.RequestID == "" {
		s.RequestID = s.TraceID // older answers (docs/safe-api.md §3.3)
	}
	if _, _, err := mixin.ParseAmount(strings.TrimPrefix(s.Amount, "-")); err != nil {
		return fmt.Errorf("amount of snapshot %s is not a decimal", s.SnapshotID)
	}
	memo, err := hex.DecodeString(s.Memo)
	if err != nil {
		return fmt.Errorf("memo of snapshot %s is not hex", s.SnapshotID)
	}
	s.MemoText = mixin.DisplayText(string(memo))
	s.Type = mixin.DisplayText(s.Type)
	if err := checkHex32("transaction_hash", s.TransactionHash, false); err != nil {
		return err
	}
	s.TransactionHash = strings.ToLower(s.TransactionHash)
	if d := s.Deposit; d != nil {
		d.DepositHash, d.Sender = shortField(d.DepositHash), shortField(d.Sender)
	}
	return nil
}

// maxFieldLen bounds a free-text field kept from an answer (a chain's
// transaction hash or address is far shorter).
const maxFieldLen = 256

// shortField is outside text kept as a field: display-safe, cut at
// maxFieldLen bytes on a character boundary.
func shortField(s string) string {
	s = mixin.DisplayText(s)
	if len(s) > maxFieldLen {
		cut := maxFieldLen
		for cut > 0 && s[cut]&0xc0 == 0x80 {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// list is an answer that is an array of checked elements.
type list[T any, P interface {
	*T
	check() error
}] []T

func (l *list[T, P]) check() error {
	for i := range *l {
		if err := P(&(*l)[i]).check(); err != nil {
			return err
		}
	}
	return nil
}
