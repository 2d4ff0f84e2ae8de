package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"mixdesk/account"
	"mixdesk/payout"
	"mixdesk/payout/rail"
)

var itemLabel = map[payout.ItemState]string{
	payout.ItemInvalid: "INVALID", payout.ItemNew: "to pay", payout.ItemDone: "done",
	payout.ItemInDoubt: "IN DOUBT", payout.ItemFailed: "failed",
}

func (s *batchScreen) view(height int) string {
	st := s.ctx.st
	w := s.ctx.width - 2
	var b strings.Builder
	switch s.mode {
	case bmPath:
		b.WriteString(st.Title.Render("Batch payout") + "\n\n")
		b.WriteString(para("A CSV file with a header: recipient (user UUID, Mixin ID number or address-book label), asset (UUID or a symbol you hold), amount, and optionally memo and key. Every row is checked before anything can be sent; a re-run of the same file never pays a row twice.", w, "") + "\n\n")
		b.WriteString(st.Focused.Render("› File: ") + s.path.View() + "\n")
		switch {
		case s.loading:
			b.WriteString("\n" + st.Subtle.Render("Reading and checking every row…") + "\n")
		case s.loadErr != "":
			b.WriteString("\n" + st.Error.Render(para(s.loadErr, w, "")) + "\n")
		}
		return b.String()
	case bmRunning, bmDone:
		return s.runView()
	}
	return s.reviewView(height)
}

func (s *batchScreen) reviewView(height int) string {
	p, rows := s.reviewParts(height)
	var b strings.Builder
	b.WriteString(p.head)
	s.writeTable(&b, s.ctx.st, s.ctx.width-2, visibleTop(s.top, s.sel, rows, s.b.Len()), rows)
	b.WriteString(p.detail)
	b.WriteString("\n" + p.confirm)
	return b.String()
}

// reviewParts are the review's parts around the table's rows, each ending
// with a line break.
type reviewParts struct{ head, detail, confirm string }

// reviewParts draws the review but for the table, and says how many table
// rows fit in height between its parts: the header and the line under the
// rows take one each, a blank line sets the confirmation apart. The
// problems are listed (up to 3) as long as the table keeps bMinRows rows
// under a detail of bDetailLines: the list does not come and go as rows
// with longer or shorter details are selected.
func (s *batchScreen) reviewParts(height int) (reviewParts, int) {
	st := s.ctx.st
	w := s.ctx.width - 2
	p := reviewParts{detail: s.rowDetail(st, w), confirm: s.confirmView(st)}
	for listed := 3; ; listed-- {
		p.head = s.reviewHead(w, listed)
		used := strings.Count(p.head, "\n") + 2 + 1 + strings.Count(p.confirm, "\n")
		if listed == 0 || height-used-bDetailLines >= min(bMinRows, s.b.Len()) {
			return p, max(1, height-used-strings.Count(p.detail, "\n"))
		}
	}
}

// bMinRows is how many table rows the review keeps, under a detail of
// bDetailLines, before it lists fewer problems above them.
const bMinRows, bDetailLines = 5, 2

// reviewHead is the review above the table: the batch, its totals, its
// problems (listed at most), duplicates and unpriced totals.
func (s *batchScreen) reviewHead(w, listed int) string {
	st := s.ctx.st
	bt := s.b
	var b strings.Builder
	c := bt.Counts()
	title := "Batch " + bt.ID
	sub := fmt.Sprintf("%s · %d rows: %d to pay, %d done before, %d invalid", clean(filepath.Base(bt.Name)), bt.Len(), c.Left()+c.InDoubt, c.Skipped, s.invalid)
	if lipgloss.Width(title+"  "+sub) > w { // a narrow terminal: the counts without the file's name
		_, sub, _ = strings.Cut(sub, " · ")
	}
	if lipgloss.Width(title+"  "+sub) <= w {
		b.WriteString(st.Title.Render(title) + st.Subtle.Render("  "+sub) + "\n")
	} else {
		b.WriteString(st.Title.Render(title) + "\n" + st.Subtle.Render(para(sub, w, "  ")) + "\n")
	}
	b.WriteString(batchTotals(st, bt, w))
	b.WriteString(batchMerges(w, bt))
	b.WriteString(s.batchProblems(st, w, listed))
	b.WriteString(batchDuplicates(st, bt, w))
	b.WriteString(batchUnpriced(st, bt))
	return b.String()
}

// batchTotals is a line per asset: what the batch pays of the balance,
// and of the daily cap.
func batchTotals(st Styles, bt *payout.Batch, w int) string {
	var b strings.Builder
	for _, t := range bt.Totals() {
		line := fmt.Sprintf("  %-6s pay %s of %s", clean(t.Asset.Symbol), money(t.ToPay), money(t.Balance))
		if t.HasDaily {
			used := money(t.Used)
			if t.UsedElsewhere.IsPositive() {
				used += " (" + money(t.UsedElsewhere) + " by other consoles)"
			}
			line += fmt.Sprintf(" · daily cap %s: used %s, left %s", money(t.Daily), used, money(t.Left))
		}
		if t.Problem != "" {
			b.WriteString(st.Error.Render(para(strings.TrimPrefix(line, "  ")+" ✗ "+clean(t.Problem), w, "  ")) + "\n")
		} else {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// batchMerges is a line per asset whose outputs are merged first: on Safe a
// payout spends at most 256 outputs, and a row needs more.
func batchMerges(w int, bt *payout.Batch) string {
	var b strings.Builder
	for _, m := range bt.Merges() {
		text := fmt.Sprintf("%-6s merge first: %d of the account's %d outputs into one, %s to itself (nothing is paid out; one payout spends at most %d outputs, and line %d needs more)",
			clean(m.Symbol), m.Merged, m.Outputs, plural(m.Transactions, "transaction"), m.Limit, m.Line)
		b.WriteString(para(text, w, "  ") + "\n")
	}
	return b.String()
}

// batchProblems lists the first problems that keep the batch from being
// sent (listed at most), each in full, says how to read the others (n
// selects each row with a problem and shows it under the table) and where
// the report of every row is.
func (s *batchScreen) batchProblems(st Styles, w, listed int) string {
	errs := s.b.Errors()
	if len(errs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(st.Error.Render(fmt.Sprintf("✗ %s: the batch cannot be sent until the file is fixed", plural(len(errs), "problem"))) + "\n")
	for i, e := range errs {
		if i == listed {
			more := fmt.Sprintf("… and %d more: n shows each in full under the table", len(errs)-listed)
			if listed == 0 {
				more = "n goes through them, each shown in full under the table"
			}
			b.WriteString(st.Error.Render(para(more, w, "    ")) + "\n")
			break
		}
		where := "total"
		if e.Line > 0 {
			where = "line " + itoa(e.Line)
		}
		b.WriteString(st.Error.Render(para(where+": "+clean(e.Field)+": "+clean(e.Reason), w, "    ")) + "\n")
	}
	switch {
	case s.checkReport != "":
		b.WriteString(para("Every row with its problem: "+clean(s.checkReport), w, "  ") + "\n")
	case s.checkReportEr != "":
		b.WriteString(st.Error.Render(para("The report was not written: "+s.checkReportEr, w, "  ")) + "\n")
	}
	return b.String()
}

// batchDuplicates names the groups of rows that look like the same payout,
// and whether they were acknowledged.
func batchDuplicates(st Styles, bt *payout.Batch, w int) string {
	d := bt.Duplicates()
	if len(d) == 0 {
		return ""
	}
	state := "press A to acknowledge them"
	if bt.Acked() {
		state = "acknowledged"
	}
	var parts []string
	for i, g := range d {
		if i == 3 {
			parts = append(parts, "…")
			break
		}
		ls := make([]string, 0, 5)
		for j, l := range g.Lines {
			if j == 4 {
				ls = append(ls, "+"+itoa(len(g.Lines)-4)+" more")
				break
			}
			ls = append(ls, itoa(l))
		}
		what := "lines " + strings.Join(ls, ", ")
		if g.Kind == payout.DupRecent {
			what = "line " + strings.Join(ls, ", ") + " like a recent payout"
			if g.Elsewhere {
				what += " by another console"
			}
		}
		parts = append(parts, what)
	}
	text := "⚠ " + plural(len(d), "duplicate group") + " (same recipient, asset and amount): " + strings.Join(parts, "; ") + " — " + state
	return st.Warn.Render(para(text, w, "")) + "\n"
}

// batchUnpriced names the totals the typed USD total does not stand for.
func batchUnpriced(st Styles, bt *payout.Batch) string {
	u := bt.Unpriced()
	if len(u) == 0 {
		return ""
	}
	parts := make([]string, len(u))
	for i, t := range u {
		parts[i] = money(t.ToPay) + " " + clean(t.Asset.Symbol)
	}
	state := "press U once you have checked them"
	if bt.UnpricedAcked() {
		state = "checked"
	}
	return st.Warn.Render("⚠ No USD price for "+strings.Join(parts, ", ")+": the typed total does not stand for them — "+state) + "\n"
}

// confirmView is the one confirmation of the whole batch: the total typed
// as shown, the PIN when asked, Send.
func (s *batchScreen) confirmView(st Styles) string {
	bt := s.b
	sym, total := bt.LargestTotal()
	if total == "" && len(bt.Errors()) == 0 {
		return st.Good.Render("Every row is done already: nothing to pay.") + "\n"
	}
	if !bt.Ready() {
		what := "Fix the file to send: its problems are above (n shows each in full)"
		switch {
		case len(bt.Errors()) > 0:
		case !bt.Acked():
			what = "Acknowledge the duplicate groups above with A to send"
		default:
			what = "Check the totals without a USD price above, then U, to send"
		}
		return st.Subtle.Render(para(what+"; esc goes back to the file.", s.ctx.width-2, "")) + "\n"
	}
	var b strings.Builder
	tl := marker(s.focus == bcTotal) + "Type the total of " + clean(sym) + " to confirm (" + payout.GroupDigits(total) + "): "
	if s.focus == bcTotal {
		tl = st.Focused.Render(tl)
	}
	mark := ""
	if s.total.Value() != "" {
		if bt.Confirms(s.total.Value()) {
			mark = st.Good.Render(" ✓")
		} else {
			mark = st.Error.Render(" ✗ does not match")
		}
	}
	b.WriteString(tl + s.total.View() + mark + "\n")
	if s.askPIN {
		b.WriteString(s.pin.row(st, s.focus == bcPIN))
	}
	c := bt.Counts()
	b.WriteString("  " + st.button("Send "+plural(c.Left()+c.InDoubt, "row"), s.focus == bcSend, s.canSend()) + "\n")
	return b.String()
}

func (s *batchScreen) runView() string {
	st := s.ctx.st
	w := s.ctx.width - 2
	p := s.prog
	var b strings.Builder
	title := "Sending batch " + s.b.ID
	if s.mode == bmDone {
		title = "Batch " + s.b.ID + " finished"
	}
	b.WriteString(st.Title.Render(title) + "\n\n")
	finished := p.Done + p.Found + p.Failed + p.InDoubt + p.Skipped
	frac := 0.0
	if p.Total > 0 {
		frac = float64(finished) / float64(p.Total)
	}
	s.bar.Width = min(60, max(20, w-30))
	b.WriteString("  " + s.bar.ViewAs(frac) + fmt.Sprintf("  %d / %d", finished, p.Total) + "\n\n")
	b.WriteString(para(batchCounts(p), w, "  ") + "\n")
	if s.mode == bmRunning {
		paused := s.ctl.Paused() || p.Paused
		waiting := !p.WaitUntil.IsZero()
		rate := "—"
		if p.Rate > 0 {
			rate = fmt.Sprintf("%.1f rows/s", p.Rate)
		}
		line := "  rate " + rate + timeLeft(p, paused, waiting)
		if p.Line > 0 && !waiting {
			line += " · line " + itoa(p.Line)
		}
		b.WriteString(line + "\n\n")
		if waiting {
			what := "a post of an earlier payout"
			if p.WaitLine > 0 {
				what = "line " + itoa(p.WaitLine) + "'s post"
			}
			b.WriteString(st.Warn.Render(para("Waiting until "+p.WaitUntil.Local().Format("15:04:05")+": "+what+
				" may still reach the server; nothing is sent before then (x stops).", w, "")) + "\n")
		}
		switch {
		case s.ctl.Stopped():
			b.WriteString(st.Warn.Render("Stopping after the rows already on their way…") + "\n")
		case paused:
			b.WriteString(st.Warn.Render("Paused (p resumes). Rows on their way finish first.") + "\n")
		}
		return b.String()
	}
	b.WriteString("\n")
	switch {
	case s.runErr == nil:
		b.WriteString(batchEnd(st, p, w) + "\n")
	case errors.Is(s.runErr, payout.ErrBatchStopped) || errors.Is(s.runErr, context.Canceled):
		where := "Stopped"
		var se *payout.BatchStopError
		if errors.As(s.runErr, &se) && se.Line > 0 {
			where += " before line " + itoa(se.Line)
		}
		b.WriteString(st.Warn.Render(para(where+" (x). Run the same file again to go on: rows done are skipped, rows in doubt are settled first.", w, "")) + "\n")
	default:
		b.WriteString(st.Error.Render(para(batchStopped(s.runErr), w, "")) + "\n")
	}
	if s.report != "" {
		b.WriteString("\n" + para("Report: "+s.report+" (every row with its trace, state and snapshot id or error, and when it was paid).", w, "") + "\n")
	} else if s.reportEr != "" {
		b.WriteString("\n" + st.Error.Render("The report was not written: "+s.reportEr) + "\n")
	}
	return b.String()
}

// timeLeft is what the progress says of the time left. No time counts
// down while the batch is paused or waits: a paused one says so and keeps
// the estimate for once it is resumed; a waiting one says nothing here
// (the wait has a line of its own).
func timeLeft(p payout.BatchProgress, paused, waiting bool) string {
	est, about := "—", "about "
	switch {
	case p.Remaining >= time.Second:
		est = p.Remaining.Round(time.Second).String()
	case p.Remaining > 0:
		est, about = "under 1s", ""
	}
	switch {
	case waiting:
		return ""
	case paused && p.Left() > 0 && est != "—":
		take := " left take "
		if p.Left() == 1 {
			take = " left takes "
		}
		return " · paused: the " + plural(p.Left(), "row") + take + about + est + " once resumed"
	case paused:
		return " · paused"
	}
	return " · time left " + est
}

// batchCounts is the progress in words: rows paid now apart from rows the
// server already had (paid before) and rows the journal had done.
func batchCounts(p payout.BatchProgress) string {
	parts := []string{"paid " + itoa(p.Done) + " now"}
	if p.Found > 0 {
		parts = append(parts, "already paid, found on the server "+itoa(p.Found))
	}
	parts = append(parts, "refused "+itoa(p.Failed), "in doubt "+itoa(p.InDoubt), "done before "+itoa(p.Skipped), "left "+itoa(p.Left()))
	return strings.Join(parts, " · ")
}

// batchEnd is the last word of a run that went to its end. It claims that
// every row was sent only when each was paid now, and says so when nothing
// moved.
func batchEnd(st Styles, p payout.BatchProgress, w int) string {
	before := p.Found + p.Skipped
	switch {
	case p.Failed > 0 || p.InDoubt > 0:
		var what []string
		if p.Failed > 0 {
			what = append(what, itoa(p.Failed)+" refused")
		}
		if p.InDoubt > 0 {
			what = append(what, itoa(p.InDoubt)+" in doubt")
		}
		return st.Warn.Render(para("⚠ Not every row was paid: "+strings.Join(what, ", ")+" (the report says why). Rows in doubt are settled by their trace before anything else is sent; running the same file again tries the refused rows again and never pays a row twice.", w, ""))
	case p.Done == 0 && before > 0:
		return st.Good.Render(para("✓ Nothing was paid now: every row was paid before ("+paidBefore(p)+").", w, ""))
	case before > 0:
		return st.Good.Render(para("✓ Every row is paid: "+itoa(p.Done)+" now, "+paidBefore(p)+".", w, ""))
	}
	return st.Good.Render("✓ Every row was sent.")
}

// paidBefore words the rows paid before this run.
func paidBefore(p payout.BatchProgress) string {
	var parts []string
	if p.Found > 0 {
		parts = append(parts, itoa(p.Found)+" found on the server")
	}
	if p.Skipped > 0 {
		parts = append(parts, itoa(p.Skipped)+" done before")
	}
	return strings.Join(parts, ", ")
}

// batchStopped is why a batch stopped, in one sentence with its full stop,
// and what to do when the reason does not say it already.
func batchStopped(err error) string {
	head, cause := "The batch stopped", err
	var se *payout.BatchStopError
	if errors.As(err, &se) {
		if se.Line > 0 {
			head += " at line " + itoa(se.Line)
		}
		cause = se.Err
	}
	reason := stopReason(cause)
	if !strings.HasSuffix(reason, ".") && !strings.HasSuffix(reason, "!") && !strings.HasSuffix(reason, "?") {
		reason += "."
	}
	msg := head + ": " + reason
	if !strings.Contains(strings.ToLower(reason), "again") {
		msg += " Run the same file again once it is fixed: nothing is paid twice."
	}
	return msg
}

// stopReason is the cause of a stop for the operator: the server's answers
// as explain words them, anything else whole (not cut as explain cuts
// long text), without package prefixes.
func stopReason(err error) string {
	if err == nil {
		return "no reason was given"
	}
	var fe *account.FieldError
	p := account.Diagnose(err).Problem
	if errors.As(err, &fe) || rail.IsRefused(err) || p != account.Unclassified && p != account.BrokenAnswer {
		return explain(err)
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	for _, p := range []string{"payout: ", "mixin: ", "journal: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return clean(capitalize(msg))
}
