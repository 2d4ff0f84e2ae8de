package ui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
	"mixdesk/payout"
	"mixdesk/payout/rail"
)

// The new-request form's focus order.
type reqField int

const (
	rfAsset reqField = iota
	rfAmount
	rfMemo
	rfCreate
	rfCount
)

// requestForm is a new payment request being typed: asset, amount and
// memo, under a trace made once when the form opens. It is a component:
// esc asks the screen for the list (the form is kept until it is
// created); Create writes the request to the book, and the screen shows it
// once written.
type requestForm struct {
	ctx      *shared
	rq       *requestShared
	trace    string // made once when the form opens
	picker   assetPicker
	amount   textinput.Model
	memo     textinput.Model
	focus    reqField
	fieldErr [3]string
	formErr  string
	lookup   string // an asset id being looked up
	creating bool
	km       requestFormKeys
}

// requestFormKeys is the form's key map.
type requestFormKeys struct {
	Next, Prev, PickUp, PickDown, Create, ToList keyDef
}

func newRequestFormKeys() requestFormKeys {
	return requestFormKeys{
		Next:     newKey([]string{"tab", "enter"}, "tab/enter", "next field").long("tab/enter", "next field (on the asset: take the highlighted one)"),
		Prev:     newKey([]string{"shift+tab"}, "shift+tab", "previous field"),
		PickUp:   newKey([]string{"up"}, "↑/↓", "choose asset").long("↑/↓", "choose the asset in the list, else move between fields"),
		PickDown: newKey([]string{"down"}, "", ""),
		Create:   newKey([]string{"enter"}, "enter", "create").long("enter", "on Create: write the request to the book and show its link"),
		ToList:   newKey([]string{"esc"}, "esc", "back to the list").long("esc", "back to the list (the form is kept)"),
	}
}

func newRequestForm(ctx *shared, rq *requestShared) *requestForm {
	f := &requestForm{
		ctx:    ctx,
		rq:     rq,
		trace:  payout.NewTraceID(),
		picker: newAssetPicker("type to filter: BTC, USDT… or an asset id", nil),
		amount: textInput("0.00", 29, 44),
		// No character limit: a longer memo is refused with its count,
		// never cut.
		memo: textInput("optional, up to 140 characters", 0, 44),
		km:   newRequestFormKeys(),
	}
	f.filter()
	return f
}

func (f *requestForm) typing() bool { return f.focus < rfCreate }

// keys are the form's help line: Create only when the form is ready
// (pressed before, it says what is missing).
func (f *requestForm) keys() []key.Binding {
	k := f.km
	switch {
	case f.focus == rfCreate && f.ready():
		return []key.Binding{k.Create.Binding, k.Prev.Binding, k.ToList.Binding}
	case f.focus == rfCreate:
		return []key.Binding{k.Prev.Binding, k.ToList.Binding}
	case f.focus == rfAsset:
		return []key.Binding{k.Next.Binding, k.Prev.Binding, k.PickUp.Binding, k.ToList.Binding}
	}
	return []key.Binding{k.Next.Binding, k.Prev.Binding, k.ToList.Binding}
}

// fullKeys is the form's whole key map, for ?.
func (f *requestForm) fullKeys() []key.Binding {
	k := f.km
	return append(fullOf(k.Next, k.Prev, k.PickUp),
		helpRow("asset", "type to filter by symbol or name; an asset id finds any asset"),
		helpRow("amount", "a plain decimal, at most 8 digits after the point"),
		helpRow("memo", "optional, up to 140 characters (and on Safe 256 bytes); a longer one is refused, never cut"),
		k.Create.full(), k.ToList.full())
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

func (f *requestForm) setFocus(to reqField) tea.Cmd {
	f.focus = to
	return focusField(int(to), f.fields()...)
}

// filter gives the picker the assets known now and filters them again.
func (f *requestForm) filter() { f.picker.setAssets(f.rq.assets.known()) }

// choose takes the highlighted asset; with nothing typed or pointed at it
// takes none (the field stays empty, and says so once left).
func (f *requestForm) choose() {
	if f.picker.untouched() {
		f.fieldErr[rfAsset] = ""
		return
	}
	if !f.picker.choose() {
		if f.lookup == "" && f.fieldErr[rfAsset] == "" {
			f.fieldErr[rfAsset] = "no asset matches (an asset id finds any asset)"
		}
		return
	}
	f.fieldErr[rfAsset] = ""
}

func (f *requestForm) amountErr() string {
	v := strings.TrimSpace(f.amount.Value())
	if v == "" {
		return ""
	}
	if _, _, err := account.ParseAmount(v); err != nil {
		return fieldReason(err)
	}
	return ""
}

func (f *requestForm) memoErr() string {
	if err := f.rq.linkForm().CheckMemo(f.memo.Value()); err != nil {
		return fieldReason(err)
	}
	return ""
}

// ready: an asset is chosen, the amount and memo are valid, and the
// request is not being created already; Create is enabled.
func (f *requestForm) ready() bool {
	if f.picker.chosen == nil || f.creating {
		return false
	}
	if strings.TrimSpace(f.amount.Value()) == "" || f.amountErr() != "" {
		return false
	}
	return f.memoErr() == ""
}

func (f *requestForm) update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		return f.onKey(k)
	}
	// Cursor blinks and the like go to the focused field.
	if in := f.field(f.focus); in != nil {
		var cmd tea.Cmd
		*in, cmd = in.Update(msg)
		return cmd
	}
	return nil
}

func (f *requestForm) onKey(k tea.KeyMsg) tea.Cmd {
	km := f.km
	switch {
	case km.ToList.matches(k):
		f.rq.move(reqToListMsg{}) // the form is kept for the next n
		return nil
	case km.PickUp.matches(k):
		return f.arrow(-1)
	case km.PickDown.matches(k):
		return f.arrow(1)
	case km.Prev.matches(k):
		return f.setFocus(reqField(step(int(f.focus), int(rfCount), -1)))
	case km.Next.matches(k):
		if f.focus == rfAsset {
			f.choose()
		}
		if f.focus == rfCreate && km.Create.matches(k) {
			return f.create()
		}
		return f.setFocus((f.focus + 1) % rfCount)
	}
	return f.edit(k)
}

// arrow is ↑ (-1) or ↓ (1): it moves in the asset list under the field,
// else between the fields.
func (f *requestForm) arrow(delta int) tea.Cmd {
	if f.focus == rfAsset && f.picker.move(delta) {
		return nil
	}
	return f.setFocus(reqField(step(int(f.focus), int(rfCount), delta)))
}

// edit hands a key to the field with the focus; a change clears the
// field's error, and an asset id no known asset has is looked up.
func (f *requestForm) edit(k tea.KeyMsg) tea.Cmd {
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
		f.filter()
		if id, err := account.ParseID(account.FieldAsset, f.picker.input.Value()); err == nil && len(f.picker.matches) == 0 && !f.rq.assets.fetching[id] {
			f.lookup = id
			return tea.Batch(cmd, f.rq.assetCmd(id))
		}
	}
	return cmd
}

// onAsset follows the look-up of the asset id typed (the screen has
// learnt the asset when it was found).
func (f *requestForm) onAsset(msg reqAssetMsg) {
	f.lookup = ""
	if msg.err != nil {
		if errors.Is(msg.err, rail.ErrNotFound) {
			f.fieldErr[rfAsset] = "no asset with this id"
		} else {
			f.fieldErr[rfAsset] = "looking the asset up failed: " + explain(msg.err)
		}
	}
	f.filter()
}

// create writes the request to the book under the form's trace.
func (f *requestForm) create() tea.Cmd {
	if !f.ready() {
		switch {
		case f.picker.chosen == nil:
			f.formErr = "Choose an asset first."
		case strings.TrimSpace(f.amount.Value()) == "" || f.amountErr() != "":
			f.formErr = "Type a valid amount first."
		default:
			f.formErr = "Make the memo valid first."
		}
		return nil
	}
	f.creating = true
	book, trace, self, form := f.rq.book, f.trace, f.ctx.acct.Me.UserID, f.rq.linkForm()
	asset, amount, memo := f.picker.chosen.AssetID, strings.TrimSpace(f.amount.Value()), f.memo.Value()
	return func() tea.Msg {
		r, err := book.CreateWithForm(form, trace, self, asset, amount, memo)
		return reqCreatedMsg{trace: trace, req: r, err: err}
	}
}

// created follows the writing of the form's request: false when it was
// not written, with what is wrong said on the form.
func (f *requestForm) created(msg reqCreatedMsg) bool {
	f.creating = false
	if msg.err == nil {
		return true
	}
	var fe *account.FieldError
	if errors.As(msg.err, &fe) {
		switch fe.Field {
		case account.FieldAsset:
			f.fieldErr[rfAsset] = fe.Reason
			return false
		case account.FieldAmount:
			f.fieldErr[rfAmount] = fe.Reason
			return false
		case account.FieldMemo:
			f.fieldErr[rfMemo] = fe.Reason
			return false
		}
	}
	f.formErr = "Not created: " + explain(msg.err)
	return false
}

func (f *requestForm) view(int) string {
	st := f.ctx.st
	me := f.ctx.acct.Me
	var b strings.Builder
	b.WriteString(st.Title.Render("New payment request") + st.Subtle.Render("  paid into "+truncate(nameText(me.FullName), 32)+" ("+clean(me.UserID)+")") + "\n\n")
	b.WriteString(f.assetView(st))
	b.WriteString(fieldLabel(st, "Amount", f.focus == rfAmount) + f.amount.View() + "\n")
	if e := f.amountErr(); e != "" {
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
	memoErr := f.memoErr()
	if memoErr == "" {
		memoErr = f.fieldErr[rfMemo]
	}
	b.WriteString(memoField(st, f.memo, f.focus == rfMemo, memoErr))
	b.WriteString(st.Label.Render("  Trace id   ") + st.Subtle.Render(f.trace+"  (made once; the payment carries it)") + "\n\n")
	lbl := "Create"
	if f.creating {
		lbl = "Creating…"
	}
	b.WriteString("  " + st.button(lbl, f.focus == rfCreate, f.ready()) + "\n")
	if f.formErr != "" {
		b.WriteString("\n" + st.Error.Render(clean(f.formErr)) + "\n")
	}
	return b.String()
}

// assetView is the asset field, with the filtered list while it has the
// focus and the chosen asset under it after.
func (f *requestForm) assetView(st Styles) string {
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
	case f.fieldErr[rfAsset] == "":
		// Nothing is chosen for the operator: the field says so.
		b.WriteString(fieldIndent + st.Warn.Render("no asset chosen: type its symbol or name here, or ↑/↓ to pick one") + "\n")
	}
	b.WriteString(errLine(st, f.fieldErr[rfAsset]))
	return b.String()
}
