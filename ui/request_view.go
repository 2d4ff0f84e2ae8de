package ui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"

	"mixdesk/payout"
)

func (s *requestScreen) view(height int) string { return safeView(s.viewRaw(height)) }

func (s *requestScreen) viewRaw(height int) string {
	switch {
	case s.openErr != "":
		return s.ctx.st.Title.Render("Payment requests") + "\n\n" +
			s.ctx.st.Error.Render(para("The request book cannot be used: "+s.openErr, s.ctx.width-2, "")) + "\n\n" +
			s.ctx.st.Subtle.Render("esc goes back; p on the balances tries again.")
	case s.book == nil:
		return s.ctx.st.Title.Render("Payment requests") + "\n\n" + s.ctx.st.Subtle.Render("Opening the request book…")
	}
	switch s.mode {
	case reqForm:
		return s.formView()
	case reqShow:
		return s.showView(height)
	}
	return s.listView(height)
}

func (s *requestScreen) listView(height int) string {
	st := s.ctx.st
	var b strings.Builder
	open, paid, spent := 0, 0, 0
	for _, r := range s.list {
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
	b.WriteString(st.Title.Render("Payment requests") + st.Subtle.Render("  "+counts) + "\n\n")
	if len(s.list) == 0 {
		b.WriteString(para("No payment requests yet. Press n to make one: a link and a QR code that anyone can pay into this wallet, watched until it is paid.", s.ctx.width-2, ""))
		return b.String()
	}
	w := s.ctx.width - 2
	stateW, symW, amtW, whenW := 8, 8, 22, 20
	memoW := max(w-2-stateW-symW-amtW-whenW-2, 8)
	b.WriteString(st.Label.Render("  "+padRight("STATE", stateW)+padRight("ASSET", symW)+padLeft("AMOUNT", amtW-1)+"  "+padRight("MEMO", memoW)+padRight("CREATED", whenW)) + "\n")
	rows := max(height-4, 1)
	first := 0
	if s.sel >= rows {
		first = s.sel - rows + 1
	}
	for i := first; i < len(s.list) && i < first+rows; i++ {
		r := s.list[i]
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
		line := padRight(state, stateW) + padRight(truncate(s.symbol(r.AssetID), symW-1), symW) +
			padLeft(payout.GroupDigits(r.Amount), amtW-1) + "  " + padRight(truncate(memo, memoW-1), memoW) + padRight(localTime(r.CreatedAt), whenW)
		if i == s.sel {
			b.WriteString(st.Focused.Render("› "+line) + "\n")
		} else {
			b.WriteString("  " + line + "\n")
		}
	}
	if n := len(s.list) - first - rows; n > 0 {
		b.WriteString(st.Subtle.Render("  … "+plural(n, "more request")) + "\n")
	}
	return b.String()
}

// qrStyle draws the QR code light on dark whatever the terminal's theme,
// where the terminal has colours; without them (NO_COLOR) the terminal's own
// colours are used, which read correctly on a dark background.
var qrStyle = lipgloss.NewStyle().Foreground(lipgloss.Color("#FFFFFF")).Background(lipgloss.Color("#000000"))

func (s *requestScreen) showView(height int) string {
	w := s.ctx.width - 2
	head := s.showHead(w)
	if s.cur.Paid() {
		// A trace pays once: the code is of no more use, and a payer who
		// scanned it again would only be refused.
		return head + "\n\n" + s.ctx.st.Subtle.Render(para("The link is paid and cannot be paid again; its QR code is no longer shown.", w, ""))
	}
	if s.cur.Spent() {
		return head + "\n\n" + s.ctx.st.Subtle.Render(para("Its trace was used by another transfer, so the link can never be paid now; its QR code is no longer shown. Make a new request (n in the list) for the payment still due.", w, ""))
	}
	qr := strings.TrimSuffix(s.qr, "\n")
	if qr == "" {
		if s.qrErr != "" {
			return head + "\n\n" + s.ctx.st.Error.Render("No QR code: "+s.qrErr)
		}
		return head
	}
	qrH, qrW := lipgloss.Height(qr), lipgloss.Width(qr)
	// Under the details when it fits, else beside them, else not at all.
	if lipgloss.Height(head)+1+qrH <= height && qrW <= w {
		return head + "\n\n" + qrStyle.Render(qr)
	}
	if side := w - qrW - 2; side >= 44 && qrH <= height {
		left := s.showHead(side)
		if lipgloss.Height(left) <= height {
			return lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(side+2).Render(left), qrStyle.Render(qr))
		}
	}
	// Short and narrow: the code with a one-line summary; the details come
	// back when the terminal is larger.
	if qrH+2 <= height && qrW <= w {
		r := s.cur
		sum := payout.GroupDigits(clean(r.Amount)) + " " + s.symbol(r.AssetID)
		if r.Memo != "" {
			sum += " · " + clean(r.Memo)
		}
		sum += " · trace " + shortID(clean(r.TraceID)) + " · open (c copies the link, w watches)"
		return s.ctx.st.Title.Render(truncate(sum, w)) + "\n\n" + qrStyle.Render(qr)
	}
	needW, needH := max(qrW+2, s.ctx.width), s.ctx.height-height+lipgloss.Height(head)+1+qrH
	return head + "\n\n" + s.ctx.st.Subtle.Render(para("Enlarge the terminal to see the QR code (to "+itoa(needW)+"×"+itoa(needH)+
		"; this one is "+itoa(s.ctx.width)+"×"+itoa(s.ctx.height)+"), or copy the link with c.", w, ""))
}

// showHead is the shown request without its QR code, w columns wide.
func (s *requestScreen) showHead(w int) string {
	st := s.ctx.st
	r := s.cur
	var b strings.Builder
	b.WriteString(st.Title.Render("Payment request") + "\n\n")

	// Where it stands first, so that it shows however tall the code is.
	b.WriteString(s.standing(st, w))
	if s.checking && !s.watching {
		b.WriteString(st.Subtle.Render("Checking…") + "\n")
	}
	if s.checkErr != "" {
		b.WriteString(st.Error.Render(para("✗ "+s.checkErr, w, "")) + "\n")
	}
	if s.stopNote != "" {
		b.WriteString(st.Subtle.Render(para(s.stopNote, w, "")) + "\n")
	}
	b.WriteString("\n")

	const lw = 11
	row := func(name, value string) {
		b.WriteString(st.Label.Render(padRight(name, lw)) + para(value, w, strings.Repeat(" ", lw))[lw:] + "\n")
	}
	asset := s.symbol(r.AssetID)
	if as, ok := s.assets[r.AssetID]; ok && clean(as.Name) != "" {
		asset += " (" + truncate(as.Name, 30) + ")"
	}
	row("Amount", payout.GroupDigits(clean(r.Amount))+" "+asset)
	row("Memo", orDash(clean(r.Memo)))
	to := clean(r.Recipient)
	if r.Recipient == s.ctx.acct.Me.UserID {
		to = truncate(nameText(s.ctx.acct.Me.FullName), 32) + " · " + to
	}
	row("Pay to", to)
	row("Trace id", clean(r.TraceID))
	row("Created", localTime(r.CreatedAt))
	if s.linkErr != "" {
		row("Link", st.Error.Render("none: "+s.linkErr))
	} else {
		// The link has no spaces to wrap at: cut it in pieces of the width.
		lines := chunk(s.link, max(w-lw, 20))
		for i, l := range lines {
			name := ""
			if i == 0 {
				name = "Link"
			}
			b.WriteString(st.Label.Render(padRight(name, lw)) + l + "\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// standing says where the shown request stands: closed, paid (by whom),
// watched, or open.
func (s *requestScreen) standing(st Styles, w int) string {
	r := s.cur
	var b strings.Builder
	switch {
	case r.Spent():
		b.WriteString(st.Error.Render(para("✗ Closed, not paid: "+clean(r.Reason)+".", w, "")) + "\n")
	case r.Paid():
		// The payer's name is what they chose: cleaned, on one line and
		// cut; the Mixin ID the server gave stands apart from it.
		who := clean(r.PayerID)
		if u := s.payers[r.PayerID]; u != nil {
			who = truncate(nameText(u.FullName), max(w-40, 16)) + " · Mixin ID " + clean(u.IdentityNumber)
		} else if who == "" {
			who = "an unknown payer"
		}
		b.WriteString(st.Good.Render(para("✓ Paid by "+who+" at "+localTime(r.PaidAt), w, "")) + "\n")
		b.WriteString(st.Subtle.Render(para("snapshot "+orDash(clean(r.SnapshotID))+" · payer "+orDash(clean(r.PayerID)), w, "")) + "\n")
		if s.payerErr != "" {
			b.WriteString(st.Subtle.Render(para("(payer's name not found: "+s.payerErr+")", w, "")) + "\n")
		}
	case s.watching:
		line := "◌ Watching for the payment: the trace is looked up every " + spellDuration(s.every) + " until " + s.until.Local().Format("15:04:05")
		if !s.checked.IsZero() {
			line += " · last checked " + s.checked.Local().Format("15:04:05") + ", not paid yet"
		}
		b.WriteString(st.Warn.Render(para(line+".", w, "")) + "\n")
	default:
		line := "○ Open: not paid yet"
		if !s.checked.IsZero() {
			line += " (checked " + s.checked.Local().Format("15:04:05") + ")"
		}
		b.WriteString(para(line+". w watches until it is paid; r checks once.", w, "") + "\n")
	}
	return b.String()
}

// chunk cuts s into pieces of at most n runes.
func chunk(s string, n int) []string {
	var out []string
	r := []rune(s)
	for len(r) > n {
		out = append(out, string(r[:n]))
		r = r[n:]
	}
	return append(out, string(r))
}

// localTime shows a time in the local zone to the second, or "—".
func localTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// spellDuration says a duration in words: "2 seconds", "10 minutes".
func spellDuration(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	case d >= time.Second && d%time.Second == 0:
		return plural(int(d/time.Second), "second")
	}
	return d.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// fullKeys is the whole key map of the mode shown, for ?.
func (s *requestScreen) fullKeys() []key.Binding {
	k := s.km
	switch s.mode {
	case reqForm:
		return append(fullOf(k.Next, k.Prev, k.PickUp),
			helpRow("asset", "type to filter by symbol or name; an asset id finds any asset"),
			helpRow("amount", "a plain decimal, at most 8 digits after the point"),
			helpRow("memo", "optional, up to 140 characters"),
			k.Create.full(), k.ToList.full())
	case reqShow:
		return fullOf(k.Copy, k.Watch, k.Check, k.ShowBack)
	}
	return fullOf(k.Up, k.Show, k.New, k.Home)
}
