package mixin

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"testing"
	"time"
)

// BenchmarkToken compares a request token with the bare signature it wraps
// (the budget: token at most 1.1 × signature). The two are measured in turns
// within one benchmark, each on its own clock, the order swapped every
// iteration, so that both see the same machine load: "ratio" is token time
// over signature time.
func BenchmarkToken(b *testing.B) {
	body := []byte(`{"asset_id":"c6d0c728-2624-429b-8e0d-d9d19b6592fa","opponent_id":"8dcf823d-9eb3-4da2-8734-f0aad50c0da6","amount":"0.5","pin":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","trace_id":"0f8fad5b-d9cb-469f-a165-70867728950e"}`)
	kinds := []struct {
		name string
		ts   testSession
	}{
		{"rsa-1024", newRSASession(b, 1024, false)},
		{"rsa-2048", newRSASession(b, 2048, false)},
		{"ed25519", newEdSession(b, false)},
	}
	for _, k := range kinds {
		s, err := NewSession(k.ts.creds)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		tok, _ := s.Token("POST", "/transfers", body, "0f8fad5b-d9cb-469f-a165-70867728950e", now)
		msg := []byte(tok[:lastDot(tok)]) // a signing input of the real length
		token := func() time.Duration {
			start := time.Now()
			if _, err := s.Token("POST", "/transfers", body, "0f8fad5b-d9cb-469f-a165-70867728950e", now); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
		bare := func() time.Duration {
			start := time.Now()
			if k.ts.rsa != nil {
				h := sha512.Sum512(msg)
				if _, err := rsa.SignPKCS1v15(rand.Reader, k.ts.rsa, crypto.SHA512, h[:]); err != nil {
					b.Fatal(err)
				}
			} else {
				_ = ed25519.Sign(k.ts.ed, msg)
			}
			return time.Since(start)
		}
		b.Run(k.name, func(b *testing.B) {
			var tTok, tSig time.Duration
			n := 0
			for b.Loop() {
				if n%2 == 0 {
					tTok += token()
					tSig += bare()
				} else {
					tSig += bare()
					tTok += token()
				}
				n++
			}
			b.ReportMetric(float64(tTok.Nanoseconds())/float64(n), "token-ns")
			b.ReportMetric(float64(tSig.Nanoseconds())/float64(n), "signature-ns")
			b.ReportMetric(float64(tTok)/float64(tSig), "ratio")
		})
	}
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return 0
}

func BenchmarkEncryptPIN(b *testing.B) {
	for _, k := range []struct {
		name string
		ts   testSession
	}{{"rsa-session", newRSASession(b, 1024, false)}, {"ed25519-session", newEdSession(b, false)}} {
		s, _ := NewSession(k.ts.creds)
		b.Run(k.name, func(b *testing.B) {
			now := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := s.EncryptPIN("123456", now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
