package ui

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/history"
	"mixdesk/payout"
)

// historyPage is how close to the end of the loaded rows the cursor gets
// before the next page is asked for.
const historyPrefetch = 20

// historyScreen is the table of recent payouts and receipts, paged from the
// server and joined with the journal. Only the visible rows are drawn.
//
// It is a component: a settlement asked for here is the root's (it may
// re-post), and the rows are read again once it is over.
type historyScreen struct {
	ctx     *shared
	dataDir string // where an export is offered to go
	h       *history.History
	desk    *payout.Desk // the profile the history is of
	names   *history.Names
	rows    []history.Row // the History's rows as last read
	idx     []int         // rows shown: indexes into rows, after the filter
	cursor  int           // position in idx
	top     int           // first visible position in idx
	filter  history.Filter
	assetIx int // position in the asset cycle; 0 = all

	loading bool
	loadGen int
	err     string

	detail bool // the detail view of the row under the cursor

	// One text prompt at a time: search, dates or export path.
	prompt    promptKind
	input     textinput.Model
	promptErr string
	// stale: in-doubt payouts were settled from this screen; the rows are
	// read again from the journal and the server once that is over.
	stale bool
	// journalLen is the journal's size when the rows were read.
	journalLen int
	// searchWas is the search text before the search prompt opened.
	searchWas string

	km historyKeys
}

// historyKeys is the history's key map: the list, the details of a row,
// and a prompt.
type historyKeys struct {
	Up, Down, PageUp, PageDown, First, Last                              keyDef
	Open, Search, Asset, Dir, Dates, Clear, Reload, Export, Settle, Back keyDef
	CopySnap, CopyTrace, CopyTx, Before, After, Close                    keyDef
	Apply, Cancel                                                        keyDef
}

func newHistoryKeys() historyKeys {
	return historyKeys{
		Up:       newKey([]string{"up", "k"}, "↑/↓", "move").long("↑/↓ k/j", "move"),
		Down:     newKey([]string{"down", "j"}, "", ""),
		PageUp:   newKey([]string{"pgup"}, "pgup/pgdn", "page").long("pgup/pgdn", "a page up or down"),
		PageDown: newKey([]string{"pgdown"}, "", ""),
		First:    newKey([]string{"home", "g"}, "home/end", "newest/oldest").long("home/end g/G", "the newest or the oldest loaded (older entries load as you scroll)"),
		Last:     newKey([]string{"end", "G"}, "", ""),
		Open:     newKey([]string{"enter"}, "enter", "details").long("enter", "the entry's details"),
		Search:   newKey([]string{"/"}, "/", "search").long("/", "search memos, names, ids and traces (applies as you type)"),
		Asset:    newKey([]string{"a"}, "a", "asset").long("a", "next asset of the filter (all, then each asset held)"),
		Dir:      newKey([]string{"d"}, "d", "in/out").long("d", "direction: in and out, out only, in only"),
		Dates:    newKey([]string{"f"}, "f", "dates").long("f", "dates: FROM..TO"),
		Clear:    newKey([]string{"x"}, "x", "clear filters").long("x", "clear every filter"),
		Reload:   newKey([]string{"r"}, "r", "reload").long("r", "reload from the journal and the server"),
		Export:   newKey([]string{"e"}, "e", "export CSV").long("e", "export the rows shown as CSV"),
		Settle:   newKey([]string{"s"}, "s", "settle in-doubt").long("s", "settle the payouts in doubt by their trace"),
		Back:     newKey(qBack, "esc/q", "back").long("esc/q", "back to the balances"),

		CopySnap:  newKey([]string{"c"}, "c", "copy snapshot id").long("c", "copy the snapshot id"),
		CopyTrace: newKey([]string{"y"}, "y", "copy trace id").long("y", "copy the trace id"),
		CopyTx:    newKey([]string{"t"}, "t", "copy transaction").long("t", "copy the network transaction's hash"),
		Before:    newKey([]string{"up", "k"}, "", "").long("↑/↓", "the entry before or after"),
		After:     newKey([]string{"down", "j"}, "", ""),
		Close:     newKey([]string{"esc", "enter", "q"}, "esc/q", "back").long("esc/q enter", "back to the list"),

		Apply:  newKey([]string{"enter"}, "enter", "apply"),
		Cancel: newKey([]string{"esc"}, "esc", "cancel").long("esc", "cancel (a search typed is taken back)"),
	}
}

type promptKind int

const (
	promptNone promptKind = iota
	promptSearch
	promptDates
	promptExport
)

type (
	historyLoadedMsg struct {
		gen   int
		added int
		err   error
	}
	namesMsg         struct{ err error }
	historyExportMsg struct {
		path string
		n    int
		err  error
	}
	// historySettledMsg follows the recoveredMsg of a settlement asked for
	// on the history: the rows are read again.
	historySettledMsg struct{}
)

// openHistory shows the history; it is loaded once and kept while the
// profile is open.
func (a *App) openHistory() tea.Cmd {
	// The history is of one profile: another one opened since gets its own.
	s, _ := a.pages[screenHistory].(*historyScreen)
	if s == nil || s.h == nil || s.desk != a.acct.Desk {
		s = newHistoryScreen(&a.shared, a.acct.DataDir())
		a.pages[screenHistory] = s
	}
	a.setScreen(screenHistory)
	// An answer that arrived while the operator was away was dropped: the
	// page is asked for again (one still on its way is told by its gen).
	s.loading = false
	// Payouts recorded since the rows were read (sent, settled elsewhere)
	// make the rows stale too.
	if (s.stale || a.acct.Journal().Len() != s.journalLen) && !a.recovering {
		return s.rebuild()
	}
	s.refilter()
	// The journal's payouts in doubt and refused are rows from the start:
	// snapshots are loaded while the rows do not fill the screen.
	return tea.Batch(s.topUp(), s.resolveVisible())
}

// rebuild reads the rows again from the journal and the server.
func (s *historyScreen) rebuild() tea.Cmd {
	s.h, s.stale, s.loading = s.ctx.acct.History(), false, false
	s.journalLen = s.ctx.acct.Journal().Len()
	s.rows, s.idx, s.cursor, s.top = nil, nil, 0, 0
	return s.load()
}

func newHistoryScreen(ctx *shared, dataDir string) *historyScreen {
	in := textinput.New()
	in.Prompt = ""
	in.CharLimit = 200
	in.Width = 50
	return &historyScreen{
		ctx:        ctx,
		dataDir:    dataDir,
		h:          ctx.acct.History(),
		journalLen: ctx.acct.Journal().Len(),
		desk:       ctx.acct.Desk,
		names:      ctx.acct.Names(),
		input:      in,
		km:         newHistoryKeys(),
	}
}

func (s *historyScreen) typing() bool { return s.prompt != promptNone }

// safe reports whether the history is of a Safe profile: its movements
// have a network transaction, and no balances.
func (s *historyScreen) safe() bool { return s.ctx.acct != nil && s.ctx.acct.IsSafe() }

// load asks for the next page of snapshots.
func (s *historyScreen) load() tea.Cmd {
	if s.loading || s.h.Done() {
		return nil
	}
	s.loading = true
	s.loadGen = s.ctx.nextGen()
	h, gen := s.h, s.loadGen
	return func() tea.Msg {
		ctx, cancel := within(timeoutPage)
		defer cancel()
		n, err := h.LoadMore(ctx)
		return historyLoadedMsg{gen: gen, added: n, err: err}
	}
}

// resolveVisible looks up the names of the counterparties on screen.
func (s *historyScreen) resolveVisible() tea.Cmd {
	var ids []string
	seen := map[string]bool{}
	for i := s.top; i < len(s.idx) && i < s.top+60; i++ {
		id := s.rows[s.idx[i]].OpponentID
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		if _, ok := s.names.Get(id); !ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	names := s.names
	return func() tea.Msg {
		ctx, cancel := within(timeoutRead)
		defer cancel()
		return namesMsg{err: names.Resolve(ctx, ids)}
	}
}

func (s *historyScreen) name(id string) string {
	if n, ok := s.names.Get(id); ok {
		return n
	}
	return ""
}

// mixinID is a counterparty's Mixin ID number as the server gave it with
// the name, or "".
func (s *historyScreen) mixinID(id string) string { return clean(s.names.MixinID(id)) }

// refilter reads the rows again and applies the filter, keeping the cursor
// on the same row when it is still shown.
func (s *historyScreen) refilter() {
	var keep string
	if s.cursor < len(s.idx) && s.cursor >= 0 && len(s.rows) > 0 {
		r := s.rows[s.idx[s.cursor]]
		keep = r.SnapshotID + "|" + r.TraceID
	}
	s.rows, s.idx = s.h.Query(s.filter, s.name)
	s.cursor = 0
	if keep != "" {
		for i, ix := range s.idx {
			r := s.rows[ix]
			if r.SnapshotID+"|"+r.TraceID == keep {
				s.cursor = i
				break
			}
		}
	}
	if s.top > s.cursor {
		s.top = s.cursor
	}
}

func (s *historyScreen) visibleRows(height int) int {
	return max(1, height-6-strings.Count(s.filterLine(), "\n"))
}

func (s *historyScreen) move(delta int) tea.Cmd {
	if len(s.idx) == 0 {
		return nil
	}
	s.cursor = max(0, min(len(s.idx)-1, s.cursor+delta))
	vis := s.visibleRows(s.ctx.bodyHeight())
	if s.cursor < s.top {
		s.top = s.cursor
	}
	if s.cursor >= s.top+vis {
		s.top = s.cursor - vis + 1
	}
	var cmds []tea.Cmd
	if len(s.idx)-s.cursor <= historyPrefetch {
		cmds = append(cmds, s.load())
	}
	cmds = append(cmds, s.resolveVisible())
	return tea.Batch(cmds...)
}

func (s *historyScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case historyLoadedMsg:
		if msg.gen != s.loadGen {
			return nil
		}
		s.loading = false
		if msg.err != nil {
			s.err = "Loading history failed: " + explain(msg.err)
			return nil
		}
		s.err = ""
		// The first page goes before the journal's rows shown meanwhile: a
		// cursor at the top stays at the top, on the newest row.
		atTop := s.cursor == 0
		s.refilter()
		if atTop {
			s.cursor, s.top = 0, 0
		}
		// A filter that hides most rows may leave the screen short: keep
		// loading while the shown rows do not fill it.
		var cmds []tea.Cmd
		if len(s.idx)-s.cursor <= historyPrefetch && msg.added > 0 {
			cmds = append(cmds, s.load())
		}
		cmds = append(cmds, s.resolveVisible())
		return tea.Batch(cmds...)
	case namesMsg:
		if s.filter.Text != "" {
			s.refilter() // names take part in the text search
		}
		return nil
	case historyExportMsg:
		if errors.Is(msg.err, os.ErrExist) {
			s.ctx.setStatus("Not exported: "+clean(msg.path)+" exists already, and an export never replaces a file. Give another path.", false)
		} else if msg.err != nil {
			s.ctx.setStatus("Export failed: "+explain(msg.err), false)
		} else {
			s.ctx.setStatus(fmt.Sprintf("Wrote %s to %s.", plural(msg.n, "row"), clean(msg.path)), true)
		}
		return nil
	case historySettledMsg:
		// States have changed: rebuild from the journal and the server.
		return s.rebuild()
	case tea.KeyMsg:
		if s.prompt != promptNone {
			return s.onPromptKey(msg)
		}
		if s.detail {
			return s.onDetailKey(msg)
		}
		return s.onKey(msg)
	}
	if s.prompt != promptNone {
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		return cmd
	}
	return nil
}

func (s *historyScreen) onKey(k tea.KeyMsg) tea.Cmd {
	vis := s.visibleRows(s.ctx.bodyHeight())
	km := s.km
	switch {
	case km.Back.matches(k):
		s.ctx.ask(showMsg{screenHome})
		return nil
	case km.Up.matches(k):
		return s.move(-1)
	case km.Down.matches(k):
		return s.move(1)
	case km.PageUp.matches(k):
		return s.move(-vis)
	case km.PageDown.matches(k):
		return s.move(vis)
	case km.First.matches(k):
		return s.move(-len(s.idx))
	case km.Last.matches(k):
		return s.move(len(s.idx))
	case km.Open.matches(k):
		if len(s.idx) > 0 {
			s.detail = true
		}
		return nil
	case km.Search.matches(k):
		s.searchWas = s.filter.Text
		return s.openPrompt(promptSearch, s.filter.Text, "memo, name, id or trace")
	case km.Dates.matches(k):
		return s.openPrompt(promptDates, formatRange(s.filter), "YYYY-MM-DD..YYYY-MM-DD, either side may be empty")
	case km.Export.matches(k):
		return s.openPrompt(promptExport, history.ExportPath(s.dataDir, time.Now()), "")
	case km.Asset.matches(k):
		return s.nextAsset()
	case km.Dir.matches(k):
		return s.nextDirection()
	case km.Reload.matches(k):
		if !s.loading && !s.ctx.recovering {
			return s.rebuild()
		}
		return nil
	case km.Clear.matches(k):
		s.filter, s.assetIx = history.Filter{}, 0
		s.refilter()
		return s.resolveVisible()
	case km.Settle.matches(k):
		return s.settle()
	}
	return nil
}

// settle settles the payouts in doubt; the rows are read again after.
func (s *historyScreen) settle() tea.Cmd {
	if s.ctx.recovering {
		s.ctx.setStatus("In-doubt payouts are being settled already.", true)
		return nil
	}
	n := len(s.ctx.acct.Journal().InDoubt())
	if n == 0 {
		s.ctx.setStatus("No payout is in doubt.", true)
		return nil
	}
	s.ctx.setStatus("Settling "+plural(n, "in-doubt payout")+" by trace…", true)
	// The settlement is the App's (it may re-post: ctrl+c warns, and its
	// outcome arrives wherever the operator is); the rows follow it.
	s.stale = true
	s.ctx.ask(settleMsg{then: historySettledMsg{}})
	return nil
}

// topUp loads more when a filter leaves fewer rows than fill the screen.
func (s *historyScreen) topUp() tea.Cmd {
	if len(s.idx) < s.visibleRows(s.ctx.bodyHeight())+historyPrefetch {
		return s.load()
	}
	return nil
}

func (s *historyScreen) onDetailKey(k tea.KeyMsg) tea.Cmd {
	if len(s.idx) == 0 {
		s.detail = false
		return nil
	}
	r := s.rows[s.idx[s.cursor]]
	km := s.km
	switch {
	case km.Close.matches(k):
		s.detail = false
	case km.CopySnap.matches(k):
		if r.SnapshotID == "" {
			s.ctx.setStatus("This entry has no snapshot (it was not executed).", false)
			return nil
		}
		return copyCmd("snapshot id", r.SnapshotID)
	case km.CopyTrace.matches(k):
		return copyCmd("trace id", r.TraceID)
	case km.CopyTx.matches(k) && s.safe():
		if r.TxHash == "" {
			s.ctx.setStatus("This entry has no network transaction yet (it was not executed).", false)
			return nil
		}
		return copyCmd("transaction hash", r.TxHash)
	case km.Before.matches(k):
		return s.move(-1)
	case km.After.matches(k):
		return s.move(1)
	}
	return nil
}
