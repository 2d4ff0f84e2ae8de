package ui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/mixin"
	"mixdesk/payout"
)

// openForm opens the new-request form, or the unfinished one.
func (s *requestScreen) openForm(a *App) tea.Cmd {
	s.mode = reqForm
	if s.form == nil {
		f := &requestForm{trace: payout.NewTraceID()}
		placeholders := [3]string{"type to filter: BTC, USDT… or an asset id", "0.00", "optional, up to 140 characters"}
		limits := [3]int{40, 29, 140}
		for i := range f.inputs {
			in := textinput.New()
			in.Prompt = ""
			in.Placeholder = placeholders[i]
			in.CharLimit = limits[i]
			in.Width = 44
			f.inputs[i] = in
		}
		s.form = f
		s.filter()
	}
	if a.home != nil {
		s.learnAssets(a.home.assets)
		s.filter()
	}
	return s.setFocus(s.form.focus)
}

func (s *requestScreen) setFocus(to reqField) tea.Cmd {
	f := s.form
	f.focus = to
	return focusOnly(f.inputs[:], int(to))
}

// filter recomputes the assets matching the asset field: by symbol, name or
// the start of the id.
func (s *requestScreen) filter() {
	f := s.form
	if f == nil {
		return
	}
	q := strings.ToLower(strings.TrimSpace(f.inputs[rfAsset].Value()))
	f.matches = f.matches[:0]
	for _, id := range s.order {
		as := s.assets[id]
		if assetMatches(as, q) {
			f.matches = append(f.matches, id)
		}
	}
	if f.pick >= len(f.matches) {
		f.pick = max(0, len(f.matches)-1)
	}
}

// choose takes the highlighted asset.
func (s *requestScreen) choose() {
	f := s.form
	if len(f.matches) == 0 {
		f.asset = nil
		if f.lookup == "" && f.fieldErr[rfAsset] == "" {
			f.fieldErr[rfAsset] = "no asset matches (an asset id finds any asset)"
		}
		return
	}
	as := s.assets[f.matches[f.pick]]
	f.asset = &as
	f.fieldErr[rfAsset] = ""
	f.inputs[rfAsset].SetValue(nameText(as.Symbol))
}

func (s *requestScreen) amountErr() string {
	v := strings.TrimSpace(s.form.inputs[rfAmount].Value())
	if v == "" {
		return ""
	}
	if _, _, err := mixin.ParseAmount(v); err != nil {
		return fieldReason(err)
	}
	return ""
}

func (s *requestScreen) memoErr() string {
	if err := mixin.ValidateMemo(s.form.inputs[rfMemo].Value()); err != nil {
		return fieldReason(err)
	}
	return ""
}

// fieldReason is the reason of a field error, or the error's text.
func fieldReason(err error) string {
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return err.Error()
}

// formReady: an asset is chosen, the amount and memo are valid, and the
// request is not being created already; Create is enabled.
func (s *requestScreen) formReady() bool {
	f := s.form
	if f == nil || f.asset == nil || f.creating {
		return false
	}
	if strings.TrimSpace(f.inputs[rfAmount].Value()) == "" || s.amountErr() != "" {
		return false
	}
	return s.memoErr() == ""
}

func (s *requestScreen) formKey(a *App, k tea.KeyMsg) tea.Cmd {
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
			return s.create(a)
		}
		return s.setFocus((f.focus + 1) % rfCount)
	}
	return s.formEdit(a, k)
}

// formArrow is ↑ (-1) or ↓ (1): it moves in the asset list under the
// field, else between the fields.
func (s *requestScreen) formArrow(delta int) tea.Cmd {
	f := s.form
	if f.focus == rfAsset && len(f.matches) > 0 {
		f.pick = step(f.pick, len(f.matches), delta)
		return nil
	}
	return s.setFocus(reqField(step(int(f.focus), int(rfCount), delta)))
}

// formEdit hands a key to the field with the focus; a change clears the
// field's error, and an asset id no known asset has is looked up.
func (s *requestScreen) formEdit(a *App, k tea.KeyMsg) tea.Cmd {
	f := s.form
	if f.focus >= rfCreate {
		return nil
	}
	before := f.inputs[f.focus].Value()
	var cmd tea.Cmd
	f.inputs[f.focus], cmd = f.inputs[f.focus].Update(k)
	if f.inputs[f.focus].Value() == before {
		return cmd
	}
	f.formErr = ""
	f.fieldErr[f.focus] = ""
	if f.focus == rfAsset {
		f.asset = nil
		f.pick = 0
		s.filter()
		if id, err := mixin.ParseUUID(mixin.FieldAsset, f.inputs[rfAsset].Value()); err == nil && len(f.matches) == 0 && !s.fetching[id] {
			f.lookup = id
			return tea.Batch(cmd, s.assetCmd(a, id))
		}
	}
	return cmd
}

// create writes the request to the book under the form's trace.
func (s *requestScreen) create(a *App) tea.Cmd {
	f := s.form
	if !s.formReady() {
		switch {
		case f.asset == nil:
			f.formErr = "Choose an asset first."
		case strings.TrimSpace(f.inputs[rfAmount].Value()) == "" || s.amountErr() != "":
			f.formErr = "Type a valid amount first."
		default:
			f.formErr = "Make the memo valid first."
		}
		return nil
	}
	f.creating = true
	book, trace, self := s.book, f.trace, a.conn.me.UserID
	asset, amount, memo := f.asset.AssetID, strings.TrimSpace(f.inputs[rfAmount].Value()), f.inputs[rfMemo].Value()
	return func() tea.Msg {
		r, err := book.CreateWithTrace(trace, self, asset, amount, memo)
		return reqCreatedMsg{trace: trace, req: r, err: err}
	}
}

func (s *requestScreen) onCreated(a *App, msg reqCreatedMsg) tea.Cmd {
	s.reload()
	f := s.form
	if f == nil || f.trace != msg.trace {
		return nil
	}
	f.creating = false
	if msg.err != nil {
		var fe *mixin.FieldError
		if errors.As(msg.err, &fe) {
			switch fe.Field {
			case mixin.FieldAsset:
				f.fieldErr[rfAsset] = fe.Reason
				return nil
			case mixin.FieldAmount:
				f.fieldErr[rfAmount] = fe.Reason
				return nil
			case mixin.FieldMemo:
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
	a.setStatus("Payment request created: share the link (c copies it) or the QR code.", true)
	return s.show(a, msg.req)
}

func (s *requestScreen) formView(a *App) string {
	st := a.st
	f := s.form
	var b strings.Builder
	b.WriteString(st.Title.Render("New payment request") + st.Subtle.Render("  paid into "+truncate(nameText(a.conn.me.FullName), 32)+" ("+clean(a.conn.me.UserID)+")") + "\n\n")
	b.WriteString(s.formAssetView(st))
	b.WriteString(fieldLabel(st, "Amount", f.focus == rfAmount) + f.inputs[rfAmount].View() + "\n")
	if e := s.amountErr(); e != "" {
		b.WriteString(errLine(st, e))
	} else if f.fieldErr[rfAmount] != "" {
		b.WriteString(errLine(st, f.fieldErr[rfAmount]))
	} else if amt, _, err := mixin.ParseAmount(strings.TrimSpace(f.inputs[rfAmount].Value())); err == nil && f.asset != nil {
		note := payout.GroupDigits(amt.String()) + " " + truncate(f.asset.Symbol, 16)
		if p := dec(f.asset.PriceUSD); p.IsPositive() {
			note += " · ≈ " + usd(amt.Mul(p)) + " USD"
		}
		b.WriteString(fieldIndent + st.Subtle.Render(note) + "\n")
	}
	memoErr := s.memoErr()
	if memoErr == "" {
		memoErr = f.fieldErr[rfMemo]
	}
	b.WriteString(memoField(st, f.inputs[rfMemo], f.focus == rfMemo, memoErr))
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
	var b strings.Builder
	b.WriteString(fieldLabel(st, "Asset", f.focus == rfAsset) + f.inputs[rfAsset].View() + "\n")
	twins := assetTwins(s.knownAssets())
	switch {
	case f.focus == rfAsset:
		// A window of the matches that holds the highlighted one.
		from, to := listWindow(len(f.matches), f.pick, 5)
		if from > 0 {
			b.WriteString(fieldIndent + st.Subtle.Render("… "+itoa(from)+" before") + "\n")
		}
		for i := from; i < to; i++ {
			id := f.matches[i]
			as := s.assets[id]
			line := padRight(truncate(as.Symbol, 6), 7) + padRight(truncate(as.Name, 18), 19) + st.Subtle.Render(shortID(clean(as.AssetID)))
			if twins[id] != "" {
				line += st.Warn.Render("  same symbol as another asset")
			}
			if i == f.pick {
				b.WriteString("           " + st.Focused.Render("▸ "+line) + "\n")
			} else {
				b.WriteString(fieldIndent + line + "\n")
			}
		}
		if to < len(f.matches) {
			b.WriteString(fieldIndent + st.Subtle.Render("… "+itoa(len(f.matches)-to)+" more") + "\n")
		}
		switch {
		case f.lookup != "":
			b.WriteString(fieldIndent + st.Subtle.Render("looking the asset up…") + "\n")
		case len(f.matches) == 0 && f.fieldErr[rfAsset] == "":
			b.WriteString(fieldIndent + st.Error.Render("no asset matches; type an asset id to use any asset") + "\n")
		}
	case f.asset != nil:
		b.WriteString(fieldIndent + st.Subtle.Render(truncate(f.asset.Name, 30)+" · "+clean(f.asset.AssetID)) + "\n")
	}
	b.WriteString(errLine(st, f.fieldErr[rfAsset]))
	return b.String()
}
