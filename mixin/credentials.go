package mixin

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"filippo.io/edwards25519"
	"github.com/google/uuid"
)

// Field names used in FieldError, as the operator knows them.
const (
	FieldClientID   = "client id"
	FieldSessionID  = "session id"
	FieldPrivateKey = "private key"
	FieldPINToken   = "PIN token"
	FieldPIN        = "PIN"
	FieldAsset      = "asset"
	FieldRecipient  = "recipient"
	FieldAmount     = "amount"
	FieldMemo       = "memo"
	FieldTrace      = "trace id"
)

// FieldError says which pasted or typed field is wrong and why. It never
// quotes the value of a secret field.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, a...)}
}

// Credentials are the five values of an app session exactly as pasted.
// String and Format never print the secrets.
type Credentials struct {
	ClientID   string
	SessionID  string
	PrivateKey string
	PINToken   string
	PIN        string
}

// String shows the ids only.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{client %s, session %s, private key [redacted], PIN token [redacted], PIN [redacted]}",
		strings.TrimSpace(c.ClientID), strings.TrimSpace(c.SessionID))
}

// GoString keeps %#v from printing the secrets.
func (c Credentials) GoString() string { return c.String() }

// Format makes every verb (%v, %+v, %s, %q...) print the redacted form.
func (c Credentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// KeyKind tells the two session kinds apart.
type KeyKind int

const (
	KeyRSA KeyKind = iota + 1
	KeyEd25519
)

func (k KeyKind) String() string {
	switch k {
	case KeyRSA:
		return "RSA"
	case KeyEd25519:
		return "Ed25519"
	}
	return "unknown"
}

// PrivateKey is a parsed session private key. Its String hides the key.
type PrivateKey struct {
	kind KeyKind
	rsa  *rsa.PrivateKey
	ed   ed25519.PrivateKey
}

// Kind is RSA or Ed25519.
func (k *PrivateKey) Kind() KeyKind { return k.kind }

// Bits is the RSA modulus size, or 256 for Ed25519.
func (k *PrivateKey) Bits() int {
	if k.kind == KeyRSA {
		return k.rsa.N.BitLen()
	}
	return 256
}

// Public is the public half (*rsa.PublicKey or ed25519.PublicKey).
func (k *PrivateKey) Public() crypto.PublicKey {
	if k.kind == KeyRSA {
		return &k.rsa.PublicKey
	}
	return k.ed.Public()
}

func (k *PrivateKey) String() string {
	if k == nil {
		return "PrivateKey(nil)"
	}
	return fmt.Sprintf("%s-%d private key [redacted]", k.kind, k.Bits())
}

// GoString and Format keep every verb from printing key material.
func (k *PrivateKey) GoString() string           { return k.String() }
func (k *PrivateKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// ParsePrivateKey reads a session private key in any form of MIXIN-API.md §1:
// PEM PKCS#1 or PKCS#8 RSA (1024 to 4096 bits), base64url of a 64-byte
// Ed25519 key, or hex of a 32-byte Ed25519 seed. Errors never quote the key.
func ParsePrivateKey(s string) (*PrivateKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fieldErr(FieldPrivateKey, "empty")
	}
	if strings.Contains(s, "-----BEGIN") {
		return parsePEMKey(s)
	}
	compact := strings.Join(strings.Fields(s), "")
	if len(compact) == 64 && isHex(compact) {
		seed, _ := hex.DecodeString(compact)
		return &PrivateKey{kind: KeyEd25519, ed: ed25519.NewKeyFromSeed(seed)}, nil
	}
	raw, err := decodeB64Any(compact)
	if err != nil {
		return nil, fieldErr(FieldPrivateKey, "not a PEM key, a base64url Ed25519 key or a hex Ed25519 seed")
	}
	if len(raw) != ed25519.PrivateKeySize {
		return nil, fieldErr(FieldPrivateKey, "an Ed25519 key is 64 bytes; this decodes to %d", len(raw))
	}
	key := ed25519.NewKeyFromSeed(raw[:32])
	if !equalBytes(key[32:], raw[32:]) {
		return nil, fieldErr(FieldPrivateKey, "the Ed25519 key's public half does not match its seed")
	}
	return &PrivateKey{kind: KeyEd25519, ed: key}, nil
}

func parsePEMKey(s string) (*PrivateKey, error) {
	// Pastes from JSON keystores often carry literal "\n" or "\r\n".
	s = strings.ReplaceAll(s, `\r\n`, "\n")
	s = strings.ReplaceAll(s, `\n`, "\n")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = rewrapPEM(s)
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return nil, fieldErr(FieldPrivateKey, "the PEM block is damaged (check that the whole key was pasted)")
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, fieldErr(FieldPrivateKey, "text after the PEM block; paste one key only")
	}
	var rk *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fieldErr(FieldPrivateKey, "not a valid PKCS#1 RSA key")
		}
		rk = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fieldErr(FieldPrivateKey, "not a valid PKCS#8 key")
		}
		switch v := k.(type) {
		case *rsa.PrivateKey:
			rk = v
		case ed25519.PrivateKey:
			return &PrivateKey{kind: KeyEd25519, ed: v}, nil
		default:
			return nil, fieldErr(FieldPrivateKey, "PKCS#8 key of type %T; need RSA or Ed25519", k)
		}
	case "ENCRYPTED PRIVATE KEY":
		return nil, fieldErr(FieldPrivateKey, "the key is password-protected; paste the unencrypted key from the dashboard")
	default:
		return nil, fieldErr(FieldPrivateKey, "PEM block %q is not a private key", block.Type)
	}
	if b := rk.N.BitLen(); b < 1024 || b > 4096 {
		return nil, fieldErr(FieldPrivateKey, "RSA key of %d bits; need 1024 to 4096", b)
	}
	if err := rk.Validate(); err != nil {
		return nil, fieldErr(FieldPrivateKey, "RSA key fails its consistency check")
	}
	rk.Precompute()
	return &PrivateKey{kind: KeyRSA, rsa: rk}, nil
}

// rewrapPEM restores the line breaks of a PEM block whose newlines were
// turned into spaces (a one-line text field does that to a paste). Text that
// does not look like one block is returned as it is.
func rewrapPEM(s string) string {
	const begin, dashes = "-----BEGIN ", "-----"
	if strings.Count(s, begin) != 1 {
		return s
	}
	i := strings.Index(s, begin)
	j := strings.Index(s[i+len(begin):], dashes)
	if j < 0 {
		return s
	}
	typ := s[i+len(begin) : i+len(begin)+j]
	header := begin + typ + dashes
	footer := "-----END " + typ + dashes
	k := strings.Index(s, footer)
	if k < i+len(header) {
		return s
	}
	body := strings.Join(strings.Fields(s[i+len(header):k]), "")
	if strings.Contains(body, ":") {
		return s // headers such as Proc-Type: keep the original layout
	}
	var b strings.Builder
	b.WriteString(header + "\n")
	for len(body) > 64 {
		b.WriteString(body[:64] + "\n")
		body = body[64:]
	}
	if body != "" {
		b.WriteString(body + "\n")
	}
	b.WriteString(footer + "\n")
	return s[:i] + b.String() + s[k+len(footer):]
}

// ParseUUID checks a pasted UUID and returns it in canonical lower-case form.
func ParseUUID(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fieldErr(field, "empty")
	}
	if len(s) != 36 {
		return "", fieldErr(field, "not a UUID (want 36 characters like 8dcf823d-9eb3-4da2-8734-f0aad50c0da6, got %d)", len(s))
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", fieldErr(field, "not a UUID")
	}
	return u.String(), nil
}

// ValidatePIN checks that a PIN is exactly six ASCII digits. The error never
// quotes it.
func ValidatePIN(pin string) error {
	if len(pin) != 6 {
		return fieldErr(FieldPIN, "must be exactly 6 digits (got %d characters)", len(pin))
	}
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return fieldErr(FieldPIN, "must be digits only")
		}
	}
	return nil
}

// derivePINKey opens the PIN token with the session key: RSA-OAEP(SHA-256,
// label = session id) for RSA sessions, X25519 for Ed25519 sessions.
func derivePINKey(key *PrivateKey, sessionID, token string) ([]byte, error) {
	token = strings.Join(strings.Fields(token), "")
	if token == "" {
		return nil, fieldErr(FieldPINToken, "empty")
	}
	switch key.kind {
	case KeyRSA:
		ct, err := decodeB64Any(token)
		if err != nil {
			return nil, fieldErr(FieldPINToken, "not base64")
		}
		if len(ct) != key.rsa.Size() {
			return nil, fieldErr(FieldPINToken, "is %d bytes; an RSA-%d session's token is %d", len(ct), key.Bits(), key.rsa.Size())
		}
		aesKey, err := rsa.DecryptOAEP(sha256.New(), nil, key.rsa, ct, []byte(sessionID))
		if err != nil {
			return nil, fieldErr(FieldPINToken, "does not open with this private key and session id (are they from the same session?)")
		}
		if len(aesKey) != 32 {
			return nil, fieldErr(FieldPINToken, "opens to %d bytes, not a 32-byte AES key", len(aesKey))
		}
		return aesKey, nil
	case KeyEd25519:
		var serverX []byte
		if len(token) == 64 && isHex(token) {
			edPub, _ := hex.DecodeString(token)
			p, err := new(edwards25519.Point).SetBytes(edPub)
			if err != nil {
				return nil, fieldErr(FieldPINToken, "hex value is not an Ed25519 public key")
			}
			serverX = p.BytesMontgomery()
		} else {
			raw, err := decodeB64Any(token)
			if err != nil {
				return nil, fieldErr(FieldPINToken, "not base64url or hex")
			}
			if len(raw) != 32 {
				return nil, fieldErr(FieldPINToken, "an Ed25519 session's token is 32 bytes; this is %d (is it an RSA session's token?)", len(raw))
			}
			serverX = raw
		}
		pub, err := ecdh.X25519().NewPublicKey(serverX)
		if err != nil {
			return nil, fieldErr(FieldPINToken, "not a valid X25519 public key")
		}
		priv, err := ecdh.X25519().NewPrivateKey(x25519Scalar(key.ed.Seed()))
		if err != nil {
			return nil, fieldErr(FieldPrivateKey, "cannot derive the X25519 key")
		}
		shared, err := priv.ECDH(pub)
		if err != nil {
			return nil, fieldErr(FieldPINToken, "is a low-order point; not a server key")
		}
		return shared, nil
	}
	return nil, fieldErr(FieldPrivateKey, "unknown key kind")
}

// x25519Scalar turns an Ed25519 seed into its clamped X25519 scalar.
func x25519Scalar(seed []byte) []byte {
	h := sha512.Sum512(seed)
	s := make([]byte, 32)
	copy(s, h[:32])
	s[0] &= 248
	s[31] &= 127
	s[31] |= 64
	return s
}

// X25519PublicFromEd25519 converts an Ed25519 public key to its X25519 form
// (Edwards to Montgomery). The sandbox uses it to open Ed25519 sessions' PINs.
func X25519PublicFromEd25519(pub ed25519.PublicKey) ([]byte, error) {
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return nil, errors.New("not an Ed25519 public key")
	}
	return p.BytesMontgomery(), nil
}

func decodeB64Any(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
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

func equalBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range a {
		v |= a[i] ^ b[i]
	}
	return v == 0
}
