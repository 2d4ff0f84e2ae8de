package ui

import (
	"github.com/charmbracelet/bubbles/textinput"

	"mixdesk/account"
)

// pinInput is a field a PIN is typed into: six characters, masked as they
// are typed. The setup form's two PIN fields are such fields; pinField
// (the confirmation, the lock, the batch review) draws one with its label.
func pinInput(placeholder string, width int) textinput.Model {
	in := textInput(placeholder, 6, width)
	in.EchoMode = textinput.EchoPassword
	in.EchoCharacter = '•'
	return in
}

// pinField is the PIN asked for a payout, a batch or to unlock: never kept
// after it was used (clear), never drawn but as dots.
type pinField struct{ textinput.Model }

func newPINField() pinField { return pinField{pinInput("6 digits", 10)} }

// valid reports whether six digits are typed.
func (p pinField) valid() bool { return account.CheckPIN(p.Value()) == nil }

// clear forgets what was typed.
func (p *pinField) clear() { p.SetValue("") }

// row is the field's line: its label, marked when it has the focus.
func (p pinField) row(st Styles, focused bool) string {
	l := marker(focused) + "PIN: "
	if focused {
		l = st.Focused.Render(l)
	}
	return l + p.View() + "\n"
}
