package mixin_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
)

// BenchmarkTransferRoundTrip is one full Transfer against the sandbox over
// loopback: the client's work, HTTP, and the sandbox's checks (token, PIN,
// trace, balance) and commit.
func BenchmarkTransferRoundTrip(b *testing.B) {
	for _, name := range []string{"rsa-2048", "ed25519"} {
		b.Run(name, func(b *testing.B) {
			srv, w, err := sandbox.NewWorld(sandbox.Options{Seed: 1, Operator: sessionKinds[name]})
			if err != nil {
				b.Fatal(err)
			}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			if err := srv.Credit(w.OperatorUser.UserID, usdt, fmt.Sprint(b.N+1)); err != nil {
				b.Fatal(err)
			}
			sess, _ := mixin.NewSession(w.Operator)
			c, _ := mixin.NewClient(hs.URL, sess)
			peer := w.Users[0].UserID
			traces := make([]string, b.N)
			for i := range traces {
				traces[i] = uuid.NewString()
			}
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Transfer(ctx, mixin.TransferInput{AssetID: usdt, OpponentID: peer, Amount: "1", TraceID: traces[i]}, w.Operator.PIN); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
