package mixin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
)

// pagingTotal and pagingLimit: the paging benchmark reads 5,000 snapshots,
// 500 a page (the largest page the API serves).
const (
	pagingTotal = 5000
	pagingLimit = MaxSnapshotLimit
)

// pagingAnswers prepares the answers of GET /snapshots for a walk over
// pagingTotal snapshots, newest first, keyed by the offset parameter ("" for
// the first page). Each page starts with the last snapshot of the page
// before it, as the API's inclusive offset does.
func pagingAnswers(tb testing.TB) map[string][]byte {
	tb.Helper()
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	assets := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	people := make([]string, 200)
	for i := range people {
		people[i] = uuid.NewString()
	}
	snaps := make([]Snapshot, pagingTotal)
	for i := range snaps {
		amount := fmt.Sprintf("%d.%02d", 1+i%5000, i%100)
		if i%3 != 0 {
			amount = "-" + amount
		}
		memo := fmt.Sprintf("Invoice %d, payroll %d", i, i%12)
		if i%10 == 0 {
			memo = fmt.Sprintf("支付 %d · salaire de décembre", i)
		}
		snaps[i] = Snapshot{
			Type: "transfer", SnapshotID: uuid.NewString(), TraceID: uuid.NewString(),
			AssetID: assets[i%len(assets)], OpponentID: people[(i*7)%len(people)],
			Amount: amount, OpeningBalance: fmt.Sprintf("%d.%08d", 100000+i, i), ClosingBalance: fmt.Sprintf("%d.%08d", 100000+i, i+1),
			Memo: memo, CreatedAt: start.Add(-time.Duration(i) * time.Second),
		}
	}
	answers := map[string][]byte{}
	for from, key := 0, ""; ; {
		page := snaps[from:min(from+pagingLimit, len(snaps))]
		body, err := json.Marshal(map[string]any{"data": page})
		if err != nil {
			tb.Fatal(err)
		}
		answers[key] = body
		if len(page) < pagingLimit {
			return answers
		}
		from += len(page) - 1
		key = snaps[from].CreatedAt.UTC().Format(time.RFC3339Nano)
	}
}

// servePage answers one GET /snapshots from the prepared answers.
func servePage(answers map[string][]byte, r *http.Request) (int, []byte) {
	body, ok := answers[r.URL.Query().Get("offset")]
	if !ok {
		return 404, []byte(`{"error":{"status":404,"code":404,"description":"no such page"}}`)
	}
	return 200, body
}

// cannedTransport answers in process, without sockets, so that the
// in-process benchmark measures the client alone.
type cannedTransport struct{ answers map[string][]byte }

func (t cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	status, body := servePage(t.answers, r)
	h := http.Header{}
	h.Set("X-Request-Id", r.Header.Get("X-Request-Id"))
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
}

// BenchmarkSnapshotPaging walks 5,000 snapshots with SnapshotPager, 500 a
// page, Ed25519 session: "loopback" against an HTTP server on this machine
// that serves prepared answers, "in-process" through a transport that
// hands the answers over without sockets (the client's own work: tokens,
// reading and decoding the answers, dropping the repeated snapshot).
func BenchmarkSnapshotPaging(b *testing.B) {
	answers := pagingAnswers(b)
	sess, err := NewSession(newEdSession(b, false).creds)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body := servePage(answers, r)
		w.Header().Set("X-Request-Id", r.Header.Get("X-Request-Id"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	for _, k := range []struct {
		name string
		opts []Option
		url  string
	}{
		{"loopback", nil, srv.URL},
		{"in-process", []Option{WithHTTPClient(&http.Client{Transport: cannedTransport{answers}})}, "http://127.0.0.1:1"},
	} {
		c, err := NewClient(k.url, sess, k.opts...)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(k.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				p := c.NewSnapshotPager(SnapshotQuery{Limit: pagingLimit})
				n := 0
				for !p.Done() {
					page, err := p.Next(ctx)
					if err != nil {
						b.Fatal(err)
					}
					n += len(page)
				}
				if n != pagingTotal {
					b.Fatalf("%d snapshots, want %d", n, pagingTotal)
				}
			}
		})
	}
}
