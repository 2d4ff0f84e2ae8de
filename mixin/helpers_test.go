package mixin

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// testSession is a generated session with what the server side would know.
type testSession struct {
	creds  Credentials
	rsa    *rsa.PrivateKey
	ed     ed25519.PrivateKey
	aesKey []byte // what the server derives
}

var (
	rsaCacheMu sync.Mutex
	rsaCache   = map[int]*rsa.PrivateKey{}
)

func rsaKey(t testing.TB, bits int) *rsa.PrivateKey {
	rsaCacheMu.Lock()
	defer rsaCacheMu.Unlock()
	if k, ok := rsaCache[bits]; ok {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	rsaCache[bits] = k
	return k
}

func newRSASession(t testing.TB, bits int, pkcs8 bool) testSession {
	t.Helper()
	k := rsaKey(t, bits)
	sid := uuid.NewString()
	aesKey := make([]byte, 32)
	rand.Read(aesKey)
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &k.PublicKey, aesKey, []byte(sid))
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if pkcs8 {
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	} else {
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	}
	return testSession{
		creds: Credentials{ClientID: uuid.NewString(), SessionID: sid, PrivateKey: string(pem.EncodeToMemory(block)),
			PINToken: base64.StdEncoding.EncodeToString(ct), PIN: "123456"},
		rsa: k, aesKey: aesKey,
	}
}

// newEdSession makes an Ed25519 session; hexForms picks the hex seed and the
// hex server Ed25519 key instead of the base64url forms.
func newEdSession(t testing.TB, hexForms bool) testSession {
	t.Helper()
	_, cliKey, _ := ed25519.GenerateKey(rand.Reader)
	srvPub, srvKey, _ := ed25519.GenerateKey(rand.Reader)
	srvX, err := ecdh.X25519().NewPrivateKey(x25519Scalar(srvKey.Seed()))
	if err != nil {
		t.Fatal(err)
	}
	cliXPub, err := X25519PublicFromEd25519(cliKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ecdh.X25519().NewPublicKey(cliXPub)
	shared, err := srvX.ECDH(pub)
	if err != nil {
		t.Fatal(err)
	}
	c := Credentials{ClientID: uuid.NewString(), SessionID: uuid.NewString(), PIN: "654321"}
	if hexForms {
		c.PrivateKey = hex.EncodeToString(cliKey.Seed())
		c.PINToken = hex.EncodeToString(srvPub)
	} else {
		c.PrivateKey = base64.RawURLEncoding.EncodeToString(cliKey)
		c.PINToken = base64.RawURLEncoding.EncodeToString(srvX.PublicKey().Bytes())
	}
	return testSession{creds: c, ed: cliKey, aesKey: shared}
}

type randReader struct{}

func (randReader) Read(p []byte) (int, error) { return rand.Read(p) }

func pemPKCS1(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

func ecdhX25519(scalar []byte) ([]byte, error) {
	p, err := ecdh.X25519().NewPrivateKey(scalar)
	if err != nil {
		return nil, err
	}
	return p.PublicKey().Bytes(), nil
}

func parseClaimsNoVerify(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
