package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/payouttest"
	"mixdesk/payout/rail"
)

// loadAll calls LoadMore until the history is done and returns the number
// of calls.
func loadAll(t *testing.T, h *History) int {
	t.Helper()
	for calls := 1; calls <= 1000; calls++ {
		if _, err := h.LoadMore(context.Background()); err != nil {
			t.Fatalf("LoadMore (call %d): %v", calls, err)
		}
		if h.Done() {
			return calls
		}
	}
	t.Fatal("LoadMore never reached the end")
	return 0
}

// wantSorted checks that rows are newest first.
func wantSorted(t *testing.T, rows []Row) {
	t.Helper()
	for i := 1; i < len(rows); i++ {
		if rows[i].Time.After(rows[i-1].Time) {
			t.Fatalf("row %d (%s) is newer than row %d (%s)", i, rows[i].Time, i-1, rows[i-1].Time)
		}
	}
}

// wantUniqueSnapshots checks that no snapshot id and no trace of a
// journal-only row shows twice, and returns the snapshot ids.
func wantUniqueSnapshots(t *testing.T, rows []Row) map[string]bool {
	t.Helper()
	ids := make(map[string]bool)
	journal := make(map[string]bool)
	for i, r := range rows {
		if r.SnapshotID == "" {
			if journal[r.TraceID] {
				t.Fatalf("row %d: journal-only trace %s shown twice", i, r.TraceID)
			}
			journal[r.TraceID] = true
			continue
		}
		if ids[r.SnapshotID] {
			t.Fatalf("row %d: snapshot %s shown twice", i, r.SnapshotID)
		}
		ids[r.SnapshotID] = true
	}
	for trace := range journal {
		for _, r := range rows {
			if r.SnapshotID != "" && r.TraceID == trace && r.State == StateDone {
				t.Fatalf("trace %s is shown both as a journal-only row and as its snapshot", trace)
			}
		}
	}
	return ids
}

// moveMoney makes n transfers directly in the sandbox, alternating between
// the operator paying user i%4 and user i%4 paying the operator.
func moveMoney(t *testing.T, r *payouttest.Rig, n int) {
	t.Helper()
	for i := range n {
		u := r.Users[i%len(r.Users)].UserID
		from, to := r.Self.UserID, u
		if i%2 == 1 {
			from, to = u, r.Self.UserID
		}
		in := mixin.TransferInput{AssetID: usdtID, OpponentID: to, Amount: "0.01", TraceID: uuid.NewString(), Memo: fmt.Sprintf("move %d", i)}
		if _, err := r.Srv.Transfer(from, in); err != nil {
			t.Fatalf("sandbox transfer %d: %v", i, err)
		}
	}
}

// ledgerIDs returns the snapshot ids of the operator's transfers.
func ledgerIDs(r *payouttest.Rig) map[string]bool {
	ids := make(map[string]bool)
	for _, e := range r.Srv.Ledger() {
		if e.From == r.Self.UserID || e.To == r.Self.UserID {
			ids[e.SnapshotID] = true
		}
	}
	return ids
}

func TestHistoryPagesAcrossInclusiveOffset(t *testing.T) {
	r := payouttest.New(t, payouttest.Options{Seed: 41})
	moveMoney(t, r, 260)
	h := New(r.Desk.Rail(), r.J)
	if h.Len() != 0 || h.Done() {
		t.Fatalf("new history: %d rows, done %v; want empty and not done", h.Len(), h.Done())
	}

	// The sandbox repeats the boundary snapshot at the top of each next
	// page: 100 + 99 + 61.
	var added []int
	for !h.Done() {
		n, err := h.LoadMore(context.Background())
		if err != nil {
			t.Fatalf("LoadMore: %v", err)
		}
		added = append(added, n)
	}
	if !slices.Equal(added, []int{100, 99, 61}) {
		t.Errorf("rows added per page = %v, want [100 99 61]", added)
	}
	if pages := r.Count.N("GET /snapshots"); pages != 3 {
		t.Errorf("%d GET /snapshots, want 3", pages)
	}

	rows := h.Rows()
	wantSorted(t, rows)
	got := wantUniqueSnapshots(t, rows)
	want := ledgerIDs(r)
	if len(rows) != 260 || len(got) != len(want) {
		t.Fatalf("%d rows (%d snapshots), want 260 (ledger has %d)", len(rows), len(got), len(want))
	}
	for id := range want {
		if !got[id] {
			t.Fatalf("snapshot %s of the ledger is not in the history", id)
		}
	}

	// Done: nothing more is asked.
	if n, err := h.LoadMore(context.Background()); n != 0 || err != nil {
		t.Fatalf("LoadMore after the end = %d, %v", n, err)
	}
	if r.Count.N("GET /snapshots") != 3 {
		t.Fatal("LoadMore after the end asked the server")
	}
}

// repeatingRail serves the sandbox's pages in reverse order with the last
// snapshot repeated, as a careless server might.
type repeatingRail struct{ rail.Rail }

func (a repeatingRail) Movements(ctx context.Context, q rail.Query) ([]rail.Movement, error) {
	page, err := a.Rail.Movements(ctx, q)
	if err != nil || len(page) == 0 {
		return page, err
	}
	page = append(page, page[len(page)-1])
	slices.Reverse(page)
	return page, nil
}

func TestHistoryDropsRepeatedSnapshots(t *testing.T) {
	r := payouttest.New(t, payouttest.Options{Seed: 42})
	moveMoney(t, r, 230)
	h := New(repeatingRail{legacyrail.New(r.Client)}, r.J)
	loadAll(t, h)
	rows := h.Rows()
	wantSorted(t, rows)
	if got := wantUniqueSnapshots(t, rows); len(got) != 230 || len(rows) != 230 {
		t.Fatalf("%d rows, %d distinct snapshots; want 230", len(rows), len(got))
	}
}

// fakeSnaps is a rail that serves a fixed list of movements as the Mixin
// API does: newest first, created_at at or before the offset (inclusive),
// ties broken by snapshot id.
type fakeSnaps struct {
	mu    sync.Mutex
	snaps []rail.Movement
	calls int
}

func (f *fakeSnaps) Movements(ctx context.Context, q rail.Query) ([]rail.Movement, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	all := slices.Clone(f.snaps)
	slices.SortStableFunc(all, func(a, b rail.Movement) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.SnapshotID, a.SnapshotID)
	})
	limit := q.Limit
	if limit == 0 {
		limit = 500
	}
	var out []rail.Movement
	for _, s := range all {
		if len(out) == limit {
			break
		}
		if q.Before.IsZero() || !s.CreatedAt.After(q.Before) {
			out = append(out, s)
		}
	}
	return out, nil
}

// fakeID is a UUID made from a number.
func fakeID(kind, n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, n) }

// fakeSnap is snapshot n, at t.
func fakeSnap(n int, t time.Time, amount string) rail.Movement {
	return rail.Movement{SnapshotID: fakeID(1, n), Key: fakeID(2, n), AssetID: usdtID,
		OpponentID: fakeID(3, n%7), Amount: amount, ClosingBalance: "100", Memo: fmt.Sprintf("snap %d", n), CreatedAt: t}
}

func TestHistoryEqualTimesAcrossPages(t *testing.T) {
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f := &fakeSnaps{}
	for n := range 250 {
		// Seven snapshots share each instant, so pages end inside a run.
		f.snaps = append(f.snaps, fakeSnap(n, base.Add(-time.Duration(n/7)*time.Minute), "-1"))
	}
	h := New(f, nil)
	loadAll(t, h)
	rows := h.Rows()
	wantSorted(t, rows)
	if got := wantUniqueSnapshots(t, rows); len(got) != 250 {
		t.Fatalf("%d distinct snapshots, want 250", len(got))
	}
}

func TestHistoryFullPageAtOneInstant(t *testing.T) {
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f := &fakeSnaps{}
	for n := range 150 {
		f.snaps = append(f.snaps, fakeSnap(n, at, "-1"))
	}
	h := New(f, nil)
	if n, err := h.LoadMore(context.Background()); n != 100 || err != nil {
		t.Fatalf("first page: %d, %v; want 100 rows", n, err)
	}
	n, err := h.LoadMore(context.Background())
	var pe *mixin.ProtocolError
	if n != 0 || !errors.As(err, &pe) {
		t.Fatalf("second page: %d, %v; want a protocol error and nothing added", n, err)
	}
	if h.Len() != 100 || h.Done() {
		t.Fatalf("after the error: %d rows, done %v; want 100 and not done", h.Len(), h.Done())
	}
	if f.calls != 2 {
		t.Fatalf("%d calls, want 2 (no loop on a page that cannot advance)", f.calls)
	}
}

func TestHistoryBadSnapshotsLeftOut(t *testing.T) {
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f := &fakeSnaps{snaps: []rail.Movement{
		fakeSnap(1, at, "-1.5"),
		fakeSnap(2, at.Add(-time.Second), "lots"),
		fakeSnap(3, at.Add(-2*time.Second), "1e-999999999"),
		fakeSnap(4, at.Add(-3*time.Second), "2"),
		{SnapshotID: "", Amount: "1", CreatedAt: at.Add(-4 * time.Second)},
		{SnapshotID: fakeID(1, 9), Amount: "1"}, // no time
	}}
	h := New(f, nil)
	n, err := h.LoadMore(context.Background())
	if n != 2 || !errors.Is(err, ErrBadSnapshot) || !strings.Contains(err.Error(), "4 left out") {
		t.Fatalf("LoadMore = %d, %v; want 2 rows and ErrBadSnapshot for 4", n, err)
	}
	if !h.Done() {
		t.Fatal("a short page did not end the history")
	}
	rows := h.Rows()
	if rows[0].Amount.String() != "-1.5" || rows[1].Amount.String() != "2" {
		t.Fatalf("rows %+v", rows)
	}
}

// TestHistoryJoinsJournal: each kind of journal entry and snapshot shows
// once, with its state.
func TestHistoryJoinsJournal(t *testing.T) {
	r := payouttest.New(t, payouttest.Options{Seed: 43})
	ctx := context.Background()

	// Sent by the desk and done.
	rvDone := r.Review(r.Draft(0, "12.5", "invoice 7"), nil)
	if res := r.Send(rvDone); res.State != journal.StateDone {
		t.Fatalf("send: %+v", res)
	}
	// Refused by the server.
	rvFailed := r.Review(r.Draft(1, "3", "refused"), nil)
	res, err := r.Desk.Send(ctx, rvFailed, wrongPIN(r.PIN))
	if err != nil || res.State != journal.StateFailed {
		t.Fatalf("send with a wrong PIN: %+v, %v", res, err)
	}
	// In doubt, never posted (a crash after the intent).
	traceLost := uuid.NewString()
	if _, err := r.J.AppendIntent(journal.Intent{Trace: traceLost, AssetID: usdtID, RecipientID: r.Users[2].UserID, Amount: "5", Memo: "crashed"}); err != nil {
		t.Fatal(err)
	}
	// In doubt, executed (the answer was lost).
	traceDropped := uuid.NewString()
	if _, err := r.J.AppendIntent(journal.Intent{Trace: traceDropped, AssetID: usdtID, RecipientID: r.Users[1].UserID, Amount: "4", Memo: "answer lost"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Srv.Transfer(r.Self.UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.Users[1].UserID, Amount: "4", TraceID: traceDropped, Memo: "answer lost"}); err != nil {
		t.Fatal(err)
	}
	// Sent by another tool, and received.
	other, err := r.Srv.Transfer(r.Self.UserID, mixin.TransferInput{AssetID: btcID, OpponentID: r.Users[2].UserID, Amount: "0.001", TraceID: uuid.NewString(), Memo: "other tool"})
	if err != nil {
		t.Fatal(err)
	}
	in, err := r.Srv.Transfer(r.Users[3].UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.Self.UserID, Amount: "7.25", TraceID: uuid.NewString(), Memo: "refund"})
	if err != nil {
		t.Fatal(err)
	}

	h := New(r.Desk.Rail(), r.J)
	before := h.Rows()
	kept := slices.Clone(before)
	var states []State
	for _, row := range before {
		states = append(states, row.State)
		if row.SnapshotID != "" {
			t.Errorf("journal-only row %+v has a snapshot id", row)
		}
	}
	if !slices.Equal(states, []State{StateInDoubt, StateInDoubt, StateFailed}) {
		t.Fatalf("rows before loading: %v, want the two in doubt and the failed one", states)
	}

	loadAll(t, h)
	rows := h.Rows()
	wantSorted(t, rows)
	wantUniqueSnapshots(t, rows)
	if !slices.EqualFunc(before, kept, rowsEqual) {
		t.Fatal("loading changed the rows returned before")
	}
	states = states[:0]
	for _, row := range rows {
		states = append(states, row.State)
	}
	want := []State{StateReceived, StateOther, StateDone, StateInDoubt, StateFailed, StateDone}
	if !slices.Equal(states, want) {
		t.Fatalf("states %v, want %v", states, want)
	}

	const operator = "tester@test-host"
	check := func(i int, want Row) {
		t.Helper()
		got := rows[i]
		if want.SnapshotID == "*" {
			if got.SnapshotID == "" {
				t.Errorf("row %d has no snapshot id", i)
			}
			want.SnapshotID = got.SnapshotID
		}
		want.Time = got.Time
		if !rowsEqual(got, want) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	check(0, Row{SnapshotID: in.SnapshotID, TraceID: in.TraceID, AssetID: usdtID, Amount: decimal.RequireFromString("7.25"),
		OpponentID: r.Users[3].UserID, Memo: "refund", State: StateReceived, Closing: "49990.75"})
	check(1, Row{SnapshotID: other.SnapshotID, TraceID: other.TraceID, AssetID: btcID, Amount: decimal.RequireFromString("-0.001"),
		OpponentID: r.Users[2].UserID, Memo: "other tool", State: StateOther, Closing: "2.499"})
	check(2, Row{SnapshotID: "*", TraceID: traceDropped, AssetID: usdtID, Amount: decimal.RequireFromString("-4"),
		OpponentID: r.Users[1].UserID, Memo: "answer lost", State: StateDone, Closing: "49983.5", Operator: operator})
	check(3, Row{TraceID: traceLost, AssetID: usdtID, Amount: decimal.RequireFromString("-5"),
		OpponentID: r.Users[2].UserID, Memo: "crashed", State: StateInDoubt, Operator: operator})
	failed := r.Entry(rvFailed.TraceID).Failed
	check(4, Row{TraceID: rvFailed.TraceID, AssetID: usdtID, Amount: decimal.RequireFromString("-3"),
		OpponentID: r.Users[1].UserID, Memo: "refused", State: StateFailed, Code: mixin.CodePINIncorrect, Reason: failed.Description, Operator: operator})
	check(5, Row{SnapshotID: r.Entry(rvDone.TraceID).Done.SnapshotID, TraceID: rvDone.TraceID, AssetID: usdtID, Amount: decimal.RequireFromString("-12.5"),
		OpponentID: r.Users[0].UserID, Memo: "invoice 7", State: StateDone, Closing: "49987.5", Operator: operator})
	if failed.Description == "" {
		t.Error("the refusal has no description to show")
	}
	if !rows[3].Time.Equal(r.Entry(traceLost).Intent.Time) {
		t.Errorf("in-doubt row time %s, want the intent's %s", rows[3].Time, r.Entry(traceLost).Intent.Time)
	}
	if !rows[0].Time.Equal(in.CreatedAt) {
		t.Errorf("received row time %s, want created_at %s", rows[0].Time, in.CreatedAt)
	}
	if rows[0].Outgoing() || !rows[1].Outgoing() || !rows[3].Outgoing() {
		t.Error("Outgoing is wrong")
	}
}

// rowsEqual compares rows with the amount by value.
func rowsEqual(a, b Row) bool {
	if !a.Amount.Equal(b.Amount) || !a.Time.Equal(b.Time) {
		return false
	}
	a.Amount, b.Amount = decimal.Decimal{}, decimal.Decimal{}
	a.Time, b.Time = time.Time{}, time.Time{}
	return a == b
}

// TestHistoryJournalRowsFindTheirPlace: journal-only rows older than the
// pages loaded wait at the end and move among the snapshots as older pages
// come; a payout in doubt whose snapshot arrives is shown once, as done,
// also when the desk's clock was ahead of the server's; rows handed out
// earlier never change.
func TestHistoryJournalRowsFindTheirPlace(t *testing.T) {
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	hours := func(h float64) time.Time { return base.Add(-time.Duration(h * float64(time.Hour))) }
	clock := sandbox.NewClock(time.Time{})
	j, _, err := journal.Open(filepath.Join(t.TempDir(), "journal.jsonl"), journal.WithClock(clock.Now), journal.WithOperator("ops"), journal.WithHost("desk1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	intent := func(at time.Time, n int) journal.Intent {
		t.Helper()
		clock.Set(at)
		in := journal.Intent{Trace: fakeID(9, n), AssetID: usdtID, RecipientID: fakeID(3, n), Amount: fmt.Sprint(n), Memo: fmt.Sprintf("payout %d", n)}
		if _, err := j.AppendIntent(in); err != nil {
			t.Fatal(err)
		}
		return in
	}
	newest := intent(hours(-0.5), 1) // in doubt, newer than every snapshot
	skewed := intent(hours(50.5), 2) // in doubt; its snapshot is older than the intent
	refused := intent(hours(150.5), 3)
	if _, err := j.AppendFailed(journal.Failed{Trace: refused.Trace, Code: mixin.CodeInsufficientBalance, Description: "insufficient balance"}); err != nil {
		t.Fatal(err)
	}
	dropped := intent(hours(170.5), 4) // in doubt; executed just after

	f := &fakeSnaps{}
	for k := 1; k <= 250; k++ {
		f.snaps = append(f.snaps, fakeSnap(k, hours(float64(k)), "-1"))
	}
	executed := func(in journal.Intent, at time.Time) rail.Movement {
		return rail.Movement{SnapshotID: uuid.NewString(), Key: in.Trace, AssetID: in.AssetID,
			OpponentID: in.RecipientID, Amount: "-" + in.Amount, ClosingBalance: "1", Memo: in.Memo, CreatedAt: at}
	}
	f.snaps = append(f.snaps, executed(skewed, hours(120.25)), executed(dropped, hours(170.25)))

	h := New(f, j)
	traces := func(rows []Row) (out []string) {
		for _, r := range rows {
			if r.SnapshotID == "" {
				out = append(out, r.TraceID)
			}
		}
		return out
	}
	if got := traces(h.Rows()); !slices.Equal(got, []string{newest.Trace, skewed.Trace, refused.Trace, dropped.Trace}) {
		t.Fatalf("journal rows at the start %v", got)
	}

	if n, err := h.LoadMore(context.Background()); n != 100 || err != nil {
		t.Fatalf("page 1: %d, %v", n, err)
	}
	rows1 := h.Rows()
	kept := slices.Clone(rows1)
	wantSorted(t, rows1)
	if len(rows1) != 104 || rows1[0].TraceID != newest.Trace || rows1[51].TraceID != skewed.Trace ||
		rows1[102].TraceID != refused.Trace || rows1[103].TraceID != dropped.Trace {
		t.Fatalf("after page 1: %d rows, journal rows %v", len(rows1), traces(rows1))
	}

	if n, err := h.LoadMore(context.Background()); n != 99 || err != nil {
		t.Fatalf("page 2: %d, %v", n, err)
	}
	rows2 := h.Rows()
	wantSorted(t, rows2)
	wantUniqueSnapshots(t, rows2)
	if !slices.EqualFunc(rows1, kept, rowsEqual) {
		t.Fatal("page 2 changed the rows handed out after page 1")
	}
	if got := traces(rows2); !slices.Equal(got, []string{newest.Trace, refused.Trace}) {
		t.Fatalf("journal-only rows after page 2: %v, want the newest in doubt and the refused one", got)
	}
	for _, in := range []journal.Intent{skewed, dropped} {
		var found []Row
		for _, r := range rows2 {
			if r.TraceID == in.Trace {
				found = append(found, r)
			}
		}
		if len(found) != 1 || found[0].State != StateDone || found[0].SnapshotID == "" || found[0].Operator != "ops@desk1" {
			t.Fatalf("trace %s: rows %+v, want one done row with its snapshot", in.Trace, found)
		}
	}
	i := slices.IndexFunc(rows2, func(r Row) bool { return r.TraceID == refused.Trace })
	if rows2[i-1].Memo != "snap 150" || rows2[i+1].Memo != "snap 151" || rows2[i].Code != mixin.CodeInsufficientBalance {
		t.Fatalf("the refused payout sits between %q and %q (%+v)", rows2[i-1].Memo, rows2[i+1].Memo, rows2[i])
	}

	loadAll(t, h)
	rows := h.Rows()
	wantSorted(t, rows)
	wantUniqueSnapshots(t, rows)
	if len(rows) != 252+2 {
		t.Fatalf("%d rows, want 252 snapshots and 2 journal-only rows", len(rows))
	}
}

// TestHistoryFilter runs filters over a history whose times are known.
func TestHistoryFilter(t *testing.T) {
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	r := payouttest.New(t, payouttest.Options{Seed: 44, Clock: sandbox.NewClock(start)})
	ctx := context.Background()
	quentin := r.Srv.AddUser("Quentin Zarabi")
	olga := r.Srv.AddUser("Olga =Builder")
	for _, u := range []mixin.User{quentin, olga} {
		for _, a := range []string{usdtID, btcID} {
			if err := r.Srv.Credit(u.UserID, a, "100"); err != nil {
				t.Fatal(err)
			}
		}
	}
	at := func(hour int) time.Time { return time.Date(2026, 11, 20, hour, 0, 0, 0, time.UTC) }
	move := func(hour int, from, to, asset, amount, memo string) {
		t.Helper()
		r.Clock.Set(at(hour))
		if _, err := r.Srv.Transfer(from, mixin.TransferInput{AssetID: asset, OpponentID: to, Amount: amount, TraceID: uuid.NewString(), Memo: memo}); err != nil {
			t.Fatal(err)
		}
	}
	self := r.Self.UserID
	move(10, self, quentin.UserID, usdtID, "10", "Invoice 7, March")
	move(11, olga.UserID, self, btcID, "0.5", "Refund")
	move(12, self, r.Users[2].UserID, ethID, "1.5", "payroll NOV")
	move(13, quentin.UserID, self, usdtID, "2", "tip")
	r.Clock.Set(at(14))
	rent := r.Review(r.Draft(3, "250", "Rent"), nil)
	r.Send(rent)

	h := New(r.Desk.Rail(), r.J)
	loadAll(t, h)
	rows := h.Rows()
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5", len(rows))
	}
	byMemo := map[string]Row{}
	for _, row := range rows {
		byMemo[row.Memo] = row
	}
	names := NewNames(r.Desk.Rail(), r.Config.Clock)
	if err := names.Resolve(ctx, h.Counterparties()); err != nil {
		t.Fatal(err)
	}
	tipSnap := byMemo["tip"].SnapshotID

	all := []string{"Rent", "tip", "payroll NOV", "Refund", "Invoice 7, March"}
	cases := []struct {
		name  string
		f     Filter
		noNam bool
		want  []string
	}{
		{"everything", Filter{}, false, all},
		{"asset", Filter{AssetID: usdtID}, false, []string{"Rent", "tip", "Invoice 7, March"}},
		{"asset in capitals", Filter{AssetID: strings.ToUpper(usdtID)}, false, []string{"Rent", "tip", "Invoice 7, March"}},
		{"asset never seen", Filter{AssetID: uuid.NewString()}, false, nil},
		{"in", Filter{Direction: DirIn}, false, []string{"tip", "Refund"}},
		{"out", Filter{Direction: DirOut}, false, []string{"Rent", "payroll NOV", "Invoice 7, March"}},
		{"unknown direction is all", Filter{Direction: 7}, false, all},
		{"memo, any case", Filter{Text: "INVOICE"}, false, []string{"Invoice 7, March"}},
		{"memo with a comma", Filter{Text: "7, mar"}, false, []string{"Invoice 7, March"}},
		{"memo, spaces trimmed", Filter{Text: "  tip "}, false, []string{"tip"}},
		{"counterparty name", Filter{Text: "zarab"}, false, []string{"tip", "Invoice 7, March"}},
		{"name with =", Filter{Text: "=builder"}, false, []string{"Refund"}},
		{"names not given", Filter{Text: "zarab"}, true, nil},
		{"counterparty id", Filter{Text: strings.ToUpper(olga.UserID[:13])}, false, []string{"Refund"}},
		{"trace id", Filter{Text: strings.ToUpper(rent.TraceID)}, false, []string{"Rent"}},
		{"snapshot id", Filter{Text: tipSnap[9:23]}, false, []string{"tip"}},
		{"range, edges inclusive", Filter{From: at(11), To: at(13)}, false, []string{"tip", "payroll NOV", "Refund"}},
		{"from a nanosecond later", Filter{From: at(11).Add(time.Nanosecond)}, false, []string{"Rent", "tip", "payroll NOV"}},
		{"to a nanosecond earlier", Filter{To: at(13).Add(-time.Nanosecond)}, false, []string{"payroll NOV", "Refund", "Invoice 7, March"}},
		{"one instant", Filter{From: at(12), To: at(12)}, false, []string{"payroll NOV"}},
		{"from after to", Filter{From: at(13), To: at(11)}, false, nil},
		{"range in another zone", Filter{From: at(11).In(time.FixedZone("X", 5*3600)), To: at(11)}, false, []string{"Refund"}},
		{"all together", Filter{AssetID: usdtID, Direction: DirOut, Text: "r", From: at(9), To: at(15)}, false, []string{"Rent", "Invoice 7, March"}},
		{"nothing matches", Filter{Text: "no such memo"}, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := names.Name
			if c.noNam {
				name = nil
			}
			var got []string
			for _, i := range h.Filter(c.f, name) {
				got = append(got, rows[i].Memo)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("Filter(%+v) = %q, want %q", c.f, got, c.want)
			}
		})
	}
	if byMemo["Rent"].State != StateDone || byMemo["Invoice 7, March"].State != StateOther || byMemo["tip"].State != StateReceived {
		t.Fatalf("states: %+v", byMemo)
	}
	if got, ok := names.Get(olga.UserID); !ok || got != "Olga =Builder" {
		t.Fatalf("Names.Get = %q, %v", got, ok)
	}
}

// TestHistoryCSVRoundTrip: an export read back gives the rows shown, with
// exact amounts and memos that a spreadsheet would otherwise run.
func TestHistoryCSVRoundTrip(t *testing.T) {
	r := payouttest.New(t, payouttest.Options{Seed: 45})
	memos := []string{
		"a, b, and c", `say "hi"`, `=SUM(A1:A9)`, "+1 555 0100", "-5 left", "@here", "'quoted", "''twice",
		"\"=quoted formula\"", "Zahlung für März", "plain", "",
	}
	amounts := []string{"0.00000001", "0.30000001", "12345.12345678", "1", "10.5", "9999.99999999", "7", "0.1", "2", "3.3", "4", "5"}
	for i, memo := range memos {
		from, to := r.Self.UserID, r.Users[i%4].UserID
		if i%3 == 1 {
			from, to = to, from
		}
		if _, err := r.Srv.Transfer(from, mixin.TransferInput{AssetID: usdtID, OpponentID: to, Amount: amounts[i], TraceID: uuid.NewString(), Memo: memo}); err != nil {
			t.Fatalf("transfer %q: %v", memo, err)
		}
	}
	// Refused first: a send settles what is in doubt before it posts.
	rvFailed := r.Review(r.Draft(2, "3", "=refused"), nil)
	if res, err := r.Desk.Send(context.Background(), rvFailed, wrongPIN(r.PIN)); err != nil || res.State != journal.StateFailed {
		t.Fatalf("failed send: %+v %v", res, err)
	}
	if _, err := r.J.AppendIntent(journal.Intent{Trace: uuid.NewString(), AssetID: btcID, RecipientID: r.Users[1].UserID, Amount: "0.00012345", Memo: "-in doubt, still"}); err != nil {
		t.Fatal(err)
	}
	h := New(r.Desk.Rail(), r.J)
	loadAll(t, h)
	rows := h.Rows()
	if len(rows) != len(memos)+2 {
		t.Fatalf("%d rows, want %d", len(rows), len(memos)+2)
	}

	symbols := map[string]string{}
	for _, a := range r.World.Assets {
		symbols[a.AssetID] = a.Symbol
	}
	names := map[string]string{r.Users[0].UserID: "=cmd|' /C calc'!A0", r.Users[1].UserID: "@evil", r.Users[2].UserID: "Smith, \"Jo\"", r.Users[3].UserID: "\tTabbed"}
	symbol := func(id string) string { return symbols[id] }
	name := func(id string) string { return names[id] }

	var buf bytes.Buffer
	if err := WriteCSV(&buf, rows, symbol, name); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	if !strings.HasPrefix(text, "time,direction,asset,asset_id,amount,counterparty,counterparty_id,memo,trace_id,snapshot_id,state,closing_balance\n") {
		t.Fatalf("header: %q", strings.SplitN(text, "\n", 2)[0])
	}
	for _, want := range []string{",'=SUM(A1:A9),", ",'+1 555 0100,", ",'-5 left,", ",'@here,", ",''quoted,", ",'''twice,",
		",'=cmd|' /C calc'!A0,", ",'@evil,", ",' Tabbed,", ",'=refused,", ",-0.00000001,", ",-12345.12345678,", ",-0.00012345,"} {
		if !strings.Contains(text, want) {
			t.Errorf("export lacks %q:\n%s", want, text)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n")[1:] {
		if strings.Contains(line, ",'-") && !strings.Contains(line, "'-5 left") && !strings.Contains(line, "'-in doubt") {
			t.Errorf("an amount was quoted: %s", line)
		}
	}

	got, err := ReadCSV(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	wantCSVRows(t, got, rows, symbol, name)

	// Saved to a file: private, never replacing one.
	path := ExportPath(filepath.Join(t.TempDir(), "data"), time.Date(2026, 11, 26, 13, 45, 1, 0, time.UTC))
	if filepath.Base(path) != "history-20261126-134501.csv" || filepath.Base(filepath.Dir(path)) != "exports" {
		t.Fatalf("ExportPath = %s", path)
	}
	if err := SaveCSV(path, rows, symbol, name); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("export mode %v, want 0600", fi.Mode().Perm())
	}
	if err := SaveCSV(path, rows[:1], symbol, name); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second SaveCSV to the same path: %v, want ErrExist", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != text {
		t.Fatal("the saved export differs from WriteCSV's, or was replaced")
	}
}

// wantCSVRows checks an export read back against the rows written.
func wantCSVRows(t *testing.T, got []CSVRow, rows []Row, symbol, name func(string) string) {
	t.Helper()
	if len(got) != len(rows) {
		t.Fatalf("%d rows read back, want %d", len(got), len(rows))
	}
	for i, c := range got {
		r := rows[i]
		tm, err := time.Parse(time.RFC3339Nano, c.Time)
		if err != nil || !tm.Equal(r.Time) || !strings.HasSuffix(c.Time, "Z") {
			t.Errorf("row %d: time %q, want %s in UTC", i, c.Time, r.Time)
		}
		amount, err := decimal.NewFromString(c.Amount)
		if err != nil || !amount.Equal(r.Amount) || c.Amount != r.Amount.String() {
			t.Errorf("row %d: amount %q, want %s", i, c.Amount, r.Amount)
		}
		dir := "in"
		if r.Outgoing() {
			dir = "out"
		}
		// Text comes back display-safe (mixin.DisplayText): a tab is a space.
		want := CSVRow{Time: c.Time, Direction: dir, Asset: mixin.DisplayText(symbol(r.AssetID)), AssetID: r.AssetID, Amount: c.Amount,
			Counterparty: mixin.DisplayText(name(r.OpponentID)), CounterpartyID: r.OpponentID, Memo: mixin.DisplayText(r.Memo), TraceID: r.TraceID,
			SnapshotID: r.SnapshotID, State: string(r.State), ClosingBalance: r.Closing}
		if c != want {
			t.Errorf("row %d read back:\n got %+v\nwant %+v", i, c, want)
		}
	}
}

func TestReadCSVRefuses(t *testing.T) {
	const head = "time,direction,asset,asset_id,amount,counterparty,counterparty_id,memo,trace_id,snapshot_id,state,closing_balance\n"
	const good = "2026-11-26T13:45:01.5Z,out,USDT,a,-1.5,,b,memo,c,d,done,1\n"
	cases := []struct{ name, in, want string }{
		{"empty", "", "empty"},
		{"other header", "time,amount\n", "not a history export"},
		{"renamed column", strings.Replace(head, "memo", "note", 1) + good, "not a history export"},
		{"missing column", head + "2026-11-26T13:45:01Z,out,USDT,a,-1.5\n", "wrong number of fields"},
		{"exponent", head + strings.Replace(good, "-1.5", "-1e5", 1), "line 2: amount"},
		{"quoted amount", head + strings.Replace(good, "-1.5", "'-1.5", 1), "line 2: amount"},
		{"no amount", head + strings.Replace(good, "-1.5", "", 1), "amount"},
		{"bad time", head + good + strings.Replace(good, "2026-11-26T13:45:01.5Z", "26/11/2026", 1), "line 3: time"},
		{"broken quotes", head + "\"2026", "reading the export"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, err := ReadCSV(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) || rows != nil {
				t.Fatalf("ReadCSV = %v, %v; want an error with %q", rows, err, c.want)
			}
		})
	}
	rows, err := ReadCSV(strings.NewReader("\ufeff" + head + good))
	if err != nil || len(rows) != 1 || rows[0].Amount != "-1.5" || rows[0].Memo != "memo" {
		t.Fatalf("with a byte order mark: %+v, %v", rows, err)
	}
	rows, err = ReadCSV(strings.NewReader(head))
	if err != nil || len(rows) != 0 {
		t.Fatalf("header only: %+v, %v", rows, err)
	}
}

// countingRail counts the user look-ups that reach the rail.
type countingRail struct {
	rail.Rail
	mu    sync.Mutex
	users map[string]int
}

func (c *countingRail) User(ctx context.Context, id string) (*rail.User, error) {
	c.mu.Lock()
	c.users[id]++
	c.mu.Unlock()
	return c.Rail.User(ctx, id)
}

func (c *countingRail) calls() (total int, each map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	each = make(map[string]int, len(c.users))
	for id, n := range c.users {
		total += n
		each[id] = n
	}
	return total, each
}

func TestNamesResolveOnce(t *testing.T) {
	r := payouttest.New(t, payouttest.Options{Seed: 46, Clock: sandbox.NewClock(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))})
	ctx := context.Background()
	counter := &countingRail{Rail: legacyrail.New(r.Client), users: map[string]int{}}
	names := NewNames(counter, r.Clock.Now)

	var ids []string
	for _, u := range r.Users {
		ids = append(ids, u.UserID)
	}
	asked := append(slices.Clone(ids), strings.ToUpper(ids[0]), ids[1], " "+ids[2]+" ", "")
	if err := names.Resolve(ctx, asked); err != nil {
		t.Fatal(err)
	}
	for _, u := range r.Users {
		if got, ok := names.Get(u.UserID); !ok || got != u.FullName {
			t.Errorf("Get(%s) = %q, %v; want %q", u.UserID, got, ok, u.FullName)
		}
	}
	if got, ok := names.Get(strings.ToUpper(ids[3])); !ok || got != r.Users[3].FullName {
		t.Errorf("Get in capitals = %q, %v", got, ok)
	}
	if err := names.Resolve(ctx, ids); err != nil {
		t.Fatal(err)
	}
	total, each := counter.calls()
	if total != len(ids) {
		t.Fatalf("%d look-ups for %d users: %v", total, len(ids), each)
	}

	// Many screens at once: still one look-up per id.
	counter2 := &countingRail{Rail: legacyrail.New(r.Client), users: map[string]int{}}
	names2 := NewNames(counter2, r.Clock.Now)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := names2.Resolve(ctx, ids); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if total, each := counter2.calls(); total != len(ids) {
		t.Fatalf("concurrent resolves made %d look-ups for %d users: %v", total, len(ids), each)
	}

	// An unknown user and a malformed id: reported once, then left alone
	// for a while, not asked again on every call.
	stranger := uuid.NewString()
	err := names.Resolve(ctx, []string{stranger, "not-a-user-id", ids[0]})
	if err == nil || !strings.Contains(err.Error(), "2 of 2 names") {
		t.Fatalf("Resolve of an unknown user: %v", err)
	}
	for range 3 {
		if err := names.Resolve(ctx, []string{stranger, "not-a-user-id"}); err != nil {
			t.Fatalf("Resolve of ids that failed lately: %v, want them skipped", err)
		}
	}
	if _, each := counter.calls(); each[stranger] != 1 || each["not-a-user-id"] != 1 {
		t.Fatalf("failed ids asked %v times", each)
	}
	if _, ok := names.Get(stranger); ok {
		t.Fatal("an unknown user got a name")
	}
	r.Clock.Advance(nameGoneFor + time.Second)
	_ = names.Resolve(ctx, []string{stranger})
	if _, each := counter.calls(); each[stranger] != 2 {
		t.Fatalf("unknown user asked %d times after the wait, want 2", each[stranger])
	}

	// A server failure is retried sooner.
	fresh := r.Srv.AddUser("Late Arrival")
	r.Srv.InjectFault("GET", "/users/", sandbox.Fault{Kind: sandbox.FaultServerError, Times: 4})
	if err := names.Resolve(ctx, []string{fresh.UserID}); err == nil {
		t.Fatal("Resolve hid a server failure")
	}
	if err := names.Resolve(ctx, []string{fresh.UserID}); err != nil {
		t.Fatalf("Resolve right after a failure: %v, want the id skipped", err)
	}
	r.Clock.Advance(nameRetryAfter + time.Second)
	if err := names.Resolve(ctx, []string{fresh.UserID}); err != nil {
		t.Fatal(err)
	}
	if got, _ := names.Get(fresh.UserID); got != "Late Arrival" {
		t.Fatalf("name after the retry: %q", got)
	}
	if _, each := counter.calls(); each[fresh.UserID] != 2 {
		t.Fatalf("asked %d times, want 2", each[fresh.UserID])
	}

	// A cancelled context learns nothing and blames no id.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	late := r.Srv.AddUser("Never Asked")
	if err := names.Resolve(cctx, []string{late.UserID}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Resolve: %v", err)
	}
	if err := names.Resolve(ctx, []string{late.UserID}); err != nil {
		t.Fatal(err)
	}
	if got, _ := names.Get(late.UserID); got != "Never Asked" {
		t.Fatalf("name after a cancelled look-up: %q", got)
	}
}

func TestCleanUserName(t *testing.T) {
	cases := map[string]string{
		"Ada Lovelace":                              "Ada Lovelace",
		"\x1b[31mEve\x07":                           "Eve",
		"Mallory\u202egnp.exe":                      "Mallorygnp.exe",
		"  spaced \n":                               "spaced",
		"bad \xff utf8":                             "bad \ufffd utf8",
		strings.Repeat("é", 300):                    strings.Repeat("é", maxNameRunes-1) + "…",
		"\u2066isolate\u2069\u200fRL":               "isolateRL",
		"Bob \u200b(37160001)":                      "Bob (37160001)",
		"a\u00adb\u2060c\ufeffd":                    "abcd",
		"Alice Ng" + strings.Repeat(" ", 150) + "x": "Alice Ng x",
		"Line\u2028Sep":                             "Line Sep",
	}
	for in, want := range cases {
		if got := cleanUserName(in); got != want {
			t.Errorf("cleanUserName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHistoryNilAndEmpty: nothing panics without a desk, a server or rows.
func TestHistoryNilAndEmpty(t *testing.T) {
	h := New(nil, nil)
	if _, err := h.LoadMore(context.Background()); err == nil {
		t.Fatal("LoadMore without a server did not fail")
	}
	var nilH *History
	if _, err := nilH.LoadMore(context.Background()); err == nil {
		t.Fatal("LoadMore on nil did not fail")
	}
	if !nilH.Done() || nilH.Len() != 0 || nilH.Rows() != nil || len(nilH.Filter(Filter{Text: "x"}, nil)) != 0 || nilH.Counterparties() != nil || nilH.Assets() != nil {
		t.Fatal("a nil history is not empty and done")
	}
	if got := h.Filter(Filter{Text: "x", AssetID: usdtID, From: time.Now()}, nil); len(got) != 0 {
		t.Fatalf("Filter on nothing = %v", got)
	}
	if got := h.Filter(Filter{}, func(string) string { return "" }); len(got) != 0 {
		t.Fatalf("Filter on nothing = %v", got)
	}
	if h.Len() != 0 || len(h.Rows()) != 0 || len(h.Counterparties()) != 0 || len(h.Assets()) != 0 {
		t.Fatal("an empty history has rows")
	}
	if err := NewNames(nil, nil).Resolve(context.Background(), []string{uuid.NewString()}); err == nil {
		t.Fatal("Resolve without a server did not fail")
	}
	var n *Names
	if _, ok := n.Get("x"); ok || n.Name("x") != "" {
		t.Fatal("nil Names has a name")
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []Row{{}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCSV(&buf)
	if err != nil || len(got) != 1 || got[0].Amount != "0" {
		t.Fatalf("a zero row read back as %+v, %v", got, err)
	}
}

// TestHistoryConcurrentUse: screens read while pages load (run with -race).
func TestHistoryConcurrentUse(t *testing.T) {
	r := payouttest.New(t, payouttest.Options{Seed: 47})
	moveMoney(t, r, 250)
	if _, err := r.J.AppendIntent(journal.Intent{Trace: uuid.NewString(), AssetID: usdtID, RecipientID: r.Users[0].UserID, Amount: "1", Memo: "in doubt"}); err != nil {
		t.Fatal(err)
	}
	h := New(r.Desk.Rail(), r.J)
	names := NewNames(r.Desk.Rail(), r.Config.Clock)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for !h.Done() {
				if _, err := h.LoadMore(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 3 {
		wg.Go(func() {
			for !h.Done() {
				rows, idx := h.Query(Filter{Text: "move 1", Direction: DirOut}, names.Name)
				for _, i := range idx {
					if !strings.Contains(rows[i].Memo, "move 1") || !rows[i].Outgoing() {
						t.Errorf("filter gave row %+v", rows[i])
						return
					}
				}
				_ = names.Resolve(ctx, h.Counterparties())
				_ = h.Len()
			}
		})
	}
	wg.Wait()
	rows := h.Rows()
	wantSorted(t, rows)
	wantUniqueSnapshots(t, rows)
	if len(rows) != 251 {
		t.Fatalf("%d rows, want 250 snapshots and 1 in doubt", len(rows))
	}
}

func TestHistoryLoadMoreCancelled(t *testing.T) {
	r := payouttest.New(t, payouttest.Options{Seed: 48})
	moveMoney(t, r, 3)
	h := New(r.Desk.Rail(), r.J)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := h.LoadMore(ctx); n != 0 || err == nil {
		t.Fatalf("cancelled LoadMore = %d, %v", n, err)
	}
	if h.Len() != 0 || h.Done() {
		t.Fatal("a cancelled LoadMore changed the history")
	}
	if n := loadAll(t, h); n != 1 || h.Len() != 3 {
		t.Fatalf("after a cancelled call: %d calls, %d rows", n, h.Len())
	}
}

// FuzzCSVCells: any memo and name read back as written, made display-safe
// (mixin.DisplayText): what a terminal may show is all that is lost.
func FuzzCSVCells(f *testing.F) {
	for _, s := range []string{"", "=1+1", "'", "''=", "a,b", `"q"`, "\t", "-", "@", "+", "x\ny", "é\u202e", " =1", "＝1", "\x1b]52;c;SGk=\x07"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, memo, name string) {
		if strings.ContainsRune(memo+name, '\r') {
			t.Skip("encoding/csv reads \\r\\n inside a cell as \\n")
		}
		row := Row{TraceID: fakeID(1, 1), AssetID: usdtID, OpponentID: fakeID(2, 2), Amount: decimal.RequireFromString("-1.5"), Memo: memo, Time: time.Unix(1, 5).UTC(), State: StateOther}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, []Row{row}, nil, func(string) string { return name }); err != nil {
			t.Fatal(err)
		}
		got, err := ReadCSV(&buf)
		if err != nil {
			t.Fatalf("ReadCSV of an export: %v\n%q", err, buf.String())
		}
		if len(got) != 1 || got[0].Memo != mixin.DisplayText(memo) || got[0].Counterparty != mixin.DisplayText(name) || got[0].Amount != "-1.5" {
			t.Fatalf("read back %+v, want memo %q name %q", got, mixin.DisplayText(memo), mixin.DisplayText(name))
		}
	})
}

// FuzzReadCSV: no input makes ReadCSV panic.
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("time,direction,asset,asset_id,amount,counterparty,counterparty_id,memo,trace_id,snapshot_id,state,closing_balance\n2026-01-01T00:00:00Z,in,,,1,,,,,,,\n"))
	f.Add([]byte("\"\n,"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ReadCSV(bytes.NewReader(data))
		if err != nil && rows != nil {
			t.Fatal("rows with an error")
		}
	})
}

// TestHistoryQueryAgreesWithRows loads random histories (journal rows in
// doubt and refused at random times, some in doubt executed with a
// snapshot older or newer than their intent, snapshots sharing instants)
// twice, reading one through Query after each page and the other through
// Rows, and checks that they show the same rows in the same order, that
// Filter indexes Rows, and that rows handed out by Query never change.
func TestHistoryQueryAgreesWithRows(t *testing.T) {
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for seed := range uint64(12) {
		rnd := rand.New(rand.NewPCG(seed, 7))
		at := func() time.Time { return base.Add(-time.Duration(rnd.IntN(400*60)) * time.Minute) }
		clock := sandbox.NewClock(time.Time{})
		j, _, err := journal.Open(filepath.Join(t.TempDir(), "journal.jsonl"), journal.WithClock(clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		f := &fakeSnaps{}
		for k := range 20 + rnd.IntN(400) {
			f.snaps = append(f.snaps, fakeSnap(k, at(), []string{"-1", "2", "-3.5"}[rnd.IntN(3)]))
		}
		for k := range rnd.IntN(12) {
			clock.Set(at())
			in := journal.Intent{Trace: fakeID(9, k), AssetID: usdtID, RecipientID: fakeID(3, k), Amount: fmt.Sprint(k + 1), Memo: fmt.Sprintf("payout %d", k)}
			if _, err := j.AppendIntent(in); err != nil {
				t.Fatal(err)
			}
			switch rnd.IntN(3) {
			case 0:
				if _, err := j.AppendFailed(journal.Failed{Trace: in.Trace, Code: mixin.CodeInsufficientBalance}); err != nil {
					t.Fatal(err)
				}
			case 1: // in doubt, executed: its snapshot is near its intent
				f.snaps = append(f.snaps, rail.Movement{SnapshotID: fakeID(8, k), Key: in.Trace, AssetID: in.AssetID,
					OpponentID: in.RecipientID, Amount: "-" + in.Amount, Memo: in.Memo, CreatedAt: clock.Now().Add(time.Duration(rnd.IntN(300)-150) * time.Minute)})
			}
		}
		byQuery, byRows := New(f, j), New(f, j)
		type handed struct{ rows, kept []Row }
		var earlier []handed
		filters := []Filter{{}, {Direction: DirOut}, {Text: "payout"}, {From: base.Add(-200 * time.Hour), To: base.Add(-100 * time.Hour)}}
		for page := 0; ; page++ {
			for _, fl := range filters {
				rows, idx := byQuery.Query(fl, nil)
				want := byRows.Rows()
				wantIdx := byRows.Filter(fl, nil)
				if len(rows) != len(want) || len(idx) != len(wantIdx) {
					t.Fatalf("seed %d page %d filter %+v: Query %d rows %d selected, Rows %d rows %d selected", seed, page, fl, len(rows), len(idx), len(want), len(wantIdx))
				}
				var shown []Row
				for k, i := range idx {
					if !rowsEqual(rows[i], want[wantIdx[k]]) || rows[i].Time != want[wantIdx[k]].Time {
						t.Fatalf("seed %d page %d filter %+v: row %d is %+v by Query, %+v by Rows", seed, page, fl, k, rows[i], want[wantIdx[k]])
					}
					shown = append(shown, rows[i])
				}
				if fl == (Filter{}) {
					wantSorted(t, shown)
					wantUniqueSnapshots(t, shown)
				}
				earlier = append(earlier, handed{rows, slices.Clone(rows)})
			}
			if byQuery.Done() {
				break
			}
			if _, err := byQuery.LoadMore(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := byRows.LoadMore(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		// Once done, the rows are in the order shown.
		rows, idx := byQuery.Query(Filter{}, nil)
		for k, i := range idx {
			if i != k {
				t.Fatalf("seed %d: done, but row %d is shown at %d", seed, i, k)
			}
		}
		wantSorted(t, rows)
		for _, e := range earlier {
			if !slices.EqualFunc(e.rows, e.kept, rowsEqual) {
				t.Fatalf("seed %d: rows handed out by Query changed", seed)
			}
		}
		j.Close()
	}
}
