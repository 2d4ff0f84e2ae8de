package ui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
	"mixdesk/addressbook"
	"mixdesk/payout/rail"
)

// The address book form's focus order.
type bField int

const (
	bfLabel bField = iota
	bfRecipient
	bfNote
	bfSave
	bfCount
)

// bookScreen lists the saved recipients and edits them. The book holds no
// secrets: labels, ids, names as resolved when saved, and notes.
type bookScreen struct {
	ctx     *shared
	filter  textinput.Model
	cursor  int
	entries []addressbook.Entry // the list after the filter

	editing  bool
	editOf   string // label of the entry being edited; "" = new
	label    textinput.Model
	rcpt     recipientField
	note     textinput.Model
	focus    bField
	errs     [bfCount]string
	formErr  string
	confirmD bool // delete asked, waiting for y
	// busy: an entry is being saved or removed (written to disk in a
	// command); the screen takes no key until it is done.
	busy bool
	gen  int      // the save or removal waited for
	life lifetime // the recipient's look-ups, ended when the book is left

	km bookKeys
}

// bookKeys is the address book's key map: the list, the filter being
// typed, the question before a delete, and the form.
type bookKeys struct {
	Up, Down, Filter, New, Edit, Delete, Back keyDef
	FilterDone                                keyDef
	Yes, Keep                                 keyDef
	Next, Prev, Save, Cancel                  keyDef
}

func newBookKeys() bookKeys {
	return bookKeys{
		Up:     newKey([]string{"up", "k"}, "", "").long("↑/↓ k/j", "move"),
		Down:   newKey([]string{"down", "j"}, "", ""),
		Filter: newKey([]string{"/"}, "/", "filter").long("/", "filter by label or name (esc or enter ends it)"),
		New:    newKey([]string{"n"}, "n", "new").long("n", "new entry"),
		Edit:   newKey([]string{"enter"}, "enter", "edit").long("enter", "edit the entry"),
		Delete: newKey([]string{"D"}, "D", "delete").long("D", "delete the entry (asks first)"),
		Back:   newKey(qBack, "esc/q", "back").long("esc/q", "back to the balances"),

		FilterDone: newKey([]string{"esc", "enter"}, "", ""),

		Yes: newKey([]string{"y"}, "y", "delete").long("y", "delete the entry"),
		// Any key but y keeps the entry; n is the one the help line names.
		Keep: newKey([]string{"n"}, "n", "keep").long("any other key", "keep it"),

		// As on the other forms: enter goes to the next field, and presses
		// the button (Save) when it has the focus.
		Next:   newKey([]string{"tab", "down", "enter"}, "tab/enter", "next field").long("tab/enter", "next field (↓ too)"),
		Prev:   newKey([]string{"shift+tab", "up"}, "shift+tab", "previous field").long("shift+tab/↑", "previous field"),
		Save:   newKey([]string{"enter"}, "enter", "save").long("enter", "on Save: save the entry (pressed before the form is ready, it says what is missing)"),
		Cancel: newKey([]string{"esc"}, "esc", "cancel").long("esc", "cancel (nothing is saved)"),
	}
}

// Answers of the address book's writes.
type (
	bookSavedMsg struct {
		gen   int
		entry addressbook.Entry
		err   error
	}
	bookRemovedMsg struct {
		gen   int
		label string
		err   error
	}
)

func (a *App) openBook() tea.Cmd {
	s := newBookScreen(&a.shared)
	s.reload()
	a.pages[screenBook] = s
	a.setScreen(screenBook)
	return nil
}

func newBookScreen(ctx *shared) *bookScreen {
	s := &bookScreen{ctx: ctx, km: newBookKeys()}
	s.filter = textinput.New()
	s.filter.Prompt = ""
	setPlaceholder(&s.filter, "type to filter by label or name")
	s.filter.Width = 40
	s.label = textInput("a short name, e.g. payroll-amara", 40, 44)
	s.rcpt = newRecipientField()
	s.note = textInput("optional", 140, 44)
	return s
}

// fields are the form's text fields, in focus order.
func (s *bookScreen) fields() []*textinput.Model {
	return []*textinput.Model{&s.label, &s.rcpt.input, &s.note}
}

// field is the text field f, or nil for the button.
func (s *bookScreen) field(f bField) *textinput.Model {
	if f >= bfSave {
		return nil
	}
	return s.fields()[f]
}

// left ends the recipient's look-ups (a write to the book is not one: the
// screen takes no key while it runs).
func (s *bookScreen) left() { s.life.end() }

func (s *bookScreen) typing() bool {
	return s.editing && s.focus < bfSave || !s.editing && s.filter.Focused()
}

func (s *bookScreen) keys() []key.Binding {
	k := s.km
	switch {
	case s.editing && s.focus < bfSave:
		return []key.Binding{k.Next.Binding, k.Prev.Binding, k.Cancel.Binding}
	case s.editing && s.ready():
		return []key.Binding{k.Save.Binding, k.Prev.Binding, k.Cancel.Binding}
	case s.editing:
		return []key.Binding{k.Prev.Binding, k.Cancel.Binding}
	}
	if s.confirmD {
		return []key.Binding{k.Yes.Binding, k.Keep.Binding}
	}
	return []key.Binding{k.Filter.Binding, k.New.Binding, k.Edit.Binding, k.Delete.Binding, k.Back.Binding}
}

func (s *bookScreen) reload() {
	q := strings.TrimSpace(s.filter.Value())
	if q == "" {
		s.entries = s.ctx.acct.Book.List()
	} else {
		s.entries = s.ctx.acct.Book.Match(q)
	}
	if s.cursor >= len(s.entries) {
		s.cursor = max(0, len(s.entries)-1)
	}
}

// startEdit opens the form, for a new entry (e nil) or an existing one.
func (s *bookScreen) startEdit(e *addressbook.Entry, prefill *rail.User) tea.Cmd {
	s.editing, s.errs, s.formErr = true, [bfCount]string{}, ""
	s.editOf = ""
	s.label.SetValue("")
	s.note.SetValue("")
	s.rcpt = newRecipientField()
	if e != nil {
		s.editOf = e.Label
		s.label.SetValue(e.Label)
		s.note.SetValue(e.Note)
		s.rcpt.set(&rail.User{UserID: e.UserID, IdentityNumber: e.IdentityNumber, FullName: e.FullName})
	}
	if prefill != nil {
		s.label.SetValue(labelFor(prefill.FullName))
		s.rcpt.set(prefill)
	}
	return s.setFocus(bfLabel)
}

// labelFor suggests a label from a name: lower case, words joined by "-".
func labelFor(name string) string {
	f := strings.Fields(strings.ToLower(clean(name)))
	l := strings.Join(f, "-")
	return truncate(l, 40)
}

func (s *bookScreen) setFocus(f bField) tea.Cmd {
	s.focus = f
	return focusField(int(f), s.fields()...)
}

func (s *bookScreen) ready() bool {
	return strings.TrimSpace(s.label.Value()) != "" && s.rcpt.ready()
}

func (s *bookScreen) update(msg tea.Msg) tea.Cmd {
	if cmd, ok := s.rcpt.update(msg, s.ctx.acct.Desk, &s.life); ok {
		return cmd
	}
	switch msg := msg.(type) {
	case bookSavedMsg:
		return s.onSaved(msg)
	case bookRemovedMsg:
		return s.onRemoved(msg)
	case saveRecipientMsg:
		return s.startEdit(nil, &msg.user)
	case tea.KeyMsg:
		if s.busy {
			return nil // one write at a time; the screen waits for it
		}
		if s.editing {
			return s.onFormKey(msg)
		}
		return s.onListKey(msg)
	}
	if in := s.field(s.focus); s.editing && in != nil {
		var cmd tea.Cmd
		*in, cmd = in.Update(msg)
		return cmd
	}
	if s.filter.Focused() {
		var cmd tea.Cmd
		s.filter, cmd = s.filter.Update(msg)
		return cmd
	}
	return nil
}

func (s *bookScreen) onListKey(k tea.KeyMsg) tea.Cmd {
	km := s.km
	if s.confirmD {
		s.confirmD = false
		if km.Yes.matches(k) && s.cursor < len(s.entries) {
			return s.remove(s.entries[s.cursor].Label)
		}
		return nil
	}
	if s.filter.Focused() {
		switch {
		case km.FilterDone.matches(k):
			s.filter.Blur()
			return nil
		case !km.Up.matches(k) && !km.Down.matches(k) || k.Type == tea.KeyRunes:
			// Letters (k and j too) are the filter's; the arrows move.
			var cmd tea.Cmd
			s.filter, cmd = s.filter.Update(k)
			s.reload()
			return cmd
		}
	}
	switch {
	case km.Back.matches(k):
		s.ctx.ask(showMsg{screenHome})
	case km.Filter.matches(k):
		return s.filter.Focus()
	case km.Up.matches(k):
		s.cursor = max(0, s.cursor-1)
	case km.Down.matches(k):
		s.cursor = min(max(0, len(s.entries)-1), s.cursor+1)
	case km.New.matches(k):
		return s.startEdit(nil, nil)
	case km.Edit.matches(k):
		if s.cursor < len(s.entries) {
			e := s.entries[s.cursor]
			return s.startEdit(&e, nil)
		}
	case km.Delete.matches(k):
		if s.cursor < len(s.entries) {
			s.confirmD = true
		}
	}
	return nil
}

// remove deletes an entry from the book (the file is written in a
// command); onRemoved says so.
func (s *bookScreen) remove(label string) tea.Cmd {
	s.busy = true
	s.gen = s.ctx.nextGen()
	book, gen := s.ctx.acct.Book, s.gen
	return func() tea.Msg {
		return bookRemovedMsg{gen: gen, label: label, err: book.Remove(label)}
	}
}

func (s *bookScreen) onRemoved(msg bookRemovedMsg) tea.Cmd {
	if msg.gen != s.gen {
		return nil
	}
	s.busy = false
	if msg.err != nil {
		s.ctx.setStatus("Not deleted: "+explain(msg.err), false)
	} else {
		s.ctx.setStatus("Deleted "+clean(msg.label)+" from the address book.", true)
	}
	s.reload()
	return nil
}

func (s *bookScreen) onFormKey(k tea.KeyMsg) tea.Cmd {
	km := s.km
	switch {
	case km.Cancel.matches(k):
		s.editing = false
		return nil
	case s.focus == bfSave && km.Save.matches(k):
		return s.save()
	case km.Next.matches(k):
		return s.setFocus((s.focus + 1) % bfCount)
	case km.Prev.matches(k):
		return s.setFocus((s.focus + bfCount - 1) % bfCount)
	}
	in := s.field(s.focus)
	if in == nil {
		return nil
	}
	before := in.Value()
	var cmd tea.Cmd
	*in, cmd = in.Update(k)
	if in.Value() == before {
		return cmd
	}
	s.errs[s.focus], s.formErr = "", ""
	if s.focus == bfRecipient {
		return tea.Batch(cmd, s.rcpt.edited(s.ctx.nextGen()))
	}
	return cmd
}

// save writes the entry to the book (the file is written in a command);
// onSaved takes the answer.
func (s *bookScreen) save() tea.Cmd {
	if !s.ready() {
		s.formErr = "A label and a recipient that resolves are needed."
		return nil
	}
	e := addressbook.Entry{
		Label: strings.TrimSpace(s.label.Value()), UserID: s.rcpt.user.UserID,
		IdentityNumber: s.rcpt.user.IdentityNumber, FullName: s.rcpt.user.FullName,
		Note: strings.TrimSpace(s.note.Value()), SavedAt: s.ctx.now(),
	}
	s.busy = true
	s.gen = s.ctx.nextGen()
	book, gen, replace := s.ctx.acct.Book, s.gen, s.editOf
	return func() tea.Msg {
		return bookSavedMsg{gen: gen, entry: e, err: book.Save(e, replace)}
	}
}

// onSaved puts a refusal under its field, or closes the form.
func (s *bookScreen) onSaved(msg bookSavedMsg) tea.Cmd {
	if msg.gen != s.gen {
		return nil
	}
	s.busy = false
	if err := msg.err; err != nil {
		var fe *account.FieldError
		if errors.As(err, &fe) {
			switch fe.Field {
			case addressbook.FieldLabel:
				s.errs[bfLabel] = fe.Reason
			case addressbook.FieldUserID:
				s.errs[bfRecipient] = fe.Reason
			case addressbook.FieldNote:
				s.errs[bfNote] = fe.Reason
			default:
				s.formErr = explain(err)
			}
			return nil
		}
		s.formErr = "Not saved: " + explain(err)
		return nil
	}
	e := msg.entry
	s.editing = false
	s.ctx.setStatus("Saved "+clean(e.Label)+" ("+truncate(nameText(e.FullName), 40)+") in the address book.", true)
	s.reload()
	return nil
}

func (s *bookScreen) view(height int) string {
	if s.editing {
		return safeView(s.formView())
	}
	return safeView(s.listView(height))
}

// fullKeys is the address book's whole key map, for ?.
func (s *bookScreen) fullKeys() []key.Binding {
	k := s.km
	if s.editing {
		return fullOf(k.Next, k.Prev, k.Save, k.Cancel)
	}
	if s.confirmD {
		return fullOf(k.Yes, k.Keep)
	}
	return fullOf(k.Up, k.Filter, k.New, k.Edit, k.Delete, k.Back)
}

func (s *bookScreen) listView(height int) string {
	st := s.ctx.st
	var b strings.Builder
	b.WriteString(st.Title.Render("Address book") + st.Subtle.Render("  "+plural(len(s.ctx.acct.Book.List()), "saved recipient")) + "\n")
	fl := "  Filter: "
	if s.filter.Focused() {
		fl = st.Focused.Render("› Filter: ")
	}
	b.WriteString(fl + s.filter.View() + "\n\n")
	w := s.ctx.width - 2
	labW, idW := 22, 12
	nameW := max(10, (w-labW-idW-4)/2)
	noteW := max(6, w-labW-idW-nameW-4)
	b.WriteString(st.Label.Render("  "+padRight("LABEL", labW)+padRight("NAME (AS SAVED)", nameW)+padRight("MIXIN ID", idW)+"NOTE") + "\n")
	rows := max(1, height-7)
	start := 0
	if s.cursor >= rows {
		start = s.cursor - rows + 1
	}
	for i := start; i < len(s.entries) && i < start+rows; i++ {
		e := s.entries[i]
		line := padRight(truncate(e.Label, labW-1), labW) + padRight(truncate(nameText(e.FullName), nameW-1), nameW) +
			padRight(truncate(e.IdentityNumber, idW-1), idW) + truncate(e.Note, noteW)
		if i == s.cursor {
			b.WriteString(st.Focused.Render(listMark+line) + "\n")
		} else {
			b.WriteString("  " + line + "\n")
		}
	}
	if len(s.entries) == 0 {
		b.WriteString(st.Subtle.Render("  No saved recipient. n adds one; a payout to a new recipient offers to save it.") + "\n")
	}
	if s.confirmD && s.cursor < len(s.entries) {
		b.WriteString("\n" + st.Warn.Render("Delete "+clean(s.entries[s.cursor].Label)+"? y deletes, any other key keeps it.") + "\n")
	}
	b.WriteString("\n" + st.Subtle.Render("The book: "+s.ctx.acct.Book.Path()) + "\n")
	return b.String()
}

func (s *bookScreen) formView() string {
	st := s.ctx.st
	var b strings.Builder
	title := "New address book entry"
	if s.editOf != "" {
		title = "Edit " + truncate(s.editOf, 40)
	}
	b.WriteString(st.Title.Render(title) + "\n\n")
	names := [3]string{"Label", "Recipient", "Note"}
	for f := bfLabel; f < bfSave; f++ {
		b.WriteString(fieldLabel(st, names[f], s.focus == f) + s.field(f).View() + "\n")
		if f == bfRecipient {
			b.WriteString(s.rcpt.status(st, s.ctx.width-2))
		}
		b.WriteString(errLine(st, s.errs[f]))
	}
	b.WriteString("\n  " + st.button("Save", s.focus == bfSave, s.ready() && !s.busy) + "\n")
	if s.busy {
		b.WriteString("\n" + st.Subtle.Render("Saving…") + "\n")
	}
	if s.formErr != "" {
		b.WriteString("\n" + st.Error.Render(clean(s.formErr)) + "\n")
	}
	b.WriteString("\n" + st.Subtle.Render(para("The name is saved as the server gives it now; a review later says when it no longer matches.", s.ctx.width-2, "")) + "\n")
	return b.String()
}
