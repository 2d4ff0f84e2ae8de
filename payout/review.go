package payout

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"mixdesk/addressbook"
	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/payout/rail"
)

// Draft is a payout as the operator typed it.
type Draft struct {
	AssetID   string // asset UUID
	Recipient string // user UUID or Mixin ID number
	Amount    string // decimal string
	Memo      string
	// TraceID is the draft's trace id when the form made one already (it is
	// shown while the draft is edited); empty: the first review makes it.
	TraceID string
}

// WarningKind names a review warning.
type WarningKind string

// The warnings a review can carry. Each must be acknowledged by the operator.
const (
	WarnDuplicate WarningKind = "duplicate" // same amount, asset and recipient lately
	WarnFirstTime WarningKind = "first"     // never paid this recipient before
	WarnLarge     WarningKind = "large"     // at or over the large-amount threshold
	WarnInDoubt   WarningKind = "in-doubt"  // another transfer is not settled yet
	// WarnNotInBook: the recipient is not in the profile's address book
	// (only when the desk has one).
	WarnNotInBook WarningKind = "not-in-book"
	// WarnNameChanged: the address book saved another name for this
	// recipient than the server gives now.
	WarnNameChanged WarningKind = "name-changed"
	// WarnNameLikeID: the recipient's name holds something that reads as a
	// Mixin ID number or a user id, which anyone may put in a name.
	WarnNameLikeID WarningKind = "name-like-id"
)

// Warning is one thing the operator must acknowledge before confirming.
type Warning struct {
	Kind WarningKind
	Text string // one sentence for the operator
}

// Review is a draft checked against the rail and the journal: everything
// the confirmation shows, and exactly what Send will pay. Recipient and
// Asset are as the rail read them (display-safe text).
type Review struct {
	Recipient  rail.User
	Asset      rail.Asset
	Amount     decimal.Decimal
	AmountText string // canonical decimal string; what is posted and typed to confirm
	Memo       string
	TraceID    string

	Balance      decimal.Decimal
	BalanceAfter decimal.Decimal
	PriceUSD     decimal.Decimal
	ValueUSD     decimal.Decimal // Amount × PriceUSD, exact

	// BookEntry is the recipient's entry in the address book; nil when the
	// recipient is not saved or the desk has no book.
	BookEntry *addressbook.Entry
	// Caps is where the payout stands against its asset's caps; nil when
	// the asset has none.
	Caps *CapStatus

	Warnings []Warning
	// NewTrace is set when the draft's earlier trace was already used by a
	// sent payout, so this review carries a fresh one.
	NewTrace bool

	ContentHash string
	ReviewedAt  time.Time
}

// Payment is the payment the review stands for, under its trace id.
func (r *Review) Payment() rail.Payment {
	return rail.Payment{Key: r.TraceID, AssetID: r.Asset.AssetID, RecipientID: r.Recipient.UserID, Amount: r.AmountText, Memo: r.Memo}
}

// NewTraceID makes a trace id. It is made once per payout and reused on
// every retry of that payout.
func NewTraceID() string { return uuid.NewString() }

// Review checks a draft and builds what the operator must see before
// confirming. prev is the review of the same draft before the latest edit
// (nil for the first review): its trace id is kept, unless a payout was
// already sent with it. A draft with a bad field gets a *mixin.FieldError
// naming it; a draft over the balance or over a cap of the policy is an
// amount error, not a warning; a recipient outside the address book of a
// profile that accepts only saved recipients is a recipient error.
func (d *Desk) Review(ctx context.Context, dr Draft, prev *Review) (*Review, error) {
	if err := d.journal.Err(); err != nil {
		return nil, fmt.Errorf("no payout can be reviewed: %w", err)
	}
	assetID, err := mixin.ParseUUID(mixin.FieldAsset, dr.AssetID)
	if err != nil {
		return nil, err
	}
	amount, amountText, err := mixin.ParseAmount(strings.TrimSpace(dr.Amount))
	if err != nil {
		return nil, err
	}
	if err := mixin.ValidateMemo(dr.Memo); err != nil {
		return nil, err
	}
	rcpt, err := d.Recipient(ctx, dr.Recipient)
	if err != nil {
		return nil, err
	}
	var saved *addressbook.Entry
	if d.cfg.Book != nil {
		if e, ok := d.cfg.Book.ByUser(rcpt.UserID); ok {
			saved = &e
		}
	}
	if d.cfg.AddressBookOnly && saved == nil {
		return nil, &mixin.FieldError{Field: mixin.FieldRecipient, Reason: fmt.Sprintf(
			"%s (Mixin ID %s) is not in the address book, and this profile accepts only saved recipients", shortText(rcpt.FullName, maxWarnName), rcpt.IdentityNumber)}
	}
	asset, err := d.rail.Asset(ctx, assetID)
	if err != nil {
		if errors.Is(err, rail.ErrNotFound) {
			return nil, &mixin.FieldError{Field: mixin.FieldAsset, Reason: "no such asset"}
		}
		return nil, fmt.Errorf("reading the asset: %w", err)
	}
	// What is posted is exactly what was asked for: the server's answer must
	// be about that asset.
	if got, err := mixin.ParseUUID(mixin.FieldAsset, asset.AssetID); err != nil || got != assetID {
		return nil, fmt.Errorf("the API answered about asset %q when asked for %s", asset.AssetID, assetID)
	}
	asset.AssetID = assetID
	balance, err := decimal.NewFromString(orZero(asset.Balance))
	if err != nil {
		return nil, fmt.Errorf("the server sent a balance that is not a number: %q", asset.Balance)
	}
	if amount.GreaterThan(balance) {
		return nil, &mixin.FieldError{Field: mixin.FieldAmount, Reason: fmt.Sprintf("exceeds the balance of %s %s", balance.String(), shortText(asset.Symbol, maxWarnSymbol))}
	}
	now := d.now()
	caps, over, err := d.checkCaps(ctx, assetID, amount, now, "")
	if err != nil {
		return nil, err
	}
	if over != nil {
		over.Symbol = shortText(asset.Symbol, maxWarnSymbol)
		return nil, &mixin.FieldError{Field: mixin.FieldAmount, Reason: over.Reason()}
	}
	price, err := decimal.NewFromString(orZero(asset.PriceUSD))
	if err != nil {
		price = decimal.Zero
	}
	r := &Review{
		Recipient: *rcpt, Asset: *asset, Amount: amount, AmountText: amountText, Memo: dr.Memo,
		Balance: balance, BalanceAfter: balance.Sub(amount), PriceUSD: price, ValueUSD: amount.Mul(price),
		BookEntry: saved, Caps: caps, ReviewedAt: now,
	}
	if prev == nil && dr.TraceID != "" {
		id, err := mixin.ParseUUID(mixin.FieldTrace, dr.TraceID)
		if err != nil {
			return nil, err
		}
		prev = &Review{TraceID: id}
	}
	r.TraceID, r.NewTrace = d.traceFor(prev)
	// The rail's own rules last: what it accepts now, Send pays.
	if _, err := d.rail.Validate(r.Payment()); err != nil {
		return nil, err
	}
	r.ContentHash = journal.ContentHash(r.Asset.AssetID, r.Recipient.UserID, r.AmountText, r.Memo, r.TraceID)
	if err := d.addWarnings(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// traceFor keeps the trace of the previous review of this draft unless a
// payout was already recorded with it.
func (d *Desk) traceFor(prev *Review) (string, bool) {
	if prev == nil || prev.TraceID == "" {
		return NewTraceID(), false
	}
	if _, used := d.journal.Lookup(prev.TraceID); used {
		return NewTraceID(), true
	}
	return prev.TraceID, false
}

// Recipient finds a user by UUID or Mixin ID number, with the rail.
func (d *Desk) Recipient(ctx context.Context, s string) (*rail.User, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, &mixin.FieldError{Field: mixin.FieldRecipient, Reason: "empty"}
	}
	var u *rail.User
	var err error
	if mixin.IsMixinID(s) {
		u, err = d.rail.UserByMixinID(ctx, s)
	} else {
		id, perr := mixin.ParseUUID(mixin.FieldRecipient, s)
		if perr != nil {
			return nil, &mixin.FieldError{Field: mixin.FieldRecipient, Reason: "type a user UUID or a Mixin ID number"}
		}
		u, err = d.rail.User(ctx, id)
	}
	if err != nil {
		if errors.Is(err, rail.ErrNotFound) {
			return nil, &mixin.FieldError{Field: mixin.FieldRecipient, Reason: "no such user"}
		}
		var fe *mixin.FieldError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("looking up the recipient: %w", err)
	}
	// Ids are kept in canonical form so that the reviewed payout is posted
	// and journalled exactly as reviewed.
	id, err := mixin.ParseUUID(mixin.FieldRecipient, u.UserID)
	if err != nil {
		return nil, fmt.Errorf("the API answered with a user id that is not a UUID: %q", u.UserID)
	}
	if !mixin.IsMixinID(s) && id != strings.ToLower(s) {
		return nil, fmt.Errorf("the API answered about user %s when asked for %s", id, s)
	}
	u.UserID = id
	if u.UserID == d.cfg.Self {
		return nil, &mixin.FieldError{Field: mixin.FieldRecipient, Reason: "that is this profile's own account"}
	}
	return u, nil
}

func (d *Desk) addWarnings(ctx context.Context, r *Review) error {
	now := r.ReviewedAt
	since := now.Add(-d.cfg.DuplicateWindow)

	// The journal knows what this desk sent; the server also knows what
	// other tools sent from this account.
	var dupAt time.Time
	dupElsewhere := false // the latest alike payout is not this journal's
	seen := map[string]bool{}
	for _, e := range d.journal.Since(since) {
		in := e.Intent
		if e.State == journal.StateFailed || in.Trace == r.TraceID || in.RecipientID != r.Recipient.UserID || in.AssetID != r.Asset.AssetID {
			continue
		}
		seen[in.Trace] = true
		if a, err := decimal.NewFromString(in.Amount); err == nil && a.Equal(r.Amount) && in.Time.After(dupAt) {
			dupAt, dupElsewhere = in.Time, false
		}
	}
	moves, err := d.rail.Movements(ctx, rail.Query{Opponent: r.Recipient.UserID})
	if err != nil {
		return fmt.Errorf("reading recent payouts to the recipient: %w", err)
	}
	paidBefore := d.journal.HasPaid(r.Recipient.UserID)
	for _, s := range moves {
		a, err := decimal.NewFromString(s.Amount)
		if err != nil || !a.IsNegative() || s.OpponentID != r.Recipient.UserID {
			continue
		}
		paidBefore = true
		if s.AssetID == r.Asset.AssetID && !s.CreatedAt.Before(since) && a.Neg().Equal(r.Amount) && !seen[s.Key] && s.Key != r.TraceID {
			if s.CreatedAt.After(dupAt) {
				dupAt, dupElsewhere = s.CreatedAt, true
			}
		}
	}
	// Names in warnings are cut: a warning is shown whole, and a long name
	// would push the rest of the confirmation out of sight.
	name, symbol := shortText(r.Recipient.FullName, maxWarnName), shortText(r.Asset.Symbol, maxWarnSymbol)
	if !dupAt.IsZero() {
		by := ""
		if dupElsewhere {
			by = " from this account by another console or tool"
		}
		r.Warnings = append(r.Warnings, Warning{WarnDuplicate, fmt.Sprintf("%s %s was already sent to %s%s %s ago.",
			GroupDigits(r.AmountText), symbol, name, by, ago(now.Sub(dupAt)))})
	}
	if !paidBefore {
		r.Warnings = append(r.Warnings, Warning{WarnFirstTime, fmt.Sprintf("First payout to %s (Mixin ID %s): check the recipient.",
			name, r.Recipient.IdentityNumber)})
	}
	if like, what := IDLikeText(r.Recipient.FullName); like != "" {
		r.Warnings = append(r.Warnings, Warning{WarnNameLikeID, fmt.Sprintf("The name “%s” contains %s, which reads as %s: anyone may put that in a name. This recipient's Mixin ID is %s.",
			name, shortText(like, maxWarnName), what, r.Recipient.IdentityNumber)})
	}
	if d.cfg.Book != nil {
		switch saved := r.BookEntry; {
		case saved == nil:
			r.Warnings = append(r.Warnings, Warning{WarnNotInBook, fmt.Sprintf("%s (Mixin ID %s) is not in the address book.",
				name, r.Recipient.IdentityNumber)})
		case saved.FullName != "" && saved.FullName != r.Recipient.FullName:
			r.Warnings = append(r.Warnings, Warning{WarnNameChanged, fmt.Sprintf("The address book has this recipient as %s; the server now says %s.",
				shortText(saved.FullName, maxWarnName), name)})
		}
	}
	large := d.cfg.LargeUSD
	if large == "" {
		large = DefaultLargeUSD
	}
	if th, err := decimal.NewFromString(large); err == nil && th.IsPositive() && !r.PriceUSD.IsPositive() {
		r.Warnings = append(r.Warnings, Warning{WarnLarge, fmt.Sprintf("%s has no USD price: the large-amount check (%s USD) could not be made.",
			symbol, GroupDigits(th.String()))})
	} else if err == nil && th.IsPositive() && r.ValueUSD.GreaterThanOrEqual(th) {
		r.Warnings = append(r.Warnings, Warning{WarnLarge, fmt.Sprintf("Large payout: about %s USD (threshold %s USD).",
			GroupDigits(r.ValueUSD.StringFixed(2)), GroupDigits(th.String()))})
	}
	var doubt int
	for _, in := range d.journal.InDoubt() {
		if in.Trace != r.TraceID {
			doubt++
		}
	}
	if doubt > 0 {
		text := fmt.Sprintf("%d earlier transfer(s) of this profile are still in doubt; they are settled by trace before this one is sent.", doubt)
		if until, _ := d.pinBusy(d.now()); !until.IsZero() {
			text = fmt.Sprintf("%d earlier transfer(s) of this profile are still in doubt, and a post may still reach the server until %s: this payout cannot be sent before then (confirming earlier is refused, nothing is sent).", doubt, until.Local().Format("15:04:05"))
		}
		r.Warnings = append(r.Warnings, Warning{WarnInDoubt, text})
	}
	return nil
}

// How much of a name or a symbol a warning or a field error quotes.
const (
	maxWarnName   = 64
	maxWarnSymbol = 16
)

// shortText is outside text as a warning quotes it: display-safe
// (mixin.DisplayText), on one line with every run of spaces made one, and
// cut to n characters with an ellipsis.
func shortText(s string, n int) string {
	s = strings.Join(strings.Fields(mixin.DisplayText(s)), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

var (
	uuidLike   = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	parenDigit = regexp.MustCompile(`[(（\[]\s*\p{Nd}+\s*[)）\]]`)
	digitRun   = regexp.MustCompile(`\p{Nd}{5,}`)
)

// IDLikeText finds in a name, as it reads once cleaned, the first part that
// reads as an id: a user id (a UUID), digits in brackets ("(37160001)") or
// a run of five digits or more, which both read as a Mixin ID number. It
// returns that part and what it reads as ("a user id", "a Mixin ID"), or
// "" when there is none. A name is chosen by its owner: "Bob (37160001)"
// must not pass for the account numbered 37160001.
func IDLikeText(name string) (like, what string) {
	s := mixin.DisplayText(name)
	if m := uuidLike.FindString(s); m != "" {
		return m, "a user id"
	}
	if m := parenDigit.FindString(s); m != "" {
		return m, "a Mixin ID"
	}
	if m := digitRun.FindString(s); m != "" {
		return m, "a Mixin ID"
	}
	return "", ""
}

func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	default:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
