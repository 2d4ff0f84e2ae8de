package ui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"

	"mixdesk/payout"
	"mixdesk/payreq"
)

// qrStyle draws the QR code light on dark whatever the terminal's theme,
// where the terminal has colours; without them (NO_COLOR) the terminal's own
// colours are used, which read correctly on a dark background.
var qrStyle = lipgloss.NewStyle().Foreground(lipgloss.Color("#FFFFFF")).Background(lipgloss.Color("#000000"))

func (d *requestDetail) view(height int) string {
	w := d.ctx.width - 2
	head := d.head(w)
	if d.cur.Paid() {
		// A trace pays once: the code is of no more use, and a payer who
		// scanned it again would only be refused.
		return head + "\n\n" + d.ctx.st.Subtle.Render(para("The link is paid and cannot be paid again; its QR code is no longer shown.", w, ""))
	}
	if d.cur.Spent() {
		return head + "\n\n" + d.ctx.st.Subtle.Render(para("Its trace was used by another transfer, so the link can never be paid now; its QR code is no longer shown. Make a new request (n in the list) for the payment still due.", w, ""))
	}
	qr := strings.TrimSuffix(d.qr, "\n")
	if qr == "" {
		if d.qrErr != "" {
			return head + "\n\n" + d.ctx.st.Error.Render("No QR code: "+d.qrErr)
		}
		return head
	}
	qrH, qrW := lipgloss.Height(qr), lipgloss.Width(qr)
	// Under the details when it fits, else beside them, else not at all.
	if lipgloss.Height(head)+1+qrH <= height && qrW <= w {
		return head + "\n\n" + qrStyle.Render(qr)
	}
	if side := w - qrW - 2; side >= 44 && qrH <= height {
		left := d.head(side)
		if lipgloss.Height(left) <= height {
			return lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(side+2).Render(left), qrStyle.Render(qr))
		}
	}
	// Short and narrow: the code with a one-line summary; the details come
	// back when the terminal is larger.
	if qrH+2 <= height && qrW <= w {
		r := d.cur
		sum := payout.GroupDigits(clean(r.Amount)) + " " + d.rq.symbol(r.AssetID)
		if r.Memo != "" {
			sum += " · " + clean(r.Memo)
		}
		sum += " · trace " + shortID(clean(r.TraceID)) + " · open (c copies the link, w watches)"
		return d.ctx.st.Title.Render(truncate(sum, w)) + "\n\n" + qrStyle.Render(qr)
	}
	needW, needH := max(qrW+2, d.ctx.width), d.ctx.height-height+lipgloss.Height(head)+1+qrH
	return head + "\n\n" + d.ctx.st.Subtle.Render(para("Enlarge the terminal to see the QR code (to "+itoa(needW)+"×"+itoa(needH)+
		"; this one is "+itoa(d.ctx.width)+"×"+itoa(d.ctx.height)+"), or copy the link with c.", w, ""))
}

// head is the shown request without its QR code, w columns wide.
func (d *requestDetail) head(w int) string {
	st := d.ctx.st
	r := d.cur
	var b strings.Builder
	b.WriteString(st.Title.Render("Payment request") + "\n\n")

	// Where it stands first, so that it shows however tall the code is.
	b.WriteString(d.standing(st, w))
	if d.checking && !d.watching {
		b.WriteString(st.Subtle.Render("Checking…") + "\n")
	}
	if d.checkErr != "" {
		b.WriteString(st.Error.Render(para("✗ "+d.checkErr, w, "")) + "\n")
	}
	if d.stopNote != "" {
		b.WriteString(st.Subtle.Render(para(d.stopNote, w, "")) + "\n")
	}
	b.WriteString("\n")

	const lw = 11
	row := func(name, value string) {
		b.WriteString(st.Label.Render(padRight(name, lw)) + para(value, w, strings.Repeat(" ", lw))[lw:] + "\n")
	}
	asset := d.rq.symbol(r.AssetID)
	if as, ok := d.rq.assets.byID[r.AssetID]; ok && clean(as.Name) != "" {
		asset += " (" + truncate(as.Name, 30) + ")"
	}
	row("Amount", payout.GroupDigits(clean(r.Amount))+" "+asset)
	row("Memo", orDash(clean(r.Memo)))
	to := clean(r.Recipient)
	if r.Recipient == d.ctx.acct.Me.UserID {
		to = truncate(nameText(d.ctx.acct.Me.FullName), 32) + " · " + to
	}
	row("Pay to", to)
	row("Trace id", clean(r.TraceID))
	row("Created", localTime(r.CreatedAt))
	label := "Link"
	if r.Form == payreq.FormSafe {
		label = "Safe link"
	}
	if d.linkErr != "" {
		row(label, st.Error.Render("none: "+d.linkErr))
	} else {
		// The link has no spaces to wrap at: cut it in pieces of the width.
		lines := chunk(d.link, max(w-lw, 20))
		for i, l := range lines {
			name := ""
			switch {
			case i == 0:
				name = label
			case i == 1 && !r.Spent():
				// Pieces, which a mouse selection takes apart: l prints
				// the link on one line outside the frame (linkalone.go).
				name = "l: 1 line"
			}
			b.WriteString(st.Label.Render(padRight(name, lw)) + l + "\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// standing says where the shown request stands: closed, paid (by whom),
// watched, or open.
func (d *requestDetail) standing(st Styles, w int) string {
	r := d.cur
	var b strings.Builder
	switch {
	case r.Spent():
		b.WriteString(st.Error.Render(para("✗ Closed, not paid: "+clean(r.Reason)+".", w, "")) + "\n")
	case r.Paid():
		// The payer's name is what they chose: cleaned, on one line and
		// cut; the Mixin ID the server gave stands apart from it.
		who := clean(r.PayerID)
		if u := d.payers[r.PayerID]; u != nil {
			who = truncate(nameText(u.FullName), max(w-40, 16)) + " · Mixin ID " + clean(u.IdentityNumber)
		} else if who == "" {
			who = "an unknown payer"
		}
		b.WriteString(st.Good.Render(para("✓ Paid by "+who+" at "+localTime(r.PaidAt), w, "")) + "\n")
		b.WriteString(st.Subtle.Render(para("snapshot "+orDash(clean(r.SnapshotID))+" · payer "+orDash(clean(r.PayerID)), w, "")) + "\n")
		if d.payerErr != "" {
			b.WriteString(st.Subtle.Render(para("(payer's name not found: "+d.payerErr+")", w, "")) + "\n")
		}
	case d.watching:
		line := "◌ Watching for the payment: the trace is looked up every " + spellDuration(d.every) + " until " + d.until.Local().Format("15:04:05")
		if !d.checked.IsZero() {
			line += " · last checked " + d.checked.Local().Format("15:04:05") + ", not paid yet"
		}
		b.WriteString(st.Warn.Render(para(line+".", w, "")) + "\n")
	default:
		line := "○ Open: not paid yet"
		if !d.checked.IsZero() {
			line += " (checked " + d.checked.Local().Format("15:04:05") + ")"
		}
		b.WriteString(para(line+". w watches until it is paid; r checks once.", w, "") + "\n")
	}
	return b.String()
}
