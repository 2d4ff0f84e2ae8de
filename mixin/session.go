package mixin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenTTL is the life of every access token (MIXIN-API.md §2, Decision).
const TokenTTL = 5 * time.Minute

// Session is a parsed, checked app session: it signs requests and encrypts
// PINs. It holds no PIN. Printing it never shows key material.
type Session struct {
	ClientID  string
	SessionID string

	key    *PrivateKey
	pinKey []byte // AES-256 key opened from the PIN token

	mu       sync.Mutex
	lastIter uint64
}

// NewSession parses and cross-checks the pasted credentials: both ids, the
// private key, the PIN token (which must open with that key and session id)
// and, when PIN is not empty, the PIN's format. The first bad field is named.
func NewSession(c Credentials) (*Session, error) {
	uid, err := ParseUUID(FieldClientID, c.ClientID)
	if err != nil {
		return nil, err
	}
	sid, err := ParseUUID(FieldSessionID, c.SessionID)
	if err != nil {
		return nil, err
	}
	key, err := ParsePrivateKey(c.PrivateKey)
	if err != nil {
		return nil, err
	}
	pk, err := derivePINKey(key, sid, c.PINToken)
	if err != nil {
		return nil, err
	}
	if c.PIN != "" {
		if err := ValidatePIN(c.PIN); err != nil {
			return nil, err
		}
	}
	return &Session{ClientID: uid, SessionID: sid, key: key, pinKey: pk}, nil
}

// KeyKind says whether the session signs with RSA or Ed25519.
func (s *Session) KeyKind() KeyKind { return s.key.kind }

func (s *Session) String() string {
	return fmt.Sprintf("Session{client %s, session %s, %s}", s.ClientID, s.SessionID, s.key)
}

// GoString and Format keep every verb from printing key material.
func (s *Session) GoString() string           { return s.String() }
func (s *Session) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// RequestSig is the `sig` claim: hex SHA-256 of METHOD + URI + BODY.
func RequestSig(method, uri string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte(uri))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

var (
	headerRS512 = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS512","typ":"JWT"}`))
	headerEdDSA = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","typ":"JWT"}`))
)

// Token makes the access token of MIXIN-API.md §2 for one request. uri is the
// path plus "?query" exactly as sent, body the exact bytes sent, requestID
// the X-Request-Id (it becomes `jti`).
func (s *Session) Token(method, uri string, body []byte, requestID string, now time.Time) (string, error) {
	signing, alg, key := s.tokenToSign(method, uri, body, requestID, now)
	sig, err := alg.Sign(signing, key)
	if err != nil {
		return "", fmt.Errorf("mixin: signing the token: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// tokenToSign is the token's header and claims, and how to sign them.
func (s *Session) tokenToSign(method, uri string, body []byte, requestID string, now time.Time) (string, jwt.SigningMethod, any) {
	iat := now.Unix()
	// The claims are few and fixed; building them by hand keeps the token's
	// cost next to the signature's. Every value is a UUID, a number or hex,
	// so nothing needs JSON escaping.
	claims := make([]byte, 0, 256)
	claims = append(claims, `{"uid":"`...)
	claims = append(claims, s.ClientID...)
	claims = append(claims, `","sid":"`...)
	claims = append(claims, s.SessionID...)
	claims = append(claims, `","iat":`...)
	claims = strconv.AppendInt(claims, iat, 10)
	claims = append(claims, `,"exp":`...)
	claims = strconv.AppendInt(claims, iat+int64(TokenTTL/time.Second), 10)
	claims = append(claims, `,"jti":"`...)
	claims = append(claims, requestID...)
	claims = append(claims, `","scp":"FULL","sig":"`...)
	claims = append(claims, RequestSig(method, uri, body)...)
	claims = append(claims, `"}`...)

	header, alg, key := headerEdDSA, jwt.SigningMethod(jwt.SigningMethodEdDSA), any(s.key.ed)
	if s.key.kind == KeyRSA {
		header, alg, key = headerRS512, jwt.SigningMethodRS512, s.key.rsa
	}
	return header + "." + base64.RawURLEncoding.EncodeToString(claims), alg, key
}

// nextIterator returns a value strictly greater than any returned before by
// this session: UnixNano, bumped when two calls land in the same nanosecond.
func (s *Session) nextIterator(now time.Time) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := uint64(now.UnixNano())
	if it <= s.lastIter {
		it = s.lastIter + 1
	}
	s.lastIter = it
	return it
}

// EncryptPIN encrypts the PIN for one request (MIXIN-API.md §3): PIN ‖ time
// ‖ iterator, PKCS#7 to 32 bytes, AES-CBC under a fresh IV, IV first. RSA
// sessions get standard base64, Ed25519 sessions base64url without padding.
// Each result is single-use; encrypt again for every request.
func (s *Session) EncryptPIN(pin string, now time.Time) (string, error) {
	if err := ValidatePIN(pin); err != nil {
		return "", err
	}
	var plain [32]byte
	copy(plain[:6], pin)
	binary.LittleEndian.PutUint64(plain[6:14], uint64(now.Unix()))
	binary.LittleEndian.PutUint64(plain[14:22], s.nextIterator(now))
	for i := 22; i < 32; i++ {
		plain[i] = 10
	}
	block, err := aes.NewCipher(s.pinKey)
	if err != nil {
		return "", fmt.Errorf("mixin: PIN key: %w", err)
	}
	out := make([]byte, 16+32)
	if _, err := rand.Read(out[:16]); err != nil {
		return "", fmt.Errorf("mixin: random IV: %w", err)
	}
	cipher.NewCBCEncrypter(block, out[:16]).CryptBlocks(out[16:], plain[:])
	clear(plain[:])
	if s.key.kind == KeyRSA {
		return base64.StdEncoding.EncodeToString(out), nil
	}
	return base64.RawURLEncoding.EncodeToString(out), nil
}
