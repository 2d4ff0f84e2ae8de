package ui

import (
	"strings"

	"mixdesk/payout"
)

// The batch review's table reads and draws only the rows on screen. One row
// is selected (↑/↓ k/j, pgup/pgdn, n/N through the rows with a problem) and
// its whole state and problem are written under the table, wrapped, so that
// no problem is ever only in a cut column.

// The batch table's fixed columns.
const bLineW, bIDW, bAssetW, bAmtW, bStateW = 6, 11, 6, 18, 9

// batchCols are the widths of the columns that follow the terminal's. The
// state and its problem get bStateMin (a third on a narrow terminal); the
// name and the memo share what is left up to bTextMax each, and the state
// takes the rest: on a wide terminal the whole problem fits in the row.
type batchCols struct{ name, memo, state int }

const bStateMin, bTextMax = 20, 24

func batchColumns(w int) batchCols {
	avail := w - 2 - bLineW - bIDW - bAssetW - bAmtW
	stateMin := min(bStateMin, avail/3)
	name := min(bTextMax, max(10, (avail-stateMin)/2))
	memo := min(bTextMax, max(6, avail-stateMin-name))
	return batchCols{name: name, memo: memo, state: max(bStateW, avail-name-memo)}
}

// rowProblem: the row has something wrong to read (an error, a refusal, a
// doubt), which n and N go to.
func rowProblem(it payout.BatchItem) bool {
	return it.State != payout.ItemDone && it.Problem() != ""
}

// selectRow selects row i (kept within the table) and scrolls the table so
// that it is on screen.
func (s *batchScreen) selectRow(i int) {
	if s.b == nil || s.b.Len() == 0 {
		return
	}
	s.sel = min(max(0, i), s.b.Len()-1)
	s.top = visibleTop(s.top, s.sel, s.pageRows(), s.b.Len())
}

// selectProblem selects the next (dir 1) or previous (dir -1) row with a
// problem after the selected one, going round.
func (s *batchScreen) selectProblem(dir int) {
	n := len(s.issues)
	if n == 0 {
		return
	}
	k := 0 // the first after sel, or the first of all
	for k < n && s.issues[k] <= s.sel {
		k++
	}
	if dir < 0 {
		k = 0 // the last before sel, or the last of all
		for k < n && s.issues[k] < s.sel {
			k++
		}
		k = (k - 1 + n) % n
	}
	s.selectRow(s.issues[k%n])
}

// visibleTop is the first of n rows to draw, rows at a time, from top as
// it was: sel is on screen, and the screen is not left part empty while
// rows above could fill it (after the terminal grew).
func visibleTop(top, sel, rows, n int) int {
	top = min(top, max(0, n-rows))
	if sel < top {
		return sel
	}
	if sel >= top+rows {
		return sel - rows + 1
	}
	return top
}

// pageRows is how many table rows the review shows now.
func (s *batchScreen) pageRows() int {
	h := s.ctx.height - 4
	if s.ctx.bodyHeight != nil {
		h = s.ctx.bodyHeight()
	}
	_, rows := s.reviewParts(h)
	return rows
}

// writeTable draws the table's header, its rows from top and the line
// that says where they are in the batch. The verified Mixin ID has a column
// of its own, before the name, so that no name (however long, however
// spaced) can hide it or pass for it.
func (s *batchScreen) writeTable(b *strings.Builder, st Styles, w, top, rows int) {
	bt := s.b
	c := batchColumns(w)
	b.WriteString(st.Label.Render("  "+padRight("LINE", bLineW)+padRight("MIXIN ID", bIDW)+padRight("RECIPIENT", c.name)+padRight("ASSET", bAssetW)+
		padLeft("AMOUNT", bAmtW-1)+" "+padRight("MEMO", c.memo)+"STATE") + "\n")
	shown := bt.Rows(top, top+rows)
	for k, it := range shown {
		line := batchRow(it, c)
		switch {
		case top+k == s.sel:
			b.WriteString(st.Focused.Render(listMark+line) + "\n")
		case it.State == payout.ItemInvalid || it.State == payout.ItemFailed || it.State == payout.ItemInDoubt:
			b.WriteString("  " + st.Warn.Render(line) + "\n")
		default:
			b.WriteString("  " + line + "\n")
		}
	}
	if len(shown) < bt.Len() {
		var where []string
		if top > 0 {
			where = append(where, plural(top, "row")+" above")
		}
		if below := bt.Len() - top - len(shown); below > 0 {
			where = append(where, plural(below, "row")+" below")
		}
		b.WriteString(st.Subtle.Render("  "+strings.Join(where, ", ")+" (↑/↓ k/j select, pgup/pgdn)") + "\n")
	}
}

// batchRow is one row of the table, as wide as the columns c.
func batchRow(it payout.BatchItem, c batchCols) string {
	// Runs of spaces in a name are drawn as one.
	who := nameText(it.User.FullName)
	if who == "" {
		who = clean(it.Row.Recipient)
	} else if like, _ := payout.IDLikeText(who); like != "" {
		// The name carries what reads as an id: it is marked, the
		// verified Mixin ID is the column before.
		who = "⚠ " + who
	}
	id := clean(it.User.IdentityNumber)
	if id == "" {
		id = "—"
	}
	amt := it.AmountText
	if amt == "" {
		amt = clean(it.Row.Amount)
	} else {
		amt = payout.GroupDigits(amt)
	}
	sym := clean(it.Asset.Symbol)
	if sym == "" {
		sym = clean(it.Row.Asset)
	}
	state := itemLabel[it.State]
	if it.Already {
		state = "done before"
	}
	switch {
	case rowProblem(it):
		state += " " + clean(it.Problem())
	case len(it.Notes) > 0 && it.State == payout.ItemNew:
		state += " ⚠ " + clean(strings.Join(it.Notes, "; "))
	}
	return padRight(itoa(it.Row.Line), bLineW) + padRight(truncate(id, bIDW-1), bIDW) + padRight(truncate(who, c.name-1), c.name) + padRight(truncate(sym, bAssetW-1), bAssetW) +
		padLeft(amt, bAmtW-1) + " " + padRight(truncate(clean(it.Memo), c.memo-1), c.memo) + truncate(state, c.state)
}

// rowDetail is the selected row's whole state under the table: its problem
// (every error of an invalid row, the refusal or doubt of an earlier run)
// or what is worth a look, wrapped to w, never cut.
func (s *batchScreen) rowDetail(st Styles, w int) string {
	it, ok := s.b.Row(s.sel)
	if !ok {
		return ""
	}
	state := itemLabel[it.State]
	if it.Already {
		state = "done before"
	}
	text, style := "line "+itoa(it.Row.Line)+" · "+state, st.Value
	switch {
	case rowProblem(it):
		text += ": " + clean(it.Problem())
		style = st.Error
	case len(it.Notes) > 0 && it.State == payout.ItemNew:
		text += " · ⚠ " + clean(strings.Join(it.Notes, "; "))
		style = st.Warn
	}
	return style.Render(para(text, w, "  ")) + "\n"
}
