package payout

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

	"mixdesk/mixin"
)

// AssetLimit is the caps of one asset, as decimal strings in the asset's
// unit; "" means no cap.
type AssetLimit struct {
	// PerTransfer is the most one payout may move.
	PerTransfer string
	// Daily is the most the payouts of a rolling 24 hours may move
	// together, counting those done and those still in doubt.
	Daily string
}

// Policy is the treasury policy of one profile: the review thresholds, the
// caps and the idle lock, read from the config file by LoadPolicy.
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
	Limits map[string]AssetLimit
}

// DefaultIdleLock is the idle lock when none is configured.
const DefaultIdleLock = 5 * time.Minute

// MinIdleLock is the shortest idle lock the config file may set (other than
// "0", which turns it off).
const MinIdleLock = 30 * time.Second

// maxConfigBytes bounds the size of a config file.
const maxConfigBytes = 1 << 20

// DefaultPolicy is the policy of a profile when the config file does not
// exist: large-amount warning at 1000 USD, duplicate window 6 h, idle lock
// 5 min, any recipient, no caps.
func DefaultPolicy() Policy {
	return Policy{LargeUSD: DefaultLargeUSD, DuplicateWindow: DefaultDuplicateWindow, IdleLock: DefaultIdleLock}
}

// Apply returns c with the policy's review rules in it: LargeUSD,
// DuplicateWindow, Limits (a copy) and AddressBookOnly. Self and Book are
// kept as they are.
func (p Policy) Apply(c Config) Config {
	c.LargeUSD = p.LargeUSD
	c.DuplicateWindow = p.DuplicateWindow
	c.AddressBookOnly = p.AddressBookOnly
	c.Limits = nil
	if len(p.Limits) > 0 {
		c.Limits = make(map[string]AssetLimit, len(p.Limits))
		for k, v := range p.Limits {
			c.Limits[k] = v
		}
	}
	return c
}

// DefaultConfigPath is the config file in the OS config directory:
// $XDG_CONFIG_HOME/mixdesk/config.toml (~/.config/mixdesk/config.toml) on
// Linux, ~/Library/Application Support/mixdesk/config.toml on macOS,
// %AppData%\mixdesk\config.toml on Windows.
func DefaultConfigPath() (string, error) {
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

// LoadPolicy reads the policy of profile from the config file at path. A
// missing file gives DefaultPolicy(). Anything else that is not a valid
// config file, in any of its profiles' tables, is a *ConfigError with the
// line and the reason: nothing falls back to a default silently. With
// profile "" the file is checked and its top level returned.
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
func LoadPolicy(path, profile string) (Policy, error) {
	cfgErr := func(line int, format string, a ...any) error {
		return &ConfigError{Path: path, Line: line, Reason: fmt.Sprintf(format, a...)}
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return DefaultPolicy(), nil
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
		return Policy{}, cfgErr(lineAt(data, int64(invalidUTF8At(data))), "not UTF-8 text")
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
	pol := cf.top.apply(DefaultPolicy())
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
	limits          map[string]AssetLimit
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
		merged := make(map[string]AssetLimit, len(p.Limits)+len(s.limits))
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

// configFile is a parsed and checked config file.
type configFile struct {
	top      settings
	profiles map[string]settings
}

// posError is a problem found at a line of the file.
type posError struct {
	line   int
	reason string
}

func (e *posError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.reason) }

// Keys of a settings table.
const (
	keyLargeUSD        = "large_usd"
	keyDuplicateWindow = "duplicate_window"
	keyIdleLock        = "idle_lock"
	keyAddressBookOnly = "address_book_only"
	keyLimits          = "limits"
	keyProfiles        = "profiles"
	keyPerTransfer     = "per_transfer"
	keyDaily           = "daily"
)

// configReader walks a decoded file. Values are kept as toml.Primitive so
// that each one is decoded, and each problem located, by its exact key:
// TOML keys are case-sensitive, and the decoder's struct matching is not.
type configReader struct {
	md toml.MetaData
}

// parseConfig parses and checks a whole config file.
func parseConfig(data string) (*configFile, error) {
	var root map[string]toml.Primitive
	md, err := toml.Decode(data, &root)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &posError{line: pe.Position.Line, reason: "not valid TOML: " + pe.Message}
		}
		return nil, fmt.Errorf("not valid TOML: %v", err)
	}
	r := &configReader{md: md}
	cf := &configFile{profiles: map[string]settings{}}
	top, err := r.settings(nil, root, true)
	if err != nil {
		return nil, err
	}
	cf.top = top
	if prim, ok := root[keyProfiles]; ok {
		key := toml.Key{keyProfiles}
		profiles, err := r.table(key, prim)
		if err != nil {
			return nil, err
		}
		for _, name := range sortedKeys(profiles) {
			pkey := append(slices.Clone(key), name)
			if reason := profileNameProblem(name); reason != "" {
				return nil, r.errAt(profiles[name], "%s: %s", pkey, reason)
			}
			table, err := r.table(pkey, profiles[name])
			if err != nil {
				return nil, err
			}
			s, err := r.settings(pkey, table, false)
			if err != nil {
				return nil, err
			}
			cf.profiles[name] = s
		}
	}
	// Every key was read above; anything the decoder saw and nobody read is
	// a key this mixdesk does not know.
	if left := md.Undecoded(); len(left) > 0 {
		return nil, &posError{line: 0, reason: fmt.Sprintf("unknown key %s", left[0])}
	}
	return cf, nil
}

// settings reads one settings table; top allows the profiles key.
func (r *configReader) settings(at toml.Key, table map[string]toml.Primitive, top bool) (settings, error) {
	var s settings
	// Problems are reported for the key that comes first in the file.
	keys := r.fileOrder(table)
	for _, k := range keys {
		key := append(slices.Clone(at), k)
		prim := table[k]
		switch k {
		case keyLargeUSD:
			v, err := r.text(key, prim, `"1000"`)
			if err != nil {
				return s, err
			}
			if v != "0" {
				if reason := decimalProblem(v, `write "0" to turn the warning off`); reason != "" {
					return s, r.errAt(prim, "%s: %s", key, reason)
				}
				_, v, _ = mixin.ParseAmount(v)
			}
			s.largeUSD = &v
		case keyDuplicateWindow:
			d, err := r.duration(key, prim, `"6h"`)
			if err != nil {
				return s, err
			}
			if d == 0 {
				return s, r.errAt(prim, "%s: must be more than zero (the duplicate-payout warning cannot be turned off)", key)
			}
			s.duplicateWindow = &d
		case keyIdleLock:
			d, err := r.duration(key, prim, `"5m"`)
			if err != nil {
				return s, err
			}
			if d != 0 && d < MinIdleLock {
				return s, r.errAt(prim, "%s: %s is too short; at least %s, or \"0\" to turn the lock off", key, d, MinIdleLock)
			}
			s.idleLock = &d
		case keyAddressBookOnly:
			v, err := r.value(key, prim)
			if err != nil {
				return s, err
			}
			b, ok := v.(bool)
			if !ok {
				return s, r.errAt(prim, "%s: must be true or false (no quotes), not %s", key, tomlKind(v))
			}
			s.addressBookOnly = &b
		case keyLimits:
			limits, err := r.limits(key, prim)
			if err != nil {
				return s, err
			}
			s.limits = limits
		case keyProfiles:
			if !top {
				return s, r.errAt(prim, "%s: profiles cannot be nested in a profile", key)
			}
		default:
			return s, r.errAt(prim, "unknown key %s%s", key, suggestKey(k, top))
		}
	}
	return s, nil
}

// limits reads a limits table: one table of caps per asset UUID.
func (r *configReader) limits(at toml.Key, prim toml.Primitive) (map[string]AssetLimit, error) {
	assets, err := r.table(at, prim)
	if err != nil {
		return nil, err
	}
	out := make(map[string]AssetLimit, len(assets))
	seen := map[string]string{}
	for _, k := range r.fileOrder(assets) {
		key := append(slices.Clone(at), k)
		id, perr := mixin.ParseUUID(mixin.FieldAsset, k)
		if perr != nil || strings.TrimSpace(k) != k {
			return nil, r.errAt(assets[k], "%s: %q is not an asset UUID (like 4d8c508b-91c5-375b-92b0-ee702ed2dac5)", at, shortCell(k))
		}
		if first, dup := seen[id]; dup {
			return nil, r.errAt(assets[k], "%s: asset %s is given twice (also as %q)", at, id, first)
		}
		seen[id] = k
		caps, err := r.table(key, assets[k])
		if err != nil {
			return nil, err
		}
		var lim AssetLimit
		for _, c := range r.fileOrder(caps) {
			ckey := append(slices.Clone(key), c)
			if c != keyPerTransfer && c != keyDaily {
				return nil, r.errAt(caps[c], "unknown key %s (the caps of an asset are %s and %s)", ckey, keyPerTransfer, keyDaily)
			}
			v, err := r.text(ckey, caps[c], `"500"`)
			if err != nil {
				return nil, err
			}
			if reason := decimalProblem(v, "leave the key out for no cap"); reason != "" {
				return nil, r.errAt(caps[c], "%s: %s", ckey, reason)
			}
			_, v, _ = mixin.ParseAmount(v)
			if c == keyPerTransfer {
				lim.PerTransfer = v
			} else {
				lim.Daily = v
			}
		}
		out[id] = lim
	}
	return out, nil
}

// table decodes a value that must be a table.
func (r *configReader) table(at toml.Key, prim toml.Primitive) (map[string]toml.Primitive, error) {
	v, err := r.value(at, prim)
	if err != nil {
		return nil, err
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, r.errAt(prim, "%s must be a table, not %s", at, tomlKind(v))
	}
	var t map[string]toml.Primitive
	if err := r.md.PrimitiveDecode(prim, &t); err != nil {
		return nil, r.errAt(prim, "%s: %v", at, err)
	}
	return t, nil
}

// text decodes a value that must be a string; example shows how to write it.
func (r *configReader) text(at toml.Key, prim toml.Primitive, example string) (string, error) {
	v, err := r.value(at, prim)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", r.errAt(prim, "%s must be a quoted string such as %s = %s, not %s", at, at[len(at)-1], example, tomlKind(v))
	}
	return s, nil
}

// duration decodes a quoted duration: "0", or a Go duration with units.
func (r *configReader) duration(at toml.Key, prim toml.Primitive, example string) (time.Duration, error) {
	s, err := r.text(at, prim, example)
	if err != nil {
		return 0, err
	}
	d, perr := time.ParseDuration(s)
	switch {
	case perr != nil:
		return 0, r.errAt(prim, "%s: %q is not a duration (write it with a unit, like %s)", at, shortCell(s), example)
	case d < 0:
		return 0, r.errAt(prim, "%s: must not be negative", at)
	}
	return d, nil
}

// value decodes any value as the TOML decoder sees it.
func (r *configReader) value(at toml.Key, prim toml.Primitive) (any, error) {
	var v any
	if err := r.md.PrimitiveDecode(prim, &v); err != nil {
		return nil, r.errAt(prim, "%s: %v", at, err)
	}
	return v, nil
}

// errAt is a problem at the line of the key whose value is prim.
func (r *configReader) errAt(prim toml.Primitive, format string, a ...any) error {
	return &posError{line: r.lineOf(prim), reason: fmt.Sprintf(format, a...)}
}

// lineProbe is decoded into to learn where a key is: it always refuses, and
// the decoder's refusal carries the key's position.
type lineProbe struct{}

var errProbe = errors.New("probe")

// UnmarshalTOML refuses every value.
func (*lineProbe) UnmarshalTOML(any) error { return errProbe }

// lineOf is the line where the value prim was given. A table made only by
// the headers of its sub-tables ([limits."…"] makes limits) has no line of
// its own: the first line of its contents is used. 0 when unknown.
func (r *configReader) lineOf(prim toml.Primitive) int {
	var pe toml.ParseError
	if err := r.md.PrimitiveDecode(prim, &lineProbe{}); errors.As(err, &pe) && pe.Position.Line > 0 {
		return pe.Position.Line
	}
	var t map[string]toml.Primitive
	if r.md.PrimitiveDecode(prim, &t) != nil {
		return 0
	}
	first := 0
	for _, p := range t {
		if l := r.lineOf(p); l > 0 && (first == 0 || l < first) {
			first = l
		}
	}
	return first
}

// fileOrder returns the keys of a table in the order they come in the file
// (by line, then by name), so that the first problem reported is the first
// one in the file.
func (r *configReader) fileOrder(t map[string]toml.Primitive) []string {
	keys := sortedKeys(t)
	lines := make(map[string]int, len(keys))
	for _, k := range keys {
		lines[k] = r.lineOf(t[k])
	}
	slices.SortStableFunc(keys, func(a, b string) int { return lines[a] - lines[b] })
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// decimalProblem says what is wrong with an amount of the config file, or
// "" when it is a valid amount (mixin.ParseAmount's rules). ifEmpty says
// what to write instead of an empty string.
func decimalProblem(s, ifEmpty string) string {
	if strings.HasPrefix(s, "-") {
		return "must not be negative"
	}
	if _, _, err := mixin.ParseAmount(s); err != nil {
		var fe *mixin.FieldError
		if errors.As(err, &fe) {
			if fe.Reason == "empty" {
				return "empty; " + ifEmpty
			}
			return fmt.Sprintf("%q is not an amount: %s", shortCell(s), fe.Reason)
		}
		return err.Error()
	}
	return ""
}

// tomlKind names the TOML type of a decoded value for an error.
func tomlKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "a number"
	case float64:
		return "a float"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	}
	return "a date or time"
}

// suggestKey adds a hint to an unknown key that is a known one in another
// case or with dashes.
func suggestKey(k string, top bool) string {
	known := []string{keyLargeUSD, keyDuplicateWindow, keyIdleLock, keyAddressBookOnly, keyLimits}
	if top {
		known = append(known, keyProfiles)
	}
	norm := strings.ReplaceAll(strings.ToLower(k), "-", "_")
	for _, want := range known {
		if norm == want {
			return fmt.Sprintf(" (keys are case-sensitive: write %s)", want)
		}
	}
	return " (known keys: " + strings.Join(known, ", ") + ")"
}

// profileNameProblem checks a [profiles.NAME] table name against the rule
// of keyring profile names (keystore.ValidateName): 1 to 40 characters of
// a-z, 0-9, '-', '_' and '.', starting with a letter or digit. A table no
// profile can ever have would be ignored silently.
func profileNameProblem(name string) string {
	const rule = "a profile name is 1 to 40 characters: a-z, 0-9, '-', '_' or '.', starting with a letter or digit"
	if name == "" || len(name) > 40 {
		return rule
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_' || c == '.') && i > 0:
		default:
			return rule
		}
	}
	return ""
}
