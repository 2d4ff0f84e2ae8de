package policy

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"mixdesk/internal/errtext"
	"mixdesk/mixin"
	"mixdesk/payout"
)

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
	// order is the place in the file of every key (a table made only by
	// the headers or dotted keys of what it holds: of the first of those),
	// by its dotted name. The line of a key is worked out only for a
	// problem: finding it costs a pass over the whole file.
	order map[string]int
}

func newConfigReader(md toml.MetaData) *configReader {
	r := &configReader{md: md, order: make(map[string]int)}
	for i, k := range md.Keys() {
		for n := 1; n <= len(k); n++ {
			name := k[:n].String()
			if _, ok := r.order[name]; !ok {
				r.order[name] = i
			}
		}
	}
	return r
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
	r := newConfigReader(md)
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
	keys := r.fileOrder(at, table)
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
func (r *configReader) limits(at toml.Key, prim toml.Primitive) (map[string]payout.AssetLimit, error) {
	assets, err := r.table(at, prim)
	if err != nil {
		return nil, err
	}
	out := make(map[string]payout.AssetLimit, len(assets))
	seen := map[string]string{}
	for _, k := range r.fileOrder(at, assets) {
		key := append(slices.Clone(at), k)
		id, perr := mixin.ParseUUID(mixin.FieldAsset, k)
		if perr != nil || strings.TrimSpace(k) != k {
			return nil, r.errAt(assets[k], "%s: %q is not an asset UUID (like 4d8c508b-91c5-375b-92b0-ee702ed2dac5)", at, errtext.Cut(k))
		}
		if first, dup := seen[id]; dup {
			return nil, r.errAt(assets[k], "%s: asset %s is given twice (also as %q)", at, id, first)
		}
		seen[id] = k
		caps, err := r.table(key, assets[k])
		if err != nil {
			return nil, err
		}
		var lim payout.AssetLimit
		for _, c := range r.fileOrder(key, caps) {
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
		return 0, r.errAt(prim, "%s: %q is not a duration (write it with a unit, like %s)", at, errtext.Cut(s), example)
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

// fileOrder returns the keys of the table at in the order they come in the
// file, so that the first problem reported is the first one in the file.
func (r *configReader) fileOrder(at toml.Key, t map[string]toml.Primitive) []string {
	keys := sortedKeys(t)
	place := make(map[string]int, len(keys))
	for _, k := range keys {
		p, ok := r.order[append(slices.Clone(at), k).String()]
		if !ok {
			p = math.MaxInt
		}
		place[k] = p
	}
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(place[a], place[b]) })
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
			return fmt.Sprintf("%q is not an amount: %s", errtext.Cut(s), fe.Reason)
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
