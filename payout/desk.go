package payout

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"mixdesk/addressbook"
	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/payout/rail"
)

// Config holds the review rules of a profile.
type Config struct {
	// Self is the profile's own user id (the app's client id): a payout to
	// it is refused.
	Self string
	// LargeUSD is the large-amount threshold in USD; a payout worth at least
	// this much gets a warning. Zero turns the warning off.
	LargeUSD string
	// DuplicateWindow is how far back "the same amount to the same recipient"
	// is looked for. Zero means 6 hours.
	DuplicateWindow time.Duration
	// Limits holds the caps per asset, keyed by asset UUID; an asset without
	// an entry has no cap. A payout over a cap is refused by Review and by
	// Send (see CapError).
	Limits map[string]AssetLimit
	// AddressBookOnly refuses every recipient that is not in Book. It needs
	// a Book.
	AddressBookOnly bool
	// PostWindow is how long after a post of a payment the rail may still
	// execute it (see DefaultPostWindow, used when zero).
	PostWindow time.Duration
	// Book is the profile's address book; nil means none: no book warnings
	// in reviews.
	Book *addressbook.Book
	// Clock is the desk's clock; nil means time.Now. Tests that cross
	// windows of hours share one settable clock with the rail and journal.
	Clock func() time.Time
}

// DefaultLargeUSD is the large-amount threshold when none is configured.
const DefaultLargeUSD = "1000"

// DefaultDuplicateWindow is the look-back of the duplicate-payout warning.
const DefaultDuplicateWindow = 6 * time.Hour

// Desk is the money logic of one profile: it reviews drafts and sends
// reviewed payouts through the journal, paying through a rail (rail.Rail).
// It is safe for concurrent use; sends are serialised.
type Desk struct {
	rail    rail.Rail
	journal *journal.Journal
	cfg     Config
	now     func() time.Time

	caps map[string]assetCaps // parsed Config.Limits, by canonical asset id

	sendMu   sync.Mutex          // one send or settlement at a time
	upMu     sync.Mutex          // guards unposted and verifyBusy
	unposted map[string]struct{} // see markUnposted
	// verifyBusy is the end of the window of a PIN check whose answer was
	// lost (it may still reach the server).
	verifyBusy time.Time
}

// NewDeskOn builds a desk that pays through r, on an open journal. A
// configuration it cannot enforce (a malformed threshold or cap,
// AddressBookOnly without a book) is an error: nothing is left unchecked
// silently.
func NewDeskOn(r rail.Rail, j *journal.Journal, cfg Config) (*Desk, error) {
	if r == nil || j == nil {
		return nil, errors.New("payout: a desk needs an API client and an open journal")
	}
	self, err := mixin.ParseUUID("profile client id", cfg.Self)
	if err != nil {
		return nil, err
	}
	cfg.Self = self
	if cfg.DuplicateWindow == 0 {
		cfg.DuplicateWindow = DefaultDuplicateWindow
	}
	if cfg.LargeUSD != "" && cfg.LargeUSD != "0" { // "0" turns the warning off
		if _, _, err := mixin.ParseAmount(cfg.LargeUSD); err != nil {
			return nil, fmt.Errorf("payout: large-amount threshold: %w", err)
		}
	}
	if cfg.AddressBookOnly && cfg.Book == nil {
		return nil, errors.New("payout: the profile accepts only recipients of its address book, but no address book was given")
	}
	limits, caps, err := parseLimits(cfg.Limits)
	if err != nil {
		return nil, err
	}
	cfg.Limits = limits
	now := cfg.Clock
	if now == nil {
		now = time.Now
	}
	return &Desk{rail: r, journal: j, cfg: cfg, caps: caps, now: now}, nil
}

// Rail is the rail the desk pays through.
func (d *Desk) Rail() rail.Rail { return d.rail }

// NeedsPIN reports whether paying needs the operator's PIN (the rail's
// capability): a confirmation asks for it only then.
func (d *Desk) NeedsPIN() bool { return d.rail.NeedsPIN() }

// Journal is the desk's journal.
func (d *Desk) Journal() *journal.Journal { return d.journal }

// Config is the desk's configuration (with its own copy of Limits).
func (d *Desk) Config() Config {
	c := d.cfg
	if c.Limits != nil {
		c.Limits = make(map[string]AssetLimit, len(d.cfg.Limits))
		for k, v := range d.cfg.Limits {
			c.Limits[k] = v
		}
	}
	return c
}
