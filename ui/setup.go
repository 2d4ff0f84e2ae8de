package ui

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
	"mixdesk/keystore"
)

// The setup form's focus order.
type sField int

const (
	sfName sField = iota
	sfClient
	sfSession
	sfKey
	sfToken
	sfSpend
	sfPIN
	sfPIN2
	sfKeep
	sfOverwrite
	sfSubmit
	sfCount
)

var setupLabels = [...]string{"Profile", "Client id", "Session id", "Private key", "PIN token", "Spend key", "PIN", "PIN again", "Keep PIN", "Overwrite", ""}

// It is a component: a profile set up is handed to the root to open.
type setupScreen struct {
	ctx       *shared
	env       account.Env             // the keyring and API the profile is checked with and saved to
	inputs    [sfKeep]textinput.Model // name … PIN again
	keep      bool
	overwrite bool
	exists    bool // the last save found a profile of that name
	focus     sField
	errs      [sfCount]string
	formErr   string
	busy      string // what is being checked
	gen       int
	canCancel bool
	// pasted is what the key field holds (a legacy key, a Safe keystore…),
	// read again only when the field changes.
	pasted account.Pasted

	km setupKeys
}

// setupKeys is the setup form's key map.
type setupKeys struct {
	Next, Prev, Toggle, Submit, Back keyDef
	// PEMBreak is a line break inside a PEM key being pasted (Enter, or
	// ctrl+j, a bare line feed): it stays in the key's field.
	PEMBreak keyDef
}

func newSetupKeys() setupKeys {
	return setupKeys{
		Next:     newKey([]string{"tab", "down", "enter"}, "tab/enter", "next field"),
		Prev:     newKey([]string{"shift+tab", "up"}, "shift+tab", "previous field"),
		Toggle:   newKey([]string{" "}, "space", "toggle"),
		Submit:   newKey([]string{"enter"}, "enter", "check and save"),
		Back:     newKey([]string{"esc"}, "esc", "cancel"),
		PEMBreak: newKey([]string{"enter", "ctrl+j"}, "enter", "next line of the key"),
	}
}

type setupDoneMsg struct {
	gen  int
	acct *account.Account
	err  error
	// checked: the form had errors, so only the key and the PIN token were
	// checked (nothing was sent); keyErrs holds what is wrong with them.
	checked bool
	keyErrs map[sField]string
}

func newSetupScreen(ctx *shared, env account.Env, name string) *setupScreen {
	s := &setupScreen{
		ctx:  ctx,
		env:  env,
		keep: true,
		km:   newSetupKeys(),
	}
	ph := [8]string{"treasury", "app UUID from the dashboard", "session UUID", "the whole key, or the Safe keystore JSON",
		"paste the PIN token", "Safe: the spend private key", "6 digits", "6 digits again"}
	limits := [8]int{keystore.MaxNameLen, 36, 36, 8192, 1024, 1024, 6, 6}
	for i := range s.inputs {
		in := textInput(ph[i], limits[i], 40)
		switch f := sField(i); {
		case f == sfPIN || f == sfPIN2:
			in = pinInput(ph[i], 40)
		case f >= sfKey:
			// Secrets are masked as they are typed or pasted.
			in.EchoMode = textinput.EchoPassword
			in.EchoCharacter = '•'
		}
		s.inputs[i] = in
	}
	s.inputs[sfName].SetValue(name)
	if name == "" {
		s.inputs[sfName].SetValue("treasury")
	}
	s.setFocus(sfClient)
	return s
}

func (s *setupScreen) typing() bool { return s.focus < sfKeep }

// syncKeys enables the keys that act where the focus is, and words the
// next key for the field: inside a PEM key, Enter is the key's.
func (s *setupScreen) syncKeys() {
	k := &s.km
	k.Toggle.SetEnabled(s.focus == sfKeep || s.focus == sfOverwrite)
	k.Submit.SetEnabled(s.focus == sfSubmit)
	k.PEMBreak.SetEnabled(s.focus == sfKey && (openPEM(s.value(sfKey)) || openJSON(s.value(sfKey))))
	if k.PEMBreak.Enabled() {
		k.Next.SetHelp("tab", "next field")
	} else {
		k.Next.SetHelp("tab/enter", "next field")
	}
}

func (s *setupScreen) keys() []key.Binding {
	s.syncKeys()
	k := s.km
	var ks []key.Binding
	switch {
	case k.PEMBreak.Enabled():
		ks = []key.Binding{k.PEMBreak.Binding, k.Next.Binding, k.Prev.Binding}
	case s.focus == sfSubmit:
		ks = []key.Binding{k.Submit.Binding, k.Prev.Binding}
	default:
		ks = []key.Binding{k.Next.Binding, k.Prev.Binding, k.Toggle.Binding}
	}
	if s.canCancel {
		ks = append(ks, k.Back.Binding)
	}
	return ks
}

func (s *setupScreen) setFocus(f sField) tea.Cmd {
	if f == sfOverwrite && !s.exists {
		f = sfSubmit
	}
	s.focus = f
	fields := make([]*textinput.Model, len(s.inputs))
	for i := range s.inputs {
		fields[i] = &s.inputs[i]
	}
	return focusField(int(f), fields...)
}

func (s *setupScreen) move(delta int) tea.Cmd {
	f := int(s.focus)
	for {
		f = (f + delta + int(sfCount)) % int(sfCount)
		if (sField(f) != sfOverwrite || s.exists) && !s.notNeeded(sField(f)) {
			break
		}
	}
	return s.setFocus(sField(f))
}

func (s *setupScreen) value(f sField) string { return s.inputs[f].Value() }

// notNeeded reports whether field f is not part of the profile being set
// up: with a Safe keystore pasted, the ids, PIN token and PIN are in the
// keystore or not needed (a Safe payout is signed with its spend key).
func (s *setupScreen) notNeeded(f sField) bool {
	switch {
	case s.pasted.Safe:
		switch f {
		case sfClient, sfSession, sfToken, sfSpend, sfPIN, sfPIN2, sfKeep:
			return true
		}
	case s.safeByFields():
		// A Safe keystore typed field by field: no PIN.
		switch f {
		case sfPIN, sfPIN2, sfKeep:
			return true
		}
	default:
		// The spend key is asked only after a bare hex seed (a Safe
		// session private key typed field by field, or a legacy Ed25519
		// seed, for which it stays empty).
		return f == sfSpend && !s.pasted.Seed
	}
	return false
}

// safeByFields reports whether the form holds a Safe keystore typed field
// by field: a spend key was given (app id in Client id, the session
// private key in Private key, the server public key in PIN token).
func (s *setupScreen) safeByFields() bool {
	return !s.pasted.Safe && strings.TrimSpace(s.value(sfSpend)) != ""
}

// keystoreJSON is the Safe keystore typed field by field, in the
// dashboard's JSON form.
func (s *setupScreen) keystoreJSON() string {
	js, _ := json.Marshal(map[string]string{
		"app_id": strings.TrimSpace(s.value(sfClient)), "session_id": strings.TrimSpace(s.value(sfSession)),
		"server_public_key": strings.TrimSpace(s.value(sfToken)), "session_private_key": strings.TrimSpace(s.value(sfKey)),
		"spend_private_key": strings.TrimSpace(s.value(sfSpend)),
	})
	return string(js)
}

// profile collects the form; the PIN is stored only when kept.
func (s *setupScreen) profile() keystore.Profile {
	p := keystore.Profile{KeepPIN: s.keep}
	p.ClientID, p.SessionID, p.PrivateKey = s.value(sfClient), s.value(sfSession), s.value(sfKey)
	p.PINToken, p.PIN = s.value(sfToken), s.value(sfPIN)
	return p
}

// fieldOf is the form field a refused setup names, or sfCount for the
// whole form.
func fieldOf(name string) sField {
	switch name {
	case account.FieldProfile:
		return sfName
	case account.FieldClientID:
		return sfClient
	case account.FieldSessionID:
		return sfSession
	case account.FieldPrivateKey:
		return sfKey
	case account.FieldPINToken:
		return sfToken
	case account.FieldPIN:
		return sfPIN
	}
	return sfCount
}

// errReason is what is wrong with a field of the form: as fieldReason
// says it, or the keyring's detail.
func errReason(err error) string {
	var fe *account.FieldError
	var ke *keystore.Error
	if !errors.As(err, &fe) && errors.As(err, &ke) && ke.Detail != "" {
		return ke.Detail
	}
	return fieldReason(err)
}

func (s *setupScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case setupDoneMsg:
		return s.onDone(msg)
	case tea.KeyMsg:
		if s.busy != "" {
			return nil // one check at a time; the form is frozen meanwhile
		}
		return s.onKey(msg)
	}
	if s.focus < sfKeep {
		var cmd tea.Cmd
		s.inputs[s.focus], cmd = s.inputs[s.focus].Update(msg)
		return cmd
	}
	return nil
}

// onDone takes the outcome of the check: an error goes under its field,
// a profile set up is opened.
func (s *setupScreen) onDone(msg setupDoneMsg) tea.Cmd {
	if msg.gen != s.gen {
		return nil
	}
	s.busy = ""
	for f, e := range msg.keyErrs {
		s.errs[f] = e
	}
	if msg.checked {
		return nil
	}
	if msg.err != nil {
		if errors.Is(msg.err, keystore.ErrExists) {
			s.exists = true
			s.errs[sfName] = "a profile with this name exists; turn Overwrite on to replace it, or choose another name"
			return s.setFocus(sfOverwrite)
		}
		var se *account.SetupError
		if errors.As(msg.err, &se) && fieldOf(se.Field) != sfCount {
			s.errs[fieldOf(se.Field)] = fieldMessage(se.Err)
		} else {
			s.formErr = explain(msg.err)
		}
		return nil
	}
	for i := range s.inputs { // nothing of the session stays in the form
		s.inputs[i].SetValue("")
	}
	s.ctx.ask(openedMsg{acct: msg.acct})
	return nil
}

func (s *setupScreen) onKey(k tea.KeyMsg) tea.Cmd {
	if k.Type == tea.KeyRunes {
		// Text, pasted or typed, even when it spells a key's name ("up",
		// "tab"): a terminal without bracketed paste sends a paste as runs
		// of runes.
		return s.edit(k)
	}
	s.syncKeys()
	km := s.km
	switch {
	case km.PEMBreak.matches(k):
		// A PEM key pasted by a terminal without bracketed paste: its line
		// breaks arrive as Enter. Inside an unfinished PEM block they are
		// the key's, so the whole key stays in its field.
		return s.edit(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'\n'}})
	case km.Back.matches(k):
		if s.canCancel && s.ctx.acct != nil {
			s.ctx.ask(showMsg{screenHome})
		}
		return nil
	case km.Submit.matches(k):
		return s.submit()
	case km.Next.matches(k):
		return s.move(1)
	case km.Prev.matches(k):
		return s.move(-1)
	case km.Toggle.matches(k):
		if s.focus == sfKeep {
			s.keep = !s.keep
		} else {
			s.overwrite = !s.overwrite
		}
		return nil
	}
	return s.edit(k)
}

// edit hands a key to the focused text field; an edit clears the field's
// error.
func (s *setupScreen) edit(msg tea.KeyMsg) tea.Cmd {
	if s.focus >= sfKeep {
		return nil
	}
	var cmd tea.Cmd
	in := &s.inputs[s.focus]
	before := in.Value()
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 {
		// A run of runes is inserted as text at the cursor: the field's
		// own key map would take one that spells "up" or "down" for a key.
		v := []rune(before)
		pos := in.Position()
		tail := len(v) - pos
		in.SetValue(string(v[:pos]) + string(msg.Runes) + string(v[pos:]))
		in.SetCursor(max(0, len([]rune(in.Value()))-tail))
	} else {
		*in, cmd = in.Update(msg)
	}
	if in.Value() != before {
		s.errs[s.focus] = ""
		if s.focus == sfKey {
			s.pasted = account.RecognisePasted(in.Value())
		}
		if s.focus == sfName {
			s.exists, s.overwrite = false, false
		}
	}
	return cmd
}

// openPEM reports whether v holds the start of a PEM block and not yet its
// end: a BEGIN line with no complete END line after it.
func openPEM(v string) bool {
	const begin, end, dashes = "-----BEGIN ", "-----END ", "-----"
	i := strings.LastIndex(v, begin)
	if i < 0 {
		return false
	}
	j := strings.Index(v[i:], end)
	return j < 0 || !strings.Contains(v[i+j+len(end):], dashes)
}

// openJSON reports whether v is the start of a JSON object not yet closed
// (a keystore pasted by a terminal without bracketed paste: its line breaks
// arrive as Enter).
func openJSON(v string) bool {
	v = strings.TrimSpace(v)
	return strings.HasPrefix(v, "{") && strings.Count(v, "{") > strings.Count(v, "}")
}

// submit checks the form, every field at once, and then the credentials
// against the API (the session, then the PIN), and only then saves the
// profile and opens it: the account layer does it in a command. A form with
// errors is not sent: its key and PIN token are still checked, so that
// their errors show with the others.
func (s *setupScreen) submit() tea.Cmd {
	ok := s.check()
	setup := account.Setup{Name: strings.TrimSpace(s.value(sfName)), Profile: s.profile(), Overwrite: s.overwrite && s.exists}
	if s.pasted.Safe || s.safeByFields() {
		if !s.safeProfile(&setup, ok) {
			return nil
		}
	} else if !ok {
		return s.checkKey(setup.Profile)
	}
	s.busy = "Checking the session with the API…"
	s.gen = s.ctx.nextGen()
	gen, env := s.gen, s.env
	// Setting up the open profile again (a new session) keeps its journal
	// open: the journal is locked while open and cannot be opened twice.
	if s.ctx.acct != nil && s.ctx.acct.Name == setup.Name {
		setup.Reuse = s.ctx.acct.Journal()
	}
	legacy := !s.pasted.Safe && !s.safeByFields()
	sessionOK := s.errs[sfSession] == ""
	return func() tea.Msg {
		if legacy {
			if errs := keyErrors(setup.Profile, sessionOK); errs != nil {
				return setupDoneMsg{gen: gen, checked: true, keyErrs: errs}
			}
		}
		ctx, cancel := within(timeoutSetup)
		defer cancel()
		acct, err := env.Setup(ctx, setup)
		return setupDoneMsg{gen: gen, acct: acct, err: err}
	}
}

// safeProfile reads the Safe keystore pasted or typed field by field into
// setup, and puts what is wrong with it under its field; it reports
// whether the form can be sent (ok: the rest of the form is good).
func (s *setupScreen) safeProfile(setup *account.Setup, ok bool) bool {
	text, at := s.value(sfKey), sfKey
	if s.safeByFields() {
		if !ok {
			return false // the keystore is made of the fields: their errors first
		}
		text, at = s.keystoreJSON(), sfSpend
	}
	p, err := account.SafeProfile(text)
	if err != nil {
		s.errs[at] = errReason(err)
		return false
	}
	setup.Profile = p
	return ok
}

// checkKey checks the key and PIN token of a form with errors, in a
// command: their errors join the form's, and nothing is sent.
func (s *setupScreen) checkKey(p keystore.Profile) tea.Cmd {
	if strings.TrimSpace(p.PrivateKey) == "" {
		return nil
	}
	s.busy = "Checking the key…"
	s.gen = s.ctx.nextGen()
	gen, sessionOK := s.gen, s.errs[sfSession] == ""
	return func() tea.Msg {
		return setupDoneMsg{gen: gen, checked: true, keyErrs: keyErrors(p, sessionOK)}
	}
}

func (s *setupScreen) view(height int) string {
	st := s.ctx.st
	var b strings.Builder
	b.WriteString(st.Title.Render("Set up an app session") + "\n")
	b.WriteString(st.Subtle.Render("Paste the session from the Mixin dashboard. A new session made in the dashboard expires the app's earlier sessions: set up the newest one. For a Safe app, paste its keystore JSON (spend key included) into Private key: the other fields are then not needed; or type it field by field (app id, session id, session private key, server public key as PIN token, then the spend key). Secrets go to the OS keyring only.") + "\n\n")
	for f := sfName; f < sfSubmit; f++ {
		if f == sfOverwrite && !s.exists {
			continue
		}
		l := marker(s.focus == f) + padRight(setupLabels[f], 13)
		if s.focus == f {
			l = st.Focused.Render(l)
		} else {
			l = st.Label.Render(l)
		}
		var v string
		switch {
		case s.notNeeded(f) && (f == sfPIN || f == sfPIN2 || f == sfKeep):
			v = st.Subtle.Render("no PIN: a Safe payout is signed with the keystore's spend key")
		case f == sfSpend && !s.pasted.Seed && !s.pasted.Safe:
			v = st.Subtle.Render("Safe only, after a hex session key; not needed here")
		case f == sfSpend && s.safeByFields():
			v = s.inputs[f].View() + st.Subtle.Render(" Safe session typed field by field")
		case s.notNeeded(f):
			v = st.Subtle.Render("not needed: read from the Safe keystore")
		case f == sfKeep:
			v = checkbox(s.keep) + " keep the PIN in the keyring (off: asked at every transfer)"
		case f == sfOverwrite:
			v = checkbox(s.overwrite) + " replace the existing profile " + strings.TrimSpace(s.value(sfName))
		case f == sfKey || f == sfToken || f == sfSpend:
			v = s.inputs[f].View()
			if n := len(s.value(f)); n > 0 {
				v += st.Subtle.Render(" " + itoa(n) + " chars")
			}
		default:
			v = s.inputs[f].View()
		}
		b.WriteString(l + v + "\n")
		if f == sfKey && s.pasted.Line != "" && s.errs[f] == "" {
			b.WriteString("               " + st.Subtle.Render("recognised: "+s.pasted.Line) + "\n")
		}
		if s.errs[f] != "" {
			b.WriteString("               " + st.Error.Render("✗ "+fieldText(s.errs[f])) + "\n")
		}
	}
	b.WriteString("\n  " + st.button("Check and save", s.focus == sfSubmit, s.busy == "") + "\n")
	switch {
	case s.busy != "":
		b.WriteString("\n" + st.Subtle.Render(s.busy) + "\n")
	case s.formErr != "":
		b.WriteString("\n" + st.Error.Render(s.formErr) + "\n")
	}
	return b.String()
}

func checkbox(on bool) string {
	if on {
		return "[x]"
	}
	return "[ ]"
}

// fullKeys: ? lists the help line's keys.
func (s *setupScreen) fullKeys() []key.Binding { return nil }
