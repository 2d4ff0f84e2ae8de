package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/payout"
	"mixdesk/payreq"
)

// requestList is the payment-request screen's list: the book, newest
// first, one request selected. It is a component: enter asks the screen to
// show the request selected, n for the form, esc the root for the
// balances.
type requestList struct {
	ctx  *shared
	rq   *requestShared
	reqs []payreq.Request // the book as last read, newest first
	sel  int              // selected row of reqs
	km   requestListKeys
}

// requestListKeys is the list's key map.
type requestListKeys struct {
	Up, Down, Show, New, Home keyDef
}

func newRequestListKeys() requestListKeys {
	return requestListKeys{
		Up:   newKey([]string{"up", "k"}, "↑/↓", "select").long("↑/↓ k/j", "select a request"),
		Down: newKey([]string{"down", "j"}, "", ""),
		Show: newKey([]string{"enter"}, "enter", "show").long("enter", "show it: link, QR code, watch"),
		New:  newKey([]string{"n"}, "n", "new request"),
		Home: newKey(qBack, "esc/q", "back to balances").long("esc/q", "back to the balances"),
	}
}

func newRequestList(ctx *shared, rq *requestShared) *requestList {
	return &requestList{ctx: ctx, rq: rq, km: newRequestListKeys()}
}

// reload reads the book into the list, keeping the selected request.
func (l *requestList) reload() {
	if l.rq.book == nil {
		return
	}
	keep := ""
	if l.sel < len(l.reqs) {
		keep = l.reqs[l.sel].TraceID
	}
	l.reqs = l.rq.book.List()
	l.sel = 0
	l.pick(keep)
}

// pick selects the request with this trace, when listed.
func (l *requestList) pick(trace string) {
	for i, r := range l.reqs {
		if r.TraceID == trace {
			l.sel = i
		}
	}
}

func (l *requestList) typing() bool { return false }

// syncKeys enables the keys that act on the list as it is.
func (l *requestList) syncKeys() {
	k := &l.km
	k.Up.SetEnabled(len(l.reqs) > 1)
	k.Show.SetEnabled(len(l.reqs) > 0)
	k.New.SetEnabled(l.rq.book != nil)
}

func (l *requestList) keys() []key.Binding {
	l.syncKeys()
	k := l.km
	return []key.Binding{k.Up.Binding, k.Show.Binding, k.New.Binding, k.Home.Binding}
}

// fullKeys is the list's whole key map, for ?.
func (l *requestList) fullKeys() []key.Binding {
	k := l.km
	return fullOf(k.Up, k.Show, k.New, k.Home)
}

func (l *requestList) update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	l.syncKeys()
	km := l.km
	switch {
	case km.Home.matches(k):
		l.ctx.ask(showMsg{screenHome})
	case l.rq.book == nil:
	case km.Up.matches(k) && len(l.reqs) > 0:
		l.sel = (l.sel + len(l.reqs) - 1) % len(l.reqs)
	case km.Down.matches(k) && len(l.reqs) > 0:
		l.sel = (l.sel + 1) % len(l.reqs)
	case km.Show.matches(k) && l.sel < len(l.reqs):
		l.rq.move(reqToShowMsg{l.reqs[l.sel]})
	case km.New.matches(k):
		l.rq.move(reqToFormMsg{})
	}
	return nil
}

func (l *requestList) view(height int) string {
	st := l.ctx.st
	var b strings.Builder
	b.WriteString(st.Title.Render("Payment requests") + st.Subtle.Render("  "+l.counts()) + "\n\n")
	if len(l.reqs) == 0 {
		b.WriteString(para("No payment requests yet. Press n to make one: a link and a QR code that anyone can pay into this wallet, watched until it is paid.", l.ctx.width-2, ""))
		return b.String()
	}
	w := l.ctx.width - 2
	stateW, symW, amtW, whenW := 8, 8, 22, 20
	memoW := max(w-2-stateW-symW-amtW-whenW-2, 8)
	b.WriteString(st.Label.Render("  "+padRight("STATE", stateW)+padRight("ASSET", symW)+padLeft("AMOUNT", amtW-1)+"  "+padRight("MEMO", memoW)+padRight("CREATED", whenW)) + "\n")
	rows := max(height-4, 1)
	first := 0
	if l.sel >= rows {
		first = l.sel - rows + 1
	}
	for i := first; i < len(l.reqs) && i < first+rows; i++ {
		r := l.reqs[i]
		state := "○ open"
		if r.Paid() {
			state = "✓ paid"
		} else if r.Spent() {
			state = "✗ closed"
		}
		memo := clean(r.Memo)
		if memo == "" {
			memo = "—"
		}
		// The symbol is cut after it is cleaned, by display width: never
		// inside an escape sequence.
		line := padRight(state, stateW) + padRight(truncate(l.rq.symbol(r.AssetID), symW-1), symW) +
			padLeft(payout.GroupDigits(r.Amount), amtW-1) + "  " + padRight(truncate(memo, memoW-1), memoW) + padRight(localTime(r.CreatedAt), whenW)
		if i == l.sel {
			b.WriteString(st.Focused.Render(listMark+line) + "\n")
		} else {
			b.WriteString("  " + line + "\n")
		}
	}
	if n := len(l.reqs) - first - rows; n > 0 {
		b.WriteString(st.Subtle.Render("  … "+plural(n, "more request")) + "\n")
	}
	return b.String()
}

// counts says how many requests are open, paid and closed unpaid.
func (l *requestList) counts() string {
	open, paid, spent := 0, 0, 0
	for _, r := range l.reqs {
		switch {
		case r.Paid():
			paid++
		case r.Spent():
			spent++
		default:
			open++
		}
	}
	counts := itoa(open) + " open · " + itoa(paid) + " paid"
	if spent > 0 {
		counts += " · " + itoa(spent) + " closed unpaid"
	}
	return counts
}
