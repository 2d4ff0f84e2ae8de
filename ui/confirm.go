package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"mixdesk/mixin"
	"mixdesk/payout"
)

// confirmScreen shows the whole review. Each warning is acknowledged one by
// one, the amount is typed exactly as shown, and (when the profile asks for
// it) the PIN. Focus starts on Cancel.
type confirmScreen struct {
	r      *payout.Review
	acked  []bool
	amount textinput.Model
	pin    textinput.Model
	askPIN bool
	focus  int // 0..len(warnings)-1: warnings; then amount, PIN (if asked), Cancel, Confirm

	kNext, kPrev, kAck, kEnter, kBack key.Binding
}

func newConfirmScreen(r *payout.Review, askPIN bool) *confirmScreen {
	c := &confirmScreen{
		r:      r,
		acked:  make([]bool, len(r.Warnings)),
		askPIN: askPIN,
		kNext:  bind([]string{"tab", "down"}, "tab", "next"),
		kPrev:  bind([]string{"shift+tab", "up"}, "shift+tab", "back"),
		kAck:   bind([]string{" "}, "space", "acknowledge"),
		kEnter: bind([]string{"enter"}, "enter", "press"),
		kBack:  bind([]string{"esc"}, "esc", "edit"),
	}
	c.amount = textinput.New()
	c.amount.Prompt = ""
	c.amount.CharLimit = 40
	c.amount.Width = 30
	c.pin = textinput.New()
	c.pin.Prompt = ""
	c.pin.Placeholder = "6 digits"
	c.pin.CharLimit = 6
	c.pin.Width = 10
	c.pin.EchoMode = textinput.EchoPassword
	c.pin.EchoCharacter = '•'
	c.focus = c.cancelIdx()
	return c
}

func (c *confirmScreen) init() tea.Cmd { return nil }

func (c *confirmScreen) amountIdx() int { return len(c.r.Warnings) }
func (c *confirmScreen) pinIdx() int {
	if c.askPIN {
		return c.amountIdx() + 1
	}
	return -1
}
func (c *confirmScreen) cancelIdx() int {
	if c.askPIN {
		return c.amountIdx() + 2
	}
	return c.amountIdx() + 1
}
func (c *confirmScreen) confirmIdx() int { return c.cancelIdx() + 1 }
func (c *confirmScreen) count() int      { return c.confirmIdx() + 1 }

func (c *confirmScreen) typing() bool { return c.focus == c.amountIdx() || c.focus == c.pinIdx() }

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
	d, _, err := mixin.ParseAmount(plain)
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
	return !c.askPIN || mixin.ValidatePIN(c.pin.Value()) == nil
}

// fullKeys is the confirmation's whole key map, for ?.
func (c *confirmScreen) fullKeys() []key.Binding {
	ks := []key.Binding{
		bind([]string{"tab", "down"}, "tab/↓", "next: each warning, the amount"+map[bool]string{true: ", the PIN", false: ""}[c.askPIN]+", Cancel, Confirm"),
		bind([]string{"shift+tab", "up"}, "shift+tab/↑", "previous"),
		bind([]string{" "}, "space", "acknowledge the warning under the cursor (again: take it back)"),
		bind([]string{"enter"}, "enter", "acknowledge the warning, or press the button under the cursor"),
		bind([]string{"left", "right"}, "←/→", "between Cancel and Confirm"),
		helpRow("amount", "type the amount shown, in its field: "+payout.GroupDigits(c.r.AmountText)+" (as a number: 1.10 is 1.1)"),
	}
	if c.askPIN {
		ks = append(ks, helpRow("PIN", "type the 6-digit PIN in its field; it is not kept"))
	}
	return append(ks,
		helpRow("Confirm", "sends once every warning is acknowledged and the amount"+map[bool]string{true: " and PIN are", false: " is"}[c.askPIN]+" typed"),
		bind([]string{"esc"}, "esc", "back to the form to edit; nothing is sent"))
}

func (c *confirmScreen) keys() []key.Binding {
	ks := []key.Binding{c.kNext, c.kPrev}
	if c.focus < len(c.r.Warnings) {
		ks = append(ks, c.kAck)
	}
	if c.focus >= c.cancelIdx() {
		ks = append(ks, c.kEnter)
	}
	return append(ks, c.kBack)
}

func (c *confirmScreen) setFocus(i int) tea.Cmd {
	c.focus = (i + c.count()) % c.count()
	c.amount.Blur()
	c.pin.Blur()
	switch c.focus {
	case c.amountIdx():
		return c.amount.Focus()
	case c.pinIdx():
		return c.pin.Focus()
	}
	return nil
}

func (c *confirmScreen) update(a *App, msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		var cmd tea.Cmd
		if c.focus == c.amountIdx() {
			c.amount, cmd = c.amount.Update(msg)
		} else if c.focus == c.pinIdx() {
			c.pin, cmd = c.pin.Update(msg)
		}
		return cmd
	}
	switch k.String() {
	case "esc":
		c.pin.SetValue("")
		a.screen = screenTransfer
		return nil
	case "tab", "down":
		return c.setFocus(c.focus + 1)
	case "shift+tab", "up":
		return c.setFocus(c.focus - 1)
	case "left", "right":
		if c.focus == c.cancelIdx() {
			return c.setFocus(c.confirmIdx())
		}
		if c.focus == c.confirmIdx() {
			return c.setFocus(c.cancelIdx())
		}
	case " ":
		if c.focus < len(c.r.Warnings) {
			c.acked[c.focus] = !c.acked[c.focus]
			if c.acked[c.focus] {
				return c.setFocus(c.focus + 1)
			}
			return nil
		}
	case "enter":
		switch {
		case c.focus < len(c.r.Warnings):
			c.acked[c.focus] = true
			return c.setFocus(c.focus + 1)
		case c.focus == c.cancelIdx():
			c.pin.SetValue("")
			a.screen = screenTransfer
			a.setStatus("Not sent.", true)
			return nil
		case c.focus == c.confirmIdx():
			if !c.canConfirm() {
				return nil
			}
			pin := a.conn.pin()
			if c.askPIN {
				pin = c.pin.Value()
			}
			c.pin.SetValue("") // the PIN typed for this transfer is not kept
			return a.startSend(c.r, pin)
		default:
			return c.setFocus(c.focus + 1)
		}
	}
	var cmd tea.Cmd
	switch c.focus {
	case c.amountIdx():
		c.amount, cmd = c.amount.Update(k)
	case c.pinIdx():
		c.pin, cmd = c.pin.Update(k)
	}
	return cmd
}

// view draws the confirmation; on a short terminal the blank lines go, so
// that the buttons are never below the bottom edge.
func (c *confirmScreen) view(a *App, height int) string {
	if v := c.render(a, ""); lipgloss.Height(fitWidth(v, a.width-2)) <= height {
		return safeView(v)
	}
	return safeView(c.render(a, "compact"))
}

func (c *confirmScreen) render(a *App, mode string) string {
	st := a.st
	r := c.r
	gap := "\n"
	if mode == "compact" {
		gap = ""
	}
	var b strings.Builder
	b.WriteString(st.Title.Render("Confirm payout") + st.Subtle.Render("  — money sent cannot be called back") + "\n" + gap)
	row := func(label, value string) {
		b.WriteString(st.Label.Render("  "+padRight(label, 14)) + value + "\n")
	}
	row("Pay", st.Money.Render(payout.GroupDigits(r.AmountText)+" "+truncate(r.Asset.Symbol, 12))+st.Subtle.Render("  ≈ "+usd(r.ValueUSD)+" USD"))
	// The name on a line of its own, cut to it; the ids the server verified
	// in their own rows under it, so that no name can push them away or
	// pass for them.
	idw := max(a.width-2-16, 12)
	name := nameText(r.Recipient.FullName)
	if n := lipgloss.Width(name); n > idw {
		cut := " (name cut: " + itoa(n) + " characters)"
		name = truncate(name, max(idw-len(cut), 8)) + st.Subtle.Render(cut)
	}
	row("To", st.Money.Render(name))
	row("Mixin ID", st.ID.Render(clean(r.Recipient.IdentityNumber))+st.Subtle.Render("  (from the server; the name above is free text)"))
	row("User id", st.ID.Render(clean(r.Recipient.UserID)))
	row("Asset", truncate(r.Asset.Symbol, 12)+" · "+truncate(r.Asset.Name, 30)+st.Subtle.Render(" · "+clean(r.Asset.AssetID)))
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
			parts = append(parts, "daily "+payout.GroupDigits(c.Daily)+": used "+money(c.Used)+", left after this "+money(c.LeftAfter))
		}
		row("Caps", strings.Join(parts, " · ")+" "+truncate(r.Asset.Symbol, 12))
	}
	row("Trace id", r.TraceID)
	if r.NewTrace {
		b.WriteString("  " + st.Subtle.Render("(a new trace id: the draft's earlier one was already used by a sent payout)") + "\n")
	}
	if len(r.Warnings) > 0 {
		b.WriteString(gap + st.Warn.Render("  Warnings — acknowledge each one ("+itoa(countTrue(c.acked))+"/"+itoa(len(c.acked))+")") + "\n")
		for i, w := range r.Warnings {
			line := marker(c.focus == i) + checkbox(c.acked[i]) + " " + clean(w.Text) // wrapped by View, never cut: it is acknowledged
			if c.focus == i {
				line = st.Focused.Render(line)
			} else if !c.acked[i] {
				line = st.Warn.Render(line)
			}
			b.WriteString(line + "\n")
		}
	}
	b.WriteString(gap)
	al := marker(c.focus == c.amountIdx()) + "Type the amount to confirm (" + payout.GroupDigits(r.AmountText) + "): "
	if c.focus == c.amountIdx() {
		al = st.Focused.Render(al)
	}
	mark, why := "", ""
	if ok, problem := c.typedAmount(); ok {
		mark = st.Good.Render(" ✓")
	} else if problem != "" {
		// What is wrong on a line of its own, under the field.
		mark, why = st.Error.Render(" ✗"), "    "+st.Error.Render("✗ "+problem)+"\n"
	}
	b.WriteString(al + c.amount.View() + mark + "\n" + why)
	if c.askPIN {
		pl := marker(c.focus == c.pinIdx()) + "PIN: "
		if c.focus == c.pinIdx() {
			pl = st.Focused.Render(pl)
		}
		b.WriteString(pl + c.pin.View() + "\n")
	}
	b.WriteString(gap + "  " + st.button("Cancel", c.focus == c.cancelIdx(), true) + "  " +
		st.button("Confirm and send", c.focus == c.confirmIdx(), c.canConfirm()) + "\n")
	return b.String()
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
