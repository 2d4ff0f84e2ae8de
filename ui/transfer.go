package ui

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
	"mixdesk/payout"
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

// resolveDelay is how long typing must pause before the recipient is looked up.
const resolveDelay = 400 * time.Millisecond

type transferScreen struct {
	assets   []mixin.Asset
	matches  []int // indexes into assets that match the filter
	pick     int   // position in matches
	asset    *mixin.Asset
	inputs   [4]textinput.Model
	focus    tField
	trace    string
	prev     *payout.Review // the last review of this draft
	fieldErr [4]string

	rcptGen   int
	rcptFor   string
	rcpt      *mixin.User
	rcptErr   string
	resolving bool
	reviewing bool
	reviewGen int
	formErr   string
	desk      *payout.Desk
	renewed   bool // the trace was replaced after a refused payout

	book      *payout.AddressBook
	bookHits  []payout.BookEntry // saved recipients matching the recipient text
	bookPick  int
	rcptLabel string // the address-book label the recipient was picked by

	km transferKeys
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
		Back:   newKey([]string{"esc"}, "esc", "back to balances").long("esc", "back to the balances (the form is dropped)"),
	}
}

type (
	resolveTickMsg struct{ gen int }
	recipientMsg   struct {
		gen  int
		q    string // what was looked up
		user *mixin.User
		err  error
	}
	reviewMsg struct {
		gen    int
		review *payout.Review
		err    error
	}
)

func newTransferScreen(a *App, assets []mixin.Asset) *transferScreen {
	t := &transferScreen{
		assets: assets,
		trace:  payout.NewTraceID(),
		desk:   a.conn.desk,
		book:   a.conn.book,
		km:     newTransferKeys(),
	}
	placeholders := [4]string{"type to filter: BTC, USDT…", "user UUID or Mixin ID number", "0.00", "optional, up to 140 characters"}
	limits := [4]int{40, 36, 29, 140}
	for i := range t.inputs {
		in := textinput.New()
		in.Prompt = ""
		in.Placeholder = placeholders[i]
		in.CharLimit = limits[i]
		in.Width = 44
		t.inputs[i] = in
	}
	t.filter()
	return t
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

// fullKeys is the transfer form's whole key map, for ?.
func (t *transferScreen) fullKeys() []key.Binding {
	k := t.km
	return append(fullOf(k.Next, k.Prev, k.Up),
		helpRow("asset", "type to filter by symbol or name, or the start of the asset id"),
		helpRow("recipient", "a user UUID, a Mixin ID number, or a label of the address book; it is looked up when typing pauses"),
		helpRow("amount", "a plain decimal, at most 8 digits after the point"),
		helpRow("memo", "optional, up to 140 characters"),
		k.Review.full(), k.Back.full())
}

func (t *transferScreen) keys() []key.Binding {
	k := t.km
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
	return focusOnly(t.inputs[:], int(f))
}

// filter recomputes the assets matching the asset field.
func (t *transferScreen) filter() {
	q := strings.ToLower(strings.TrimSpace(t.inputs[tfAsset].Value()))
	t.matches = t.matches[:0]
	for i, as := range t.assets {
		if assetMatches(as, q) {
			t.matches = append(t.matches, i)
		}
	}
	if t.pick >= len(t.matches) {
		t.pick = max(0, len(t.matches)-1)
	}
}

func (t *transferScreen) choose() {
	if len(t.matches) == 0 {
		t.asset = nil
		t.fieldErr[tfAsset] = "no asset matches"
		return
	}
	as := t.assets[t.matches[t.pick]]
	t.asset = &as
	t.fieldErr[tfAsset] = ""
	t.inputs[tfAsset].SetValue(nameText(as.Symbol))
}

// amountState checks the amount against the chosen asset.
func (t *transferScreen) amountState() (amt, after decimal.Decimal, errText string) {
	s := strings.TrimSpace(t.inputs[tfAmount].Value())
	if s == "" {
		return decimal.Zero, decimal.Zero, ""
	}
	d, _, err := mixin.ParseAmount(s)
	if err != nil {
		var fe *mixin.FieldError
		if errors.As(err, &fe) {
			return decimal.Zero, decimal.Zero, fe.Reason
		}
		return decimal.Zero, decimal.Zero, err.Error()
	}
	if t.asset == nil {
		return d, decimal.Zero, ""
	}
	bal := dec(t.asset.Balance)
	if d.GreaterThan(bal) {
		return d, bal.Sub(d), "exceeds the balance of " + money(bal) + " " + truncate(t.asset.Symbol, 12)
	}
	return d, bal.Sub(d), ""
}

func (t *transferScreen) memoErr() string {
	if err := mixin.ValidateMemo(t.inputs[tfMemo].Value()); err != nil {
		var fe *mixin.FieldError
		if errors.As(err, &fe) {
			return fe.Reason
		}
		return err.Error()
	}
	return ""
}

// ready: every field is valid and the recipient is resolved, so review
// (the Send key) is enabled.
func (t *transferScreen) ready() bool {
	if t.asset == nil || t.rcpt == nil || t.resolving || t.reviewing {
		return false
	}
	if strings.TrimSpace(t.inputs[tfRecipient].Value()) != t.rcptFor {
		return false
	}
	amt, _, aerr := t.amountState()
	return aerr == "" && amt.IsPositive() && t.memoErr() == ""
}

func (t *transferScreen) draft() payout.Draft {
	d := payout.Draft{Recipient: strings.TrimSpace(t.inputs[tfRecipient].Value()), Amount: strings.TrimSpace(t.inputs[tfAmount].Value()),
		Memo: t.inputs[tfMemo].Value(), TraceID: t.trace}
	if t.rcpt != nil {
		d.Recipient = t.rcpt.UserID
	}
	if t.asset != nil {
		d.AssetID = t.asset.AssetID
	}
	return d
}

func (t *transferScreen) update(a *App, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case resolveTickMsg:
		if msg.gen != t.rcptGen {
			return nil
		}
		q := strings.TrimSpace(t.inputs[tfRecipient].Value())
		if q == "" {
			t.resolving = false
			return nil
		}
		desk, gen := t.desk, t.rcptGen
		return func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			u, err := desk.ResolveRecipient(ctx, q)
			return recipientMsg{gen: gen, q: q, user: u, err: err}
		}
	case recipientMsg:
		if msg.gen != t.rcptGen || msg.q != strings.TrimSpace(t.inputs[tfRecipient].Value()) {
			return nil // an answer for an earlier text or an earlier form
		}
		t.resolving = false
		if msg.err != nil {
			t.rcpt, t.rcptErr = nil, explain(msg.err)
			return nil
		}
		t.rcpt, t.rcptErr, t.rcptFor = msg.user, "", msg.q
		return nil
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
		a.confirm = newConfirmScreen(msg.review, !a.conn.profile.KeepPIN)
		a.screen = screenConfirm
		a.setStatus("", true)
		return a.confirm.init()
	case tea.KeyMsg:
		return t.onKey(a, msg)
	}
	if t.focus < tfSend {
		var cmd tea.Cmd
		t.inputs[t.focus], cmd = t.inputs[t.focus].Update(msg)
		return cmd
	}
	return nil
}

func (t *transferScreen) showReviewErr(err error) {
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		switch fe.Field {
		case mixin.FieldAsset:
			t.fieldErr[tfAsset] = fe.Reason
			return
		case mixin.FieldRecipient:
			t.rcptErr = capitalize(fe.Reason)
			return
		case mixin.FieldAmount:
			t.fieldErr[tfAmount] = fe.Reason
			return
		case mixin.FieldMemo:
			t.fieldErr[tfMemo] = fe.Reason
			return
		}
	}
	t.formErr = "Review failed: " + explain(err)
}

func (t *transferScreen) onKey(a *App, k tea.KeyMsg) tea.Cmd {
	km := t.km
	if km.Back.matches(k) {
		// Leaving drops any review still on its way.
		t.reviewGen = a.nextGen()
		t.reviewing = false
		a.screen = screenHome
		return nil
	}
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
			return t.pickSaved(a)
		}
		if t.focus == tfSend && km.Review.matches(k) {
			return t.review(a)
		}
		return t.setFocus(tField(step(int(t.focus), int(tfCount), 1)))
	}
	return t.edit(a, k)
}

// arrow is ↑ (-1) or ↓ (1): it moves in the list under the field (saved
// recipients, assets), else between the fields.
func (t *transferScreen) arrow(delta int) tea.Cmd {
	if t.focus == tfRecipient && len(t.bookHits) > 0 {
		t.bookPick = step(t.bookPick, len(t.bookHits), delta)
		return nil
	}
	if t.focus == tfAsset && len(t.matches) > 0 {
		t.pick = step(t.pick, len(t.matches), delta)
		return nil
	}
	return t.setFocus(tField(step(int(t.focus), int(tfCount), delta)))
}

// edit hands a key to the field with the focus; a change clears the
// field's error and starts what the new text asks for (the asset filter,
// the recipient's look-up once typing pauses).
func (t *transferScreen) edit(a *App, k tea.KeyMsg) tea.Cmd {
	if t.focus >= tfSend {
		return nil
	}
	before := t.inputs[t.focus].Value()
	var cmd tea.Cmd
	t.inputs[t.focus], cmd = t.inputs[t.focus].Update(k)
	if t.inputs[t.focus].Value() == before {
		return cmd
	}
	t.formErr = ""
	t.fieldErr[t.focus] = ""
	switch t.focus {
	case tfAsset:
		t.asset = nil
		t.pick = 0
		t.filter()
	case tfRecipient:
		t.rcpt, t.rcptErr, t.rcptLabel = nil, "", ""
		t.findSaved()
		t.rcptGen = a.nextGen()
		t.resolving = strings.TrimSpace(t.inputs[tfRecipient].Value()) != ""
		gen := t.rcptGen
		return tea.Batch(cmd, tea.Tick(resolveDelay, func(time.Time) tea.Msg { return resolveTickMsg{gen: gen} }))
	}
	return cmd
}

// findSaved lists the saved recipients matching the recipient text, unless
// it is already a user id or a Mixin ID number.
func (t *transferScreen) findSaved() {
	t.bookHits, t.bookPick = nil, 0
	q := strings.TrimSpace(t.inputs[tfRecipient].Value())
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
// resolved with the server like a typed one.
func (t *transferScreen) pickSaved(a *App) tea.Cmd {
	e := t.bookHits[t.bookPick]
	t.inputs[tfRecipient].SetValue(e.UserID)
	t.inputs[tfRecipient].CursorEnd()
	t.bookHits = nil
	t.rcpt, t.rcptErr, t.rcptLabel = nil, "", e.Label
	t.rcptGen = a.nextGen()
	t.resolving = true
	gen := t.rcptGen
	return func() tea.Msg { return resolveTickMsg{gen: gen} }
}

// review asks payout for the review of the draft.
func (t *transferScreen) review(a *App) tea.Cmd {
	if !t.ready() {
		t.formErr = "Fill in every field first: " + t.missing()
		return nil
	}
	t.reviewing = true
	t.reviewGen = a.nextGen()
	desk, d, prev, gen := t.desk, t.draft(), t.prev, t.reviewGen
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r, err := desk.Review(ctx, d, prev)
		return reviewMsg{gen: gen, review: r, err: err}
	}
}

func (t *transferScreen) missing() string {
	switch {
	case t.asset == nil:
		return "choose an asset."
	case t.rcpt == nil:
		return "a recipient that resolves."
	}
	if amt, _, e := t.amountState(); e != "" || !amt.IsPositive() {
		return "a valid amount."
	}
	return "a valid memo."
}
