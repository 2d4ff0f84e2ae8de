package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"

	"mixdesk/history"
	"mixdesk/payout"
)

// stateLabel is a row's state as the list shows it. A refused payout moved
// nothing: it says so, and its amount has no sign (signedAmount).
var stateLabel = map[history.State]string{
	history.StateDone:     "done",
	history.StateInDoubt:  "IN DOUBT",
	history.StateFailed:   "not moved",
	history.StateReceived: "received",
	history.StateDeposit:  "deposit",
	history.StateOther:    "other tool",
}

// depositWho stands in the counterparty column for a deposit, which no
// user sent.
const depositWho = "from chain"

func (s *historyScreen) view(height int) string {
	st := s.ctx.st
	if s.detail && len(s.idx) > 0 {
		return safeView(s.detailView())
	}
	var b strings.Builder
	b.WriteString(st.Title.Render("History"))
	if n := len(s.rows); n > 0 {
		b.WriteString(st.Subtle.Render(fmt.Sprintf("  %d shown of %d loaded", len(s.idx), n)))
	}
	b.WriteString("\n")
	b.WriteString(s.filterLine() + "\n")
	if s.prompt != promptNone {
		label := map[promptKind]string{promptSearch: "Search: ", promptDates: "Dates: ", promptExport: "Export to: "}[s.prompt]
		b.WriteString(st.Focused.Render("› "+label) + s.input.View() + "\n")
		if s.promptErr != "" {
			b.WriteString(st.Error.Render("  ✗ "+s.promptErr) + "\n")
		}
	} else {
		b.WriteString("\n")
	}
	vis := s.visibleRows(height)
	cols := s.columns(s.ctx.width-2, vis)
	b.WriteString(st.Label.Render("  "+cols.header()) + "\n")
	symbol := s.ctx.symbolFunc()
	end := min(len(s.idx), s.top+vis)
	for i := s.top; i < end; i++ {
		r := s.rows[s.idx[i]]
		line := s.rowLine(cols, r, symbol)
		switch {
		case i == s.cursor:
			b.WriteString(st.Focused.Render(listMark+line) + "\n")
		case r.State == history.StateInDoubt || r.State == history.StateFailed:
			b.WriteString("  " + st.Warn.Render(line) + "\n")
		default:
			b.WriteString("  " + line + "\n")
		}
	}
	b.WriteString(s.tableEnd(st, end))
	return safeView(b.String())
}

// historyCols are the widths of the history table's columns; a zero width
// leaves the column out.
type historyCols struct {
	amt, name, mixinID, memo, trace int
	party                           string // the counterparty's header
}

// The history table's fixed columns.
const hTimeW, hDirW, hAssetW, hStateW = 17, 4, 6, 11

// columns lays the table out on w cells for the rows from s.top on.
func (s *historyScreen) columns(w, vis int) historyCols {
	// The amount column is as wide as the widest amount on screen (at least
	// the header), so that names and memos get the rest.
	c := historyCols{amt: len("AMOUNT") + 1, trace: 9, mixinID: 11}
	for i := s.top; i < len(s.idx) && i < s.top+vis; i++ {
		c.amt = max(c.amt, len(signedAmount(s.rows[s.idx[i]]))+2)
	}
	// On a narrow terminal the trace column goes (it is in the details), so
	// that the state is never past the right edge.
	rest := w - hTimeW - hDirW - hAssetW - c.amt - hStateW - c.trace - 2
	if rest < 8+6 {
		c.trace, rest = 0, rest+c.trace
	}
	// The Mixin ID has a column of its own, so that no name can pass for
	// it; it gives way first on a narrow terminal (it is in the details).
	if rest-c.mixinID < 22 {
		c.mixinID = 0
	}
	rest -= c.mixinID
	c.name = max(4, rest/2)
	c.memo = max(4, rest-c.name)
	c.party = "COUNTERPARTY"
	if len(c.party) >= c.name {
		c.party = "WHO"
	}
	return c
}

// col pads v to a column w wide, or drops it when the column is out.
func col(v string, w int) string {
	if w == 0 {
		return ""
	}
	return padRight(v, w)
}

func (c historyCols) header() string {
	return padRight("TIME", hTimeW) + padRight("DIR", hDirW) + padRight("ASSET", hAssetW) + padLeft("AMOUNT", c.amt-1) + " " +
		padRight(c.party, c.name) + col("MIXIN ID", c.mixinID) + padRight("MEMO", c.memo) + col("TRACE", c.trace) + "STATE"
}

// rowLine is one row of the table, in the columns c.
func (s *historyScreen) rowLine(c historyCols, r history.Row, symbol func(string) string) string {
	dir := "in"
	if r.Outgoing() {
		dir = "out"
	}
	who := nameText(s.name(r.OpponentID))
	switch {
	case who == "" && r.Deposit != nil && r.OpponentID == "":
		who = depositWho
	case who == "":
		who = shortID(r.OpponentID)
	}
	return padRight(r.Time.Local().Format("2006-01-02 15:04"), hTimeW) + padRight(dir, hDirW) + padRight(truncate(symbol(r.AssetID), hAssetW-1), hAssetW) +
		padLeft(signedAmount(r), c.amt-1) + " " + padRight(truncate(who, c.name-1), c.name) + col(truncate(s.mixinID(r.OpponentID), c.mixinID-1), c.mixinID) +
		padRight(truncate(r.Memo, c.memo-1), c.memo) + col(shortID(clean(r.TraceID)), c.trace) + stateLabel[r.State]
}

// tableEnd is the line under the table: loading, an error, or where the
// history ends.
func (s *historyScreen) tableEnd(st Styles, end int) string {
	switch {
	case s.loading:
		return st.Subtle.Render("  Loading…") + "\n"
	case s.err != "":
		return st.Error.Render("  "+s.err) + "\n"
	case len(s.idx) == 0 && s.h.Done() && s.filter == (history.Filter{}):
		return st.Subtle.Render("  No payouts or receipts yet.") + "\n"
	case len(s.idx) == 0 && s.h.Done():
		return st.Subtle.Render("  Nothing matches.") + "\n"
	case s.h.Done() && end == len(s.idx):
		return st.Subtle.Render("  — the beginning of the history —") + "\n"
	case end == len(s.idx):
		return st.Subtle.Render("  … older entries load as you scroll down (r reloads everything)") + "\n"
	}
	return ""
}

func (s *historyScreen) filterLine() string {
	st := s.ctx.st
	parts := []string{}
	asset := "all assets"
	if s.filter.AssetID != "" {
		asset = truncate(s.ctx.symbolFunc()(s.filter.AssetID), 16)
		if tag := s.ctx.assetTag(s.filter.AssetID); tag != "" {
			asset += " (" + tag + ")"
		}
	}
	parts = append(parts, "asset: "+asset)
	dir := map[history.Direction]string{history.DirAll: "in and out", history.DirIn: "in only", history.DirOut: "out only"}[s.filter.Direction]
	parts = append(parts, "direction: "+dir)
	if r := formatRange(s.filter); r != "" {
		parts = append(parts, "dates: "+r)
	}
	if s.filter.Text != "" {
		parts = append(parts, "search: \""+truncate(s.filter.Text, 20)+"\"")
	}
	// Wrapped, never cut: a filter the operator cannot see would hide rows
	// without a word.
	return st.Subtle.Render(para("Filter — "+strings.Join(parts, " · "), s.ctx.width-2, ""))
}

func (s *historyScreen) detailView() string {
	st := s.ctx.st
	r := s.rows[s.idx[s.cursor]]
	var b strings.Builder
	title := stateLabel[r.State]
	if r.State == history.StateFailed {
		title = "refused: not moved"
	}
	b.WriteString(st.Title.Render("Entry") + st.Subtle.Render("  "+title) + "\n\n")
	row := func(label, v string) {
		if v == "" {
			v = st.Subtle.Render("—")
		}
		b.WriteString(st.Label.Render("  "+padRight(label, 17)) + v + "\n")
	}
	sym := truncate(s.ctx.symbolFunc()(r.AssetID), 16)
	amt := signedAmount(r) + " " + sym
	if r.State == history.StateFailed {
		amt += st.Subtle.Render("  (not moved: the server refused it)")
	}
	row("Time", r.Time.Local().Format("2006-01-02 15:04:05 MST"))
	row("Amount", amt)
	row("Asset id", clean(r.AssetID))
	safe := s.safe()
	if r.Deposit != nil {
		// No user sent a deposit: where it came from on the chain.
		row("From", "a deposit from the asset's chain")
		if r.Deposit.Sender != "" {
			row("From address", truncate(r.Deposit.Sender, max(s.ctx.width-2-19, 12)))
		}
		row("Deposit hash", clean(r.Deposit.Hash))
	} else {
		s.counterpartyRows(r, row)
	}
	row("Memo", clean(r.Memo))
	row("Trace id", clean(r.TraceID))
	row("Snapshot id", clean(r.SnapshotID))
	// The network transaction, on a rail that has one (a payout not
	// executed has none yet).
	if safe || r.TxHash != "" {
		row("Transaction", clean(r.TxHash))
	}
	closing := ""
	if r.Closing != "" {
		closing = payout.GroupDigits(clean(r.Closing)) + " " + sym
	}
	// The Safe API tells no balances: the line is left out there.
	if !safe || closing != "" {
		row("Closing balance", closing)
	}
	row("Confirmed by", clean(r.Operator))
	if r.State == history.StateFailed {
		row("Refused", fmt.Sprintf("%d %s", r.Code, clean(r.Reason)))
	}
	switch r.State {
	case history.StateInDoubt:
		b.WriteString("\n" + para("In doubt: it is settled by its trace before the next send, at start-up, or now with s on the list.", s.ctx.width-2, "  ") + "\n")
	case history.StateOther:
		b.WriteString("\n" + para("Sent from this account by another tool: the journal has no record of it.", s.ctx.width-2, "  ") + "\n")
	case history.StateDeposit:
		b.WriteString("\n" + para("A deposit: coins that arrived from outside, on the asset's chain; no user paid them.", s.ctx.width-2, "  ") + "\n")
	}
	return b.String()
}

// counterpartyRows are the details' rows of the counterparty: the name on
// a line of its own, cut to it; the Mixin ID and the id that the server
// gave in rows of their own.
func (s *historyScreen) counterpartyRows(r history.Row, row func(label, v string)) {
	row("Counterparty", truncate(nameText(s.name(r.OpponentID)), max(s.ctx.width-2-19, 12)))
	if id := s.mixinID(r.OpponentID); id != "" {
		row("Mixin ID", s.ctx.st.ID.Render(id))
	}
	row("Counterparty id", clean(r.OpponentID))
}

// signedAmount is a row's amount with its sign and digit grouping; a
// refused payout's has no sign, as nothing moved.
func signedAmount(r history.Row) string {
	if r.State == history.StateFailed {
		return payout.GroupDigits(r.Amount.Abs().String())
	}
	amt := payout.GroupDigits(r.Amount.String())
	if r.Amount.IsPositive() {
		amt = "+" + amt
	}
	return amt
}

// fullKeys is the history's whole key map, for ?.
func (s *historyScreen) fullKeys() []key.Binding {
	k := s.km
	if s.prompt != promptNone {
		return fullOf(k.Apply, k.Cancel)
	}
	if s.detail && s.safe() {
		return fullOf(k.CopySnap, k.CopyTrace, k.CopyTx, k.Before, k.Close)
	}
	if s.detail {
		return fullOf(k.CopySnap, k.CopyTrace, k.Before, k.Close)
	}
	return fullOf(k.Up, k.PageUp, k.First, k.Open, k.Search, k.Asset, k.Dir, k.Dates, k.Clear, k.Reload, k.Export, k.Settle, k.Back)
}

func (s *historyScreen) keys() []key.Binding {
	k := s.km
	if s.prompt != promptNone {
		return []key.Binding{k.Apply.Binding, k.Cancel.Binding}
	}
	if s.detail && s.safe() {
		return []key.Binding{k.CopySnap.Binding, k.CopyTrace.Binding, k.CopyTx.Binding, k.Close.Binding}
	}
	if s.detail {
		return []key.Binding{k.CopySnap.Binding, k.CopyTrace.Binding, k.Close.Binding}
	}
	return []key.Binding{k.Up.Binding, k.Open.Binding, k.Search.Binding, k.Asset.Binding, k.Dir.Binding, k.Dates.Binding,
		k.Clear.Binding, k.Reload.Binding, k.Export.Binding, k.Settle.Binding, k.Back.Binding}
}
