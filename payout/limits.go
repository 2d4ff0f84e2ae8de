package payout

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/mixin"
)

// DailyWindow is the span of the daily cap: the payouts recorded in the 24
// hours up to now (one recorded exactly 24 hours ago included).
const DailyWindow = 24 * time.Hour

// CapKind names a cap of the policy.
type CapKind string

// The caps a payout is checked against.
const (
	CapPerTransfer CapKind = "per-transfer"
	CapDaily       CapKind = "daily"
)

// ErrOverCap matches every *CapError.
var ErrOverCap = errors.New("payout: over a cap of the profile's policy")

// CapError refuses a payout over a cap of the profile's policy: nothing was
// sent and nothing was recorded. A payout exactly at a cap passes. There is
// no override: the cap is changed in the config file, or the payout made
// smaller or later.
type CapError struct {
	Kind    CapKind
	AssetID string
	Symbol  string
	Amount  decimal.Decimal // the refused payout
	Cap     decimal.Decimal
	// Used is what the asset's payouts of the last 24 hours (done and in
	// doubt, not failed) add up to; zero for the per-transfer cap.
	Used decimal.Decimal
	// Left is what remains of the daily cap before this payout (never
	// negative); for the per-transfer cap, the cap itself.
	Left decimal.Decimal
}

// Reason is the refusal in the words of the amount field.
func (e *CapError) Reason() string {
	if e.Kind == CapPerTransfer {
		return fmt.Sprintf("over the per-transfer cap of %s %s", e.Cap, e.Symbol)
	}
	return fmt.Sprintf("over the daily cap %s %s: used %s, left %s (last 24 h, payouts in doubt included)",
		e.Cap, e.Symbol, e.Used, e.Left)
}

func (e *CapError) Error() string {
	return fmt.Sprintf("payout: %s %s is %s; nothing was sent", e.Amount, e.Symbol, e.Reason())
}

// Is makes errors.Is(err, ErrOverCap) true.
func (e *CapError) Is(target error) bool { return target == ErrOverCap }

// CapStatus is where a reviewed payout stands against its asset's caps.
type CapStatus struct {
	PerTransfer string // the per-transfer cap, "" for none
	Daily       string // the daily cap, "" for none
	// Used is what the asset's payouts of the last 24 hours (done and in
	// doubt) add up to, this one not included.
	Used decimal.Decimal
	// LeftAfter is what remains of the daily cap after this payout; zero
	// when there is no daily cap.
	LeftAfter decimal.Decimal
}

// assetCaps is an AssetLimit parsed.
type assetCaps struct {
	perTransfer, daily       decimal.Decimal
	hasPerTransfer, hasDaily bool
}

// parseLimits checks the caps of a Config: asset ids that are UUIDs (given
// once each, in any case), caps that are amounts or "". It returns them
// keyed by canonical id, as text and parsed.
func parseLimits(in map[string]AssetLimit) (map[string]AssetLimit, map[string]assetCaps, error) {
	if len(in) == 0 {
		return nil, nil, nil
	}
	text := make(map[string]AssetLimit, len(in))
	caps := make(map[string]assetCaps, len(in))
	for k, lim := range in {
		id, err := mixin.ParseUUID(mixin.FieldAsset, k)
		if err != nil {
			return nil, nil, fmt.Errorf("payout: limits: asset key %q: %w", shortCell(k), err)
		}
		if _, dup := text[id]; dup {
			return nil, nil, fmt.Errorf("payout: limits: asset %s is given twice", id)
		}
		var c assetCaps
		if lim.PerTransfer != "" {
			if c.perTransfer, lim.PerTransfer, err = mixin.ParseAmount(lim.PerTransfer); err != nil {
				return nil, nil, fmt.Errorf("payout: limits of asset %s: per-transfer cap: %w", id, err)
			}
			c.hasPerTransfer = true
		}
		if lim.Daily != "" {
			if c.daily, lim.Daily, err = mixin.ParseAmount(lim.Daily); err != nil {
				return nil, nil, fmt.Errorf("payout: limits of asset %s: daily cap: %w", id, err)
			}
			c.hasDaily = true
		}
		if c.hasDaily && c.hasPerTransfer && c.daily.LessThan(c.perTransfer) {
			return nil, nil, fmt.Errorf("payout: limits of asset %s: the daily cap %s is lower than the per-transfer cap %s; one of them is a mistake", id, lim.Daily, lim.PerTransfer)
		}
		text[id], caps[id] = lim, c
	}
	return text, caps, nil
}

// checkCaps checks a payout of amount of assetID (canonical) against the
// caps at now. The payout with trace is not counted in what was used (it
// is the one being checked). It returns the status (nil when the asset has
// no cap) and a *CapError, without Symbol, when a cap is exceeded; err is
// set when what was used cannot be known.
func (d *Desk) checkCaps(assetID string, amount decimal.Decimal, now time.Time, trace string) (st *CapStatus, over *CapError, err error) {
	c, ok := d.caps[assetID]
	if !ok || (!c.hasPerTransfer && !c.hasDaily) {
		return nil, nil, nil
	}
	lim := d.cfg.Limits[assetID]
	st = &CapStatus{PerTransfer: lim.PerTransfer, Daily: lim.Daily}
	if c.hasPerTransfer && amount.GreaterThan(c.perTransfer) {
		return st, &CapError{Kind: CapPerTransfer, AssetID: assetID, Amount: amount, Cap: c.perTransfer, Left: c.perTransfer}, nil
	}
	if !c.hasDaily {
		return st, nil, nil
	}
	if st.Used, err = d.dailyUsed(assetID, now, trace); err != nil {
		return nil, nil, err
	}
	left := decimal.Max(c.daily.Sub(st.Used), decimal.Zero)
	if amount.GreaterThan(left) {
		return st, &CapError{Kind: CapDaily, AssetID: assetID, Amount: amount, Cap: c.daily, Used: st.Used, Left: left}, nil
	}
	st.LeftAfter = left.Sub(amount)
	return st, nil, nil
}

// dailyUsed adds up the payouts of assetID recorded in the DailyWindow up to
// now that are done or in doubt (failed ones moved nothing), and every
// payout still in doubt whatever its age, leaving out the one with trace. An intent stamped after now (a clock that went back)
// counts too.
func (d *Desk) dailyUsed(assetID string, now time.Time, trace string) (decimal.Decimal, error) {
	used := decimal.Zero
	entries := d.journal.Since(now.Add(-DailyWindow))
	// A payout still in doubt may be posted again (with its trace) at any
	// time, however old its intent: it counts until it is settled.
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		seen[e.Intent.Trace] = true
	}
	for _, in := range d.journal.InDoubt() {
		if !seen[in.Trace] {
			entries = append(entries, journal.Entry{Intent: in, State: journal.StateInDoubt})
		}
	}
	for _, e := range entries {
		in := e.Intent
		if e.State == journal.StateFailed || in.AssetID != assetID || in.Trace == trace || d.IsMerge(in) {
			continue // a merge pays nobody
		}
		// The journal holds only plain decimals; were one not to parse,
		// the cap could not be checked, and the payout is refused.
		a, err := decimal.NewFromString(in.Amount)
		if err != nil {
			return decimal.Zero, fmt.Errorf("payout: the daily cap cannot be checked: the journal's payout %s has amount %q", in.Trace, shortCell(in.Amount))
		}
		used = used.Add(a)
	}
	return used, nil
}
