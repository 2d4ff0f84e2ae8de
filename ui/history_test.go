package ui

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"mixdesk/history"
	"mixdesk/journal"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout"
	"mixdesk/payout/legacyrail"
)

// The events a history world is made of, one per byte of its plan.
const (
	evReceived  = 'r' // another user pays the operator (sandbox, outside the desk)
	evOther     = 'o' // the operator pays from another tool (sandbox, no journal)
	evDesk      = 'd' // a payout through the desk: journal intent + done
	evFailed    = 'F' // a payout through the desk with a wrong PIN: journal failed
	evDoubt     = 'D' // a payout through the desk answered 500: in doubt, not executed
	evCommitted = 'C' // a payout through the desk whose answer was lost: in doubt, executed
)

// ethID is the Ether of the sandbox's default world.
const ethID = "43d61dcd-e413-450d-80b8-101d5e903357"

// The operator and host the setup's journal records.
const histOperator = "alice@desk-1"

// histEvent is one movement of a history world, as made.
type histEvent struct {
	kind   byte
	k      int    // its number in the plan: older events have smaller numbers
	memo   string // unique: "Deposit 12", "Payroll 13", "Invoice 14", ...
	trace  string
	asset  string
	amount string // positive, as sent
	peer   string // the other party's user id
	snap   string // snapshot id, "" for journal-only entries
}

// state is the label the table shows for the event.
func (e histEvent) state() string {
	switch e.kind {
	case evReceived:
		return "received"
	case evOther:
		return "other tool"
	case evDesk, evCommitted:
		return "done"
	case evFailed:
		return "not moved"
	}
	return "IN DOUBT"
}

// histWorld is a rig whose operator has a history: snapshots made directly
// in the sandbox, and desk payouts recorded in the profile's journal (the
// file the console opens), made before the console starts.
type histWorld struct {
	*rig
	events []histEvent
	byMemo map[string]histEvent
	gate   *traceGate
}

// traceGate answers 503 to trace look-ups while closed, so that the
// settlement at start-up leaves in-doubt payouts in doubt.
type traceGate struct {
	next   http.Handler
	closed atomic.Bool
}

func (g *traceGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.closed.Load() && r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/transfers/trace/") {
		http.Error(w, "closed by the test", http.StatusServiceUnavailable)
		return
	}
	g.next.ServeHTTP(w, r)
}

// mainPlan is the world of the paging, state and filter tests: 150
// snapshots (12 desk payouts, 74 received, 64 sent by another tool), a
// refused payout old enough to be on the second page, and a payout in doubt
// among the newest rows.
func mainPlan() string {
	var b strings.Builder
	for k := range 152 {
		switch {
		case k == 40:
			b.WriteByte(evFailed)
		case k == 140:
			b.WriteByte(evDoubt)
		case k%12 == 5 && k < 140:
			b.WriteByte(evDesk)
		case k%2 == 0:
			b.WriteByte(evReceived)
		default:
			b.WriteByte(evOther)
		}
	}
	return b.String()
}

// histTrace is the trace of event k: fixed, so that views are the same on
// every run.
func histTrace(k int) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprintf("mixdesk history test %d", k))).String()
}

// newHistoryWorld builds the world of plan. A payout in doubt must come
// after every other desk payout (a send settles the ones in doubt first).
func newHistoryWorld(t *testing.T, o rigOpts, plan string) *histWorld {
	t.Helper()
	r := newRig(t, o)
	w := &histWorld{rig: r, byMemo: map[string]histEvent{}}
	w.gate = &traceGate{next: r.srv}
	r.calls.next = w.gate

	sess, err := mixin.NewSession(r.world.Operator)
	if err != nil {
		t.Fatal(err)
	}
	client, err := mixin.NewClient(r.deps.Env.APIURL, sess, r.deps.Env.ClientOptions...)
	if err != nil {
		t.Fatal(err)
	}
	j, rep, err := journal.Open(journal.Path(r.deps.Env.DataDir, profileName), journal.WithOperator("alice"), journal.WithHost("desk-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Intact() {
		t.Fatal(rep.Err())
	}
	defer j.Close() // before the console opens it
	desk, err := payout.NewDeskOn(legacyrail.New(client), j, payout.Config{Self: r.op})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()

	assets := []string{usdtID, btcID, ethID}
	for k, kind := range []byte(plan) {
		peer := r.world.Users[k%len(r.world.Users)]
		e := histEvent{kind: kind, k: k, trace: histTrace(k), peer: peer.UserID}
		switch kind {
		case evReceived:
			e.memo, e.asset = fmt.Sprintf("Deposit %d", k), assets[k%3]
			e.amount = map[string]string{usdtID: fmt.Sprintf("%d.%02d", 1+k%7, k), btcID: fmt.Sprintf("0.000%05d", 100+k), ethID: fmt.Sprintf("0.0%d", 10+k)}[e.asset]
			s, err := r.srv.Transfer(peer.UserID, mixin.TransferInput{AssetID: e.asset, OpponentID: r.op, Amount: e.amount, TraceID: e.trace, Memo: e.memo})
			if err != nil {
				t.Fatalf("event %d: %v", k, err)
			}
			e.snap = s.SnapshotID
		case evOther:
			e.memo, e.asset = fmt.Sprintf("Payroll %d", k), assets[2*(k%2)] // USDT and ETH
			e.amount = map[string]string{usdtID: fmt.Sprintf("%d.5", 10+k), ethID: fmt.Sprintf("0.00%d", 100+k)}[e.asset]
			s, err := r.srv.Transfer(r.op, mixin.TransferInput{AssetID: e.asset, OpponentID: peer.UserID, Amount: e.amount, TraceID: e.trace, Memo: e.memo})
			if err != nil {
				t.Fatalf("event %d: %v", k, err)
			}
			e.snap = s.SnapshotID
		default:
			e.asset, e.amount = usdtID, fmt.Sprintf("%d.25", 100+k)
			e.memo = fmt.Sprintf("Invoice %d", k)
			pin := r.world.Operator.PIN
			switch kind {
			case evFailed:
				pin = r.wrongPIN()
			case evDoubt:
				r.srv.InjectFault(http.MethodPost, "/transfers", sandbox.Fault{Kind: sandbox.FaultServerError})
			case evCommitted:
				r.srv.InjectFault(http.MethodPost, "/transfers", sandbox.Fault{Kind: sandbox.FaultCommitThenDrop})
			}
			rev, err := desk.Review(ctx, payout.Draft{AssetID: e.asset, Recipient: peer.UserID, Amount: e.amount, Memo: e.memo, TraceID: e.trace}, nil)
			if err != nil {
				t.Fatalf("event %d: review: %v", k, err)
			}
			res, err := desk.Send(ctx, rev, pin)
			if err != nil {
				t.Fatalf("event %d: send: %v", k, err)
			}
			want := map[byte]journal.State{evDesk: journal.StateDone, evFailed: journal.StateFailed, evDoubt: journal.StateInDoubt, evCommitted: journal.StateInDoubt}[kind]
			if res.State != want || res.TraceID != e.trace {
				t.Fatalf("event %d: %+v, want %v under trace %s", k, res, want, e.trace)
			}
			if res.Snap != nil {
				e.snap = res.Snap.SnapshotID
			}
			if kind == evCommitted {
				led := r.ledgerFor(e.trace)
				if len(led) != 1 {
					t.Fatalf("event %d: the committed payout is %d times in the ledger", k, len(led))
				}
				e.snap = led[0].SnapshotID
			}
		}
		w.events = append(w.events, e)
		w.byMemo[e.memo] = e
	}
	return w
}

// count is how many events satisfy keep.
func (w *histWorld) count(keep func(histEvent) bool) int {
	n := 0
	for _, e := range w.events {
		if keep(e) {
			n++
		}
	}
	return n
}

// startHistory starts the console at 100×30, waits for the balances and
// the settlement of the journal's in-doubt payouts, and opens the history.
func (w *histWorld) startHistory() *flow {
	w.t.Helper()
	f := w.start(termW, termH)
	f.waitHome()
	f.until("the start-up settlement", func(a *App) bool { return !a.recovering })
	f.typ("h")
	f.until("the first page", func(a *App) bool {
		return a.screen == screenHistory && a.history().h.Len() >= min(history.PageSize, len(w.events)) && !a.history().loading
	})
	return f
}

// loadAll goes to the end of the history until every page is loaded, and
// back to the top.
func (f *flow) loadAll() {
	f.t.Helper()
	for {
		var done bool
		f.probe(func(a *App) { done = a.history().h.Done() && !a.history().loading })
		if done {
			break
		}
		f.press(tea.KeyEnd)
		f.until("a page", func(a *App) bool { return !a.history().loading })
	}
	f.press(tea.KeyHome)
}

// namesShown waits until the names of the counterparties on the screen are
// known, so that the table is drawn as the operator finally sees it.
func (f *flow) namesShown() {
	f.t.Helper()
	f.until("the names", func(a *App) bool {
		s := a.history()
		vis := s.visibleRows(a.bodyHeight())
		for i := s.top; i < len(s.idx) && i < s.top+vis; i++ {
			if _, ok := s.names.Get(s.rows[s.idx[i]].OpponentID); !ok {
				return false
			}
		}
		return true
	})
}

// tableLines are the rows of the table on a view of the history: the lines
// between the column header and the end of the body.
func tableLines(view string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(view, "\n") {
		switch {
		case strings.Contains(l, "TIME") && strings.Contains(l, "AMOUNT") && strings.Contains(l, "STATE"):
			in = true
		case in && histRowRE.MatchString(l):
			out = append(out, l)
		case in:
			return out
		}
	}
	return out
}

var histRowRE = regexp.MustCompile(`^\s*(▸ )?\s*\d{4}-\d{2}-\d{2} `)

var histMemoRE = regexp.MustCompile(`(Deposit|Payroll|Invoice) \d+`)

// memosShown are the memos of the table rows on a view, in order.
func memosShown(t *testing.T, view string) []string {
	t.Helper()
	var out []string
	for _, l := range tableLines(view) {
		m := histMemoRE.FindString(l)
		if m == "" {
			t.Fatalf("a table row without a memo of the world: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// histTimeRE is a local time as the table ("2006-01-02 15:04") or the
// details ("2006-01-02 15:04:05 MST") show it.
var histTimeRE = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2} [A-Za-z0-9+-]+)?`)

// historyGolden compares a view with its golden file, with the local dates
// and times made fixed tokens (the zone's name differs from machine to
// machine, so lines are compared without their trailing spaces).
func historyGolden(t *testing.T, name, view string) {
	t.Helper()
	fitsWidth(t, view, termW)
	v := histTimeRE.ReplaceAllStringFunc(view, func(s string) string {
		if len(s) > len("2006-01-02 15:04") {
			return "YYYY-MM-DD hh:mm:ss ZONE"
		}
		return "YYYY-MM-DD hh:mm"
	})
	lines := strings.Split(v, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	checkGolden(t, name, strings.Join(lines, "\n"), termW)
}

func TestHistoryPagingStatesGolden(t *testing.T) {
	t.Parallel()
	w := newHistoryWorld(t, rigOpts{askPIN: true}, mainPlan())
	snapshots := w.count(func(e histEvent) bool { return e.snap != "" })
	if snapshots != 150 {
		t.Fatalf("the world has %d snapshots, want 150", snapshots)
	}
	f := w.startHistory()

	// The first page: 100 snapshots, the payout in doubt among them and the
	// refused one (older than all of them) waiting at the end.
	var loaded, shown int
	f.probe(func(a *App) { loaded, shown = a.history().h.Len(), len(a.history().idx) })
	if loaded != 102 || shown != 102 {
		t.Fatalf("after the first page: %d rows loaded, %d shown; want 102 and 102", loaded, shown)
	}
	f.namesShown()
	v := f.view()
	historyGolden(t, "top", v)
	mustContain(t, v, "History  102 shown of 102 loaded", "Filter — asset: all assets · direction: in and out")
	for _, memo := range []string{"Payroll 151", "Deposit 150", "Invoice 140", "Invoice 137"} {
		e := w.byMemo[memo]
		l := lineWith(v, memo)
		if !strings.HasSuffix(strings.TrimRight(l, " "), e.state()) {
			t.Errorf("the row of %s (%c) does not end in %q: %q", memo, e.kind, e.state(), l)
		}
		if !strings.Contains(l, shortID(e.trace)) {
			t.Errorf("the row of %s does not show its trace %s: %q", memo, shortID(e.trace), l)
		}
	}
	mustContain(t, lineWith(v, "Invoice 140"), "-240.25", "USDT", "out")
	mustContain(t, lineWith(v, "Deposit 150"), "+", "in ")

	// Down to 10 rows before the end of the page: the next one is asked for.
	for range 90 {
		f.press(tea.KeyDown)
	}
	f.until("the second page", func(a *App) bool { return a.history().h.Done() && !a.history().loading })
	var cursorMemo string
	f.probe(func(a *App) { s := a.history(); cursorMemo = s.rows[s.idx[s.cursor]].Memo })
	if want := w.events[151-90].memo; cursorMemo != want {
		t.Errorf("after the second page the cursor is on %q, want it kept on %q", cursorMemo, want)
	}
	for range 25 {
		f.press(tea.KeyDown)
	}
	f.namesShown()
	v = f.view()
	historyGolden(t, "second_page", v)
	mustContain(t, v, "History  152 shown of 152 loaded")
	// The counterparty's Mixin ID, as the server gave it, in a column of
	// its own beside the name.
	for _, u := range w.world.Users {
		if l := lineWith(v, " "+u.IdentityNumber+" "); l == "" || !strings.Contains(l, truncate(u.FullName, 11)) {
			t.Errorf("no row shows %s beside %s's name: %q", u.IdentityNumber, u.FullName, l)
		}
	}
	// A refused payout moved nothing: no signed amount, "not moved".
	if l := lineWith(v, "Invoice 40"); !strings.HasSuffix(strings.TrimRight(l, " "), "not moved") || strings.Contains(l, "-140.25") || !strings.Contains(l, " 140.25 ") {
		t.Errorf("the refused payout is not shown as not moved, with its amount unsigned: %q", l)
	}
	a := f.final()

	// Every snapshot once, the journal-only rows once, newest first.
	s := a.history()
	seen := map[string]int{}
	var journalOnly []history.Row
	for i, r := range s.rows {
		if r.SnapshotID == "" {
			journalOnly = append(journalOnly, r)
		} else {
			seen[r.SnapshotID]++
		}
		if i > 0 && r.Time.After(s.rows[i-1].Time) {
			t.Errorf("row %d (%s) is newer than the row before it", i, r.Memo)
		}
	}
	if len(s.rows) != 152 || len(seen) != 150 || len(journalOnly) != 2 {
		t.Errorf("%d rows: %d distinct snapshots, %d journal-only; want 152, 150, 2", len(s.rows), len(seen), len(journalOnly))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("snapshot %s is shown %d times", id, n)
		}
	}
	for _, e := range w.events {
		if e.snap != "" && seen[e.snap] != 1 {
			t.Errorf("the snapshot of %s (%s) is shown %d times", e.memo, e.snap, seen[e.snap])
		}
	}
	for _, r := range journalOnly {
		e := w.byMemo[r.Memo]
		if r.TraceID != e.trace || stateLabel[r.State] != e.state() || r.Operator != histOperator {
			t.Errorf("journal-only row %+v is not event %+v", r, e)
		}
	}
	if n := w.calls.count("POST /transfers"); n != 14 {
		t.Errorf("POST /transfers made %d times, want the setup's 14: the history posted nothing", n)
	}
}

// TestHistoryPagesShowEveryRowOnce pages through the whole table as drawn:
// every row of the world appears on the screen once, in order.
func TestHistoryPagesShowEveryRowOnce(t *testing.T) {
	t.Parallel()
	w := newHistoryWorld(t, rigOpts{askPIN: true}, mainPlan())
	f := w.startHistory()
	var got []string
	for {
		v := f.view()
		var top, vis, n int
		var done bool
		f.probe(func(a *App) {
			top, vis, n, done = a.history().top, a.history().visibleRows(a.bodyHeight()), len(a.history().idx), a.history().h.Done()
		})
		memos := memosShown(t, v)
		if len(memos) != min(vis, n-top) {
			t.Fatalf("%d rows drawn from %d of %d, want %d:\n%s", len(memos), top, n, min(vis, n-top), v)
		}
		// Rows already collected (the last page may overlap) are skipped by
		// position.
		got = append(got, memos[len(got)-top:]...)
		if done && top+len(memos) == n {
			mustContain(t, v, "— the beginning of the history —")
			break
		}
		if len(got) > 200 {
			t.Fatal("the table does not end")
		}
		f.press(tea.KeyPgDown)
		f.until("the page", func(a *App) bool { return !a.history().loading })
	}
	f.final()
	want := make([]string, 0, len(w.events))
	for i := len(w.events) - 1; i >= 0; i-- {
		want = append(want, w.events[i].memo)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("the rows drawn, page by page:\n%v\nwant, newest first:\n%v", got, want)
	}
}

// TestHistoryFitsNarrowTerminals: on an 80-column terminal, and at the
// smallest size the console takes, every row ends in its state, on the
// screen: the trace column gives way (it is in the details).
func TestHistoryFitsNarrowTerminals(t *testing.T) {
	t.Parallel()
	w := newHistoryWorld(t, rigOpts{askPIN: true}, "rodoFrD")
	for _, sz := range [][2]int{{80, 24}, {minWidth, minHeight}} {
		f := w.start(sz[0], sz[1])
		f.waitHome()
		f.until("the start-up settlement", func(a *App) bool { return !a.recovering })
		f.typ("h")
		f.until("the history", func(a *App) bool { return a.history() != nil && a.history().h.Done() && !a.history().loading })
		f.namesShown()
		v := f.view()
		fitsWidth(t, v, sz[0])
		rows := tableLines(v)
		if len(rows) != len(w.events) {
			t.Fatalf("%d×%d: %d rows drawn, want %d:\n%s", sz[0], sz[1], len(rows), len(w.events), v)
		}
		for i, l := range rows {
			e := w.events[len(w.events)-1-i]
			if !strings.HasSuffix(strings.TrimRight(l, " "), " "+e.state()) {
				t.Errorf("%d×%d: the row of %s does not end in %q: %q", sz[0], sz[1], e.memo, e.state(), l)
			}
		}
		f.final().Close() // the next console takes the profile's journal
	}
}

// shownCount is the number of rows the filter lets through (the screen's
// idx).
func (f *flow) shownCount() int {
	f.t.Helper()
	var n int
	f.probe(func(a *App) { n = len(a.history().idx) })
	return n
}

// everyRow checks that every table row drawn satisfies ok and that the
// screen draws them all (the filter leaves fewer than a screenful) or a
// full screen (19 rows at 100×30: the status line of the settlement made
// on the balances is not carried over to the history).
func everyRow(t *testing.T, what string, view string, want int, ok func(l string) bool) {
	t.Helper()
	rows := tableLines(view)
	if len(rows) != min(want, 19) {
		t.Errorf("%s: %d rows drawn, want %d:\n%s", what, len(rows), min(want, 19), view)
	}
	for _, l := range rows {
		if !ok(l) {
			t.Errorf("%s: the row %q should not be shown", what, l)
		}
	}
}

func TestHistoryFilters(t *testing.T) {
	t.Parallel()
	w := newHistoryWorld(t, rigOpts{askPIN: true}, mainPlan())
	f := w.startHistory()
	if n := f.shownCount(); n != 102 {
		t.Fatalf("%d rows shown after the first page, want 102", n)
	}

	// Dates that exclude everything: the history is loaded to its
	// beginning looking for rows, and then says that nothing matches.
	f.typ("f")
	f.typ("2000-01-01..2000-01-31")
	f.press(tea.KeyEnter)
	f.until("the whole history", func(a *App) bool { return a.history().h.Done() && !a.history().loading })
	v := f.view()
	mustContain(t, v, "Nothing matches.", "History  0 shown of 152 loaded", "dates: 2000-01-01..2000-01-31")
	if n := f.shownCount(); n != 0 || len(tableLines(v)) != 0 {
		t.Fatalf("dates in 2000 show %d rows:\n%s", n, v)
	}
	// A date that is not one is refused on the prompt and changes nothing.
	f.typ("f")
	f.press(tea.KeyCtrlU)
	f.typ("2026-13-01..")
	f.press(tea.KeyEnter)
	mustContain(t, f.view(), "› Dates: 2026-13-01..", "✗ the start is not a date like 2026-11-01")
	f.press(tea.KeyEsc)
	v = f.view()
	mustContain(t, v, "dates: 2000-01-01..2000-01-31", "Nothing matches.")
	mustNotContain(t, v, "✗", "› Dates")
	// Yesterday to tomorrow holds every row.
	now := time.Now()
	f.typ("f")
	f.press(tea.KeyCtrlU)
	f.typ(now.AddDate(0, 0, -1).Format("2006-01-02") + ".." + now.AddDate(0, 0, 1).Format("2006-01-02"))
	f.press(tea.KeyEnter)
	if n := f.shownCount(); n != 152 {
		t.Errorf("yesterday to tomorrow shows %d rows, want 152", n)
	}
	f.typ("x")
	v = f.view()
	mustContain(t, v, "Filter — asset: all assets · direction: in and out", "History  152 shown of 152 loaded")
	mustNotContain(t, v, "dates:")

	// Search, applied as it is typed: the memo.
	f.typ("/")
	f.typ("invoice")
	invoices := w.count(func(e histEvent) bool { return strings.HasPrefix(e.memo, "Invoice") })
	if n := f.shownCount(); n != invoices || invoices != 14 {
		t.Errorf("searching \"invoice\" shows %d rows, want the %d (of 14) desk payouts", n, invoices)
	}
	f.press(tea.KeyEnter)
	v = f.view()
	mustContain(t, v, `search: "invoice"`, "IN DOUBT", "not moved", "— the beginning of the history —")
	everyRow(t, "invoice", v, invoices, func(l string) bool { return strings.Contains(l, "Invoice") })
	// The counterparty's name, whatever the case.
	peer := w.world.Users[1]
	f.until("the names", func(a *App) bool {
		for _, u := range w.world.Users {
			if _, ok := a.history().names.Get(u.UserID); !ok {
				return false
			}
		}
		return true
	})
	f.typ("/")
	f.press(tea.KeyCtrlU)
	f.typ(strings.ToUpper(peer.FullName))
	f.press(tea.KeyEnter)
	withPeer := w.count(func(e histEvent) bool { return e.peer == peer.UserID })
	if n := f.shownCount(); n != withPeer {
		t.Errorf("searching %q shows %d rows, want %d", strings.ToUpper(peer.FullName), n, withPeer)
	}
	everyRow(t, "name", f.view(), withPeer, func(l string) bool { return strings.Contains(l, truncate(peer.FullName, 10)) })
	// A trace id, by its start.
	e := w.byMemo["Payroll 79"]
	f.typ("/")
	f.press(tea.KeyCtrlU)
	f.typ(e.trace[:13])
	f.press(tea.KeyEnter)
	everyRow(t, "trace", f.view(), 1, func(l string) bool { return strings.Contains(l, "Payroll 79") })
	f.typ("x")
	if n := f.shownCount(); n != 152 {
		t.Fatalf("x leaves %d rows shown, want 152", n)
	}

	// The asset cycle follows the balances on home: BTC, ETH, USDT, all.
	for _, c := range []struct{ symbol, id string }{{"BTC", btcID}, {"ETH", ethID}, {"USDT", usdtID}} {
		f.typ("a")
		want := w.count(func(e histEvent) bool { return e.asset == c.id })
		if n := f.shownCount(); n != want {
			t.Errorf("asset %s shows %d rows, want %d", c.symbol, n, want)
		}
		v := f.view()
		mustContain(t, v, "asset: "+c.symbol+" ·")
		everyRow(t, c.symbol, v, want, func(l string) bool { return strings.Contains(l, " "+c.symbol+" ") })
	}
	f.typ("a")
	mustContain(t, f.view(), "asset: all assets")
	if n := f.shownCount(); n != 152 {
		t.Errorf("after the asset cycle %d rows are shown, want 152", n)
	}

	// Direction: out only hides what was received; in only shows nothing else.
	received := w.count(func(e histEvent) bool { return e.kind == evReceived })
	f.typ("d")
	v = f.view()
	mustContain(t, v, "direction: out only", "other tool", "IN DOUBT")
	mustNotContain(t, v, "received")
	if n := f.shownCount(); n != 152-received {
		t.Errorf("out only shows %d rows, want %d", n, 152-received)
	}
	everyRow(t, "out only", v, 152-received, func(l string) bool { return strings.Contains(l, " out ") })
	f.typ("d")
	v = f.view()
	mustContain(t, v, "direction: in only")
	if n := f.shownCount(); n != received {
		t.Errorf("in only shows %d rows, want %d", n, received)
	}
	everyRow(t, "in only", v, received, func(l string) bool { return strings.HasSuffix(strings.TrimRight(l, " "), "received") })
	f.typ("d")
	mustContain(t, f.view(), "direction: in and out")

	// Filters add up: nothing of BTC went out.
	f.typ("a")
	f.typ("d")
	v = f.view()
	mustContain(t, v, "asset: BTC · direction: out only", "Nothing matches.")
	f.typ("x")
	a := f.final()
	if len(a.history().idx) != 152 || a.history().filter != (history.Filter{}) {
		t.Errorf("x left %d rows and the filter %+v", len(a.history().idx), a.history().filter)
	}
}

func TestHistoryExportCSV(t *testing.T) {
	t.Parallel()
	w := newHistoryWorld(t, rigOpts{askPIN: true}, mainPlan())
	f := w.startHistory()
	f.loadAll()
	f.typ("d") // out only: the desk's payouts, refused, in doubt, other tools
	var shown []history.Row
	f.probe(func(a *App) {
		for _, ix := range a.history().idx {
			shown = append(shown, a.history().rows[ix])
		}
	})
	out := w.count(func(e histEvent) bool { return e.kind != evReceived })
	if len(shown) != out || out != 78 {
		t.Fatalf("%d rows out, want %d (of 78)", len(shown), out)
	}

	f.typ("e")
	var path string
	f.probe(func(a *App) { path = a.history().input.Value() })
	dir := filepath.Join(w.deps.Env.DataDir, "exports")
	if filepath.Dir(path) != dir || !regexp.MustCompile(`^history-\d{8}-\d{6}\.csv$`).MatchString(filepath.Base(path)) {
		t.Fatalf("the export path offered is %q, want %s/history-YYYYMMDD-HHMMSS.csv", path, dir)
	}
	mustContain(t, f.view(), "› Export to: "+path)
	f.press(tea.KeyEnter)
	f.until("the export", func(a *App) bool { return strings.HasPrefix(a.status, "Wrote") })
	v := f.view()
	mustContain(t, flat(v), fmt.Sprintf("Wrote %d rows to %s.", out, path))

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the export's mode is %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	got, err := history.ReadCSV(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(shown) {
		t.Fatalf("the export holds %d rows, the screen showed %d", len(got), len(shown))
	}
	names := map[string]string{}
	for _, u := range w.world.Users {
		names[u.UserID] = u.FullName
	}
	symbols := map[string]string{usdtID: "USDT", btcID: "BTC", ethID: "ETH"}
	for i, c := range got {
		r := shown[i]
		e := w.byMemo[r.Memo]
		want := history.CSVRow{
			Time: r.Time.UTC().Format(time.RFC3339Nano), Direction: "out", Asset: symbols[e.asset], AssetID: e.asset,
			Amount: "-" + decimal.RequireFromString(e.amount).String(), Counterparty: names[e.peer], CounterpartyID: e.peer,
			Memo: e.memo, TraceID: e.trace, SnapshotID: e.snap, State: string(r.State), ClosingBalance: r.Closing,
		}
		if c != want {
			t.Errorf("export row %d:\n got %+v\nwant %+v", i+1, c, want)
		}
		if (c.SnapshotID == "") != (e.kind == evFailed || e.kind == evDoubt) {
			t.Errorf("export row %d (%s) has snapshot id %q", i+1, e.memo, c.SnapshotID)
		}
	}

	// The same path again is refused, and the file is left as it was.
	f.typ("e")
	f.press(tea.KeyCtrlU)
	f.typ(path)
	f.press(tea.KeyEnter)
	f.until("the refusal", func(a *App) bool { return strings.HasPrefix(a.status, "Not exported") })
	a := f.final()
	if a.statusOK {
		t.Error("the refusal is shown as good news")
	}
	mustContain(t, flat(a.View()), "Not exported: "+path+" exists already, and an export never replaces a file. Give another path.")
	if again, _ := os.ReadFile(path); !bytes.Equal(again, raw) {
		t.Error("the refused export changed the file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the exports folder holds %d files, want 1", len(ents))
	}
}

// TestHistoryDetailAndCopy is not parallel: it replaces the clipboard's
// output.
func TestHistoryDetailAndCopy(t *testing.T) {
	var clip bytes.Buffer
	old := clipboardOut
	clipboardOut = &clip
	t.Cleanup(func() { clipboardOut = old })

	w := newHistoryWorld(t, rigOpts{askPIN: true}, "rodoFrD")
	f := w.startHistory()
	f.until("every row", func(a *App) bool { return a.history().h.Done() && !a.history().loading })
	f.namesShown()
	// Rows, newest first: D6 r5 F4 o3 d2 o1 r0.
	f.press(tea.KeyDown, tea.KeyDown, tea.KeyDown, tea.KeyDown)
	f.press(tea.KeyEnter)
	f.until("the details", func(a *App) bool { return a.history().detail })
	var row history.Row
	f.probe(func(a *App) { row = a.history().rows[a.history().idx[a.history().cursor]] })
	e := w.byMemo["Invoice 2"]
	if row.Memo != e.memo || row.Closing == "" {
		t.Fatalf("the details are of %+v, want %s with a closing balance", row, e.memo)
	}
	v := f.view()
	historyGolden(t, "done", v)
	peer := w.world.Users[2]
	mustContain(t, v, "Entry  done",
		"Time             "+row.Time.Local().Format("2006-01-02 15:04:05 MST"),
		"Amount           -102.25 USDT",
		"Asset id         "+usdtID,
		"Counterparty     "+peer.FullName,
		"Counterparty id  "+peer.UserID,
		"Memo             Invoice 2",
		"Trace id         "+e.trace,
		"Snapshot id      "+e.snap,
		"Closing balance  "+payout.GroupDigits(row.Closing),
		"Confirmed by     "+histOperator,
		"c copy snapshot id", "y copy trace id")
	mustNotContain(t, v, "TIME", "Refused")

	// c and y put the ids on the clipboard with OSC 52.
	osc := regexp.MustCompile("\x1b\\]52;c;([A-Za-z0-9+/=]*)")
	copied := func() string {
		t.Helper()
		m := osc.FindAllStringSubmatch(clip.String(), -1)
		if len(m) == 0 {
			t.Fatalf("no OSC 52 sequence was written: %q", clip.String())
		}
		b, err := base64.StdEncoding.DecodeString(m[len(m)-1][1])
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	f.typ("c")
	f.until("the copy", func(a *App) bool { return strings.HasPrefix(a.status, "Asked the terminal to copy the snapshot id") })
	if got := copied(); got != e.snap {
		t.Errorf("c copied %q, want the snapshot id %s", got, e.snap)
	}
	f.typ("y")
	f.until("the copy", func(a *App) bool { return strings.HasPrefix(a.status, "Asked the terminal to copy the trace id") })
	if got := copied(); got != e.trace {
		t.Errorf("y copied %q, want the trace id %s", got, e.trace)
	}

	// ↓ and ↑ move through the details.
	f.press(tea.KeyDown)
	v = f.view()
	mustContain(t, v, "Entry  other tool", "Memo             Payroll 1", "Confirmed by     —")
	mustContain(t, flat(v), "Sent from this account by another tool: the journal has no record of it.")
	f.press(tea.KeyUp, tea.KeyUp, tea.KeyUp)
	v = f.view()
	historyGolden(t, "failed", v)
	mustContain(t, v, "Entry  refused: not moved", "Memo             Invoice 4", "Snapshot id      —", "Confirmed by     "+histOperator,
		"Amount           104.25 USDT  (not moved: the server refused it)")
	mustNotContain(t, v, "-104.25")
	if l := lineWith(v, "Refused"); !strings.Contains(l, "20119") {
		t.Errorf("the refusal does not give the server's code: %q", l)
	}
	n := clip.Len()
	f.typ("c")
	f.until("the refusal", func(a *App) bool { return strings.HasPrefix(a.status, "This entry has no snapshot") })
	if clip.Len() != n {
		t.Error("c on an entry without snapshot wrote to the clipboard")
	}
	f.press(tea.KeyUp)
	mustContain(t, f.view(), "Entry  received", "Amount           +", "Confirmed by     —")
	f.press(tea.KeyUp)
	v = f.view()
	historyGolden(t, "in_doubt", v)
	mustContain(t, v, "Entry  IN DOUBT", "Memo             Invoice 6", "Snapshot id      —")
	mustContain(t, flat(v), "In doubt: it is settled by its trace before the next send, at start-up, or now with s on the list.")
	f.typ("y")
	f.until("the copy", func(a *App) bool { return strings.HasPrefix(a.status, "Asked the terminal to copy the trace id") })
	if got := copied(); got != w.byMemo["Invoice 6"].trace {
		t.Errorf("y copied %q, want the trace of the payout in doubt", got)
	}
	f.press(tea.KeyEsc)
	a := f.final()
	if a.history().detail || a.screen != screenHistory {
		t.Error("esc did not go back from the details to the list")
	}
}

// settleWorld has a payout whose transfer was executed but whose answer was
// lost (in doubt in the journal), older than the first page of snapshots,
// and a console whose settlement at start-up could not reach the server.
func settleWorld(t *testing.T, plan string) (*histWorld, *flow) {
	t.Helper()
	w := newHistoryWorld(t, rigOpts{}, plan)
	w.gate.closed.Store(true)
	f := w.start(termW, termH)
	f.waitHome()
	f.until("the start-up settlement", func(a *App) bool { return !a.recovering })
	mustContain(t, flat(f.view()), "0 paid, 0 refused, 1 still in doubt", "1 payout in doubt")
	w.gate.closed.Store(false)
	return w, f
}

func TestHistorySettleInDoubt(t *testing.T) {
	t.Parallel()
	w, f := settleWorld(t, "dC"+strings.Repeat("ro", 52))
	e := w.byMemo["Invoice 1"]
	f.typ("h")
	f.until("the first page", func(a *App) bool {
		return a.screen == screenHistory && a.history().h.Len() == 101 && !a.history().loading
	})

	// Its snapshot is not loaded yet: the journal's entry is the row (seen
	// with the search as it is typed, which loads nothing more).
	f.typ("/")
	f.typ("invoice 1")
	v := f.view()
	rows := tableLines(v)
	if len(rows) != 1 || !strings.Contains(rows[0], "Invoice 1") || !strings.HasSuffix(strings.TrimRight(rows[0], " "), "IN DOUBT") {
		t.Fatalf("the payout in doubt is not shown IN DOUBT:\n%s", v)
	}
	f.press(tea.KeyEsc)
	f.typ("x")

	// s settles it by its trace; a ctrl+c meanwhile says what happens.
	w.srv.InjectFault(http.MethodGet, "/transfers/trace/", sandbox.Fault{Kind: sandbox.FaultDelay, Delay: 700 * time.Millisecond})
	f.typ("s")
	mustContain(t, f.view(), "Settling 1 in-doubt payout by trace…")
	f.press(tea.KeyCtrlC)
	var quitting bool
	f.probe(func(a *App) { quitting, v = a.quitting, a.View() })
	if quitting {
		t.Fatal("ctrl+c during the settlement quit at once")
	}
	mustContain(t, flat(v), "A transfer is being sent or settled.", "Press ctrl+c again to quit.")
	f.until("the settlement", func(a *App) bool { return strings.Contains(a.status, "1 paid") })
	f.until("the rows again", func(a *App) bool { return !a.history().stale && a.history().h.Len() > 0 && !a.history().loading })
	mustContain(t, f.view(), "In-doubt payouts settled: 1 paid, 0 refused, 0 still in doubt.")

	// Read again to its beginning, the payout is one row: done.
	f.loadAll()
	f.typ("/")
	f.typ("invoice 1")
	f.press(tea.KeyEnter)
	a := f.final()
	v = a.View()
	rows = tableLines(v)
	if len(rows) != 1 || !strings.Contains(rows[0], "Invoice 1") || !strings.HasSuffix(strings.TrimRight(rows[0], " "), " done") {
		t.Errorf("the settled payout is not shown done:\n%s", v)
	}
	var mine []history.Row
	for _, r := range a.history().rows {
		if r.TraceID == e.trace {
			mine = append(mine, r)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("%d rows with the trace of the settled payout, want 1: %+v", len(mine), mine)
	}
	if r := mine[0]; r.SnapshotID != e.snap || r.State != history.StateDone || r.Operator != histOperator {
		t.Errorf("the settled row is %+v, want snapshot %s, done, by %s", r, e.snap, histOperator)
	}
	if je, ok := a.acct.Journal().Lookup(e.trace); !ok || je.State != journal.StateDone || je.Done.SnapshotID != e.snap {
		t.Errorf("the journal holds %+v for the trace, want done with snapshot %s", je, e.snap)
	}
	if n := len(w.ledgerFor(e.trace)); n != 1 {
		t.Errorf("the ledger holds %d transfers with the trace, want exactly 1", n)
	}
	if n := w.calls.count("POST /transfers"); n != 2 {
		t.Errorf("POST /transfers made %d times, want the setup's 2: settling found the trace", n)
	}
	if a.home().doubt != 0 {
		t.Errorf("home still counts %d payouts in doubt", a.home().doubt)
	}
}

// TestHistoryAnswersWhileAway: answers that arrive after the operator left
// the history are not lost: a page load and a settlement.
func TestHistoryAnswersWhileAway(t *testing.T) {
	t.Parallel()
	t.Run("page", func(t *testing.T) {
		t.Parallel()
		w := newHistoryWorld(t, rigOpts{askPIN: true}, "rorodo")
		w.srv.InjectFault(http.MethodGet, "/snapshots", sandbox.Fault{Kind: sandbox.FaultDelay, Delay: 300 * time.Millisecond})
		f := w.start(termW, termH)
		f.waitHome()
		f.typ("h")
		f.until("the load", func(a *App) bool { return a.history().loading })
		f.press(tea.KeyEsc)
		f.until("the rows", func(a *App) bool { return a.history().h.Len() == 6 })
		time.Sleep(100 * time.Millisecond) // the answer reaches home
		f.typ("h")
		f.until("the history", func(a *App) bool { return a.screen == screenHistory && !a.history().loading })
		v := f.view()
		mustContain(t, v, "History  6 shown of 6 loaded", "— the beginning of the history —")
		mustNotContain(t, v, "Loading…")
		f.final()
	})
	t.Run("settlement", func(t *testing.T) {
		t.Parallel()
		w, f := settleWorld(t, "dCro")
		f.typ("h")
		f.until("the history", func(a *App) bool { return a.screen == screenHistory && a.history().h.Done() && !a.history().loading })
		var before *history.History
		f.probe(func(a *App) { before = a.history().h })
		w.srv.InjectFault(http.MethodGet, "/transfers/trace/", sandbox.Fault{Kind: sandbox.FaultDelay, Delay: 300 * time.Millisecond})
		f.typ("s")
		f.press(tea.KeyEsc)
		f.until("the settlement", func(a *App) bool { return strings.Contains(a.status, "1 paid") && !a.recovering })
		v := f.view()
		mustContain(t, v, "In-doubt payouts settled: 1 paid, 0 refused, 0 still in doubt.")
		mustNotContain(t, v, "in doubt:")
		f.typ("h")
		f.until("the history again", func(a *App) bool {
			return a.screen == screenHistory && a.history().h != before && a.history().h.Done() && !a.history().loading
		})
		a := f.final()
		if len(a.history().rows) != 4 || a.history().stale {
			t.Errorf("the history after the settlement: %d rows (want 4), stale %v", len(a.history().rows), a.history().stale)
		}
		for _, r := range a.history().rows {
			if r.Memo == "Invoice 1" && r.State != history.StateDone {
				t.Errorf("the settled payout is %s", r.State)
			}
		}
	})
}

// TestHistoryIsOfTheOpenProfile: after another profile is opened, h shows
// that profile's history, not the one read before.
func TestHistoryIsOfTheOpenProfile(t *testing.T) {
	t.Parallel()
	w := newHistoryWorld(t, rigOpts{}, "rodo")
	f := w.start(termW, termH)
	f.waitHome()
	f.typ("h")
	f.until("the history", func(a *App) bool { return a.screen == screenHistory && a.history().h.Done() && !a.history().loading })
	mustContain(t, f.view(), "Payroll 3", "Deposit 0")
	f.press(tea.KeyEsc)

	creds, u, err := w.srv.NewAppSessionWith("Second Desk", sandbox.SessionOptions{Kind: mixin.KeyEd25519})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.Transfer(w.world.Users[0].UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: u.UserID, Amount: "7", TraceID: uuid.NewString(), Memo: "Welcome"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	acct, err := w.deps.Env.Open(ctx, "second", keystore.Profile{Credentials: creds, KeepPIN: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.tm.Send(openedMsg{acct: acct})
	f.until("the second profile", func(a *App) bool { return a.acct == acct && a.screen == screenHome })
	f.typ("h")
	f.until("its history", func(a *App) bool { return a.screen == screenHistory && a.history().h.Done() && !a.history().loading })
	a := f.final()
	v := a.View()
	mustContain(t, v, "mixdesk · second · Second Desk", "History  1 shown of 1 loaded", "Welcome", "received")
	mustNotContain(t, v, "Payroll", "Deposit", "Invoice")
}

// TestHistoryFilterLineNeverCut: at the smallest size, with every filter
// set, the filter line wraps and says each of them whole (it once cut the
// search away and the end date in half while rows were hidden).
func TestHistoryFilterLineNeverCut(t *testing.T) {
	t.Parallel()
	w := newHistoryWorld(t, rigOpts{}, mainPlan())
	f := w.start(72, 22)
	f.waitHome()
	f.until("the start-up settlement", func(a *App) bool { return !a.recovering })
	f.typ("h")
	f.until("the history", func(a *App) bool { return a.screen == screenHistory && !a.history().loading })
	f.typ("a")
	f.typ("d")
	f.typ("f")
	f.typ("2026-01-01..2026-12-31")
	f.press(tea.KeyEnter)
	f.typ("/")
	f.typ("bonus")
	f.press(tea.KeyEnter)
	f.until("the filter", func(a *App) bool { return a.history().filter.Text == "bonus" && !a.history().loading })
	v := f.view()
	mustContain(t, flat(v), "dates: 2026-01-01..2026-12-31", `search: "bonus"`, "direction: out only")
	var body string
	f.probe(func(a *App) { body = a.history().view(a.bodyHeight()) })
	fitsWidth(t, body, 70) // the screen's width inside its margins
	if n := strings.Count(strings.TrimRight(v, "\n"), "\n") + 1; n > 22 {
		t.Fatalf("the history is %d lines at 22:\n%s", n, v)
	}
}
