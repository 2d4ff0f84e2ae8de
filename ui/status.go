package ui

// Where the status line belongs. A status is about the place that made it
// (a screen, and the view of it shown: a list, a form, one entry), at the
// moment it was made: it is cleared as soon as the operator moves on, so
// that "Payment request created…" never turns up on the balances, nor
// "No payout is in doubt." on a new payout form. A status made by the very
// message that moved the operator ("Not sent." as a confirmation goes back
// to its form, the request just created) goes with them. Lines that must
// stay on every screen (a broken journal) are drawn apart from it, by the
// footer.

// place is where the operator is.
type place struct {
	screen screen
	view   int // the view of the screen shown; 0 for a screen of one view
}

// viewer is a page of several views (see place).
type viewer interface{ shownView() int }

// place is where the operator is now.
func (a *App) place() place {
	p := place{screen: a.screen}
	if v, ok := a.current().(viewer); ok {
		p.view = v.shownView()
	}
	return p
}

// scopeStatus runs after every message: when the operator moved, a status
// made before this message is cleared.
func (a *App) scopeStatus() {
	now := a.place()
	if now == a.where {
		return
	}
	a.where = now
	if a.statusAt != a.moment {
		a.status, a.statusOK = "", true
	}
}

// The views of the pages that have several.

func (s *requestScreen) shownView() int { return int(s.mode) }

func (s *bookScreen) shownView() int {
	if s.editing {
		return 1
	}
	return 0
}

func (s *batchScreen) shownView() int { return int(s.mode) }

// shownView: the list, one entry's details, or a prompt (search, dates,
// export path) over the list.
func (s *historyScreen) shownView() int {
	switch {
	case s.prompt != promptNone:
		return 1 + int(s.prompt)
	case s.detail:
		return 1
	}
	return 0
}

// standing are the lines the footer keeps on every screen, whatever the
// status line says: a broken journal (home says it in full).
func (a *App) standing() []string {
	if a.acct == nil || a.lock != nil || a.screen == screenHome {
		return nil
	}
	if rep := a.acct.Report; rep != nil && !rep.Intact() {
		return []string{a.st.Error.Bold(true).Render(fitWidth("⚠ JOURNAL BROKEN: no payout can be reviewed or sent; home says why (mixdesk journal verify).", a.width-2))}
	}
	return nil
}
