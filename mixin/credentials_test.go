//go:debug rsa1024min=0

package mixin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestNewSessionAcceptsEveryPastedForm(t *testing.T) {
	cases := []struct {
		name string
		ts   testSession
		kind KeyKind
	}{
		{"rsa-1024-pkcs1", newRSASession(t, 1024, false), KeyRSA},
		{"rsa-2048-pkcs8", newRSASession(t, 2048, true), KeyRSA},
		{"ed25519-base64url", newEdSession(t, false), KeyEd25519},
		{"ed25519-hex-seed-and-server-key", newEdSession(t, true), KeyEd25519},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.ts.creds
			c.ClientID = "  " + strings.ToUpper(c.ClientID) + "\n" // pasted with noise
			s, err := NewSession(c)
			if err != nil {
				t.Fatal(err)
			}
			if s.KeyKind() != tc.kind {
				t.Fatalf("kind %v", s.KeyKind())
			}
			if s.ClientID != strings.ToLower(tc.ts.creds.ClientID) {
				t.Fatalf("client id not canonical: %q", s.ClientID)
			}
			if string(s.pinKey) != string(tc.ts.aesKey) {
				t.Fatal("the PIN key differs from what the server derives")
			}
		})
	}
}

func TestPEMPastedFromJSONKeystore(t *testing.T) {
	ts := newRSASession(t, 1024, false)
	c := ts.creds
	c.PrivateKey = strings.ReplaceAll(strings.TrimSpace(c.PrivateKey), "\n", `\r\n`)
	if _, err := NewSession(c); err != nil {
		t.Fatalf("escaped newlines refused: %v", err)
	}
}

func TestPEMPastedIntoOneLineField(t *testing.T) {
	ts := newRSASession(t, 2048, true)
	c := ts.creds
	c.PrivateKey = strings.ReplaceAll(c.PrivateKey, "\n", " ")
	if _, err := NewSession(c); err != nil {
		t.Fatalf("a PEM key with its newlines turned into spaces was refused: %v", err)
	}
}

func TestNewSessionNamesTheBadField(t *testing.T) {
	rsaS := newRSASession(t, 1024, false)
	other := newRSASession(t, 2048, false)
	ed := newEdSession(t, false)
	mod := func(f func(*Credentials)) Credentials { c := rsaS.creds; f(&c); return c }
	cases := []struct {
		name  string
		c     Credentials
		field string
	}{
		{"empty client", mod(func(c *Credentials) { c.ClientID = "" }), FieldClientID},
		{"client not uuid", mod(func(c *Credentials) { c.ClientID = "7000101234" }), FieldClientID},
		{"session not uuid", mod(func(c *Credentials) { c.SessionID = "zz" + c.SessionID[2:] }), FieldSessionID},
		{"key garbage", mod(func(c *Credentials) { c.PrivateKey = "hello" }), FieldPrivateKey},
		{"key truncated", mod(func(c *Credentials) { c.PrivateKey = c.PrivateKey[:200] }), FieldPrivateKey},
		{"pin token of other session", mod(func(c *Credentials) { c.PINToken = other.creds.PINToken }), FieldPINToken},
		{"pin token with wrong session id", mod(func(c *Credentials) { c.SessionID = other.creds.SessionID }), FieldPINToken},
		{"pin token not base64", mod(func(c *Credentials) { c.PINToken = "!!!" }), FieldPINToken},
		{"ed token on rsa key", mod(func(c *Credentials) { c.PINToken = ed.creds.PINToken }), FieldPINToken},
		{"rsa token on ed key", func() Credentials { c := ed.creds; c.PINToken = rsaS.creds.PINToken; return c }(), FieldPINToken},
		{"pin short", mod(func(c *Credentials) { c.PIN = "12345" }), FieldPIN},
		{"pin letters", mod(func(c *Credentials) { c.PIN = "12345a" }), FieldPIN},
		{"pin unicode digits", mod(func(c *Credentials) { c.PIN = "١٢٣٤٥٦" }), FieldPIN},
		{"ed key wrong length", func() Credentials { c := ed.creds; c.PrivateKey = c.PrivateKey[:40]; return c }(), FieldPrivateKey},
		{"ed key halves mismatch", func() Credentials {
			c := ed.creds
			raw, _ := base64.RawURLEncoding.DecodeString(c.PrivateKey)
			raw[40] ^= 1
			c.PrivateKey = base64.RawURLEncoding.EncodeToString(raw)
			return c
		}(), FieldPrivateKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSession(tc.c)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("want FieldError, got %v", err)
			}
			if fe.Field != tc.field {
				t.Fatalf("field %q, want %q (%v)", fe.Field, tc.field, err)
			}
			if strings.Contains(err.Error(), tc.c.PIN) && tc.c.PIN != "" {
				t.Fatalf("error quotes the PIN: %v", err)
			}
		})
	}
}

func TestRSAKeySizeBounds(t *testing.T) {
	for _, bits := range []int{512, 768} {
		k, err := rsa.GenerateKey(randReader{}, bits)
		if err != nil {
			t.Fatal(bits, err)
		}
		ts := newRSASession(t, 1024, false)
		c := ts.creds
		c.PrivateKey = pemPKCS1(k)
		_, err = NewSession(c)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != FieldPrivateKey || !strings.Contains(fe.Reason, "1024 to 4096") {
			t.Fatalf("%d bits: %v", bits, err)
		}
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	ts := newRSASession(t, 1024, false)
	s, err := NewSession(ts.creds)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ParsePrivateKey(ts.creds.PrivateKey)
	bodyLine := strings.Split(strings.TrimSpace(ts.creds.PrivateKey), "\n")[1]
	for _, v := range []any{ts.creds, &ts.creds, s, key} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range []string{ts.creds.PIN, bodyLine[:20], ts.creds.PINToken[:20], fmt.Sprint(ts.rsa.D)[:20]} {
				if strings.Contains(out, secret) {
					t.Fatalf("%s of %T leaks a secret: %s", verb, v, out)
				}
			}
		}
	}
	if b, _ := json.Marshal(s); strings.Contains(string(b), "123456") {
		t.Fatal("JSON of a session leaks the PIN")
	}
}

// verifyToken checks a token the way a server would.
func verifyToken(t *testing.T, ts testSession, tok string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, func(tk *jwt.Token) (any, error) {
		if ts.rsa != nil {
			if tk.Method.Alg() != "RS512" {
				return nil, fmt.Errorf("alg %s", tk.Method.Alg())
			}
			return &ts.rsa.PublicKey, nil
		}
		if tk.Method.Alg() != "EdDSA" {
			return nil, fmt.Errorf("alg %s", tk.Method.Alg())
		}
		return ts.ed.Public().(ed25519.PublicKey), nil
	}, jwt.WithValidMethods([]string{"RS512", "EdDSA"}), jwt.WithoutClaimsValidation())
	if err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestTokenClaims(t *testing.T) {
	for _, ts := range []testSession{newRSASession(t, 1024, false), newRSASession(t, 2048, false), newEdSession(t, false)} {
		s, err := NewSession(ts.creds)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Unix(1_700_000_000, 0)
		body := []byte(`{"a":1}`)
		tok, err := s.Token("POST", "/transfers?x=1", body, "0f8fad5b-d9cb-469f-a165-70867728950e", now)
		if err != nil {
			t.Fatal(err)
		}
		header, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		var h map[string]any
		json.Unmarshal(header, &h)
		if len(h) != 2 || h["typ"] != "JWT" {
			t.Fatalf("header %s", header)
		}
		c := verifyToken(t, ts, tok)
		want := map[string]any{
			"uid": s.ClientID, "sid": s.SessionID, "jti": "0f8fad5b-d9cb-469f-a165-70867728950e", "scp": "FULL",
			"iat": float64(now.Unix()), "exp": float64(now.Add(5 * time.Minute).Unix()),
			"sig": RequestSig("POST", "/transfers?x=1", body),
		}
		for k, v := range want {
			if c[k] != v {
				t.Fatalf("claim %s = %v, want %v", k, c[k], v)
			}
		}
		if RequestSig("GET", "/transfers?x=1", body) == c["sig"] {
			t.Fatal("sig does not depend on the method")
		}
	}
}

// decryptPIN opens an encrypted PIN as the server would.
func decryptPIN(t *testing.T, aesKey []byte, enc string) (pin string, ts, iter uint64) {
	t.Helper()
	raw, err := decodeB64Any(enc)
	if err != nil || len(raw) != 48 {
		t.Fatalf("encrypted PIN: %d bytes, %v", len(raw), err)
	}
	block, _ := aes.NewCipher(aesKey)
	plain := make([]byte, 32)
	cipher.NewCBCDecrypter(block, raw[:16]).CryptBlocks(plain, raw[16:])
	for _, b := range plain[22:] {
		if b != 10 {
			t.Fatalf("padding %v", plain[22:])
		}
	}
	return string(plain[:6]), binary.LittleEndian.Uint64(plain[6:14]), binary.LittleEndian.Uint64(plain[14:22])
}

func TestEncryptPINOpensOnTheServerSide(t *testing.T) {
	for _, ts := range []testSession{newRSASession(t, 1024, false), newEdSession(t, false), newEdSession(t, true)} {
		s, _ := NewSession(ts.creds)
		now := time.Unix(1_700_000_123, 456)
		enc, err := s.EncryptPIN(ts.creds.PIN, now)
		if err != nil {
			t.Fatal(err)
		}
		if s.KeyKind() == KeyRSA && !strings.HasSuffix(enc, "=") && strings.ContainsAny(enc, "-_") {
			t.Fatalf("RSA session should send standard base64: %s", enc)
		}
		if s.KeyKind() == KeyEd25519 && strings.ContainsAny(enc, "+/=") {
			t.Fatalf("Ed25519 session should send base64url: %s", enc)
		}
		pin, sec, iter := decryptPIN(t, ts.aesKey, enc)
		if pin != ts.creds.PIN || sec != uint64(now.Unix()) || iter != uint64(now.UnixNano()) {
			t.Fatalf("got %q %d %d", pin, sec, iter)
		}
		enc2, _ := s.EncryptPIN(ts.creds.PIN, now)
		if enc2 == enc {
			t.Fatal("two encryptions are identical: IV not fresh")
		}
		if _, _, iter2 := decryptPIN(t, ts.aesKey, enc2); iter2 <= iter {
			t.Fatalf("iterator did not increase: %d then %d", iter, iter2)
		}
	}
}

func TestIteratorStrictlyIncreasesUnderConcurrency(t *testing.T) {
	ts := newEdSession(t, false)
	s, _ := NewSession(ts.creds)
	now := time.Now() // the same instant for every call: only the bump can separate them
	const g, n = 8, 200
	var mu sync.Mutex
	seen := make(map[uint64]bool, g*n)
	var wg sync.WaitGroup
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < n; j++ {
				it := s.nextIterator(now)
				mu.Lock()
				if seen[it] {
					t.Errorf("iterator %d handed out twice", it)
				}
				seen[it] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != g*n {
		t.Fatalf("%d distinct of %d", len(seen), g*n)
	}
	// Sequential calls strictly increase even when the clock goes back.
	a := s.nextIterator(now)
	b := s.nextIterator(now.Add(-time.Hour))
	if b <= a {
		t.Fatalf("iterator went back: %d then %d", a, b)
	}
}

func TestEncryptPINRejectsBadPIN(t *testing.T) {
	ts := newEdSession(t, false)
	s, _ := NewSession(ts.creds)
	for _, p := range []string{"", "12345", "1234567", "abcdef"} {
		if _, err := s.EncryptPIN(p, time.Now()); err == nil {
			t.Fatalf("PIN %q accepted", p)
		}
	}
}

func TestX25519ScalarMatchesEd25519Convention(t *testing.T) {
	// X25519(scalar(seed), base) must equal the Montgomery form of the Ed25519 public key.
	_, k, _ := ed25519.GenerateKey(randReader{})
	mont, err := X25519PublicFromEd25519(k.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := ecdhX25519(x25519Scalar(k.Seed()))
	if string(priv) != string(mont) {
		t.Fatal("scalar and Montgomery conversion disagree")
	}
}
