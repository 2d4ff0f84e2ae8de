package ui

import (
	"errors"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
)

// textInput is a form's text field: no prompt (the form draws the label),
// at most limit characters, width cells wide.
func textInput(placeholder string, limit, width int) textinput.Model {
	in := textinput.New()
	in.Prompt = ""
	in.CharLimit = limit
	in.Width = width
	setPlaceholder(&in, placeholder)
	return in
}

// focusField focuses the field at index at and blurs the others (at out of
// range blurs them all, as when a button has the focus).
func focusField(at int, fields ...*textinput.Model) tea.Cmd {
	var cmd tea.Cmd
	for i, in := range fields {
		if i == at {
			cmd = in.Focus()
		} else {
			in.Blur()
		}
	}
	return cmd
}

// standInID is a well-formed UUID that is nobody's: it stands for the
// fields of a check that are not the one checked (the memo by the rail's
// rules, the key and PIN token of a session).
const standInID = "00000000-0000-4000-8000-000000000000"

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

// errLine is a field's error under it, in the style of every field
// message (fieldText), or "" when there is none.
func errLine(st Styles, s string) string {
	if s == "" {
		return ""
	}
	return fieldIndent + st.Error.Render("✗ "+fieldText(clean(s))) + "\n"
}

// memoField draws a memo field with its counter of characters, and its
// error under it.
func memoField(st Styles, in textinput.Model, focused bool, errText string) string {
	n := utf8.RuneCountInString(in.Value())
	counter := st.Subtle.Render(itoa(n) + "/140")
	if n > account.MaxMemoRunes {
		counter = st.Error.Render(itoa(n) + "/140")
	}
	return fieldLabel(st, "Memo", focused) + in.View() + " " + counter + "\n" + errLine(st, errText)
}

// fieldReason is the reason of a field error, or the error's text.
func fieldReason(err error) string {
	var fe *account.FieldError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return err.Error()
}
