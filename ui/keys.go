package ui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// globalKeys work on every screen.
type globalKeys struct {
	Quit key.Binding
	Help key.Binding
	Back key.Binding
	// Q quits where nothing else is left to do (a start-up failure) and
	// closes the help.
	Q key.Binding
}

func defaultGlobalKeys() globalKeys {
	return globalKeys{
		Quit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help: key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Back: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Q:    key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
	}
}

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
// when it has one, else its help line's, then the help and quit keys.
func (a *App) helpKeys() []key.Binding {
	if m := a.current(); a.lock == nil && m != nil {
		if full := m.fullKeys(); full != nil {
			return append(full, a.keys.Help, a.keys.Quit)
		}
	}
	return a.shortHelp()
}
