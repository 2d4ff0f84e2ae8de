package ui

import (
	"context"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/payout/rail"
)

// resolveDelay is how long typing must pause before the recipient is looked up.
const resolveDelay = 400 * time.Millisecond

// recipientResolver looks a recipient up with the server: a user id or a
// Mixin ID number (or a label of the address book).
type recipientResolver interface {
	Recipient(ctx context.Context, q string) (*rail.User, error)
}

// recipientField is a recipient typed into a form, the one of the transfer
// form and of the address book's: it is looked up once typing pauses for
// resolveDelay, and an answer counts only for the text still in the field.
type recipientField struct {
	input     textinput.Model
	user      *rail.User // what the text resolved to
	resolved  string     // the text user is for
	err       string     // why the text does not resolve
	gen       int        // the look-up waited for; earlier ones are dropped
	resolving bool       // a look-up is due or on its way
	// showLookup draws "looking up…" while resolving.
	showLookup bool
}

type (
	resolveTickMsg struct{ gen int }
	recipientMsg   struct {
		gen  int
		q    string // what was looked up
		user *rail.User
		err  error
	}
)

func newRecipientField() recipientField {
	return recipientField{input: textInput("user UUID or Mixin ID number", 36, 44)}
}

// text is the recipient as typed, without the spaces around it.
func (f *recipientField) text() string { return strings.TrimSpace(f.input.Value()) }

// set fills the field with a recipient already resolved.
func (f *recipientField) set(u *rail.User) {
	f.input.SetValue(u.UserID)
	f.user, f.resolved, f.err = u, u.UserID, ""
}

// ready reports whether the text resolved, and is still what was typed.
func (f *recipientField) ready() bool { return f.user != nil && f.text() == f.resolved }

// edited follows a change of the text (gen numbers the new look-up): the
// recipient is looked up once typing pauses.
func (f *recipientField) edited(gen int) tea.Cmd {
	f.user, f.err = nil, ""
	f.gen = gen
	f.resolving = f.text() != ""
	return tea.Tick(resolveDelay, func(time.Time) tea.Msg { return resolveTickMsg{gen: gen} })
}

// lookUpNow looks the text up at once (a saved recipient was picked).
func (f *recipientField) lookUpNow(gen int) tea.Cmd {
	f.user, f.err = nil, ""
	f.gen = gen
	f.resolving = true
	return func() tea.Msg { return resolveTickMsg{gen: gen} }
}

// update takes the field's messages: the pause is over (the look-up goes
// out through r, in the lifetime of the screen), or its answer is in. ok
// is false for any other message.
func (f *recipientField) update(msg tea.Msg, r recipientResolver, life *lifetime) (cmd tea.Cmd, ok bool) {
	switch msg := msg.(type) {
	case resolveTickMsg:
		if msg.gen != f.gen {
			return nil, true
		}
		q := f.text()
		if q == "" {
			f.resolving = false
			return nil, true
		}
		gen := f.gen
		ctx, cancel := life.within(timeoutLookup)
		return func() tea.Msg {
			defer cancel()
			u, err := r.Recipient(ctx, q)
			return recipientMsg{gen: gen, q: q, user: u, err: err}
		}, true
	case recipientMsg:
		if msg.gen != f.gen || msg.q != f.text() {
			return nil, true // an answer for an earlier text or an earlier form
		}
		f.resolving = false
		if msg.err != nil {
			f.user, f.err = nil, fieldMessage(msg.err)
			return nil, true
		}
		f.user, f.err, f.resolved = msg.user, "", msg.q
		return nil, true
	}
	return nil, false
}

// status is the line under the field: the look-up under way, why the text
// does not resolve, or who it resolved to. The name is cut so that the
// ids the server gave stay on the line.
func (f *recipientField) status(st Styles, w int) string {
	switch {
	case f.resolving && f.showLookup:
		return fieldIndent + st.Subtle.Render("looking up…") + "\n"
	case f.err != "":
		return errLine(st, f.err)
	case f.user != nil:
		return fieldIndent + hang(st.Good.Render("✓ "+truncate(nameText(f.user.FullName), 64))+st.Subtle.Render(" · Mixin ID ")+
			st.ID.Render(clean(f.user.IdentityNumber))+st.Subtle.Render(" · "+clean(f.user.UserID)), len(fieldIndent), w) + "\n"
	}
	return ""
}
