package ui

import (
	"strings"

	"mixdesk/payout/rail"
)

func (t *transferScreen) view(height int) string {
	st := t.ctx.st
	var b strings.Builder
	b.WriteString(st.Title.Render("New payout") + "\n\n")
	b.WriteString(t.assetView(st))
	b.WriteString(t.recipientView(st))
	b.WriteString(t.amountView(st))
	b.WriteString(t.memoView(st))
	note := "  (made once for this payout; kept through edits)"
	if t.renewed {
		note = "  (new: the refused payout's trace is closed)"
	}
	b.WriteString(st.Label.Render("  Trace id   ") + hang(st.Subtle.Render(t.trace+note), 13, t.ctx.width-2) + "\n\n")
	label := "Review"
	if t.reviewing {
		label = "Reviewing…"
	}
	b.WriteString("  " + st.button(label, t.focus == tfSend, t.ready()) + "\n")
	if t.formErr != "" {
		b.WriteString("\n" + st.Error.Render(clean(t.formErr)) + "\n")
	}
	if t.leaving {
		b.WriteString("\n" + st.Warn.Render("esc again drops this draft and goes back to the balances; any other key keeps it.") + "\n")
	}
	return safeView(b.String())
}

// assetView is the asset field, with the filtered list while it has the
// focus and the chosen asset under it after.
func (t *transferScreen) assetView(st Styles) string {
	p := &t.picker
	var b strings.Builder
	b.WriteString(fieldLabel(st, "Asset", t.focus == tfAsset) + p.input.View() + "\n")
	if t.focus == tfAsset {
		b.WriteString(p.listView(st, func(as rail.Asset, twin string) string {
			line := padRight(truncate(as.Symbol, 6), 7) + padRight(truncate(as.Name, 18), 19) + padLeft(money(dec(as.Balance)), 22)
			if twin != "" {
				// Two assets read alike: the start of the id tells them apart.
				line += "  " + twin
			}
			return line
		}))
		if len(p.matches) == 0 {
			b.WriteString(fieldIndent + st.Error.Render("no asset matches") + "\n")
		}
	} else if as := p.chosen; as != nil {
		line := truncate(as.Name, 30) + " · balance " + money(dec(as.Balance)) + " " + truncate(as.Symbol, 12)
		if tag := assetTwins(p.assets)[as.AssetID]; tag != "" {
			line += " · " + tag
		}
		b.WriteString(fieldIndent + st.Subtle.Render(line) + "\n")
	} else if t.fieldErr[tfAsset] == "" {
		// Nothing is chosen for the operator: the field says so.
		b.WriteString(fieldIndent + st.Warn.Render("no asset chosen: type its symbol or name here, or ↑/↓ to pick one") + "\n")
	}
	b.WriteString(errLine(st, t.fieldErr[tfAsset]))
	return b.String()
}

// recipientView is the recipient field: the saved recipients matching it,
// then the look-up's outcome (it runs while typing pauses).
func (t *transferScreen) recipientView(st Styles) string {
	var b strings.Builder
	b.WriteString(fieldLabel(st, "Recipient", t.focus == tfRecipient) + t.rcpt.input.View() + "\n")
	for i, e := range t.bookHits {
		line := padRight(truncate(e.Label, 22), 23) + truncate(nameText(e.FullName), 24) + st.Subtle.Render(" · Mixin ID "+clean(e.IdentityNumber))
		if i == t.bookPick {
			b.WriteString("           " + st.Focused.Render(listMark+line) + "\n")
		} else {
			b.WriteString(fieldIndent + line + "\n")
		}
	}
	if t.rcptLabel != "" && !t.rcpt.resolving {
		b.WriteString(fieldIndent + st.Subtle.Render("from the address book: "+truncate(t.rcptLabel, 40)) + "\n")
	}
	b.WriteString(t.rcpt.status(st, t.ctx.width-2))
	return b.String()
}

// amountView is the amount field with the balance after it.
func (t *transferScreen) amountView(st Styles) string {
	var b strings.Builder
	b.WriteString(fieldLabel(st, "Amount", t.focus == tfAmount) + t.amount.View() + "\n")
	amt, after, aerr := t.amountState()
	switch {
	case aerr != "":
		b.WriteString(errLine(st, aerr))
	case t.fieldErr[tfAmount] != "":
		b.WriteString(errLine(st, t.fieldErr[tfAmount]))
	case t.picker.chosen != nil && amt.IsPositive():
		as := t.picker.chosen
		b.WriteString(fieldIndent + st.Subtle.Render("balance "+money(dec(as.Balance))+" → after "+money(after)+" "+truncate(as.Symbol, 12)+
			" · ≈ "+usd(amt.Mul(dec(as.PriceUSD)))+" USD") + "\n")
	}
	return b.String()
}

// memoView is the memo field with its counter.
func (t *transferScreen) memoView(st Styles) string {
	e := t.memoErr()
	if e == "" {
		e = t.fieldErr[tfMemo]
	}
	return memoField(st, t.memo, t.focus == tfMemo, e)
}
