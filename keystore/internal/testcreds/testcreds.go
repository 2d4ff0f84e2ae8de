// Package testcreds makes valid, freshly generated session credentials for
// the keystore tests: a private key, a PIN token that opens with it, random
// ids and a PIN. Nothing is fixed in the source; every key is generated at
// run time.
package testcreds

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"mixdesk/mixin"
)

// Kind is a key type and size, with how the key is written.
type Kind string

// The kinds of credentials the tests use.
const (
	RSA1024 Kind = "rsa-1024" // PKCS#1 PEM, as Mixin issued
	RSA2048 Kind = "rsa-2048" // PKCS#8 PEM
	RSA3072 Kind = "rsa-3072" // PKCS#1 PEM
	RSA4096 Kind = "rsa-4096" // PKCS#8 PEM, the largest accepted
	// Ed25519 is base64url of the 64-byte key, token base64url X25519.
	Ed25519 Kind = "ed25519"
	// Ed25519Seed is hex of the 32-byte seed, token base64url X25519.
	Ed25519Seed Kind = "ed25519-seed"
	// Ed25519PEM is a PKCS#8 PEM key.
	Ed25519PEM Kind = "ed25519-pem"
)

// All lists every kind, smallest first.
var All = []Kind{RSA1024, RSA2048, RSA3072, RSA4096, Ed25519, Ed25519Seed, Ed25519PEM}

var (
	mu    sync.Mutex
	cache = map[Kind]mixin.Credentials{}
)

// Make returns valid credentials of kind k with a random PIN. Keys are
// generated once per process and kind (RSA-4096 takes a while); the ids
// differ per key.
func Make(k Kind) (mixin.Credentials, error) {
	mu.Lock()
	defer mu.Unlock()
	if c, ok := cache[k]; ok {
		return c, nil
	}
	c, err := generate(k)
	if err != nil {
		return mixin.Credentials{}, err
	}
	cache[k] = c
	return c, nil
}

func generate(k Kind) (mixin.Credentials, error) {
	c := mixin.Credentials{ClientID: uuid.NewString(), SessionID: uuid.NewString(), PIN: randomPIN()}
	switch k {
	case RSA1024, RSA2048, RSA3072, RSA4096:
		bits := map[Kind]int{RSA1024: 1024, RSA2048: 2048, RSA3072: 3072, RSA4096: 4096}[k]
		key, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return mixin.Credentials{}, fmt.Errorf("testcreds: RSA-%d: %w", bits, err)
		}
		if k == RSA1024 || k == RSA3072 {
			c.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
		} else {
			der, err := x509.MarshalPKCS8PrivateKey(key)
			if err != nil {
				return mixin.Credentials{}, err
			}
			c.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		}
		tok, err := RSAPINToken(&key.PublicKey, c.SessionID)
		if err != nil {
			return mixin.Credentials{}, err
		}
		c.PINToken = tok
	case Ed25519, Ed25519Seed, Ed25519PEM:
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return mixin.Credentials{}, err
		}
		switch k {
		case Ed25519:
			c.PrivateKey = base64.RawURLEncoding.EncodeToString(key)
		case Ed25519Seed:
			c.PrivateKey = hex.EncodeToString(key.Seed())
		default:
			der, err := x509.MarshalPKCS8PrivateKey(key)
			if err != nil {
				return mixin.Credentials{}, err
			}
			c.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		}
		tok, err := Ed25519PINToken()
		if err != nil {
			return mixin.Credentials{}, err
		}
		c.PINToken = tok
	default:
		return mixin.Credentials{}, fmt.Errorf("testcreds: unknown kind %q", k)
	}
	return c, nil
}

// RSAPINToken makes an RSA session's PIN token: standard base64 of
// RSA-OAEP-SHA256(random 32 bytes, pub, label = session id).
func RSAPINToken(pub *rsa.PublicKey, sessionID string) (string, error) {
	aesKey := make([]byte, 32)
	if _, err := rand.Read(aesKey); err != nil {
		return "", err
	}
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, aesKey, []byte(sessionID))
	if err != nil {
		return "", fmt.Errorf("testcreds: PIN token: %w", err)
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// Ed25519PINToken makes an Ed25519 session's PIN token: base64url (no
// padding) of a freshly generated X25519 public key, standing in for the
// server's.
func Ed25519PINToken() (string, error) {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()), nil
}

func randomPIN() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it aborts the program instead)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b[:])
}
