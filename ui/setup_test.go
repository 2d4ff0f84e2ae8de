package ui

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
	"mixdesk/keystore"
	"mixdesk/mixin"
)

// fillSetup types a session into the setup form, which opens with the
// focus on Client id, and moves the focus to "Check and save".
func fillSetup(f *flow, c mixin.Credentials, pin, pin2 string) {
	for _, v := range []string{c.ClientID, c.SessionID, c.PrivateKey, c.PINToken, pin, pin2} {
		f.typ(v)
		f.press(tea.KeyTab)
	}
	f.press(tea.KeyTab) // Keep PIN → Check and save (Overwrite is hidden)
}

// fieldError returns the line under the form field with this label, which
// is where the field's error is shown.
func fieldError(t *testing.T, view, label string) string {
	t.Helper()
	re := regexp.MustCompile(`^\s*(› )?` + regexp.QuoteMeta(label) + `\s+[^\sA-Za-z]`)
	lines := strings.Split(view, "\n")
	for i, l := range lines {
		if re.MatchString(l) {
			if i+1 < len(lines) {
				return lines[i+1]
			}
			return ""
		}
	}
	t.Fatalf("no field %q on the screen:\n%s", label, view)
	return ""
}

func storedNothing(t *testing.T, r *rig) {
	t.Helper()
	if u := r.mem.Users(r.store.Service()); len(u) != 0 {
		t.Errorf("the keyring holds %v, want nothing", u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if def, err := r.store.Default(ctx); (err != nil && !errors.Is(err, keystore.ErrNotFound)) || def != "" {
		t.Errorf("default profile = %q, %v; want none", def, err)
	}
}

func TestSetupFirstStartSavesProfileAndOpensHome(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{noProfile: true})
	f := r.start(termW, termH)
	f.waitFor("Set up an app session")

	v := f.view()
	checkGolden(t, "empty", v, termW)
	// NO_COLOR: the focused field keeps a visible marker.
	mustContain(t, v, "› Client id")
	if n := r.calls.total(); n != 0 {
		t.Errorf("the empty setup form made %d API calls", n)
	}

	c := r.world.Operator
	if strings.ContainsAny(c.PrivateKey, "\n\r") {
		t.Fatal("an Ed25519 key is expected on one line")
	}
	fillSetup(f, c, c.PIN, c.PIN)
	v = f.view()
	// NO_COLOR: the focused button is framed.
	mustContain(t, v, "> Check and save <", "[x] keep the PIN", "86 chars")
	// Secrets are masked on screen.
	mustNotContain(t, v, c.PrivateKey[:12], c.PINToken[:12], c.PIN)
	mustContain(t, v, strings.Repeat("•", 6))

	f.press(tea.KeyEnter)
	f.waitHome()
	a := f.final()

	v = a.View()
	mustContain(t, v, "mixdesk", "treasury", "Treasury Desk", "SANDBOX",
		"BTC", "Bitcoin", "2.5", "ETH", "40", "USDT", "50,000", "Balances as of")
	if a.screen != screenHome {
		t.Errorf("screen = %v, want home", a.screen)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	def, err := r.store.Default(ctx)
	if err != nil || def != profileName {
		t.Errorf("default profile = %q, %v; want %q", def, err, profileName)
	}
	p, err := r.store.Load(ctx, profileName)
	if err != nil {
		t.Fatal(err)
	}
	if p.ClientID != c.ClientID || p.SessionID != c.SessionID || p.PrivateKey != c.PrivateKey ||
		p.PINToken != c.PINToken || p.PIN != c.PIN || !p.KeepPIN {
		t.Errorf("stored profile %v does not hold the session typed in", p)
	}
	for _, fld := range []sField{sfClient, sfSession, sfKey, sfToken, sfPIN, sfPIN2} {
		if got := a.setup().value(fld); got != "" {
			t.Errorf("setup field %s still holds %d characters after saving", setupLabels[fld], len(got))
		}
	}
	if n := r.calls.count("POST /pin/verify"); n != 1 {
		t.Errorf("POST /pin/verify made %d times, want 1", n)
	}
}

func TestSetupWrongPINShowsErrorUnderPINAndSavesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{noProfile: true})
	f := r.start(termW, termH)
	f.waitFor("Set up an app session")

	c := r.world.Operator
	fillSetup(f, c, r.wrongPIN(), r.wrongPIN())
	f.press(tea.KeyEnter)
	f.waitFor("PIN incorrect")
	a := f.final()

	v := a.View()
	if a.screen != screenSetup {
		t.Fatalf("screen = %v, want setup", a.screen)
	}
	if got := fieldError(t, v, "PIN"); !strings.Contains(got, "✗ PIN incorrect") {
		t.Errorf("line under the PIN field = %q, want the PIN-incorrect error:\n%s", got, v)
	}
	fitsWidth(t, v, termW)
	mustContain(t, flat(v), "Five wrong PINs in 24 hours lock it.")
	if got := fieldError(t, v, "Private key"); strings.Contains(got, "✗") {
		t.Errorf("an error shows under the key field: %q", got)
	}
	storedNothing(t, r)
	if n := r.calls.count("POST /pin/verify"); n != 1 {
		t.Errorf("POST /pin/verify made %d times, want 1 (a wrong PIN counts toward the lock)", n)
	}
	// The form keeps what was typed, so that the operator can fix the PIN.
	if a.setup().value(sfKey) != c.PrivateKey {
		t.Error("the private key was cleared after a wrong PIN")
	}
}

func TestSetupBadKeyShowsErrorUnderKeyWithoutNetwork(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{noProfile: true})
	f := r.start(termW, termH)
	f.waitFor("Set up an app session")

	c := r.world.Operator
	c.PrivateKey = "not-a-key"
	fillSetup(f, c, c.PIN, c.PIN)
	f.press(tea.KeyEnter)
	f.waitFor("✗")
	a := f.final()

	v := a.View()
	if got := fieldError(t, v, "Private key"); !strings.Contains(got, "✗ ") {
		t.Errorf("line under the key field = %q, want an error:\n%s", got, v)
	}
	if got := fieldError(t, v, "PIN"); strings.Contains(got, "✗") {
		t.Errorf("an error shows under the PIN field: %q", got)
	}
	mustNotContain(t, v, "Checking the session")
	if n := r.calls.total(); n != 0 {
		t.Errorf("a bad key made %d API calls, want none", n)
	}
	storedNothing(t, r)
}

func TestSetupPINsDifferIsCaughtLocally(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{noProfile: true})
	f := r.start(termW, termH)
	f.waitFor("Set up an app session")

	c := r.world.Operator
	fillSetup(f, c, c.PIN, r.wrongPIN())
	f.press(tea.KeyEnter)
	f.waitFor("differ")
	a := f.final()

	if got := fieldError(t, a.View(), "PIN again"); !strings.Contains(got, "✗ the two PINs differ") {
		t.Errorf("line under PIN again = %q", got)
	}
	if n := r.calls.total(); n != 0 {
		t.Errorf("%d API calls, want none", n)
	}
	storedNothing(t, r)
}

// pasteRaw sends text as a terminal without bracketed paste sends a paste:
// each line's characters as one run of runes, each line break as Enter.
func pasteRaw(f *flow, text string) {
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			f.press(tea.KeyEnter)
		}
		if line != "" {
			f.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(line)})
		}
	}
}

// TestSetupPEMPastedWithoutBracketedPaste: a multi-line PEM key pasted by a
// terminal without bracketed paste stays whole in the private key field
// (its line breaks do not move the focus on), the Enter after its END line
// moves on, and the session is saved with that key.
func TestSetupPEMPastedWithoutBracketedPaste(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{noProfile: true})
	c, _, err := r.srv.NewAppSession("RSA Desk", mixin.KeyRSA, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.TrimSpace(c.PrivateKey), "\n"); n < 3 {
		t.Fatalf("the RSA key has %d line breaks; the test needs a multi-line PEM", n)
	}
	f := r.start(termW, termH)
	f.waitFor("Set up an app session")
	f.typ(c.ClientID)
	f.press(tea.KeyTab)
	f.typ(c.SessionID)
	f.press(tea.KeyTab)
	f.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("-----BEGIN RSA PRIVATE KEY-----")})
	f.press(tea.KeyEnter)
	var focus sField
	var help string
	f.probe(func(a *App) { focus, help = a.setup().focus, a.View() })
	if focus != sfKey {
		t.Fatalf("Enter after the BEGIN line moved the focus to %s", setupLabels[focus])
	}
	mustContain(t, help, "enter next line of the key", "tab next field")
	// The rest of the key, as the terminal sends it; the paste ends with a
	// line break, which moves on to the PIN token.
	pasteRaw(f, strings.TrimPrefix(strings.TrimRight(c.PrivateKey, "\n"), "-----BEGIN RSA PRIVATE KEY-----\n")+"\n")
	f.probe(func(a *App) { focus = a.setup().focus })
	if focus != sfToken {
		t.Fatalf("after the key the focus is on %s, want %s", setupLabels[focus], setupLabels[sfToken])
	}
	for _, v := range []string{c.PINToken, c.PIN, c.PIN} {
		f.typ(v)
		f.press(tea.KeyTab)
	}
	f.press(tea.KeyTab)
	var fields [sfCount]string
	f.probe(func(a *App) {
		for i := sfName; i <= sfPIN2; i++ {
			fields[i] = a.setup().value(i)
		}
	})
	if fields[sfClient] != c.ClientID || fields[sfSession] != c.SessionID || fields[sfToken] != c.PINToken || fields[sfPIN] != c.PIN {
		t.Fatalf("the key spread over other fields: client %q session %q token %d chars", fields[sfClient], fields[sfSession], len(fields[sfToken]))
	}
	if got := strings.Join(strings.Fields(fields[sfKey]), ""); got != strings.Join(strings.Fields(c.PrivateKey), "") {
		t.Fatalf("the key field holds %d characters, not the whole key", len(fields[sfKey]))
	}
	f.press(tea.KeyEnter)
	f.waitHome()
	a := f.final()
	if a.screen != screenHome {
		t.Fatalf("screen %v:\n%s", a.screen, a.View())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := r.store.Load(ctx, profileName)
	if err != nil {
		t.Fatal(err)
	}
	if p.ClientID != c.ClientID {
		t.Fatalf("stored client %s, want %s", p.ClientID, c.ClientID)
	}
}

// TestSetupRunesSpellingAKeyAreText: a run of runes that spells a key's name
// (as a paste may be cut by the terminal) is text for the field, not a key.
func TestSetupRunesSpellingAKeyAreText(t *testing.T) {
	t.Parallel()
	s := newSetupScreen(testShared(termW, termH), account.Env{}, "")
	for _, w := range []string{"up", "tab", "down", "enter"} {
		s.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(w)})
	}
	if s.focus != sfClient || s.value(sfClient) != "uptabdownenter" {
		t.Fatalf("focus %s, client id %q", setupLabels[s.focus], s.value(sfClient))
	}
}

// TestSetupShowsEveryErrorAtOnce: one submit shows what is wrong with every
// field (it once showed the PIN's, then at the next submit the client id's,
// then the key's), and nothing is sent while any field is wrong.
func TestSetupShowsEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{noProfile: true})
	f := r.start(termW, termH)
	f.waitFor("Set up an app session")

	c := r.world.Operator
	c.ClientID = "8dcf823d-9eb3"
	c.PrivateKey = "not-a-key"
	fillSetup(f, c, "12", "12")
	f.press(tea.KeyEnter)
	f.waitFor("not a PEM key")
	a := f.final()

	v := a.View()
	checkGolden(t, "all_errors", v, termW)
	for label, want := range map[string]string{
		"Client id":   "✗ not a UUID (want 36 characters",
		"Private key": "✗ not a PEM key, a base64url Ed25519 key or a hex Ed25519 seed",
		"PIN":         "✗ must be exactly 6 digits",
	} {
		if got := fieldError(t, v, label); !strings.Contains(got, want) {
			t.Errorf("line under %s = %q, want %q", label, got, want)
		}
	}
	mustNotContain(t, v, "Checking")
	if n := r.calls.total(); n != 0 {
		t.Errorf("a form with errors made %d API calls, want none", n)
	}
	storedNothing(t, r)
}

// TestSetupChecksThePINTokenWithTheOtherFields: with a good key, a PIN
// token that does not open with it is named beside the form's other
// errors, in the same submit.
func TestSetupChecksThePINTokenWithTheOtherFields(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{noProfile: true})
	s := newSetupScreen(testShared(termW, termH), r.deps.Env, "")
	c := r.world.Operator
	for f, v := range map[sField]string{sfClient: "not-an-id", sfSession: c.SessionID, sfKey: c.PrivateKey, sfToken: "AAAA", sfPIN: c.PIN, sfPIN2: "000000"} {
		s.inputs[f].SetValue(v)
	}
	s.pasted = account.RecognisePasted(c.PrivateKey)
	cmd := s.submit()
	if cmd == nil {
		t.Fatal("the key and PIN token were not checked")
	}
	s.update(cmd())
	for f, want := range map[sField]bool{sfClient: true, sfToken: true, sfPIN2: true, sfKey: false, sfSession: false, sfPIN: false} {
		if got := s.errs[f] != ""; got != want {
			t.Errorf("%s: error %q, want one: %v", setupLabels[f], s.errs[f], want)
		}
	}
	if s.busy != "" || r.calls.total() != 0 {
		t.Errorf("busy %q, %d API calls; want a form with errors and nothing sent", s.busy, r.calls.total())
	}
}
