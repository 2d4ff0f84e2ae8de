package payout

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"mixdesk/journal"
	"mixdesk/payout/rail"
)

// dupDesk is a desk over an empty journal, for findDuplicates.
func dupDesk(tb testing.TB) *Desk {
	tb.Helper()
	j, _, err := journal.Open(filepath.Join(tb.TempDir(), "journal.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { j.Close() })
	d, err := NewDeskOn(&fakeSnaps{}, j, Config{Self: fakeID(5, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// alikeItems makes n valid rows to people recipients of amounts amounts;
// keys distinct keys (0: each row its own key).
func alikeItems(rnd *rand.Rand, n, people, amounts, keys int) []BatchItem {
	items := make([]BatchItem, n)
	for i := range items {
		key := fmt.Sprintf("row-%d", i)
		if keys > 0 {
			key = fmt.Sprintf("k-%d", rnd.IntN(keys))
		}
		u := rnd.IntN(people)
		items[i] = BatchItem{Row: BatchRow{Line: i + 2}, Key: key, State: ItemNew,
			User:       rail.User{UserID: fakeID(3, u), FullName: fmt.Sprintf("Person %d", u)},
			Asset:      rail.Asset{AssetID: usdtID, Symbol: "USDT"},
			AmountText: fmt.Sprintf("1.%d", rnd.IntN(amounts))}
		if rnd.IntN(20) == 0 {
			items[i].State = ItemInvalid
		}
	}
	return items
}

// findDuplicatesPairwise is findDuplicates's grouping done the plain way,
// every row against every row before it: the reference its result must
// equal.
func findDuplicatesPairwise(items []BatchItem) []DupGroup {
	var groups []DupGroup
	in := make([]int, len(items)) // 1 + group of the row, 0 for none
	for i := range items {
		a := &items[i]
		if a.State == ItemInvalid {
			continue
		}
		for f := range i {
			b := &items[f]
			if b.State == ItemInvalid || a.User.UserID != b.User.UserID || a.Asset.AssetID != b.Asset.AssetID || a.AmountText != b.AmountText {
				continue
			}
			if in[f] == 0 {
				groups = append(groups, DupGroup{Kind: DupInFile, Lines: []int{b.Row.Line}, Recipient: a.User.FullName,
					UserID: a.User.UserID, Symbol: a.Asset.Symbol, AssetID: a.Asset.AssetID, Amount: a.AmountText})
				in[f] = len(groups)
			}
			g := &groups[in[f]-1]
			g.Lines = append(g.Lines, a.Row.Line)
			in[i] = in[f]
			for m := range i {
				if in[m] == in[f] && items[m].Key == a.Key {
					g.SameKey = true
				}
			}
			break
		}
	}
	// Without payouts in the journal, the groups stay in the order they
	// were found (a group is found at its second row).
	return groups
}

// TestFindDuplicatesAsPairwise: the groups of rows alike, and whether
// their rows share a key, are those found by comparing every row with
// every row before it, on files of many shapes.
func TestFindDuplicatesAsPairwise(t *testing.T) {
	d := dupDesk(t)
	now := time.Now()
	for seed := range uint64(200) {
		rnd := rand.New(rand.NewPCG(seed, 3))
		items := alikeItems(rnd, 1+rnd.IntN(60), 1+rnd.IntN(5), 1+rnd.IntN(4), rnd.IntN(6))
		got := d.findDuplicates("batch", items, now, nil)
		want := findDuplicatesPairwise(items)
		if !slices.EqualFunc(got, want, func(a, b DupGroup) bool {
			return slices.Equal(a.Lines, b.Lines) && a.SameKey == b.SameKey && a.Kind == b.Kind && a.UserID == b.UserID && a.Amount == b.Amount
		}) {
			t.Fatalf("seed %d:\n got %+v\nwant %+v", seed, got, want)
		}
	}
}

// BenchmarkFindDuplicates checks 10,000 rows for duplicates: all alike
// (one recipient, one amount) with one key or each its own, and a
// payroll of distinct rows.
func BenchmarkFindDuplicates(b *testing.B) {
	d := dupDesk(b)
	now := time.Now()
	for _, c := range []struct {
		name                  string
		people, amounts, keys int
	}{
		{"identical-rows", 1, 1, 1},
		{"alike-rows-own-keys", 1, 1, 0},
		{"distinct-rows", 10_000, 1_000_000, 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			items := alikeItems(rand.New(rand.NewPCG(1, 2)), 10_000, c.people, c.amounts, c.keys)
			b.ReportAllocs()
			for b.Loop() {
				d.findDuplicates("batch", items, now, nil)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10_000, "ns/row")
		})
	}
}
