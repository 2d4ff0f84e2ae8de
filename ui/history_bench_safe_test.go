package ui

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout/saferail"
	"mixdesk/safe"
)

// The history benchmarks on a Safe profile: the same console, budgets and
// sizes as the legacy ones, on 100,000 Safe snapshots read through the
// Safe rail (GET /safe/snapshots, 100 a page, over loopback): no balances,
// a kernel transaction's hash on each, one in ten a deposit.
//
//	go test -run '^$' -bench SafeHistory -benchtime 2s ./ui/

// benchSafeAPI serves GET /safe/snapshots for the benchmark account, each
// page made when asked for: it holds no snapshot, so the heap measured is
// the console's.
type benchSafeAPI struct{ start time.Time }

// benchSafeSnapshot is the i-th newest snapshot: every tenth a deposit,
// the others paid (two in three) or received under a request id.
func (api *benchSafeAPI) snapshot(i int) safe.Snapshot {
	amount := fmt.Sprintf("%d.%02d", 1+i%5000, i%100)
	hash := sha256.Sum256([]byte(strconv.Itoa(i)))
	s := safe.Snapshot{
		SnapshotID:      benchID(0x5a, i),
		Type:            "snapshot",
		UserID:          benchSelfID,
		TransactionHash: hex.EncodeToString(hash[:]),
		AssetID:         []string{usdtID, btcID, ethID}[i%3],
		Amount:          amount,
		Memo:            hex.EncodeToString(fmt.Appendf(nil, "Invoice %d, %s payroll", i, benchMonths[i%12])),
		CreatedAt:       api.start.Add(-time.Duration(i) * time.Minute),
	}
	switch {
	case i%10 == 0:
		chain := sha256.Sum256([]byte("deposit " + strconv.Itoa(i)))
		s.Memo, s.Deposit = "", &safe.SnapshotDeposit{DepositHash: hex.EncodeToString(chain[:])}
	case i%3 == 0:
		s.OpponentID, s.RequestID = benchID(0xc0, (i*7)%benchPeople), benchID(0x7b, i)
	default:
		s.OpponentID, s.RequestID, s.Amount = benchID(0xc0, (i*7)%benchPeople), benchID(0x7b, i), "-"+amount
	}
	return s
}

func (api *benchSafeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", r.Header.Get("X-Request-Id"))
	if r.URL.Path != "/safe/snapshots" {
		http.Error(w, "not in the benchmark", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	i := 0
	if v := q.Get("offset"); v != "" { // inclusive: the first snapshot at or before the offset
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			http.Error(w, "bad offset", http.StatusBadRequest)
			return
		}
		i = int((api.start.Sub(t) + time.Minute - 1) / time.Minute)
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	page := []safe.Snapshot{}
	for ; i < benchRows && len(page) < limit; i++ {
		page = append(page, api.snapshot(i))
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": page})
}

// benchUsers names the counterparties as benchAPI does, without HTTP.
type benchUsers struct{ api benchAPI }

func (u benchUsers) User(ctx context.Context, id string) (*mixin.User, error) {
	return u.api.User(ctx, id)
}

func (u benchUsers) Search(context.Context, string) (*mixin.User, error) { return nil, errBench }

// benchSafeApp is benchApp on a Safe profile: the Safe rail on the
// benchmark's snapshots.
func benchSafeApp(b *testing.B) *App {
	b.Helper()
	start, _ := time.Parse(time.RFC3339, benchStartAt)
	hs := httptest.NewServer(&benchSafeAPI{start: start})
	b.Cleanup(hs.Close)
	seed := func(c byte) string {
		k := make([]byte, 32)
		for i := range k {
			k[i] = c
		}
		return hex.EncodeToString(k)
	}
	server, _ := hex.DecodeString(seed(0x77))
	ks := safe.Keystore{AppID: benchSelfID, SessionID: benchID(0x5e, 1), SessionPrivateKey: seed(0x11), SpendPrivateKey: seed(0x01),
		ServerPublicKey: hex.EncodeToString(ed25519.NewKeyFromSeed(server).Public().(ed25519.PublicKey))}
	acct, err := ks.Open()
	if err != nil {
		b.Fatal(err)
	}
	c, err := safe.NewClient(hs.URL, acct)
	if err != nil {
		b.Fatal(err)
	}
	r, err := saferail.New(c, benchUsers{})
	if err != nil {
		b.Fatal(err)
	}
	return benchAppOn(b, r, keystore.Profile{Safe: &ks})
}

// BenchmarkSafeHistoryView is BenchmarkHistoryView on a Safe profile.
func BenchmarkSafeHistoryView(b *testing.B) { benchView(b, benchSafeApp(b)) }

// BenchmarkSafeHistoryFilterChange is BenchmarkHistoryFilterChange on a
// Safe profile.
func BenchmarkSafeHistoryFilterChange(b *testing.B) { benchFilterChange(b, benchSafeApp(b)) }

// BenchmarkSafeHistoryLiveHeap is BenchmarkHistoryLiveHeap on a Safe
// profile.
func BenchmarkSafeHistoryLiveHeap(b *testing.B) { benchLiveHeap(b, benchSafeApp) }
