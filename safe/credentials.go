// Package safe is the Safe (Sequencer) rail of Mixin: keystore credentials,
// unspent outputs, ghost keys, v5 kernel transactions built and signed with
// the kernel library (github.com/MixinNetwork/mixin), and the calls of
// docs/safe-api.md. It imports of this module only mixdesk/mixin, for the
// request token, the field errors and the amount and memo rules it shares
// with the legacy rail.
package safe

import (
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"filippo.io/edwards25519"
	"github.com/MixinNetwork/mixin/crypto"

	"mixdesk/mixin"
)

// Field names used in *mixin.FieldError, as the dashboard names them.
const (
	FieldKeystore          = "keystore"
	FieldAppID             = "app id"
	FieldSessionID         = "session id"
	FieldServerPublicKey   = "server public key"
	FieldSessionPrivateKey = "session private key"
	FieldSpendPrivateKey   = "spend private key"
	FieldRequestID         = "request id"
	FieldOutputs           = "outputs"
	FieldGhostKeys         = "ghost keys"
	FieldViews             = "views"
	FieldTransaction       = "transaction"
)

func fieldErr(field, format string, a ...any) error {
	return &mixin.FieldError{Field: field, Reason: fmt.Sprintf(format, a...)}
}

// Keystore is the Safe keystore exactly as pasted (docs/safe-api.md §1):
// the dashboard's JSON file or its five fields typed one by one. String and
// Format never print the three keys.
type Keystore struct {
	AppID             string `json:"app_id"`
	SessionID         string `json:"session_id"`
	ServerPublicKey   string `json:"server_public_key"`
	SessionPrivateKey string `json:"session_private_key"`
	SpendPrivateKey   string `json:"spend_private_key"`
}

// String shows the ids only, and whether the spend key is there.
func (k Keystore) String() string {
	spend := "[redacted]"
	if strings.TrimSpace(k.SpendPrivateKey) == "" {
		spend = "missing"
	}
	return fmt.Sprintf("Keystore{app %s, session %s, server public key [redacted], session private key [redacted], spend private key %s}",
		strings.TrimSpace(k.AppID), strings.TrimSpace(k.SessionID), spend)
}

// GoString keeps %#v from printing the keys.
func (k Keystore) GoString() string { return k.String() }

// Format makes every verb print the redacted form.
func (k Keystore) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// ParseKeystore reads the dashboard's keystore JSON. Fields other than the
// five are ignored; a missing spend_private_key is left empty (the
// dashboard's download may lack it, and it is then asked for alone). The
// values are not checked here: Open checks them. Errors never quote the text.
func ParseKeystore(text string) (Keystore, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(strings.TrimSpace(text)), &raw); err != nil || raw == nil {
		return Keystore{}, fieldErr(FieldKeystore, "not a JSON object; paste the whole keystore file, braces included")
	}
	var k Keystore
	for _, f := range []struct {
		key, field string
		dst        *string
		required   bool
	}{
		{"app_id", FieldAppID, &k.AppID, true},
		{"session_id", FieldSessionID, &k.SessionID, true},
		{"server_public_key", FieldServerPublicKey, &k.ServerPublicKey, true},
		{"session_private_key", FieldSessionPrivateKey, &k.SessionPrivateKey, true},
		{"spend_private_key", FieldSpendPrivateKey, &k.SpendPrivateKey, false},
	} {
		v, ok := raw[f.key]
		if !ok {
			if f.required {
				return Keystore{}, fieldErr(f.field, "missing from the keystore (no %q)", f.key)
			}
			continue
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return Keystore{}, fieldErr(f.field, "is not a string in the keystore")
		}
	}
	return k, nil
}

// Account is a checked Safe keystore: the request session (a legacy
// Ed25519 session whose PIN token is the server public key) and the spend
// key. Printing it never shows key material.
type Account struct {
	AppID           string
	SessionID       string
	ServerPublicKey crypto.Key

	session *mixin.Session
	spend   *SpendKey
}

// Open checks every field of the keystore, the first bad one named in one
// line that never quotes a key, and returns the account.
func (k Keystore) Open() (*Account, error) {
	app, err := mixin.ParseUUID(FieldAppID, k.AppID)
	if err != nil {
		return nil, err
	}
	sid, err := mixin.ParseUUID(FieldSessionID, k.SessionID)
	if err != nil {
		return nil, err
	}
	server, err := parsePublicKey(FieldServerPublicKey, k.ServerPublicKey)
	if err != nil {
		return nil, err
	}
	sessionSeed, err := parseSeed(FieldSessionPrivateKey, k.SessionPrivateKey)
	if err != nil {
		return nil, err
	}
	spend, err := ParseSpendKey(k.SpendPrivateKey)
	if err != nil {
		return nil, err
	}
	if spend.seed == [32]byte(sessionSeed) {
		return nil, fieldErr(FieldSpendPrivateKey, "is the session private key; paste the App Wallet spend key")
	}
	sess, err := mixin.NewSession(mixin.Credentials{
		ClientID:   app,
		SessionID:  sid,
		PrivateKey: hex.EncodeToString(sessionSeed),
		PINToken:   server.String(),
	})
	clear(sessionSeed)
	if err != nil {
		// Every field was checked above; this is not the operator's typing.
		return nil, fieldErr(FieldKeystore, "the session keys do not work together")
	}
	return &Account{AppID: app, SessionID: sid, ServerPublicKey: server, session: sess, spend: spend}, nil
}

// Session signs the requests of this account (docs/safe-api.md §1.1).
func (a *Account) Session() *mixin.Session { return a.session }

// Spend is the account's spend key.
func (a *Account) Spend() *SpendKey { return a.spend }

func (a *Account) String() string {
	return fmt.Sprintf("Account{app %s, session %s, keys [redacted]}", a.AppID, a.SessionID)
}

// GoString and Format keep every verb from printing key material.
func (a *Account) GoString() string           { return a.String() }
func (a *Account) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(a.String())) }

// SpendKey is the wallet's kernel spend key: the 32-byte Ed25519 seed of the
// dashboard, its scalar y = clamp(SHA-512(seed)[:32]) and its public key
// B = y·G (docs/safe-api.md §1). It never prints the seed or the scalar.
type SpendKey struct {
	seed [32]byte
	y    *edwards25519.Scalar
	pub  crypto.Key
}

// ParseSpendKey checks a spend private key: hex of a 32-byte seed (or of a
// 64-byte Ed25519 private key whose public half matches its seed).
func ParseSpendKey(s string) (*SpendKey, error) {
	seed, err := parseSeed(FieldSpendPrivateKey, s)
	if err != nil {
		return nil, err
	}
	return NewSpendKey(seed), nil
}

// NewSpendKey makes a spend key from a 32-byte seed (tests and the sandbox).
func NewSpendKey(seed []byte) *SpendKey {
	k := &SpendKey{}
	copy(k.seed[:], seed)
	h := sha512.Sum512(k.seed[:])
	y, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	clear(h[:])
	if err != nil {
		panic("safe: SetBytesWithClamping refused 32 bytes") // it takes any 32 bytes
	}
	k.y = y
	copy(k.pub[:], edwards25519.NewIdentityPoint().ScalarBaseMult(y).Bytes())
	return k
}

// Public is B, the spend public key the Sequencer registers.
func (k *SpendKey) Public() crypto.Key { return k.pub }

func (k *SpendKey) String() string {
	if k == nil {
		return "SpendKey(nil)"
	}
	return "spend key " + k.pub.String()[:16] + "… [redacted]"
}

// GoString and Format keep every verb from printing key material.
func (k *SpendKey) GoString() string           { return k.String() }
func (k *SpendKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// parseSeed reads hex of a 32-byte Ed25519 seed, or of a 64-byte private
// key (seed ‖ public) whose public half matches. The error never quotes it.
func parseSeed(field, s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	switch {
	case s == "":
		return nil, fieldErr(field, "empty")
	case !isHex(s):
		return nil, fieldErr(field, "not hex (the dashboard gives 64 hex characters)")
	case len(s) == 64:
		b, _ := hex.DecodeString(s)
		return b, nil
	case len(s) == 128:
		b, _ := hex.DecodeString(s)
		key := ed25519.NewKeyFromSeed(b[:32])
		if !equal(key[32:], b[32:]) {
			return nil, fieldErr(field, "a 64-byte Ed25519 key whose public half does not match its seed")
		}
		return b[:32], nil
	}
	return nil, fieldErr(field, "need 64 hex characters (a 32-byte key); got %d", len(s))
}

// parsePublicKey reads hex of a 32-byte Ed25519 public key, a valid point.
func parsePublicKey(field, s string) (crypto.Key, error) {
	s = strings.Join(strings.Fields(s), "")
	var k crypto.Key
	switch {
	case s == "":
		return k, fieldErr(field, "empty")
	case !isHex(s):
		return k, fieldErr(field, "not hex (the dashboard gives 64 hex characters)")
	case len(s) != 64:
		return k, fieldErr(field, "need 64 hex characters (a 32-byte key); got %d", len(s))
	}
	b, _ := hex.DecodeString(s)
	copy(k[:], b)
	if !k.CheckKey() {
		return k, fieldErr(field, "not an Ed25519 public key")
	}
	return k, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// equal compares in constant time for equal lengths.
func equal(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range a {
		v |= a[i] ^ b[i]
	}
	return v == 0
}
