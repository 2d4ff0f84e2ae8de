package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
	"mixdesk/journal"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/rail"
)

// The history benchmarks: the console on the history screen of an account
// with 100,000 movements, every page loaded, at 120×40. Budgets: View()
// under 1 ms, a filter change under 50 ms, live heap under 64 MB.
//
//	go test -run '^$' -bench History -benchtime 2s ./ui/
const (
	benchRows    = 100_000
	benchPeople  = 2_000 // distinct counterparties
	benchW       = 120
	benchH       = 40
	benchSelfID  = "00000000-0000-4000-8000-00000000a11c"
	benchStartAt = "2026-11-26T12:00:00Z" // the newest snapshot; one a minute before it
)

var benchMonths = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

// benchAPI serves a history of benchRows snapshots, made when asked for
// (with their own strings, as the JSON decoder would make them), and the
// names of the counterparties. It holds no snapshot: the heap measured is
// the console's.
type benchAPI struct{ start time.Time }

func benchID(kind, i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, i) }

func (api *benchAPI) snapshot(i int) mixin.Snapshot {
	amount := fmt.Sprintf("%d.%02d", 1+i%5000, i%100)
	if i%3 != 0 {
		amount = "-" + amount
	}
	return mixin.Snapshot{
		Type:           "transfer",
		SnapshotID:     benchID(0x5a, i),
		TraceID:        benchID(0x7b, i),
		AssetID:        []string{usdtID, btcID, ethID}[i%3],
		OpponentID:     benchID(0xc0, (i*7)%benchPeople),
		Amount:         amount,
		OpeningBalance: fmt.Sprintf("%d.%08d", 100000+i, i),
		ClosingBalance: fmt.Sprintf("%d.%08d", 100000+i, i+1),
		Memo:           fmt.Sprintf("Invoice %d, %s payroll", i, benchMonths[i%12]),
		CreatedAt:      api.start.Add(-time.Duration(i) * time.Minute),
	}
}

func (api *benchAPI) Snapshots(_ context.Context, q mixin.SnapshotQuery) ([]mixin.Snapshot, error) {
	i := 0
	if !q.Offset.IsZero() { // inclusive: the first snapshot at or before the offset
		i = int((api.start.Sub(q.Offset) + time.Minute - 1) / time.Minute)
	}
	limit := q.Limit
	if limit == 0 {
		limit = 100
	}
	var out []mixin.Snapshot
	for ; i < benchRows && len(out) < limit; i++ {
		out = append(out, api.snapshot(i))
	}
	return out, nil
}

func (api *benchAPI) User(_ context.Context, id string) (*mixin.User, error) {
	var n int
	if _, err := fmt.Sscanf(id[len(id)-12:], "%x", &n); err != nil {
		return nil, err
	}
	return &mixin.User{UserID: id, FullName: firstNames[n%len(firstNames)] + " " + lastNames[n%len(lastNames)]}, nil
}

var (
	firstNames = []string{"Amara", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kofi", "Lena"}
	lastNames  = []string{"Abara", "Berg", "Costa", "Dimitrov", "Eze", "Fischer", "Guerra", "Haddad", "Ito", "Jensen", "Lindqvist"}
	errBench   = errors.New("not in the benchmark")
)

func (api *benchAPI) Asset(context.Context, string) (*mixin.Asset, error) { return nil, errBench }
func (api *benchAPI) Search(context.Context, string) (*mixin.User, error) { return nil, errBench }
func (api *benchAPI) TransferByTrace(context.Context, string) (*mixin.Snapshot, error) {
	return nil, errBench
}
func (api *benchAPI) Transfer(context.Context, mixin.TransferInput, string) (*mixin.Snapshot, error) {
	return nil, errBench
}

// benchApp builds the console on the history screen with every page of the
// benchmark account loaded, the counterparties' names known, and a refused
// payout and one in doubt in the journal.
func benchApp(b *testing.B) *App {
	b.Helper()
	start, _ := time.Parse(time.RFC3339, benchStartAt)
	return benchAppOn(b, legacyrail.New(&benchAPI{start: start}), keystore.Profile{})
}

// benchAppOn is benchApp on the rail r of a profile p.
func benchAppOn(b *testing.B, r rail.Rail, p keystore.Profile) *App {
	b.Helper()
	j, _, err := journal.Open(filepath.Join(b.TempDir(), "journal-bench.jsonl"), journal.WithOperator("alice"), journal.WithHost("desk-1"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = j.Close() })
	for i, failed := range []bool{true, false} {
		trace := benchID(0xee, i)
		if _, err := j.AppendIntent(journal.Intent{Trace: trace, AssetID: usdtID, RecipientID: benchID(0xc0, i), Amount: "1250.5", Memo: "Invoice by the desk"}); err != nil {
			b.Fatal(err)
		}
		if failed {
			if _, err := j.AppendFailed(journal.Failed{Trace: trace, Code: mixin.CodeInsufficientBalance, Description: "Insufficient balance."}); err != nil {
				b.Fatal(err)
			}
		}
	}
	desk, err := payout.NewDeskOn(r, j, payout.Config{Self: benchSelfID})
	if err != nil {
		b.Fatal(err)
	}

	a := New(Deps{Env: account.Env{DataDir: b.TempDir()}})
	a.Update(tea.WindowSizeMsg{Width: benchW, Height: benchH})
	a.acct = account.New("treasury", p, rail.User{UserID: benchSelfID, FullName: "Treasury Desk"}, desk)
	a.pages[screenHome] = newHomeScreen(&a.shared)
	a.balances = []rail.Asset{
		{AssetID: btcID, Symbol: "BTC", Name: "Bitcoin", Balance: "2.5"},
		{AssetID: ethID, Symbol: "ETH", Name: "Ether", Balance: "40"},
		{AssetID: usdtID, Symbol: "USDT", Name: "Tether USD", Balance: "50000"},
	}
	a.screen = screenHome
	_ = a.openHistory() // the first page is loaded below, with the others
	s := a.history()
	ctx := context.Background()
	for !s.h.Done() {
		if _, err := s.h.LoadMore(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.names.Resolve(ctx, s.h.Counterparties()); err != nil {
		b.Fatal(err)
	}
	s.loading = false
	s.refilter()
	if n := len(s.idx); n != benchRows+2 {
		b.Fatalf("%d rows shown, want %d", n, benchRows+2)
	}
	return a
}

// benchKey sends a key to the App as the program would, and drops the command.
func benchKey(a *App, k tea.KeyMsg) { _, _ = a.Update(k) }

func benchRune(r rune) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}} }

// BenchmarkHistoryView draws the whole console (View of the App) on the
// history screen: at the top, and in the middle of the 100,000 rows.
func BenchmarkHistoryView(b *testing.B) { benchView(b, benchApp(b)) }

// benchView draws the whole console on a's history screen, at the top and
// in the middle of the rows.
func benchView(b *testing.B, a *App) {
	for _, c := range []struct {
		name string
		at   int
	}{{"top", 0}, {"middle", benchRows / 2}} {
		b.Run(c.name, func(b *testing.B) {
			a.history().cursor, a.history().top = 0, 0
			a.history().move(c.at)
			var v string
			for b.Loop() {
				v = a.View()
			}
			if len(tableLines(v)) != a.history().visibleRows(a.bodyHeight()) {
				b.Fatalf("the view shows %d rows:\n%s", len(tableLines(v)), v)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/view")
		})
	}
}

// BenchmarkHistoryFilterChange measures one key that changes the filter,
// through Update, over 100,000 rows: a rune typed into the search (and
// taken back, in turn), the asset cycle and the direction.
func BenchmarkHistoryFilterChange(b *testing.B) { benchFilterChange(b, benchApp(b)) }

// benchFilterChange measures the keys that change the filter of a's
// history.
func benchFilterChange(b *testing.B, a *App) {
	b.Run("search-rune", func(b *testing.B) {
		benchKey(a, benchRune('/'))
		for _, r := range "invoice 4" {
			if r == ' ' {
				benchKey(a, tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
				continue
			}
			benchKey(a, benchRune(r))
		}
		i := 0
		for b.Loop() {
			if i%2 == 0 {
				benchKey(a, benchRune('2'))
			} else {
				benchKey(a, tea.KeyMsg{Type: tea.KeyBackspace})
			}
			i++
		}
		if got := a.history().filter.Text; got != "invoice 4" && got != "invoice 42" {
			b.Fatalf("the search is %q", got)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/filter")
		benchKey(a, tea.KeyMsg{Type: tea.KeyEnter})
		benchKey(a, benchRune('x'))
	})
	for _, k := range []rune{'a', 'd'} {
		name := map[rune]string{'a': "asset", 'd': "direction"}[k]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				benchKey(a, benchRune(k))
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/filter")
			benchKey(a, benchRune('x'))
		})
	}
}

// BenchmarkHistoryLiveHeap reports the heap the console holds with
// 100,000 rows loaded and shown, after a collection.
func BenchmarkHistoryLiveHeap(b *testing.B) { benchLiveHeap(b, benchApp) }

// benchLiveHeap reports the heap held by the console that app builds.
func benchLiveHeap(b *testing.B, app func(*testing.B) *App) {
	var live uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a := app(b)
		_ = a.View()
		runtime.GC()
		runtime.ReadMemStats(&after)
		live = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(a)
	}
	b.ReportMetric(float64(live)/1e6, "MB-live")
	b.ReportMetric(float64(live)/benchRows, "B/row")
}
