package mixin

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/json"
	"testing"
	"time"
)

// The token's budget is 10% over the bare signature it wraps: compare
// BenchmarkToken/KIND/token with BenchmarkToken/KIND/bare-signature.
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
		msg := []byte(tok[:len(tok)-len(tok[lastDot(tok):])]) // a signing input of the real length
		b.Run(k.name+"/token", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := s.Token("POST", "/transfers", body, "0f8fad5b-d9cb-469f-a165-70867728950e", now); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(k.name+"/bare-signature", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if k.ts.rsa != nil {
					h := sha512.Sum512(msg)
					if _, err := rsa.SignPKCS1v15(rand.Reader, k.ts.rsa, crypto.SHA512, h[:]); err != nil {
						b.Fatal(err)
					}
				} else {
					_ = ed25519.Sign(k.ts.ed, msg)
				}
			}
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

// BenchmarkClientWork is the client's own share of one Transfer: PIN
// encryption, marshalling, signing and decoding the answer, without the
// network or the server. Compare with BenchmarkTransferRoundTrip.
func BenchmarkClientWork(b *testing.B) {
	answer := []byte(`{"data":{"type":"transfer","snapshot_id":"9f1c1b36-8c8a-4d0f-9a57-0f3f5d3b2a11","trace_id":"0f8fad5b-d9cb-469f-a165-70867728950e","asset_id":"c6d0c728-2624-429b-8e0d-d9d19b6592fa","opponent_id":"8dcf823d-9eb3-4da2-8734-f0aad50c0da6","amount":"-0.5","opening_balance":"2.5","closing_balance":"2","memo":"","created_at":"2026-11-26T12:00:00.123456789Z"}}`)
	for _, k := range []struct {
		name string
		ts   testSession
	}{{"rsa-2048", newRSASession(b, 2048, false)}, {"ed25519", newEdSession(b, false)}} {
		s, _ := NewSession(k.ts.creds)
		b.Run(k.name, func(b *testing.B) {
			in := TransferInput{AssetID: tAsset, OpponentID: tRecipient, Amount: "0.5", TraceID: tTrace}
			for i := 0; i < b.N; i++ {
				now := time.Now()
				v, err := ValidateTransfer(in)
				if err != nil {
					b.Fatal(err)
				}
				enc, _ := s.EncryptPIN("123456", now)
				body, _ := json.Marshal(transferBody{AssetID: v.AssetID, OpponentID: v.OpponentID, Amount: v.Amount, PIN: enc, TraceID: v.TraceID})
				if _, err := s.Token("POST", "/transfers", body, "0f8fad5b-d9cb-469f-a165-70867728950e", now); err != nil {
					b.Fatal(err)
				}
				var env envelope
				var snap Snapshot
				if err := json.Unmarshal(answer, &env); err != nil {
					b.Fatal(err)
				}
				if err := json.Unmarshal(env.Data, &snap); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
