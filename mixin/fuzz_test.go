package mixin

import (
	"testing"
	"time"
)

// FuzzCredentials feeds arbitrary keys and PIN tokens to the parser: it must
// never panic, and anything it accepts must sign and encrypt.
func FuzzCredentials(f *testing.F) {
	rs := newRSASession(f, 1024, false)
	ed := newEdSession(f, false)
	edh := newEdSession(f, true)
	for _, ts := range []testSession{rs, ed, edh} {
		f.Add(ts.creds.SessionID, ts.creds.PrivateKey, ts.creds.PINToken)
	}
	f.Add(rs.creds.SessionID, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----", "AAAA")
	f.Add(ed.creds.SessionID, ed.creds.PrivateKey[:10], "zz")
	f.Add(ed.creds.SessionID, edh.creds.PrivateKey, "0000000000000000000000000000000000000000000000000000000000000000")
	f.Fuzz(func(t *testing.T, sid, key, token string) {
		c := Credentials{ClientID: rs.creds.ClientID, SessionID: sid, PrivateKey: key, PINToken: token, PIN: "123456"}
		s, err := NewSession(c)
		if err != nil {
			if _, ok := err.(*FieldError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if _, err := s.Token("GET", "/me", nil, "id", time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EncryptPIN("123456", time.Now()); err != nil {
			t.Fatal(err)
		}
	})
}
