package ui

import (
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/history"
)

// The history's filters (asset, direction, dates, search) and its prompts
// (search, dates, export path).

// nextAsset steps the asset filter: all assets, then each one held.
func (s *historyScreen) nextAsset() tea.Cmd {
	syms := s.ctx.assetCycle()
	s.assetIx = (s.assetIx + 1) % (len(syms) + 1)
	s.filter.AssetID = ""
	if s.assetIx > 0 {
		s.filter.AssetID = syms[s.assetIx-1]
	}
	s.refilter()
	return tea.Batch(s.topUp(), s.resolveVisible())
}

// nextDirection steps the direction filter: in and out, out, in.
func (s *historyScreen) nextDirection() tea.Cmd {
	switch s.filter.Direction {
	case history.DirAll:
		s.filter.Direction = history.DirOut
	case history.DirOut:
		s.filter.Direction = history.DirIn
	default:
		s.filter.Direction = history.DirAll
	}
	s.refilter()
	return tea.Batch(s.topUp(), s.resolveVisible())
}

func (s *historyScreen) openPrompt(p promptKind, value, placeholder string) tea.Cmd {
	s.prompt = p
	s.input.Width = max(20, s.ctx.width-18)
	s.promptErr = ""
	s.input.SetValue(value)
	setPlaceholder(&s.input, placeholder)
	s.input.CursorEnd()
	return s.input.Focus()
}

func (s *historyScreen) onPromptKey(k tea.KeyMsg) tea.Cmd {
	switch {
	case s.km.Cancel.matches(k):
		if s.prompt == promptSearch {
			// The search applied while typing is taken back.
			s.filter.Text = s.searchWas
			s.refilter()
		}
		s.prompt = promptNone
		s.input.Blur()
		return nil
	case s.km.Apply.matches(k):
		return s.applyPrompt(strings.TrimSpace(s.input.Value()))
	}
	var cmd tea.Cmd
	s.input, cmd = s.input.Update(k)
	if s.prompt == promptSearch {
		// The search applies as it is typed.
		s.filter.Text = strings.TrimSpace(s.input.Value())
		s.refilter()
	}
	return cmd
}

// applyPrompt takes what was typed at the prompt: the search, the dates,
// or the path to export to. A bad value keeps the prompt open.
func (s *historyScreen) applyPrompt(v string) tea.Cmd {
	switch s.prompt {
	case promptSearch:
		s.filter.Text = v
	case promptDates:
		from, to, err := parseRange(v)
		if err != "" {
			s.promptErr = err
			return nil
		}
		s.filter.From, s.filter.To = from, to
	case promptExport:
		if v == "" {
			s.promptErr = "give a file path"
			return nil
		}
		s.prompt = promptNone
		s.input.Blur()
		return s.export(v)
	}
	s.prompt = promptNone
	s.input.Blur()
	s.refilter()
	return tea.Batch(s.topUp(), s.resolveVisible())
}

// export writes the rows shown (after the filter) as CSV.
func (s *historyScreen) export(path string) tea.Cmd {
	rows := make([]history.Row, len(s.idx))
	for i, ix := range s.idx {
		rows[i] = s.rows[ix]
	}
	symbol := s.ctx.symbolFunc()
	names := s.names
	var opts []history.CSVOption
	if s.safe() {
		// A Safe profile's movements have a network transaction.
		opts = append(opts, history.WithTxHash())
	}
	return func() tea.Msg {
		err := history.SaveCSV(path, rows, symbol, func(id string) string {
			if v, ok := names.Get(id); ok {
				return v
			}
			return ""
		}, opts...)
		return historyExportMsg{path: path, n: len(rows), err: err}
	}
}

func formatRange(f history.Filter) string {
	if f.From.IsZero() && f.To.IsZero() {
		return ""
	}
	var from, to string
	if !f.From.IsZero() {
		from = f.From.Format("2006-01-02")
	}
	if !f.To.IsZero() {
		to = f.To.Format("2006-01-02")
	}
	return from + ".." + to
}

// parseRange reads "FROM..TO" in local dates; TO covers its whole day.
func parseRange(v string) (from, to time.Time, errText string) {
	if v == "" {
		return time.Time{}, time.Time{}, ""
	}
	a, b, ok := strings.Cut(v, "..")
	if !ok {
		b = a
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a != "" {
		t, err := time.ParseInLocation("2006-01-02", a, time.Local)
		if err != nil {
			return from, to, "the start is not a date like 2026-11-01"
		}
		from = t
	}
	if b != "" {
		t, err := time.ParseInLocation("2006-01-02", b, time.Local)
		if err != nil {
			return from, to, "the end is not a date like 2026-11-30"
		}
		to = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return time.Time{}, time.Time{}, "the end is before the start"
	}
	return from, to, ""
}

// assetCycle lists the asset ids the asset filter steps through.
func (c *shared) assetCycle() []string {
	var ids []string
	for _, as := range c.balances {
		ids = append(ids, as.AssetID)
	}
	return ids
}

// assetTag tells an asset of the balances from another with the same
// symbol ("id 4d8c508b"), or is "".
func (c *shared) assetTag(id string) string { return assetTwins(c.balances)[id] }

// symbolFunc maps asset ids to symbols as far as the balances know them.
func (c *shared) symbolFunc() func(string) string {
	m := map[string]string{}
	for _, as := range c.balances {
		m[as.AssetID] = as.Symbol
	}
	return func(id string) string {
		if s, ok := m[id]; ok {
			return s
		}
		return shortID(id)
	}
}
