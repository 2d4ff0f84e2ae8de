package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// globalKeys work on every screen.
type globalKeys struct {
	Quit key.Binding
	// QuitQ is the footer's quit hint where q quits as well (the balances,
	// a start-up failure).
	QuitQ key.Binding
	// Help opens the help where no text field has the focus (? is text in
	// a field); HelpAnywhere opens it everywhere, a field included: ctrl+g
	// is a control byte every terminal sends (nano's help key), F1 an
	// escape sequence some terminals keep for their own help.
	Help, HelpAnywhere key.Binding
	Back               key.Binding
	// Q quits where nothing else is left to do (a start-up failure) and
	// closes the help.
	Q key.Binding
	// The help's scrolling, when it is taller than the screen.
	HelpUp, HelpDown, HelpPageUp, HelpPageDown, HelpTop, HelpBottom key.Binding
}

func defaultGlobalKeys() globalKeys {
	return globalKeys{
		Quit:         key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		QuitQ:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q/ctrl+c", "quit")),
		Help:         key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		HelpAnywhere: key.NewBinding(key.WithKeys("ctrl+g", "f1"), key.WithHelp("ctrl+g", "help")),
		Back:         key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Q:            key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		HelpUp:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/↓", "scroll")),
		HelpDown:     key.NewBinding(key.WithKeys("down", "j")),
		HelpPageUp:   key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup/pgdn", "page")),
		HelpPageDown: key.NewBinding(key.WithKeys("pgdown", " ", "f")),
		HelpTop:      key.NewBinding(key.WithKeys("home", "g")),
		HelpBottom:   key.NewBinding(key.WithKeys("end", "G")),
	}
}

// qBack is the convention of every list and page of the console that takes
// no text where the focus is: q does what esc does there (back; on the
// balances, which have nowhere to go back to, q quits). A screen's back key
// answers to both and its hint names both, esc/q.
var qBack = []string{"esc", "q"}

// keyDef is one key of a screen's key map, the one source of truth for
// it: its binding is what the screen matches (key.Matches, which skips a
// disabled binding) and what the help line draws; full is how ? lists it,
// the same keys with longer words.
type keyDef struct {
	key.Binding
	fullKey, fullDesc string // "" = the help line's
}

// newKey defines a key: the keys it answers to and its help-line words.
// helpKey "" keeps it off the help line (the second key of a pair such as
// ↑/↓, whose first one names both).
func newKey(keys []string, helpKey, desc string) keyDef {
	return keyDef{Binding: bind(keys, helpKey, desc)}
}

// long gives the key the words ? lists it with.
func (k keyDef) long(helpKey, desc string) keyDef {
	k.fullKey, k.fullDesc = helpKey, desc
	return k
}

// matches reports whether msg is this key, and the key is enabled.
func (k keyDef) matches(msg tea.KeyMsg) bool { return key.Matches(msg, k.Binding) }

// full is the key as ? lists it: whether or not it acts where the focus is
// now, since ? shows the whole key map.
func (k keyDef) full() key.Binding {
	h := k.Help()
	hk, hd := h.Key, h.Desc
	if k.fullKey != "" {
		hk = k.fullKey
	}
	if k.fullDesc != "" {
		hd = k.fullDesc
	}
	return bind(k.Keys(), hk, hd)
}

// fullOf lists keys as ? does.
func fullOf(ks ...keyDef) []key.Binding {
	out := make([]key.Binding, len(ks))
	for i, k := range ks {
		out[i] = k.full()
	}
	return out
}

// helpRow is a line of a full key map that is not a key of its own (typing
// into a field, a button): it is listed, never matched.
func helpRow(what, desc string) key.Binding {
	return key.NewBinding(key.WithKeys("help:"+what), key.WithHelp(what, desc))
}

func bind(keys []string, helpKey, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKey, desc))
}

// helpKeys are the keys ? lists for the screen shown: its whole key map
// when it has one, else its hint line's, then the help and quit keys.
func (a *App) helpKeys() []key.Binding {
	ks := a.screenHints()
	if m := a.current(); a.lock == nil && m != nil {
		if full := m.fullKeys(); full != nil {
			return append(full, a.helpKey(), a.quitKey())
		}
	}
	return ks
}

// global reports whether k is one of the keys of every screen (help,
// quit), which the help lists in a section of their own.
func (a *App) global(k key.Binding) bool {
	g := a.keys
	for _, o := range []key.Binding{g.Help, g.HelpAnywhere, g.Quit, g.QuitQ} {
		if strings.Join(k.Keys(), " ") == strings.Join(o.Keys(), " ") {
			return true
		}
	}
	return false
}
