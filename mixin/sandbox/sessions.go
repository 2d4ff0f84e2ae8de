package sandbox

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"mixdesk/mixin"
)

// SessionOptions choose the key kind of an app session and the form its
// credentials are handed out in.
type SessionOptions struct {
	// Kind is mixin.KeyRSA or mixin.KeyEd25519; zero means RSA.
	Kind mixin.KeyKind
	// RSABits is the RSA modulus size, 1024 to 4096; zero means 2048.
	RSABits int
	// HexForm (Ed25519 only) hands out the 2023+ keystore form: the private
	// key as hex of the 32-byte seed and the PIN token as hex of the
	// server's Ed25519 public key. Otherwise the private key is base64url
	// of the 64-byte key and the PIN token base64url of the server's
	// X25519 public key.
	HexForm bool
}

func (o SessionOptions) normalized() (SessionOptions, error) {
	if o.Kind == 0 {
		o.Kind = mixin.KeyRSA
	}
	switch o.Kind {
	case mixin.KeyRSA:
		if o.RSABits == 0 {
			o.RSABits = 2048
		}
		if o.RSABits < 1024 || o.RSABits > 4096 {
			return o, fmt.Errorf("sandbox: RSA session keys are 1024 to 4096 bits, not %d", o.RSABits)
		}
		if o.HexForm {
			return o, errors.New("sandbox: the hex form is for Ed25519 sessions")
		}
	case mixin.KeyEd25519:
		o.RSABits = 0
	default:
		return o, errors.New("sandbox: unknown session key kind")
	}
	return o, nil
}

// session is the server's side of an app session: the public key tokens are
// verified with and the AES key PINs are encrypted under.
type session struct {
	id     string
	userID string
	kind   mixin.KeyKind
	rsaPub *rsa.PublicKey
	edPub  ed25519.PublicKey
	// pinKey is the AES-256 key of the session's PINs: for RSA the random
	// key sealed into the PIN token, for Ed25519 the X25519 shared secret.
	pinKey []byte
	// serverSeed (Ed25519 only) is the seed of the server's key for this
	// session; its X25519 form is the other half of pinKey.
	serverSeed []byte
	// pinToken is the session's pin_token_base64 as GET /me answers it.
	pinToken string
	// lastIterator is the highest PIN iterator accepted so far.
	lastIterator uint64
}

// verifyKey is the key tokens of the session are checked with.
func (s *session) verifyKey() any {
	if s.kind == mixin.KeyRSA {
		return s.rsaPub
	}
	return s.edPub
}

// serverX25519 turns the server's Ed25519 seed into its X25519 key: the
// clamped first half of SHA-512(seed), the scalar whose public point is the
// Montgomery form of the server's Ed25519 public key.
func serverX25519(seed []byte) (*ecdh.PrivateKey, error) {
	h := sha512.Sum512(seed)
	scalar := h[:32]
	scalar[0] &= 248
	scalar[31] &= 127
	scalar[31] |= 64
	k, err := ecdh.X25519().NewPrivateKey(scalar)
	clear(h[:])
	return k, err
}

// edPINKey derives an Ed25519 session's AES key: X25519 of the server's
// scalar and the client's Ed25519 public key in Montgomery form.
func edPINKey(serverSeed []byte, clientPub ed25519.PublicKey) ([]byte, error) {
	priv, err := serverX25519(serverSeed)
	if err != nil {
		return nil, errors.New("sandbox: bad server key")
	}
	mont, err := mixin.X25519PublicFromEd25519(clientPub)
	if err != nil {
		return nil, errors.New("sandbox: bad session public key")
	}
	pub, err := ecdh.X25519().NewPublicKey(mont)
	if err != nil {
		return nil, errors.New("sandbox: bad session public key")
	}
	shared, err := priv.ECDH(pub)
	if err != nil {
		return nil, errors.New("sandbox: session public key is a low-order point")
	}
	return shared, nil
}

// sessionKeys is a new session's key material made outside the server's
// lock (RSA generation is slow).
type sessionKeys struct {
	rsa *rsa.PrivateKey // RSA sessions only
}

func generateSessionKeys(o SessionOptions) (sessionKeys, error) {
	if o.Kind != mixin.KeyRSA {
		return sessionKeys{}, nil
	}
	k, err := rsa.GenerateKey(rand.Reader, o.RSABits)
	if err != nil {
		return sessionKeys{}, errors.New("sandbox: generating the RSA session key failed")
	}
	return sessionKeys{rsa: k}, nil
}

// issueSessionLocked makes a session for u with the given keys, makes it u's
// only valid session (as the dashboard does) and returns the credentials
// exactly as the dashboard hands them out. A user without a PIN gets one.
func (s *Server) issueSessionLocked(u *user, o SessionOptions, keys sessionKeys) (mixin.Credentials, error) {
	sess := &session{id: s.newIDLocked(), userID: u.id, kind: o.Kind}
	var privateKey string
	switch o.Kind {
	case mixin.KeyRSA:
		sess.rsaPub = &keys.rsa.PublicKey
		sess.pinKey = s.randBytesLocked(32)
		sealed, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, sess.rsaPub, sess.pinKey, []byte(sess.id))
		if err != nil {
			return mixin.Credentials{}, errors.New("sandbox: sealing the PIN token failed")
		}
		sess.pinToken = base64.StdEncoding.EncodeToString(sealed)
		privateKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(keys.rsa)}))
	case mixin.KeyEd25519:
		clientSeed := s.randBytesLocked(ed25519.SeedSize)
		client := ed25519.NewKeyFromSeed(clientSeed)
		sess.edPub = client.Public().(ed25519.PublicKey)
		sess.serverSeed = s.randBytesLocked(ed25519.SeedSize)
		key, err := edPINKey(sess.serverSeed, sess.edPub)
		if err != nil {
			return mixin.Credentials{}, err
		}
		sess.pinKey = key
		srvX, err := serverX25519(sess.serverSeed)
		if err != nil {
			return mixin.Credentials{}, errors.New("sandbox: bad server key")
		}
		sess.pinToken = base64.RawURLEncoding.EncodeToString(srvX.PublicKey().Bytes())
		if o.HexForm {
			privateKey = hex.EncodeToString(clientSeed)
		} else {
			privateKey = base64.RawURLEncoding.EncodeToString(client)
		}
	}
	pinToken := sess.pinToken
	if o.HexForm {
		serverPub := ed25519.NewKeyFromSeed(sess.serverSeed).Public().(ed25519.PublicKey)
		pinToken = hex.EncodeToString(serverPub)
	}
	if u.pin == "" {
		u.pin = s.newPINLocked()
	}
	s.sessions[sess.id] = sess
	u.sessionID = sess.id
	return mixin.Credentials{
		ClientID:   u.id,
		SessionID:  sess.id,
		PrivateKey: privateKey,
		PINToken:   pinToken,
		PIN:        u.pin,
	}, nil
}

// newPINLocked draws six digits, the first not zero, as the dashboard did.
func (s *Server) newPINLocked() string {
	b := make([]byte, 6)
	b[0] = byte('1' + s.rng.IntN(9))
	for i := 1; i < 6; i++ {
		b[i] = byte('0' + s.rng.IntN(10))
	}
	return string(b)
}
