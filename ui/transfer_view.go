package ui

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/textinput"

	"mixdesk/mixin"
)

// fieldIndent lines up what is drawn under a form's fields with the fields.
const fieldIndent = "             "

// fieldLabel draws a form field's label, marked when it has the focus.
func fieldLabel(st Styles, name string, focused bool) string {
	l := marker(focused) + padRight(name, 11)
	if focused {
		return st.Focused.Render(l)
	}
	return st.Label.Render(l)
}

// errLine is a field's error under it, or "" when there is none.
func errLine(st Styles, s string) string {
	if s == "" {
		return ""
	}
	return fieldIndent + st.Error.Render("✗ "+clean(s)) + "\n"
}

func (t *transferScreen) view(a *App, height int) string {
	st := a.st
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
	b.WriteString(st.Label.Render("  Trace id   ") + st.Subtle.Render(t.trace+note) + "\n\n")
	label := "Review"
	if t.reviewing {
		label = "Reviewing…"
	}
	b.WriteString("  " + st.button(label, t.focus == tfSend, t.ready()) + "\n")
	if t.formErr != "" {
		b.WriteString("\n" + st.Error.Render(clean(t.formErr)) + "\n")
	}
	return safeView(b.String())
}

// assetView is the asset field, with the filtered list while it has the
// focus and the chosen asset under it after.
func (t *transferScreen) assetView(st Styles) string {
	var b strings.Builder
	b.WriteString(fieldLabel(st, "Asset", t.focus == tfAsset) + t.inputs[tfAsset].View() + "\n")
	twins := assetTwins(t.assets)
	if t.focus == tfAsset {
		// A window of the matches that holds the highlighted one.
		from, to := listWindow(len(t.matches), t.pick, 5)
		if from > 0 {
			b.WriteString(fieldIndent + st.Subtle.Render("… "+itoa(from)+" before") + "\n")
		}
		for i := from; i < to; i++ {
			as := t.assets[t.matches[i]]
			line := padRight(truncate(as.Symbol, 6), 7) + padRight(truncate(as.Name, 18), 19) + padLeft(money(dec(as.Balance)), 22)
			if tag := twins[as.AssetID]; tag != "" {
				// Two assets read alike: the start of the id tells them apart.
				line += "  " + tag
			}
			if i == t.pick {
				b.WriteString("           " + st.Focused.Render("▸ "+line) + "\n")
			} else {
				b.WriteString(fieldIndent + line + "\n")
			}
		}
		if to < len(t.matches) {
			b.WriteString(fieldIndent + st.Subtle.Render("… "+itoa(len(t.matches)-to)+" more") + "\n")
		}
		if len(t.matches) == 0 {
			b.WriteString(fieldIndent + st.Error.Render("no asset matches") + "\n")
		}
	} else if t.asset != nil {
		line := truncate(t.asset.Name, 30) + " · balance " + money(dec(t.asset.Balance)) + " " + truncate(t.asset.Symbol, 12)
		if tag := twins[t.asset.AssetID]; tag != "" {
			line += " · " + tag
		}
		b.WriteString(fieldIndent + st.Subtle.Render(line) + "\n")
	}
	b.WriteString(errLine(st, t.fieldErr[tfAsset]))
	return b.String()
}

// recipientView is the recipient field: the saved recipients matching it,
// then the look-up's outcome (it runs while typing pauses).
func (t *transferScreen) recipientView(st Styles) string {
	var b strings.Builder
	b.WriteString(fieldLabel(st, "Recipient", t.focus == tfRecipient) + t.inputs[tfRecipient].View() + "\n")
	for i, e := range t.bookHits {
		line := padRight(truncate(e.Label, 22), 23) + truncate(nameText(e.FullName), 24) + st.Subtle.Render(" · Mixin ID "+clean(e.IdentityNumber))
		if i == t.bookPick {
			b.WriteString("           " + st.Focused.Render("▸ "+line) + "\n")
		} else {
			b.WriteString(fieldIndent + line + "\n")
		}
	}
	if t.rcptLabel != "" && !t.resolving {
		b.WriteString(fieldIndent + st.Subtle.Render("from the address book: "+truncate(t.rcptLabel, 40)) + "\n")
	}
	switch {
	case t.resolving:
		b.WriteString(fieldIndent + st.Subtle.Render("looking up…") + "\n")
	case t.rcptErr != "":
		b.WriteString(errLine(st, t.rcptErr))
	case t.rcpt != nil:
		// The name is cut so that the ids stay on the line.
		b.WriteString(fieldIndent + st.Good.Render("✓ "+truncate(nameText(t.rcpt.FullName), 64)) + st.Subtle.Render(" · Mixin ID ") +
			st.ID.Render(clean(t.rcpt.IdentityNumber)) + st.Subtle.Render(" · "+clean(t.rcpt.UserID)) + "\n")
	}
	return b.String()
}

// amountView is the amount field with the balance after it.
func (t *transferScreen) amountView(st Styles) string {
	var b strings.Builder
	b.WriteString(fieldLabel(st, "Amount", t.focus == tfAmount) + t.inputs[tfAmount].View() + "\n")
	amt, after, aerr := t.amountState()
	switch {
	case aerr != "":
		b.WriteString(errLine(st, aerr))
	case t.fieldErr[tfAmount] != "":
		b.WriteString(errLine(st, t.fieldErr[tfAmount]))
	case t.asset != nil && amt.IsPositive():
		b.WriteString(fieldIndent + st.Subtle.Render("balance "+money(dec(t.asset.Balance))+" → after "+money(after)+" "+truncate(t.asset.Symbol, 12)+
			" · ≈ "+usd(amt.Mul(dec(t.asset.PriceUSD)))+" USD") + "\n")
	}
	return b.String()
}

// memoView is the memo field with its counter.
func (t *transferScreen) memoView(st Styles) string {
	e := t.memoErr()
	if e == "" {
		e = t.fieldErr[tfMemo]
	}
	return memoField(st, t.inputs[tfMemo], t.focus == tfMemo, e)
}

// memoField draws a memo field with its counter of characters, and its
// error under it.
func memoField(st Styles, in textinput.Model, focused bool, errText string) string {
	n := utf8.RuneCountInString(in.Value())
	counter := st.Subtle.Render(itoa(n) + "/140")
	if n > mixin.MaxMemoRunes {
		counter = st.Error.Render(itoa(n) + "/140")
	}
	return fieldLabel(st, "Memo", focused) + in.View() + " " + counter + "\n" + errLine(st, errText)
}
