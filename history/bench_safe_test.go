package history

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/payout/rail"
)

// The Safe history benchmarks: the same budgets as the legacy ones, on
// movements as the Safe rail lists them.
//
//	go test ./history/ -run '^$' -bench SafeHistory -benchtime 2s

// safeDepositEvery: one movement in this many is a deposit.
const safeDepositEvery = 10

// benchHash is a random 32-byte hash in hex, as the Safe API gives a
// transaction's.
func benchHash() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// benchSafeMovements makes n movements as the Safe rail lists them, newest
// first, one a minute: no balances, each with its kernel transaction's
// hash, and every tenth a deposit (no counterparty, no request id, a chain
// transaction); the others paid or received under a request id. Each has
// its own strings, as the JSON decoder would make them.
func benchSafeMovements(n int) []rail.Movement {
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	people := make([]string, benchCounterparties)
	for i := range people {
		people[i] = uuid.NewString()
	}
	assets := []string{usdtID, btcID, ethID}
	out := make([]rail.Movement, n)
	for i := range out {
		amount := fmt.Sprintf("%d.%02d", 1+i%5000, i%100)
		m := rail.Movement{
			SnapshotID: uuid.NewString(),
			AssetID:    strings.Clone(assets[i%len(assets)]),
			Memo:       fmt.Sprintf("Invoice %d, %s payroll", i, benchMonths[i%12]),
			CreatedAt:  start.Add(-time.Duration(i) * time.Minute),
			TxHash:     benchHash(),
		}
		switch {
		case i%safeDepositEvery == 0:
			m.Amount, m.Memo = amount, ""
			m.Deposit = &rail.Deposit{Hash: benchHash()}
		case i%3 == 0:
			m.Amount, m.Key, m.OpponentID = amount, uuid.NewString(), strings.Clone(people[(i*7)%len(people)])
		default:
			m.Amount, m.Key, m.OpponentID = "-"+amount, uuid.NewString(), strings.Clone(people[(i*7)%len(people)])
		}
		out[i] = m
	}
	return out
}

// BenchmarkSafeHistoryFilter is BenchmarkHistoryFilter on 100,000 Safe
// movements, and a search by transaction hash (the budget is 50 ms).
func BenchmarkSafeHistoryFilter(b *testing.B) {
	h := New(nil, nil)
	fillHistory(h, benchSafeMovements(benchRows), nil)
	rows := h.Rows()
	benchFilter(b, h, []filterCase{
		{"tx-hash", []Filter{{Text: rows[len(rows)/3].TxHash[:12]}, {Text: strings.ToUpper(rows[len(rows)/2].TxHash[20:40])}}},
		{"deposits-in", []Filter{{Direction: DirIn}}},
	})
}

// BenchmarkSafeHistoryMemory reports the live heap of a history of 100,000
// Safe movements (the budget is 64 MB).
func BenchmarkSafeHistoryMemory(b *testing.B) {
	benchMemory(b, benchSafeMovements)
}

// BenchmarkSafeHistoryLoad measures adding 100,000 Safe movements page by
// page, with a screen filtering every row again after each page, as the
// history screen does.
func BenchmarkSafeHistoryLoad(b *testing.B) {
	snaps := benchSafeMovements(benchRows)
	b.ReportAllocs()
	for b.Loop() {
		h := New(nil, nil)
		fillHistory(h, snaps, refilterRows)
		if h.Len() != benchRows {
			b.Fatalf("%d rows, want %d", h.Len(), benchRows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(benchRows), "ns/row")
}
