package policy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/shopspring/decimal"

	"mixdesk/internal/errtext"
	"mixdesk/mixin"
	"mixdesk/payout"
)

// Policy is the treasury policy of one profile: the review thresholds, the
// caps and the idle lock, read from the config file by Load.
type Policy struct {
	// LargeUSD is the large-amount threshold in USD; "0" turns the warning
	// off.
	LargeUSD string
	// DuplicateWindow is the look-back of the duplicate-payout warning.
	DuplicateWindow time.Duration
	// IdleLock is how long the console may sit without a key press before
	// it locks; zero turns the lock off.
	IdleLock time.Duration
	// AddressBookOnly refuses every recipient that is not in the profile's
	// address book.
	AddressBookOnly bool
	// Limits holds the caps per asset, keyed by canonical asset UUID; an
	// asset without an entry has no cap.
	Limits map[string]payout.AssetLimit
}

// DefaultIdleLock is the idle lock when none is configured.
const DefaultIdleLock = 5 * time.Minute

// MinIdleLock is the shortest idle lock the config file may set (other than
// "0", which turns it off).
const MinIdleLock = 30 * time.Second

// maxConfigBytes bounds the size of a config file.
const maxConfigBytes = 1 << 20

// Default is the policy of a profile when the config file does not exist:
// large-amount warning at 1000 USD, duplicate window 6 h, idle lock 5 min,
// any recipient, no caps.
func Default() Policy {
	return Policy{LargeUSD: payout.DefaultLargeUSD, DuplicateWindow: payout.DefaultDuplicateWindow, IdleLock: DefaultIdleLock}
}

// Apply returns c with the policy's review rules in it: LargeUSD,
// DuplicateWindow, Limits (a copy) and AddressBookOnly. Self and Book are
// kept as they are.
func (p Policy) Apply(c payout.Config) payout.Config {
	c.LargeUSD = p.LargeUSD
	c.DuplicateWindow = p.DuplicateWindow
	c.AddressBookOnly = p.AddressBookOnly
	c.Limits = nil
	if len(p.Limits) > 0 {
		c.Limits = make(map[string]payout.AssetLimit, len(p.Limits))
		for k, v := range p.Limits {
			c.Limits[k] = v
		}
	}
	return c
}

// DefaultPath is the config file in the OS config directory:
// $XDG_CONFIG_HOME/mixdesk/config.toml (~/.config/mixdesk/config.toml) on
// Linux, ~/Library/Application Support/mixdesk/config.toml on macOS,
// %AppData%\mixdesk\config.toml on Windows.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory: %w", err)
	}
	return filepath.Join(dir, "mixdesk", "config.toml"), nil
}

// ConfigError is a problem in the config file: where it is and what is
// wrong. Line is 1-based, 0 when the problem has no line (the file cannot
// be read).
type ConfigError struct {
	Path   string
	Line   int
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Reason)
}

// Load reads the policy of profile from the config file at path. A missing
// file gives Default(). Anything else that is not a valid config file, in
// any of its profiles' tables, is a *ConfigError with the line and the
// reason: nothing falls back to a default silently. With profile "" the
// file is checked and its top level returned.
//
// # Config file
//
// TOML, every key optional. Amounts are quoted decimal strings (digits and
// at most 8 after the point, never a TOML number: money is not a float);
// durations are quoted Go durations ("90s", "5m", "6h"). The top level
// applies to every profile; a [profiles.NAME] table overrides it for the
// keyring profile NAME, key by key. Limits are merged per asset: a profile's
// table for an asset replaces the top-level caps of that asset entirely (a
// cap it leaves out is no cap for that profile); other assets keep the
// top-level caps.
//
//	# Large-amount warning at or above this USD value; "0" turns it off.
//	large_usd = "1000"
//	# Look-back of the "same amount to the same recipient" warning.
//	duplicate_window = "6h"
//	# Lock the console after this long without a key press; "0" = never.
//	idle_lock = "5m"
//	# Refuse recipients that are not in the profile's address book.
//	address_book_only = false
//
//	# Caps per asset, keyed by asset UUID (here USDT). A payout over
//	# per_transfer is refused; so is one that would take the payouts of the
//	# last 24 hours (done and in doubt) over daily.
//	[limits."4d8c508b-91c5-375b-92b0-ee702ed2dac5"]
//	per_transfer = "5000"
//	daily = "20000"
//
//	[profiles.payroll]
//	address_book_only = true
//	idle_lock = "2m"
//
//	[profiles.payroll.limits."4d8c508b-91c5-375b-92b0-ee702ed2dac5"]
//	per_transfer = "2000"
//	daily = "10000"
//
// Unknown keys, keys in the wrong case, TOML numbers for amounts, amounts
// with more than 8 decimals or a sign, durations without a unit, a negative
// duration, a duplicate_window of zero, an idle_lock under 30s (other than
// "0"), asset keys that are not UUIDs (or name one asset twice) and profile
// names mixdesk cannot have are all errors.
func Load(path, profile string) (Policy, error) {
	cfgErr := func(line int, format string, a ...any) error {
		return &ConfigError{Path: path, Line: line, Reason: fmt.Sprintf(format, a...)}
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return Default(), nil
	}
	if err != nil {
		return Policy{}, cfgErr(0, "cannot be read: %v", unwrapPath(err))
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return Policy{}, cfgErr(0, "cannot be read: %v", unwrapPath(err))
	} else if !fi.Mode().IsRegular() {
		return Policy{}, cfgErr(0, "not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return Policy{}, cfgErr(0, "cannot be read: %v", unwrapPath(err))
	}
	if len(data) > maxConfigBytes {
		return Policy{}, cfgErr(0, "larger than a config file can be (%d bytes)", maxConfigBytes)
	}
	if !utf8.Valid(data) {
		return Policy{}, cfgErr(errtext.LineAt(data, int64(invalidUTF8At(data))), "not UTF-8 text")
	}
	if line, ok := tooDeep(data); !ok {
		return Policy{}, cfgErr(line, "tables or keys nest deeper than a config file needs (at most %d levels)", maxConfigDepth)
	}
	cf, err := parseConfig(string(data))
	if err != nil {
		var pe *posError
		if errors.As(err, &pe) {
			return Policy{}, cfgErr(pe.line, "%s", pe.reason)
		}
		return Policy{}, cfgErr(0, "%v", err)
	}
	if pe := capsProblem(string(data), cf); pe != nil {
		return Policy{}, cfgErr(pe.line, "%s", pe.reason)
	}
	pol := cf.top.apply(Default())
	if profile != "" {
		if s, ok := cf.profiles[profile]; ok {
			pol = s.apply(pol)
		}
	}
	return pol, nil
}

// maxConfigDepth bounds how deep tables and keys nest: the deepest the
// format uses is profiles.NAME.limits."ASSET".key (5). A deeper file is a
// mistake, and would only make the error search slow.
const maxConfigDepth = 8

// tooDeep scans the file for a table header, dotted key or inline table
// nesting deeper than maxConfigDepth; it returns the line and false when
// one does. Dots and braces inside quotes do not count.
func tooDeep(data []byte) (int, bool) {
	for i, line := range strings.Split(string(data), "\n") {
		depth, braces, quote := 1, 0, byte(0)
		for j := 0; j < len(line); j++ {
			c := line[j]
			switch {
			case quote != 0:
				if c == '\\' && quote == '"' {
					j++
				} else if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '#':
				j = len(line)
			case c == '.':
				depth++
			case c == '{':
				braces++
			}
		}
		if depth > maxConfigDepth || braces > maxConfigDepth {
			return i + 1, false
		}
	}
	return 0, true
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// settings is one table of the config file: the top level or a profile's.
// A nil field was not given.
type settings struct {
	largeUSD        *string
	duplicateWindow *time.Duration
	idleLock        *time.Duration
	addressBookOnly *bool
	limits          map[string]payout.AssetLimit
}

// apply overrides p with what s gives.
func (s settings) apply(p Policy) Policy {
	if s.largeUSD != nil {
		p.LargeUSD = *s.largeUSD
	}
	if s.duplicateWindow != nil {
		p.DuplicateWindow = *s.duplicateWindow
	}
	if s.idleLock != nil {
		p.IdleLock = *s.idleLock
	}
	if s.addressBookOnly != nil {
		p.AddressBookOnly = *s.addressBookOnly
	}
	if len(s.limits) > 0 {
		merged := make(map[string]payout.AssetLimit, len(p.Limits)+len(s.limits))
		for k, v := range p.Limits {
			merged[k] = v
		}
		for k, v := range s.limits {
			merged[k] = v
		}
		p.Limits = merged
	}
	return p
}

// capsProblem refuses an asset whose daily cap is lower than its
// per-transfer cap, in the top level or in any profile's table (each
// asset's table stands alone: a profile's replaces the top level's, so the
// pair is checked where it is written). Such a pair is a typing mistake:
// one payout could move more than a whole day may. The problem is placed
// at the daily key's line.
func capsProblem(data string, cf *configFile) *posError {
	check := func(at toml.Key, limits map[string]payout.AssetLimit) *posError {
		for _, id := range sortedKeys(limits) {
			lim := limits[id]
			if lim.Daily == "" || lim.PerTransfer == "" {
				continue
			}
			daily, derr := decimal.NewFromString(lim.Daily)
			per, perr := decimal.NewFromString(lim.PerTransfer)
			if derr != nil || perr != nil || !daily.LessThan(per) {
				continue
			}
			return &posError{line: capLine(data, at, id), reason: fmt.Sprintf(
				"%s: asset %s has a daily cap of %s, lower than its per-transfer cap of %s (one payout could move more than a day may); make %s at least %s",
				append(slices.Clone(at), keyLimits), id, payout.GroupDigits(lim.Daily), payout.GroupDigits(lim.PerTransfer), keyDaily, keyPerTransfer)}
		}
		return nil
	}
	if pe := check(nil, cf.top.limits); pe != nil {
		return pe
	}
	for _, name := range sortedKeys(cf.profiles) {
		if pe := check(toml.Key{keyProfiles, name}, cf.profiles[name].limits); pe != nil {
			return pe
		}
	}
	return nil
}

// capLine is the line of the daily cap of asset id (canonical) in the
// settings table at (nil for the top level), 0 when it cannot be found.
// It decodes the file again: it runs only for a problem.
func capLine(data string, at toml.Key, id string) int {
	var root map[string]toml.Primitive
	md, err := toml.Decode(data, &root)
	if err != nil {
		return 0
	}
	r := newConfigReader(md)
	t := root
	path := append(slices.Clone(at), keyLimits)
	for i, k := range path {
		prim, ok := t[k]
		if !ok {
			return 0
		}
		if t, err = r.table(path[:i+1], prim); err != nil {
			return 0
		}
	}
	for k, prim := range t {
		if got, err := mixin.ParseUUID(mixin.FieldAsset, k); err != nil || got != id {
			continue
		}
		caps, err := r.table(append(slices.Clone(path), k), prim)
		if err != nil {
			return 0
		}
		if daily, ok := caps[keyDaily]; ok {
			return r.lineOf(daily)
		}
	}
	return 0
}
