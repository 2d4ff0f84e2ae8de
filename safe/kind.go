package safe

import (
	"encoding/json"
	"strings"

	"mixdesk/mixin"
)

// SessionKind is what a pasted text looks like (docs/safe-api.md §1).
type SessionKind int

const (
	KindUnknown       SessionKind = iota
	KindLegacyRSA                 // a PEM RSA key, or a legacy keystore holding one
	KindLegacyEd25519             // a base64url Ed25519 key, or a legacy keystore holding one
	KindSafe                      // a Safe keystore with its spend key
	KindSafeNoSpend               // a Safe keystore without spend_private_key
	KindEd25519Seed               // bare hex of 32 bytes: a legacy Ed25519 key or one field of a Safe keystore
)

// String is one line for the setup screen.
func (k SessionKind) String() string {
	switch k {
	case KindLegacyRSA:
		return "legacy RSA session (pays through the legacy transfer API only; for Safe, create a new session and App Wallet spend key in the dashboard)"
	case KindLegacyEd25519:
		return "legacy Ed25519 session (pays through the legacy transfer API)"
	case KindSafe:
		return "Safe keystore (app id, session, server public key, session and spend private keys)"
	case KindSafeNoSpend:
		return "Safe keystore without its spend key (add spend_private_key from the dashboard's App Wallet)"
	case KindEd25519Seed:
		return "a bare Ed25519 seed: a legacy Ed25519 key or one field of a Safe keystore; paste the whole keystore"
	}
	return "not a Mixin session"
}

// DetectSessionKind tells what kind of session a pasted text is, without
// checking it further and without keeping or quoting any of it.
func DetectSessionKind(text string) SessionKind {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "{") {
		return jsonKind(text)
	}
	return keyKind(text)
}

func jsonKind(text string) SessionKind {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(text), &m) != nil {
		return KindUnknown
	}
	has := func(k string) bool {
		v, ok := m[k]
		var s string
		return ok && json.Unmarshal(v, &s) == nil && strings.TrimSpace(s) != ""
	}
	switch {
	case has("spend_private_key"):
		return KindSafe
	case has("session_private_key") || has("server_public_key"):
		return KindSafeNoSpend
	case has("private_key"):
		var s string
		_ = json.Unmarshal(m["private_key"], &s)
		if k := keyKind(s); k != KindEd25519Seed {
			return k
		}
		return KindLegacyEd25519 // a seed beside a PIN token: the legacy keystore
	}
	return KindUnknown
}

func keyKind(s string) SessionKind {
	compact := strings.Join(strings.Fields(s), "")
	if len(compact) == 64 && isHex(compact) {
		return KindEd25519Seed
	}
	k, err := mixin.ParsePrivateKey(s)
	if err != nil {
		return KindUnknown
	}
	if k.Kind() == mixin.KeyRSA {
		return KindLegacyRSA
	}
	return KindLegacyEd25519
}
