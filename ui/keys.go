package ui

import "github.com/charmbracelet/bubbles/key"

// globalKeys work on every screen.
type globalKeys struct {
	Quit key.Binding
	Help key.Binding
	Back key.Binding
}

func defaultGlobalKeys() globalKeys {
	return globalKeys{
		Quit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help: key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Back: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

// helpRow is a line of a full key map that is not a key of its own (typing
// into a field, a button): it is listed, never matched.
func helpRow(what, desc string) key.Binding {
	return key.NewBinding(key.WithKeys("help:"+what), key.WithHelp(what, desc))
}

func bind(keys []string, helpKey, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKey, desc))
}

// fullKeyMap is a screen whose ? help lists its whole key map: every key it
// takes, also those its help line leaves out for room or because they do
// not apply where the focus is.
type fullKeyMap interface{ fullKeys() []key.Binding }

// helpKeys are the keys ? lists for the screen shown: its whole key map
// when it has one, else its help line's, then the help and quit keys.
func (a *App) helpKeys() []key.Binding {
	if a.lock == nil {
		if m, ok := a.current().(fullKeyMap); ok {
			return append(m.fullKeys(), a.keys.Help, a.keys.Quit)
		}
	}
	return a.shortHelp()
}
