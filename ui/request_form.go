package ui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
	"mixdesk/payout"
	"mixdesk/payout/rail"
)

// openForm opens the new-request form, or the unfinished one.
func (s *requestScreen) openForm() tea.Cmd {
	s.mode = reqForm
	if s.form == nil {
		s.form = &requestForm{
			trace:  payout.NewTraceID(),
			picker: newAssetPicker("type to filter: BTC, USDT… or an asset id", nil),
			amount: textInput("0.00", 29, 44),
			memo:   textInput("optional, up to 140 characters", 140, 44),
		}
		s.filter()
	}
	s.learnAssets(s.ctx.balances)
	s.filter()
	return s.setFocus(s.form.focus)
}

// fields are the form's text fields, in focus order.
func (f *requestForm) fields() []*textinput.Model {
	return []*textinput.Model{&f.picker.input, &f.amount, &f.memo}
}

// field is the text field at, or nil for the button.
func (f *requestForm) field(at reqField) *textinput.Model {
	if at >= rfCreate {
		return nil
	}
	return f.fields()[at]
}

func (s *requestScreen) setFocus(to reqField) tea.Cmd {
	f := s.form
	f.focus = to
	return focusField(int(to), f.fields()...)
}

// filter gives the picker the assets known now and filters them again.
func (s *requestScreen) filter() {
	if s.form != nil {
		s.form.picker.setAssets(s.knownAssets())
	}
}

// choose takes the highlighted asset.
func (s *requestScreen) choose() {
	f := s.form
	if !f.picker.choose() {
		if f.lookup == "" && f.fieldErr[rfAsset] == "" {
			f.fieldErr[rfAsset] = "no asset matches (an asset id finds any asset)"
		}
		return
	}
	f.fieldErr[rfAsset] = ""
}

func (s *requestScreen) amountErr() string {
	v := strings.TrimSpace(s.form.amount.Value())
	if v == "" {
		return ""
	}
	if _, _, err := account.ParseAmount(v); err != nil {
		return fieldReason(err)
	}
	return ""
}

func (s *requestScreen) memoErr() string {
	if err := account.CheckMemo(s.form.memo.Value()); err != nil {
		return fieldReason(err)
	}
	return ""
}

// formReady: an asset is chosen, the amount and memo are valid, and the
// request is not being created already; Create is enabled.
func (s *requestScreen) formReady() bool {
	f := s.form
	if f == nil || f.picker.chosen == nil || f.creating {
		return false
	}
	if strings.TrimSpace(f.amount.Value()) == "" || s.amountErr() != "" {
		return false
	}
	return s.memoErr() == ""
}

func (s *requestScreen) formKey(k tea.KeyMsg) tea.Cmd {
	f := s.form
	if f == nil {
		s.mode = reqList
		return nil
	}
	km := s.km
	switch {
	case km.ToList.matches(k):
		s.mode = reqList // the form is kept for the next n
		return nil
	case km.PickUp.matches(k):
		return s.formArrow(-1)
	case km.PickDown.matches(k):
		return s.formArrow(1)
	case km.Prev.matches(k):
		return s.setFocus(reqField(step(int(f.focus), int(rfCount), -1)))
	case km.Next.matches(k):
		if f.focus == rfAsset {
			s.choose()
		}
		if f.focus == rfCreate && km.Create.matches(k) {
			return s.create()
		}
		return s.setFocus((f.focus + 1) % rfCount)
	}
	return s.formEdit(k)
}

// formArrow is ↑ (-1) or ↓ (1): it moves in the asset list under the
// field, else between the fields.
func (s *requestScreen) formArrow(delta int) tea.Cmd {
	f := s.form
	if f.focus == rfAsset && f.picker.move(delta) {
		return nil
	}
	return s.setFocus(reqField(step(int(f.focus), int(rfCount), delta)))
}

// formEdit hands a key to the field with the focus; a change clears the
// field's error, and an asset id no known asset has is looked up.
func (s *requestScreen) formEdit(k tea.KeyMsg) tea.Cmd {
	f := s.form
	in := f.field(f.focus)
	if in == nil {
		return nil
	}
	before := in.Value()
	var cmd tea.Cmd
	*in, cmd = in.Update(k)
	if in.Value() == before {
		return cmd
	}
	f.formErr = ""
	f.fieldErr[f.focus] = ""
	if f.focus == rfAsset {
		f.picker.edited()
		s.filter()
		if id, err := account.ParseID(account.FieldAsset, f.picker.input.Value()); err == nil && len(f.picker.matches) == 0 && !s.fetching[id] {
			f.lookup = id
			return tea.Batch(cmd, s.assetCmd(id))
		}
	}
	return cmd
}

// create writes the request to the book under the form's trace.
func (s *requestScreen) create() tea.Cmd {
	f := s.form
	if !s.formReady() {
		switch {
		case f.picker.chosen == nil:
			f.formErr = "Choose an asset first."
		case strings.TrimSpace(f.amount.Value()) == "" || s.amountErr() != "":
			f.formErr = "Type a valid amount first."
		default:
			f.formErr = "Make the memo valid first."
		}
		return nil
	}
	f.creating = true
	book, trace, self := s.book, f.trace, s.ctx.acct.Me.UserID
	asset, amount, memo := f.picker.chosen.AssetID, strings.TrimSpace(f.amount.Value()), f.memo.Value()
	return func() tea.Msg {
		r, err := book.CreateWithTrace(trace, self, asset, amount, memo)
		return reqCreatedMsg{trace: trace, req: r, err: err}
	}
}

func (s *requestScreen) onCreated(msg reqCreatedMsg) tea.Cmd {
	s.reload()
	f := s.form
	if f == nil || f.trace != msg.trace {
		return nil
	}
	f.creating = false
	if msg.err != nil {
		var fe *account.FieldError
		if errors.As(msg.err, &fe) {
			switch fe.Field {
			case account.FieldAsset:
				f.fieldErr[rfAsset] = fe.Reason
				return nil
			case account.FieldAmount:
				f.fieldErr[rfAmount] = fe.Reason
				return nil
			case account.FieldMemo:
				f.fieldErr[rfMemo] = fe.Reason
				return nil
			}
		}
		f.formErr = "Not created: " + explain(msg.err)
		return nil
	}
	s.form = nil
	if s.mode != reqForm {
		return nil // the operator left the form meanwhile; the request is in the list
	}
	for i, r := range s.list {
		if r.TraceID == msg.req.TraceID {
			s.sel = i
		}
	}
	s.ctx.setStatus("Payment request created: share the link (c copies it) or the QR code.", true)
	return s.show(msg.req)
}

func (s *requestScreen) formView() string {
	st := s.ctx.st
	f := s.form
	var b strings.Builder
	b.WriteString(st.Title.Render("New payment request") + st.Subtle.Render("  paid into "+truncate(nameText(s.ctx.acct.Me.FullName), 32)+" ("+clean(s.ctx.acct.Me.UserID)+")") + "\n\n")
	b.WriteString(s.formAssetView(st))
	b.WriteString(fieldLabel(st, "Amount", f.focus == rfAmount) + f.amount.View() + "\n")
	if e := s.amountErr(); e != "" {
		b.WriteString(errLine(st, e))
	} else if f.fieldErr[rfAmount] != "" {
		b.WriteString(errLine(st, f.fieldErr[rfAmount]))
	} else if amt, _, err := account.ParseAmount(strings.TrimSpace(f.amount.Value())); err == nil && f.picker.chosen != nil {
		note := payout.GroupDigits(amt.String()) + " " + truncate(f.picker.chosen.Symbol, 16)
		if p := dec(f.picker.chosen.PriceUSD); p.IsPositive() {
			note += " · ≈ " + usd(amt.Mul(p)) + " USD"
		}
		b.WriteString(fieldIndent + st.Subtle.Render(note) + "\n")
	}
	memoErr := s.memoErr()
	if memoErr == "" {
		memoErr = f.fieldErr[rfMemo]
	}
	b.WriteString(memoField(st, f.memo, f.focus == rfMemo, memoErr))
	b.WriteString(st.Label.Render("  Trace id   ") + st.Subtle.Render(f.trace+"  (made once; the payment carries it)") + "\n\n")
	lbl := "Create"
	if f.creating {
		lbl = "Creating…"
	}
	b.WriteString("  " + st.button(lbl, f.focus == rfCreate, s.formReady()) + "\n")
	if f.formErr != "" {
		b.WriteString("\n" + st.Error.Render(clean(f.formErr)) + "\n")
	}
	return b.String()
}

// formAssetView is the asset field, with the filtered list while it has
// the focus and the chosen asset under it after.
func (s *requestScreen) formAssetView(st Styles) string {
	f := s.form
	p := &f.picker
	var b strings.Builder
	b.WriteString(fieldLabel(st, "Asset", f.focus == rfAsset) + p.input.View() + "\n")
	switch {
	case f.focus == rfAsset:
		b.WriteString(p.listView(st, func(as rail.Asset, twin string) string {
			line := padRight(truncate(as.Symbol, 6), 7) + padRight(truncate(as.Name, 18), 19) + st.Subtle.Render(shortID(clean(as.AssetID)))
			if twin != "" {
				line += st.Warn.Render("  same symbol as another asset")
			}
			return line
		}))
		switch {
		case f.lookup != "":
			b.WriteString(fieldIndent + st.Subtle.Render("looking the asset up…") + "\n")
		case len(p.matches) == 0 && f.fieldErr[rfAsset] == "":
			b.WriteString(fieldIndent + st.Error.Render("no asset matches; type an asset id to use any asset") + "\n")
		}
	case p.chosen != nil:
		b.WriteString(fieldIndent + st.Subtle.Render(truncate(p.chosen.Name, 30)+" · "+clean(p.chosen.AssetID)) + "\n")
	}
	b.WriteString(errLine(st, f.fieldErr[rfAsset]))
	return b.String()
}
