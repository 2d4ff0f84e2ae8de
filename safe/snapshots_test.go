package safe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mixdesk/mixin"
)

// snapServer serves GET /safe/snapshots from a list as the contract allows
// it to (docs/safe-api.md §3.3): offset inclusive, DESC by default. answer,
// when set, replaces the page it would serve.
type snapServer struct {
	mu      sync.Mutex
	snaps   []Snapshot // oldest first
	served  int        // snapshots sent, repeats included
	offsets []string
	answer  func(page []Snapshot, call int) []Snapshot
}

func (s *snapServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("X-Request-Id", r.Header.Get("X-Request-Id"))
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	var offset time.Time
	if v := q.Get("offset"); v != "" {
		offset, _ = time.Parse(time.RFC3339Nano, v)
	}
	s.offsets = append(s.offsets, q.Get("offset"))
	list := slices.Clone(s.snaps)
	asc := q.Get("order") == "ASC"
	if !asc {
		slices.Reverse(list)
	}
	page := []Snapshot{}
	for _, sn := range list {
		if !offset.IsZero() && ((asc && sn.CreatedAt.Before(offset)) || (!asc && sn.CreatedAt.After(offset))) {
			continue
		}
		page = append(page, sn)
		if len(page) == limit {
			break
		}
	}
	if s.answer != nil {
		page = s.answer(page, len(s.offsets))
	}
	s.served += len(page)
	_ = json.NewEncoder(w).Encode(map[string]any{"data": page})
}

func snapClient(t *testing.T, s *snapServer) *Client {
	t.Helper()
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	c, err := NewClient(hs.URL, openVectorAccount(t), WithRetry(mixin.RetryPolicy{Attempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testSnapshots is n snapshots, money in and out by turns, every two of
// them (and, at the 10th, three) at one instant.
func testSnapshots(n int) []Snapshot {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var out []Snapshot
	for i := range n {
		amount := fmt.Sprintf("%d.5", i+1)
		if i%2 == 1 {
			amount = "-" + amount
		}
		at := i / 2
		if i == 10 {
			at = 4 // with 8 and 9
		}
		out = append(out, Snapshot{
			SnapshotID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1), Type: "snapshot",
			UserID: senderID, OpponentID: recipientID, AssetID: btcID, Amount: amount,
			Memo: fmt.Sprintf("%x", "memo "+strconv.Itoa(i)), RequestID: fmt.Sprintf("10000000-0000-4000-8000-%012d", i+1),
			CreatedAt: t0.Add(time.Duration(at) * time.Second),
		})
	}
	slices.SortStableFunc(out, func(a, b Snapshot) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

func walk(t *testing.T, c *Client, q SnapshotsQuery) ([]Snapshot, *SnapshotPager, error) {
	t.Helper()
	p := c.NewSnapshotPager(q)
	var all []Snapshot
	for i := 0; !p.Done(); i++ {
		if i > 1000 {
			t.Fatal("the pager does not end")
		}
		page, err := p.Next(context.Background())
		if err != nil {
			return all, p, err
		}
		all = append(all, page...)
	}
	return all, p, nil
}

// TestSnapshotPager: pages whose boundaries fall inside runs of snapshots
// at one instant repeat them (the offset is inclusive); the pager returns
// each snapshot once, in order, money in and out, in both orders and for
// several page sizes.
func TestSnapshotPager(t *testing.T) {
	want := testSnapshots(23)
	for _, order := range []string{"DESC", "ASC"} {
		for _, limit := range []int{4, 5, 7, 23, 100} {
			s := &snapServer{snaps: want}
			got, p, err := walk(t, snapClient(t, s), SnapshotsQuery{Limit: limit, Order: order})
			if err != nil {
				t.Fatalf("%s limit %d: %v", order, limit, err)
			}
			exp := slices.Clone(want)
			if order == "DESC" {
				slices.Reverse(exp)
			}
			ids := func(l []Snapshot) []string {
				var out []string
				for _, s := range l {
					out = append(out, s.SnapshotID)
				}
				return out
			}
			if !slices.Equal(ids(got), ids(exp)) {
				t.Fatalf("%s limit %d:\n got %v\nwant %v", order, limit, ids(got), ids(exp))
			}
			in, out := 0, 0
			for _, sn := range got {
				if sn.IsOut() {
					out++
				} else {
					in++
				}
				if sn.MemoText == "" {
					t.Fatalf("memo not decoded: %+v", sn)
				}
			}
			if in != 12 || out != 11 {
				t.Fatalf("%d in, %d out", in, out)
			}
			if limit < 23 && s.served <= len(want) {
				t.Fatalf("%s limit %d: no page repeated a snapshot (%d served); the test does not test", order, limit, s.served)
			}
			if p.Pages() != len(s.offsets) || s.offsets[0] != "" {
				t.Fatalf("%d pages, %d calls, first offset %q", p.Pages(), len(s.offsets), s.offsets[0])
			}
			if !p.Done() {
				t.Fatal("not done")
			}
			if more, err := p.Next(context.Background()); more != nil || err != nil {
				t.Fatalf("after the end: %v %v", more, err)
			}
		}
	}
}

// TestSnapshotPagerBrokenServers: a page that repeats one snapshot within
// itself is deduplicated; a full page at one instant, a page out of order
// and a snapshot without a time end the walk with a protocol error
// instead of a loop or a wrong history.
func TestSnapshotPagerBrokenServers(t *testing.T) {
	all := testSnapshots(23)
	s := &snapServer{snaps: all, answer: func(page []Snapshot, call int) []Snapshot {
		if call == 2 && len(page) > 1 {
			page[1] = page[0] // the same snapshot twice in one page
		}
		return page
	}}
	got, _, err := walk(t, snapClient(t, s), SnapshotsQuery{Limit: 6})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, sn := range got {
		if seen[sn.SnapshotID] {
			t.Fatalf("%s returned twice", sn.SnapshotID)
		}
		seen[sn.SnapshotID] = true
	}

	broken := []struct {
		name   string
		limit  int
		answer func([]Snapshot, int) []Snapshot
		says   string
	}{
		// 8, 9 and 10 share one instant: with pages of 2 the offset sticks.
		{"one instant", 2, nil, "shares one created_at"},
		{"out of order", 5, func(p []Snapshot, _ int) []Snapshot {
			p[0], p[2] = p[2], p[0]
			return p
		}, "not in the order asked"},
		{"behind its offset", 5, func(p []Snapshot, call int) []Snapshot {
			if call == 2 { // the newest again
				p = slices.Clone(all[len(all)-5:])
				slices.Reverse(p)
			}
			return p
		}, "wrong side of its offset"},
		{"no time", 5, func(p []Snapshot, _ int) []Snapshot {
			p[0].CreatedAt = time.Time{}
			return p
		}, "without created_at"},
	}
	for _, b := range broken {
		s := &snapServer{snaps: all, answer: b.answer}
		if b.name == "one instant" {
			s.snaps = all[:11]
		}
		_, _, err := walk(t, snapClient(t, s), SnapshotsQuery{Limit: b.limit})
		var pe *mixin.ProtocolError
		if !errors.As(err, &pe) || !strings.Contains(pe.Reason, b.says) {
			t.Errorf("%s: %v, want a protocol error", b.name, err)
		}
	}
}

// TestSnapshotDepositAndHash: a snapshot's deposit object is read (its
// text display-safe and bounded), its transaction hash is kept in lower
// case, and a hash that is not 64 hex characters is refused as a broken
// answer rather than shown.
func TestSnapshotDepositAndHash(t *testing.T) {
	snaps := testSnapshots(3)
	hash := strings.Repeat("AB", 32)
	snaps[2].TransactionHash = hash
	snaps[2].Deposit = &SnapshotDeposit{DepositHash: "0xfeed\x1b[31mbeef", Sender: "bc1q" + strings.Repeat("x", 400)}
	got, _, err := walk(t, snapClient(t, &snapServer{snaps: snaps}), SnapshotsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	d := got[0].Deposit
	if got[0].TransactionHash != strings.ToLower(hash) || d == nil || d.DepositHash != "0xfeedbeef" || len(d.Sender) != maxFieldLen {
		t.Fatalf("the deposit read is %+v (hash %q)", d, got[0].TransactionHash)
	}
	for _, s := range got[1:] {
		if s.Deposit != nil || s.TransactionHash != "" {
			t.Fatalf("a payment read as a deposit: %+v", s)
		}
	}
	snaps[2].TransactionHash = "feed"
	_, _, err = walk(t, snapClient(t, &snapServer{snaps: snaps}), SnapshotsQuery{})
	var pe *mixin.ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(pe.Reason, "transaction_hash") {
		t.Fatalf("a short transaction hash: %v, want a protocol error", err)
	}
}
