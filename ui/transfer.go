package ui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/shopspring/decimal"

	"mixdesk/account"
	"mixdesk/addressbook"
	"mixdesk/payout"
	"mixdesk/payout/rail"
)

// The transfer form's focus order.
type tField int

const (
	tfAsset tField = iota
	tfRecipient
	tfAmount
	tfMemo
	tfSend
	tfCount
)

// transferScreen is the form of one payout: asset, recipient, amount and
// memo, reviewed by payout before anything can be confirmed. It is a
// component: it asks the root to confirm the review.
type transferScreen struct {
	ctx      *shared
	picker   assetPicker
	rcpt     recipientField
	amount   textinput.Model
	memo     textinput.Model
	focus    tField
	trace    string
	prev     *payout.Review // the last review of this draft
	fieldErr [4]string

	reviewing bool
	reviewGen int
	formErr   string
	desk      *payout.Desk
	renewed   bool // the trace was replaced after a refused payout

	book      *addressbook.Book
	bookHits  []addressbook.Entry // saved recipients matching the recipient text
	bookPick  int
	rcptLabel string // the address-book label the recipient was picked by

	// limits are the caps of the profile's policy, by asset id: the
	// per-transfer cap is checked as the amount is typed.
	limits map[string]payout.AssetLimit
	// leaving: esc was pressed on a draft; a second esc drops it, any
	// other key keeps it.
	leaving bool

	km   transferKeys
	life lifetime // the look-ups and the review, ended when the form is left
}

// transferKeys is the transfer form's key map.
type transferKeys struct {
	Next, Prev, Up, Down, Review, Back keyDef
}

func newTransferKeys() transferKeys {
	return transferKeys{
		Next: newKey([]string{"tab", "enter"}, "tab/enter", "next field").
			long("tab/enter", "next field (on the asset: take the highlighted one; on the recipient: take the highlighted saved one)"),
		Prev: newKey([]string{"shift+tab"}, "shift+tab", "previous field"),
		Up: newKey([]string{"up"}, "↑/↓", "choose asset").
			long("↑/↓", "choose in the list under the field (assets, saved recipients), else move between fields"),
		Down:   newKey([]string{"down"}, "", ""),
		Review: newKey([]string{"enter"}, "enter", "review").long("enter", "on Review: review the payout (nothing is sent yet)"),
		Back: newKey([]string{"esc"}, "esc", "back to balances").
			long("esc", "back to the balances; with something typed, it asks first: esc again drops the draft"),
	}
}

type reviewMsg struct {
	gen    int
	review *payout.Review
	err    error
}

func newTransferScreen(ctx *shared, assets []rail.Asset) *transferScreen {
	t := &transferScreen{
		ctx:    ctx,
		picker: newAssetPicker("type to filter: BTC, USDT…", assets),
		rcpt:   newRecipientField(),
		amount: textInput("0.00", 29, 44),
		// No character limit: a longer memo is refused with its count, never
		// cut without a word.
		memo:  textInput("optional, up to 140 characters", 0, 44),
		trace: payout.NewTraceID(),
		desk:  ctx.acct.Desk,
		book:  ctx.acct.Book,
		km:    newTransferKeys(),
	}
	t.rcpt.showLookup = true
	if t.desk != nil {
		t.limits = t.desk.Config().Limits
	}
	return t
}

// fields are the form's text fields, in focus order.
func (t *transferScreen) fields() []*textinput.Model {
	return []*textinput.Model{&t.picker.input, &t.rcpt.input, &t.amount, &t.memo}
}

// field is the text field f, or nil for the button.
func (t *transferScreen) field(f tField) *textinput.Model {
	if f >= tfSend {
		return nil
	}
	return t.fields()[f]
}

func (t *transferScreen) init() tea.Cmd { return t.setFocus(tfAsset) }

// renew gives the draft a new trace after its payout was refused: the old
// trace is closed, and the edited draft is a new payout.
func (t *transferScreen) renew() {
	t.trace = payout.NewTraceID()
	t.prev = nil
	t.reviewing = false
	t.formErr = ""
	t.renewed = true
}

func (t *transferScreen) typing() bool { return t.focus < tfSend }

// left ends the look-ups and the review still on their way.
func (t *transferScreen) left() { t.life.end() }

// fullKeys is the transfer form's whole key map, for ?.
func (t *transferScreen) fullKeys() []key.Binding {
	k := t.km
	return append(fullOf(k.Next, k.Prev, k.Up),
		helpRow("asset", "type to filter by symbol or name, or the start of the asset id"),
		helpRow("recipient", "a user UUID, a Mixin ID number, or a label of the address book; it is looked up when typing pauses"),
		helpRow("amount", "a plain decimal, at most 8 digits after the point"),
		helpRow("memo", "optional, up to 140 characters (and what the rail allows in bytes); a longer one is refused, never cut"),
		k.Review.full(), k.Back.full())
}

func (t *transferScreen) keys() []key.Binding {
	k := t.km
	if t.leaving {
		k.Back.SetHelp("esc", "drop the draft")
	}
	switch {
	case t.focus == tfSend && t.ready():
		return []key.Binding{k.Review.Binding, k.Prev.Binding, k.Back.Binding}
	case t.focus == tfSend:
		return []key.Binding{k.Prev.Binding, k.Back.Binding}
	case t.focus == tfAsset:
		return []key.Binding{k.Next.Binding, k.Prev.Binding, k.Up.Binding, k.Back.Binding}
	}
	return []key.Binding{k.Next.Binding, k.Prev.Binding, k.Back.Binding}
}

func (t *transferScreen) setFocus(f tField) tea.Cmd {
	t.focus = f
	return focusField(int(f), t.fields()...)
}

// choose takes the highlighted asset; with nothing typed or pointed at it
// takes none (the field stays empty, and says so once left).
func (t *transferScreen) choose() {
	t.fieldErr[tfAsset] = ""
	if t.picker.untouched() {
		return
	}
	if !t.picker.choose() {
		t.fieldErr[tfAsset] = "no asset matches"
	}
}

// amountState checks the amount against the chosen asset: its balance and
// the per-transfer cap of the policy (the daily cap needs the rail's
// movements: Review checks it).
func (t *transferScreen) amountState() (amt, after decimal.Decimal, errText string) {
	s := strings.TrimSpace(t.amount.Value())
	if s == "" {
		return decimal.Zero, decimal.Zero, ""
	}
	d, _, err := account.ParseAmount(s)
	if err != nil {
		return decimal.Zero, decimal.Zero, fieldReason(err)
	}
	as := t.picker.chosen
	if as == nil {
		return d, decimal.Zero, ""
	}
	bal := dec(as.Balance)
	if d.GreaterThan(bal) {
		return d, bal.Sub(d), "exceeds the balance of " + money(bal) + " " + truncate(as.Symbol, 12)
	}
	if over := t.overPerTransfer(as, d); over != nil {
		return d, bal.Sub(d), over.Reason()
	}
	return d, bal.Sub(d), ""
}

// overPerTransfer is the refusal Review would give an amount over the
// asset's per-transfer cap, or nil.
func (t *transferScreen) overPerTransfer(as *rail.Asset, d decimal.Decimal) *payout.CapError {
	lim := t.limits[strings.ToLower(as.AssetID)]
	if lim.PerTransfer == "" {
		return nil
	}
	c, err := decimal.NewFromString(lim.PerTransfer)
	if err != nil || !d.GreaterThan(c) {
		return nil
	}
	return &payout.CapError{Kind: payout.CapPerTransfer, AssetID: as.AssetID, Symbol: truncate(as.Symbol, 12), Amount: d, Cap: c, Left: c}
}

// memoErr checks the memo by the rules of the rail the profile pays
// through (the Safe rail also counts its bytes), in a payment whose other
// fields are well formed: the rail's own Validate, so that the form never
// accepts a memo the review would refuse.
func (t *transferScreen) memoErr() string {
	err := account.CheckMemo(t.memo.Value())
	if err == nil && t.desk != nil {
		_, err = t.desk.Rail().Validate(rail.Payment{Key: standInID, AssetID: standInID, RecipientID: standInID, Amount: "1", Memo: t.memo.Value()})
		var fe *account.FieldError
		if !errors.As(err, &fe) || fe.Field != account.FieldMemo {
			err = nil // about the stand-in, not the memo
		}
	}
	if err != nil {
		return fieldReason(err)
	}
	return ""
}

// ready: every field is valid and the recipient is resolved, so review
// (the Send key) is enabled.
func (t *transferScreen) ready() bool {
	if t.picker.chosen == nil || !t.rcpt.ready() || t.rcpt.resolving || t.reviewing {
		return false
	}
	amt, _, aerr := t.amountState()
	return aerr == "" && amt.IsPositive() && t.memoErr() == ""
}

func (t *transferScreen) draft() payout.Draft {
	d := payout.Draft{Recipient: t.rcpt.text(), Amount: strings.TrimSpace(t.amount.Value()), Memo: t.memo.Value(), TraceID: t.trace}
	if t.rcpt.user != nil {
		d.Recipient = t.rcpt.user.UserID
	}
	if t.picker.chosen != nil {
		d.AssetID = t.picker.chosen.AssetID
	}
	return d
}

func (t *transferScreen) update(msg tea.Msg) tea.Cmd {
	if cmd, ok := t.rcpt.update(msg, t.desk, &t.life); ok {
		return cmd
	}
	switch msg := msg.(type) {
	case reviewMsg:
		if msg.gen != t.reviewGen {
			return nil
		}
		t.reviewing = false
		if msg.err != nil {
			t.showReviewErr(msg.err)
			return nil
		}
		t.prev = msg.review
		t.trace = msg.review.TraceID
		t.ctx.setStatus("", true)
		t.ctx.ask(confirmMsg{msg.review})
		return nil
	case editDraftMsg:
		if msg.renew {
			t.renew()
		}
		return nil
	case tea.KeyMsg:
		return t.onKey(msg)
	}
	if in := t.field(t.focus); in != nil {
		var cmd tea.Cmd
		*in, cmd = in.Update(msg)
		return cmd
	}
	return nil
}

func (t *transferScreen) showReviewErr(err error) {
	var fe *account.FieldError
	if errors.As(err, &fe) {
		switch fe.Field {
		case account.FieldAsset:
			t.fieldErr[tfAsset] = fe.Reason
			return
		case account.FieldRecipient:
			t.rcpt.err = fe.Reason
			return
		case account.FieldAmount:
			t.fieldErr[tfAmount] = fe.Reason
			return
		case account.FieldMemo:
			t.fieldErr[tfMemo] = fe.Reason
			return
		}
	}
	t.formErr = "Review failed: " + explain(err)
}

func (t *transferScreen) onKey(k tea.KeyMsg) tea.Cmd {
	km := t.km
	if km.Back.matches(k) {
		return t.back()
	}
	t.leaving = false // any other key keeps the draft
	if t.reviewing {
		return nil // the form is frozen while its review is made
	}
	switch {
	case km.Up.matches(k):
		return t.arrow(-1)
	case km.Down.matches(k):
		return t.arrow(1)
	case km.Prev.matches(k):
		return t.setFocus(tField(step(int(t.focus), int(tfCount), -1)))
	case km.Next.matches(k):
		if t.focus == tfAsset {
			t.choose()
		}
		if t.focus == tfRecipient && len(t.bookHits) > 0 {
			return t.pickSaved()
		}
		if t.focus == tfSend && km.Review.matches(k) {
			return t.review()
		}
		return t.setFocus(tField(step(int(t.focus), int(tfCount), 1)))
	}
	return t.edit(k)
}

// back is esc: it drops any review still on its way, and goes back to the
// balances; a draft is dropped only at a second esc, so that one key
// pressed by mistake loses nothing.
func (t *transferScreen) back() tea.Cmd {
	t.reviewGen = t.ctx.nextGen()
	t.reviewing = false
	if !t.leaving && t.hasDraft() {
		t.leaving = true
		return nil
	}
	t.leaving = false
	t.ctx.ask(showMsg{screenHome})
	return nil
}

// hasDraft reports whether anything was typed into the form.
func (t *transferScreen) hasDraft() bool {
	for _, in := range t.fields() {
		if strings.TrimSpace(in.Value()) != "" {
			return true
		}
	}
	return false
}

// arrow is ↑ (-1) or ↓ (1): it moves in the list under the field (saved
// recipients, assets), else between the fields.
func (t *transferScreen) arrow(delta int) tea.Cmd {
	if t.focus == tfRecipient && len(t.bookHits) > 0 {
		t.bookPick = step(t.bookPick, len(t.bookHits), delta)
		return nil
	}
	if t.focus == tfAsset && t.picker.move(delta) {
		return nil
	}
	return t.setFocus(tField(step(int(t.focus), int(tfCount), delta)))
}

// edit hands a key to the field with the focus; a change clears the
// field's error and starts what the new text asks for (the asset filter,
// the recipient's look-up once typing pauses).
func (t *transferScreen) edit(k tea.KeyMsg) tea.Cmd {
	in := t.field(t.focus)
	if in == nil {
		return nil
	}
	before := in.Value()
	var cmd tea.Cmd
	*in, cmd = in.Update(k)
	if in.Value() == before {
		return cmd
	}
	t.formErr = ""
	t.fieldErr[t.focus] = ""
	switch t.focus {
	case tfAsset:
		t.picker.edited()
	case tfRecipient:
		t.rcptLabel = ""
		t.findSaved()
		return tea.Batch(cmd, t.rcpt.edited(t.ctx.nextGen()))
	}
	return cmd
}

// findSaved lists the saved recipients matching the recipient text, unless
// it is already a user id or a Mixin ID number.
func (t *transferScreen) findSaved() {
	t.bookHits, t.bookPick = nil, 0
	q := t.rcpt.text()
	if t.book == nil || q == "" || isIDLike(q) {
		return
	}
	t.bookHits = t.book.Match(q)
	if len(t.bookHits) > 5 {
		t.bookHits = t.bookHits[:5]
	}
}

// isIDLike: a Mixin ID number, or text that can only be a UUID.
func isIDLike(q string) bool {
	digits, hexdash := true, true
	for _, c := range q {
		if c < '0' || c > '9' {
			digits = false
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '-') {
			hexdash = false
		}
	}
	return digits || hexdash && len(q) >= 32
}

// pickSaved fills the recipient from the chosen address-book entry; it is
// resolved with the server like a typed one. The focus moves on to the
// amount, which is what is typed next.
func (t *transferScreen) pickSaved() tea.Cmd {
	e := t.bookHits[t.bookPick]
	t.rcpt.input.SetValue(e.UserID)
	t.rcpt.input.CursorEnd()
	t.bookHits = nil
	t.rcptLabel = e.Label
	return tea.Batch(t.rcpt.lookUpNow(t.ctx.nextGen()), t.setFocus(tfAmount))
}

// review asks payout for the review of the draft.
func (t *transferScreen) review() tea.Cmd {
	if !t.ready() {
		t.formErr = "Fill in every field first: " + t.missing()
		return nil
	}
	t.reviewing = true
	t.reviewGen = t.ctx.nextGen()
	desk, d, prev, gen := t.desk, t.draft(), t.prev, t.reviewGen
	ctx, cancel := t.life.within(timeoutPage)
	return func() tea.Msg {
		defer cancel()
		r, err := desk.Review(ctx, d, prev)
		return reviewMsg{gen: gen, review: r, err: err}
	}
}

func (t *transferScreen) missing() string {
	switch {
	case t.picker.chosen == nil:
		return "choose an asset."
	case t.rcpt.user == nil:
		return "a recipient that resolves."
	}
	if amt, _, e := t.amountState(); e != "" || !amt.IsPositive() {
		return "a valid amount."
	}
	return "a valid memo."
}
