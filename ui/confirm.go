package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"mixdesk/account"
	"mixdesk/payout"
)

// confirmField is what has the confirmation's focus: each warning in turn,
// the amount, the PIN (when asked), Cancel, Confirm.
type confirmField int

const (
	cfWarning confirmField = iota // the warning numbered by confirmScreen.warn
	cfAmount
	cfPIN
	cfCancel
	cfConfirm
)

// confirmStop is one stop of the focus.
type confirmStop struct {
	field confirmField
	warn  int // which warning, for cfWarning
}

// confirmKeys is the confirmation's key map.
type confirmKeys struct {
	Next, Prev, Ack, Enter, Switch, Back keyDef
}

func newConfirmKeys(askPIN bool) confirmKeys {
	pin := ""
	if askPIN {
		pin = ", the PIN"
	}
	enterLong := "acknowledge the warning; in the amount" + pin + " field: on to the next field, from the last one to Confirm; " +
		"press the button under the cursor (Confirm not ready yet says what is missing)"
	return confirmKeys{
		Next:   newKey([]string{"tab", "down"}, "tab", "next").long("tab/↓", "next: each warning, the amount"+pin+", Cancel, Confirm"),
		Prev:   newKey([]string{"shift+tab", "up"}, "shift+tab", "back").long("shift+tab/↑", "previous"),
		Ack:    newKey([]string{" "}, "space", "acknowledge").long("space", "acknowledge the warning under the cursor (again: take it back)"),
		Enter:  newKey([]string{"enter"}, "enter", "press").long("enter", enterLong),
		Switch: newKey([]string{"left", "right"}, "←/→", "between Cancel and Confirm"),
		Back:   newKey([]string{"esc"}, "esc", "edit").long("esc", "back to the form to edit; nothing is sent"),
	}
}

// confirmScreen shows the whole review. Each warning is acknowledged one by
// one, the amount is typed exactly as shown, and (when the profile asks for
// it) the PIN. Focus starts on Cancel. It is a component: esc and Cancel
// ask the root for the form back, Confirm asks it to send.
type confirmScreen struct {
	ctx    *shared
	r      *payout.Review
	acked  []bool
	amount textinput.Model
	pin    pinField
	askPIN bool
	focus  confirmStop
	km     confirmKeys
	// said is the status line this screen set for the last key (what a
	// disabled Confirm or a field still lacks); the next key takes it away.
	said string
}

func newConfirmScreen(ctx *shared, r *payout.Review, askPIN bool) *confirmScreen {
	c := &confirmScreen{
		ctx:    ctx,
		r:      r,
		acked:  make([]bool, len(r.Warnings)),
		askPIN: askPIN,
		km:     newConfirmKeys(askPIN),
	}
	c.amount = textinput.New()
	c.amount.Prompt = ""
	c.amount.CharLimit = 40
	c.amount.Width = 30
	c.pin = newPINField()
	c.focus = confirmStop{field: cfCancel}
	c.syncKeys()
	return c
}

func (c *confirmScreen) init() tea.Cmd { return nil }

// stops lists the focus stops in order.
func (c *confirmScreen) stops() []confirmStop {
	out := make([]confirmStop, 0, len(c.r.Warnings)+4)
	for i := range c.r.Warnings {
		out = append(out, confirmStop{cfWarning, i})
	}
	out = append(out, confirmStop{field: cfAmount})
	if c.askPIN {
		out = append(out, confirmStop{field: cfPIN})
	}
	return append(out, confirmStop{field: cfCancel}, confirmStop{field: cfConfirm})
}

// on reports whether the focus is on f (any warning, for cfWarning).
func (c *confirmScreen) on(f confirmField) bool { return c.focus.field == f }

// onWarning reports whether the focus is on warning i.
func (c *confirmScreen) onWarning(i int) bool { return c.focus == confirmStop{cfWarning, i} }

func (c *confirmScreen) typing() bool { return c.on(cfAmount) || c.on(cfPIN) }

// amountMatches: the typed amount is the amount shown, as a number.
func (c *confirmScreen) amountMatches() bool {
	ok, _ := c.typedAmount()
	return ok
}

// typedAmount compares the typed amount with the amount shown, as numbers:
// "1.10" is "1.1", spaces around it do not count, and digit grouping is
// taken when it is right ("1,250.50"). problem is "" while nothing is typed,
// else why it does not match, in a few words.
func (c *confirmScreen) typedAmount() (ok bool, problem string) {
	v := strings.TrimSpace(c.amount.Value())
	if v == "" {
		return false, ""
	}
	shown := payout.GroupDigits(c.r.AmountText)
	plain := strings.ReplaceAll(v, ",", "")
	if plain != v && payout.GroupDigits(plain) != v {
		return false, "the digit grouping is wrong; type " + c.r.AmountText + " or " + shown
	}
	d, _, err := account.ParseAmount(plain)
	if err != nil {
		return false, "not an amount: " + fieldReason(err)
	}
	if !d.Equal(c.r.Amount) {
		return false, "does not match the amount shown (" + shown + ")"
	}
	return true, ""
}

func (c *confirmScreen) allAcked() bool {
	for _, a := range c.acked {
		if !a {
			return false
		}
	}
	return true
}

// canConfirm: every warning acknowledged, the amount typed, the PIN given.
func (c *confirmScreen) canConfirm() bool {
	if !c.allAcked() || !c.amountMatches() {
		return false
	}
	return !c.askPIN || c.pin.valid()
}

// syncKeys enables the keys that act where the focus is: space
// acknowledges a warning, and is typed into a field elsewhere; enter's
// words say where it goes from a field.
func (c *confirmScreen) syncKeys() {
	c.km.Ack.SetEnabled(c.on(cfWarning))
	c.km.Switch.SetEnabled(c.on(cfCancel) || c.on(cfConfirm))
	switch {
	case c.on(cfAmount) || c.on(cfPIN):
		if c.afterField().field == cfPIN {
			c.km.Enter.SetHelp("enter", "next field")
		} else {
			c.km.Enter.SetHelp("enter", "on to Confirm")
		}
	default:
		c.km.Enter.SetHelp("enter", "press")
	}
}

// fullKeys is the confirmation's whole key map, for ?.
func (c *confirmScreen) fullKeys() []key.Binding {
	k := c.km
	ks := append(fullOf(k.Next, k.Prev, k.Ack, k.Enter, k.Switch),
		helpRow("amount", "type the amount shown, in its field: "+payout.GroupDigits(c.r.AmountText)+" (as a number: 1.10 is 1.1)"))
	if c.askPIN {
		ks = append(ks, helpRow("PIN", "type the 6-digit PIN in its field; it is not kept"))
	}
	return append(ks,
		helpRow("Confirm", "sends once every warning is acknowledged and the amount"+map[bool]string{true: " and PIN are", false: " is"}[c.askPIN]+" typed"),
		k.Back.full())
}

func (c *confirmScreen) keys() []key.Binding {
	c.syncKeys()
	ks := []key.Binding{c.km.Next.Binding, c.km.Prev.Binding, c.km.Ack.Binding}
	if !c.on(cfWarning) {
		ks = append(ks, c.km.Enter.Binding)
	}
	return append(ks, c.km.Back.Binding)
}

// move moves the focus by delta stops, wrapping around.
func (c *confirmScreen) move(delta int) tea.Cmd {
	stops := c.stops()
	at := 0
	for i, s := range stops {
		if s == c.focus {
			at = i
		}
	}
	return c.setFocus(stops[step(at, len(stops), delta)])
}

func (c *confirmScreen) setFocus(to confirmStop) tea.Cmd {
	c.focus = to
	c.syncKeys()
	c.amount.Blur()
	c.pin.Blur()
	switch to.field {
	case cfAmount:
		return c.amount.Focus()
	case cfPIN:
		return c.pin.Focus()
	}
	return nil
}

func (c *confirmScreen) update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return c.updateInput(msg)
	}
	c.unsay()
	c.syncKeys()
	km := c.km
	switch {
	case km.Back.matches(k):
		c.pin.clear()
		c.ctx.ask(showMsg{screenTransfer})
		return nil
	case km.Next.matches(k):
		return c.move(1)
	case km.Prev.matches(k):
		return c.move(-1)
	case km.Switch.matches(k):
		if c.on(cfCancel) {
			return c.setFocus(confirmStop{field: cfConfirm})
		}
		return c.setFocus(confirmStop{field: cfCancel})
	case km.Ack.matches(k):
		i := c.focus.warn
		c.acked[i] = !c.acked[i]
		if c.acked[i] {
			return c.move(1)
		}
		return nil
	case km.Enter.matches(k):
		return c.press()
	}
	return c.updateInput(k)
}

// press is enter: it acknowledges the warning under the cursor, presses the
// button, or goes on from a field once what is typed there is right: to
// the PIN after the amount when one is asked, else to Confirm (which still
// takes an enter of its own). What is not right yet is said, not skipped.
func (c *confirmScreen) press() tea.Cmd {
	switch c.focus.field {
	case cfWarning:
		c.acked[c.focus.warn] = true
		return c.move(1)
	case cfAmount:
		if ok, problem := c.typedAmount(); !ok {
			if problem == "" {
				problem = "type the amount shown (" + payout.GroupDigits(c.r.AmountText) + ")"
			}
			c.say("The amount: " + problem + ".")
			return nil
		}
		return c.setFocus(c.afterField())
	case cfPIN:
		if !c.pin.valid() {
			c.say("The PIN is 6 digits.")
			return nil
		}
		return c.setFocus(c.afterField())
	case cfCancel:
		c.pin.clear()
		c.ctx.ask(showMsg{screenTransfer})
		c.ctx.setStatus("Not sent.", true)
		return nil
	case cfConfirm:
		if !c.canConfirm() {
			c.say("Not yet: " + strings.Join(c.missing(), ", ") + ".")
			return nil
		}
		send := sendPayoutMsg{review: c.r, asked: c.askPIN}
		if c.askPIN {
			send.pin = c.pin.Value()
		}
		c.pin.clear() // the PIN typed for this transfer is not kept
		c.ctx.ask(send)
		return nil
	}
	return c.move(1)
}

// afterField is where enter goes from the amount or the PIN: the PIN
// after the amount while it is not typed, else Confirm.
func (c *confirmScreen) afterField() confirmStop {
	if c.on(cfAmount) && c.askPIN && !c.pin.valid() {
		return confirmStop{field: cfPIN}
	}
	return confirmStop{field: cfConfirm}
}

// missing lists what Confirm still waits for, in the order of the screen,
// in few words: the status line is one line on the smallest terminal.
func (c *confirmScreen) missing() []string {
	var out, typed []string
	if n := len(c.acked) - countTrue(c.acked); n > 0 {
		out = append(out, plural(n, "warning")+" to acknowledge")
	}
	if !c.amountMatches() {
		typed = append(typed, "the amount")
	}
	if c.askPIN && !c.pin.valid() {
		typed = append(typed, "the PIN")
	}
	if len(typed) > 0 {
		out = append(out, joinAnd(typed)+" to type")
	}
	return out
}

// say puts a line about the key just pressed on the status line.
func (c *confirmScreen) say(s string) {
	c.said = s
	c.ctx.setStatus(s, false)
}

// unsay takes the line said for the last key off the status line, unless
// something else has been said since.
func (c *confirmScreen) unsay() {
	if c.said != "" && c.ctx.status == c.said {
		c.ctx.setStatus("", false)
	}
	c.said = ""
}

// joinAnd joins a list as a sentence does: "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// updateInput hands a message to the field with the focus, if any.
func (c *confirmScreen) updateInput(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch c.focus.field {
	case cfAmount:
		c.amount, cmd = c.amount.Update(msg)
	case cfPIN:
		c.pin.Model, cmd = c.pin.Update(msg)
	}
	return cmd
}

// view draws the confirmation; on a short terminal the blank lines go, so
// that the buttons are never below the bottom edge.
func (c *confirmScreen) view(height int) string {
	if v := c.render(""); lipgloss.Height(fitWidth(v, c.ctx.width-2)) <= height {
		return safeView(v)
	}
	return safeView(c.render("compact"))
}

// forgetSecrets drops the PIN typed, when the console locks.
func (c *confirmScreen) forgetSecrets() { c.pin.clear() }

func (c *confirmScreen) render(mode string) string {
	st := c.ctx.st
	gap := "\n"
	if mode == "compact" {
		gap = ""
	}
	return st.Title.Render("Confirm payout") + st.Subtle.Render("  — money sent cannot be called back") + "\n" + gap +
		c.reviewRows(st, c.ctx.width-2, mode == "compact") + c.warningsView(st, gap, c.ctx.width-2) + gap + c.fieldsView(st, gap)
}

// reviewRows is the payout as reviewed, a row per fact, w cells wide.
//
// compact (a short terminal, where not every line can be wrapped): the
// notes after the Mixin ID and the asset's name are shortened so that each
// row fits the width, rather than be cut at the edge.
func (c *confirmScreen) reviewRows(st Styles, w int, compact bool) string {
	r := c.r
	var b strings.Builder
	row := func(label, value string) {
		b.WriteString(st.Label.Render("  "+padRight(label, 14)) + value + "\n")
	}
	row("Pay", st.Money.Render(payout.GroupDigits(r.AmountText)+" "+truncate(r.Asset.Symbol, 12))+st.Subtle.Render("  ≈ "+usd(r.ValueUSD)+" USD"))
	// The name on a line of its own, cut to it; the ids the server verified
	// in their own rows under it, so that no name can push them away or
	// pass for them.
	idw := max(w-16, 12)
	name := nameText(r.Recipient.FullName)
	if n := lipgloss.Width(name); n > idw {
		cut := " (name cut: " + itoa(n) + " characters)"
		name = truncate(name, max(idw-len(cut), 8)) + st.Subtle.Render(cut)
	}
	row("To", st.Money.Render(name))
	idNote := "  (from the server; the name above is free text)"
	asset := truncate(r.Asset.Symbol, 12) + " · " + truncate(r.Asset.Name, 30)
	assetID := clean(r.Asset.AssetID)
	if compact {
		idNote = "  (from the server)"
		if room := w - 16 - lipgloss.Width(asset) - 3; lipgloss.Width(assetID) > room {
			assetID = truncate(assetID, max(room, 9))
		}
	}
	row("Mixin ID", st.ID.Render(clean(r.Recipient.IdentityNumber))+st.Subtle.Render(idNote))
	row("User id", st.ID.Render(clean(r.Recipient.UserID)))
	row("Asset", asset+st.Subtle.Render(" · "+assetID))
	row("Balance", money(r.Balance)+" → "+money(r.BalanceAfter)+" "+truncate(r.Asset.Symbol, 12))
	memo := clean(r.Memo)
	if memo == "" {
		memo = st.Subtle.Render("(none)")
	}
	row("Memo", memo)
	if c := r.Caps; c != nil {
		var parts []string
		if c.PerTransfer != "" {
			parts = append(parts, "per payout "+payout.GroupDigits(c.PerTransfer))
		}
		if c.Daily != "" {
			used := money(c.Used)
			if c.UsedElsewhere.IsPositive() {
				used += " (" + money(c.UsedElsewhere) + " by other consoles)"
			}
			parts = append(parts, "daily "+payout.GroupDigits(c.Daily)+": used "+used+", left after this "+money(c.LeftAfter))
		}
		row("Caps", strings.Join(parts, " · ")+" "+truncate(r.Asset.Symbol, 12))
	}
	row("Trace id", r.TraceID)
	if r.NewTrace {
		b.WriteString("  " + st.Subtle.Render("(a new trace id: the draft's earlier one was already used by a sent payout)") + "\n")
	}
	return b.String()
}

// warningsView lists the warnings, each with its checkbox.
func (c *confirmScreen) warningsView(st Styles, gap string, w int) string {
	if len(c.r.Warnings) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(gap + st.Warn.Render("  Warnings — acknowledge each one ("+itoa(countTrue(c.acked))+"/"+itoa(len(c.acked))+")") + "\n")
	width := w
	for i, w := range c.r.Warnings {
		// Wrapped here, never cut: it is acknowledged, so it must be read.
		line := marker(c.onWarning(i)) + checkbox(c.acked[i]) + " " + hang(clean(w.Text), 6, width)
		if c.onWarning(i) {
			line = st.Focused.Render(line)
		} else if !c.acked[i] {
			line = st.Warn.Render(line)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// fieldsView is the amount to type, the PIN when asked, and the buttons.
func (c *confirmScreen) fieldsView(st Styles, gap string) string {
	al := marker(c.on(cfAmount)) + "Type the amount to confirm (" + payout.GroupDigits(c.r.AmountText) + "): "
	if c.on(cfAmount) {
		al = st.Focused.Render(al)
	}
	mark, why := "", ""
	if ok, problem := c.typedAmount(); ok {
		mark = st.Good.Render(" ✓")
	} else if problem != "" {
		// What is wrong on a line of its own, under the field.
		mark, why = st.Error.Render(" ✗"), "    "+st.Error.Render("✗ "+problem)+"\n"
	}
	out := al + c.amount.View() + mark + "\n" + why
	if c.askPIN {
		out += c.pin.row(st, c.on(cfPIN))
	}
	return out + gap + "  " + st.button("Cancel", c.on(cfCancel), true) + "  " +
		st.button("Confirm and send", c.on(cfConfirm), c.canConfirm()) + "\n"
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
