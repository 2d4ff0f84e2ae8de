package mixin_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
)

// shareAnswer is the answer of a transfer, as the client decodes it.
const shareAnswer = `{"data":{"type":"transfer","snapshot_id":"9f1c1b36-8c8a-4d0f-9a57-0f3f5d3b2a11","trace_id":"0f8fad5b-d9cb-469f-a165-70867728950e","asset_id":"4d8c508b-91c5-375b-92b0-ee702ed2dac5","opponent_id":"8dcf823d-9eb3-4da2-8734-f0aad50c0da6","amount":"-1","opening_balance":"2.5","closing_balance":"1.5","memo":"","created_at":"2026-11-26T12:00:00.123456789Z"}}`

// BenchmarkClientShare sets the client's own work for one transfer beside a
// full Transfer round trip, all measured in turns within one benchmark (each
// on its own clock, the order rotated every iteration) so that every figure
// sees the same machine load:
//
//   - round trip: Client.Transfer against the sandbox over loopback (the
//     client, net/http at both ends, the sandbox's checks and commit);
//   - client: validate, encrypt the PIN, marshal, make the token (signed),
//     decode, clean and check the answer, in process;
//   - client-unsigned: the same without the token's signature;
//   - client+http: Client.Transfer over loopback against a server that only
//     echoes a prepared answer: the client with net/http at both ends, an
//     upper bound of the client's share with its HTTP stack.
//
// Each is reported in µs, and as a percentage of the round trip.
func BenchmarkClientShare(b *testing.B) {
	for _, name := range []string{"rsa-2048", "ed25519"} {
		b.Run(name, func(b *testing.B) {
			srv, w, err := sandbox.NewWorld(sandbox.Options{Seed: 1, Operator: sessionKinds[name]})
			if err != nil {
				b.Fatal(err)
			}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("X-Request-Id", r.Header.Get("X-Request-Id"))
				_, _ = io.WriteString(w, shareAnswer)
			}))
			defer echo.Close()
			sess, err := mixin.NewSession(w.Operator)
			if err != nil {
				b.Fatal(err)
			}
			c, _ := mixin.NewClient(hs.URL, sess)
			ce, _ := mixin.NewClient(echo.URL, sess)
			peer := w.Users[0].UserID
			ctx := context.Background()
			in := func() mixin.TransferInput {
				return mixin.TransferInput{AssetID: usdt, OpponentID: peer, Amount: "1", TraceID: uuid.NewString()}
			}
			timed := func(f func() error) time.Duration {
				start := time.Now()
				if err := f(); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			steps := []func() error{
				func() error { _, err := c.Transfer(ctx, in(), w.Operator.PIN); return err },
				func() error {
					_, err := mixin.ClientWork(sess, in(), w.Operator.PIN, []byte(shareAnswer), true)
					return err
				},
				func() error {
					_, err := mixin.ClientWork(sess, in(), w.Operator.PIN, []byte(shareAnswer), false)
					return err
				},
				func() error { _, err := ce.Transfer(ctx, in(), w.Operator.PIN); return err },
			}
			credited := 0
			var spent [4]time.Duration
			n := 0
			for b.Loop() {
				if n == credited {
					// Credit in steps, off the clocks, so that the sandbox
					// never refuses for the balance.
					b.StopTimer()
					if err := srv.Credit(w.OperatorUser.UserID, usdt, "1000"); err != nil {
						b.Fatal(err)
					}
					credited += 1000
					b.StartTimer()
				}
				for k := range steps {
					j := (k + n) % len(steps)
					spent[j] += timed(steps[j])
				}
				n++
			}
			us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) / 1e3 }
			pct := func(d time.Duration) float64 { return 100 * float64(d) / float64(spent[0]) }
			b.ReportMetric(us(spent[0]), "roundtrip-µs")
			b.ReportMetric(us(spent[1]), "client-µs")
			b.ReportMetric(us(spent[2]), "client-unsigned-µs")
			b.ReportMetric(us(spent[3]), "client+http-µs")
			b.ReportMetric(pct(spent[1]), "client-%")
			b.ReportMetric(pct(spent[2]), "client-unsigned-%")
			b.ReportMetric(pct(spent[3]), "client+http-%")
		})
	}
}
