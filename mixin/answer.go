package mixin

import (
	"fmt"
	"strings"
)

// answer is what a call decodes its data into: a pointer to a type whose
// settle method makes its free text display-safe (DisplayText) and checks
// its ids, once, where the answer enters the program. A call cannot decode
// into a type without one.
type answer[T any] interface {
	*T
	settle() error
}

// settle cleans the user's name and checks its ids.
func (u *User) settle() error {
	var err error
	if u.UserID, err = answerID("user_id", u.UserID, true); err != nil {
		return err
	}
	if u.SessionID, err = answerID("session_id", u.SessionID, false); err != nil {
		return err
	}
	if !digitsOnly(u.IdentityNumber) {
		return fmt.Errorf("identity_number is not a number")
	}
	u.FullName = DisplayText(u.FullName)
	return nil
}

// settle cleans the asset's text and checks its ids.
func (a *Asset) settle() error {
	var err error
	if a.AssetID, err = answerID("asset_id", a.AssetID, true); err != nil {
		return err
	}
	if a.ChainID, err = answerID("chain_id", a.ChainID, false); err != nil {
		return err
	}
	for _, p := range []*string{&a.Symbol, &a.Name, &a.IconURL, &a.Balance, &a.PriceUSD, &a.ChangeUSD} {
		*p = DisplayText(*p)
	}
	return nil
}

// settle cleans the snapshot's text and checks its ids. A deposit has no
// opponent and may have no trace; every snapshot has its own id and asset.
func (s *Snapshot) settle() error {
	var err error
	if s.SnapshotID, err = answerID("snapshot_id", s.SnapshotID, true); err != nil {
		return err
	}
	if s.AssetID, err = answerID("asset_id", s.AssetID, true); err != nil {
		return err
	}
	if s.TraceID, err = answerID("trace_id", s.TraceID, false); err != nil {
		return err
	}
	if s.OpponentID, err = answerID("opponent_id", s.OpponentID, false); err != nil {
		return err
	}
	s.Type = DisplayText(s.Type)
	s.Memo = DisplayText(s.Memo)
	s.Amount = DisplayText(s.Amount)
	s.OpeningBalance = DisplayText(s.OpeningBalance)
	s.ClosingBalance = DisplayText(s.ClosingBalance)
	return nil
}

// assetList and snapshotList are the list answers.
type (
	assetList    []Asset
	snapshotList []Snapshot
)

func (l *assetList) settle() error {
	for i := range *l {
		if err := (*l)[i].settle(); err != nil {
			return fmt.Errorf("asset %d of %d: %w", i+1, len(*l), err)
		}
	}
	return nil
}

func (l *snapshotList) settle() error {
	for i := range *l {
		if err := (*l)[i].settle(); err != nil {
			return fmt.Errorf("snapshot %d of %d: %w", i+1, len(*l), err)
		}
	}
	return nil
}

// settle cleans the error's description and the strings of its extra.
func (e *Error) settle() {
	e.Description = DisplayText(e.Description)
	for k, v := range e.Extra {
		e.Extra[k] = displayAny(v)
	}
}

// displayAny cleans every string in a decoded JSON value.
func displayAny(v any) any {
	switch x := v.(type) {
	case string:
		return DisplayText(x)
	case []any:
		for i := range x {
			x[i] = displayAny(x[i])
		}
	case map[string]any:
		for k, w := range x {
			x[k] = displayAny(w)
		}
	}
	return v
}

// answerID checks an id of an answer: a UUID in its 36-character form,
// returned in lower case. An empty id is refused only when required.
func answerID(name, s string, required bool) (string, error) {
	if s == "" {
		if required {
			return "", fmt.Errorf("%s is missing", name)
		}
		return "", nil
	}
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return "", fmt.Errorf("%s is not a UUID", name)
	}
	var seen byte
	for _, part := range [...]string{s[:8], s[9:13], s[14:18], s[19:23], s[24:]} {
		for i := 0; i < len(part); i++ {
			k := hexClass[part[i]]
			if k == 0 {
				return "", fmt.Errorf("%s is not a UUID", name)
			}
			seen |= k
		}
	}
	if seen&upperHex != 0 {
		s = strings.ToLower(s)
	}
	return s, nil
}

// hexClass marks the bytes of hexadecimal digits: lowerHex for 0-9 and
// a-f, upperHex for A-F, 0 for the rest.
var hexClass = func() (t [256]byte) {
	for c := '0'; c <= '9'; c++ {
		t[c] = lowerHex
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = lowerHex
		t[c-'a'+'A'] = upperHex
	}
	return t
}()

const (
	lowerHex = 1
	upperHex = 2
)

// digitsOnly reports whether s is empty or ASCII digits.
func digitsOnly(s string) bool { return s == "" || IsMixinID(s) }

// IsMixinID reports whether s reads as a Mixin ID number: one or more ASCII
// digits.
func IsMixinID(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
