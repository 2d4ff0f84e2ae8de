package keystore

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"mixdesk/mixin"
	"mixdesk/safe"
)

// Profile is one stored app session: the credentials as the operator pasted
// them and whether the PIN is kept in the keyring (KeepPIN) or asked for at
// every transfer. When KeepPIN is false the PIN is never stored, and Load
// returns the profile with an empty PIN.
//
// Printing a Profile with any fmt verb, String, GoString or log/slog shows
// the ids only; encoding/json refuses it, so it cannot reach a file by
// accident.
type Profile struct {
	mixin.Credentials
	KeepPIN bool
	// Safe, when set, makes this a Safe (Sequencer) profile: the keystore
	// as the dashboard hands it (app id, session id, server public key,
	// session private key, spend private key). The spend key is a secret
	// of the PIN's rank. Credentials and KeepPIN are then unused: a Safe
	// payout needs no PIN.
	Safe *safe.Keystore
}

// Kind names the kind of session the profile holds: "safe", or the legacy
// "rsa" or "ed25519" (by the private key's form; "" when it reads as
// neither).
func (p Profile) Kind() string {
	if p.Safe != nil {
		return "safe"
	}
	switch safe.DetectSessionKind(p.PrivateKey) {
	case safe.KindLegacyRSA:
		return "rsa"
	case safe.KindLegacyEd25519, safe.KindEd25519Seed:
		return "ed25519"
	}
	return ""
}

// String shows the ids and the PIN choice, never a secret.
func (p Profile) String() string {
	if p.Safe != nil {
		return fmt.Sprintf("Profile{Safe app %s, session %s, session key [redacted], spend key [redacted]}",
			showID(p.Safe.AppID), showID(p.Safe.SessionID))
	}
	pin := "PIN asked at every transfer"
	if p.KeepPIN {
		pin = "PIN kept [redacted]"
	}
	return fmt.Sprintf("Profile{client %s, session %s, private key [redacted], PIN token [redacted], %s}",
		showID(p.ClientID), showID(p.SessionID), pin)
}

// showID prints an id only when it is a UUID, so that a secret pasted into
// the wrong field is not printed either.
func showID(s string) string {
	if strings.TrimSpace(s) == "" {
		return "[empty]"
	}
	id, err := mixin.ParseUUID("id", s)
	if err != nil {
		return "[not a UUID]"
	}
	return id
}

// GoString keeps %#v from printing the secrets.
func (p Profile) GoString() string { return p.String() }

// Format makes every verb (%v, %+v, %s, %q, %x...) print the redacted form.
func (p Profile) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(p.String())) }

// LogValue makes log/slog print the redacted form.
func (p Profile) LogValue() slog.Value { return slog.StringValue(p.String()) }

// errNoSerialise is returned by Profile.MarshalJSON.
var errNoSerialise = errors.New("keystore: a Profile holds secrets and is never encoded outside the keyring")

// MarshalJSON always fails: a Profile is only ever written to the keyring.
func (p Profile) MarshalJSON() ([]byte, error) { return nil, errNoSerialise }

// Validate checks the profile with package mixin, as Save does: both ids,
// the private key, the PIN token (which must open with that key and session
// id) and, when KeepPIN is set, the PIN (which is then required). It returns
// a *mixin.FieldError naming the first bad field. The PIN is not checked when
// KeepPIN is false, since it is not stored.
func (p Profile) Validate() error {
	_, err := p.normalise()
	return err
}

// normalise validates p and returns the record to store: canonical ids, the
// key and token without surrounding space, and the PIN only when kept.
func (p Profile) normalise() (record, error) {
	if p.Safe != nil {
		return p.normaliseSafe()
	}
	c := p.Credentials
	if !p.KeepPIN {
		c.PIN = ""
	} else if c.PIN == "" {
		return record{}, &mixin.FieldError{Field: mixin.FieldPIN, Reason: "empty; type the 6-digit PIN, or choose to be asked for it at every transfer"}
	}
	s, err := mixin.NewSession(c)
	if err != nil {
		return record{}, err
	}
	return record{
		Version:    recordVersion,
		ClientID:   s.ClientID,
		SessionID:  s.SessionID,
		PrivateKey: strings.TrimSpace(c.PrivateKey),
		PINToken:   strings.Join(strings.Fields(c.PINToken), ""),
		KeepPIN:    p.KeepPIN,
		PIN:        c.PIN,
	}, nil
}

// normaliseSafe validates a Safe profile (every key opens, the spend key is
// there) and returns its record.
func (p Profile) normaliseSafe() (record, error) {
	k := *p.Safe
	if strings.TrimSpace(k.SpendPrivateKey) == "" {
		return record{}, &mixin.FieldError{Field: safe.FieldSpendPrivateKey, Reason: "missing: a Safe profile needs the spend private key to pay"}
	}
	if _, err := k.Open(); err != nil {
		return record{}, err
	}
	app, _ := mixin.ParseUUID(safe.FieldAppID, k.AppID)
	sid, _ := mixin.ParseUUID(safe.FieldSessionID, k.SessionID)
	return record{
		Version:           recordVersion,
		Kind:              "safe",
		ClientID:          app,
		SessionID:         sid,
		ServerPublicKey:   strings.TrimSpace(k.ServerPublicKey),
		SessionPrivateKey: strings.TrimSpace(k.SessionPrivateKey),
		SpendPrivateKey:   strings.TrimSpace(k.SpendPrivateKey),
	}, nil
}

// Name rules. Names are lower case because Windows Credential Manager
// compares entry names without regard to case.
const (
	// MaxNameLen is the longest profile name, in bytes.
	MaxNameLen = 40
	// MaxProfiles is how many profiles the index can hold.
	MaxProfiles = 32
)

const nameRule = "use 1 to 40 characters: lower-case letters a-z, digits, '-', '_' or '.', starting with a letter or digit"

// ValidateName checks a profile name: 1 to MaxNameLen bytes of a-z, 0-9,
// '-', '_' and '.', starting with a letter or digit. The error (matching
// ErrInvalidName) never quotes the name, in case a secret was typed into
// the wrong field.
func ValidateName(name string) error {
	bad := func(reason string) error {
		return &Error{Op: "check name", Kind: ErrInvalidName, Detail: "profile name " + reason + "; " + nameRule}
	}
	if name == "" {
		return bad("is empty")
	}
	if len(name) > MaxNameLen {
		return bad(fmt.Sprintf("is too long (%d characters)", len(name)))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '.':
			if i == 0 {
				return bad("must start with a letter or digit")
			}
		case c >= 'A' && c <= 'Z':
			return bad("has an upper-case letter")
		default:
			return bad(fmt.Sprintf("has a character that is not allowed at position %d", utf8.RuneCountInString(name[:i])+1))
		}
	}
	return nil
}
