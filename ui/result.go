package ui

import (
	"errors"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/journal"
	"mixdesk/payout"
	"mixdesk/payout/rail"
)

// settleDelays space the automatic settlements of an in-doubt payout.
var settleDelays = []time.Duration{time.Second, 3 * time.Second, 10 * time.Second, 30 * time.Second}

// resultScreen sends one payout and shows what became of it.
//
// It is a component: it tells the root when a payout's outcome is in, and
// asks it for the form, the balances or the address book.
type resultScreen struct {
	ctx     *shared
	r       *payout.Review
	pin     string // kept only until the payout is done or failed
	sentPIN string // the PIN of the last post, until its answer is read
	spin    spinner.Model
	sending bool // the post (or a settlement) is on its way
	res     *payout.Result
	err     error // the procedure failed (journal), not the server
	notSent bool  // err came before anything was recorded or posted
	// offerSave: paid to a recipient the address book does not have.
	offerSave bool
	// failUnrecorded: the server refused, but the journal could not record
	// it, so the payout is still in doubt there.
	failUnrecorded bool
	tries          int // settlements made while in doubt
	gen            int

	km resultKeys
}

// resultKeys is the result screen's key map.
type resultKeys struct {
	Home, Again, Edit, Settle, Save keyDef
}

func newResultKeys() resultKeys {
	return resultKeys{
		Home:   newKey([]string{"enter", "esc"}, "enter", "back to balances"),
		Again:  newKey([]string{"t"}, "t", "new payout"),
		Edit:   newKey([]string{"e"}, "e", "edit and review again"),
		Settle: newKey([]string{"s"}, "s", "settle now"),
		Save:   newKey([]string{"b"}, "b", "save recipient to the address book"),
	}
}

type (
	sentMsg struct {
		gen int
		res payout.Result
		err error
	}
	settleTickMsg struct{ gen int }
)

func newResultScreen(ctx *shared, r *payout.Review, pin string) *resultScreen {
	sp := spinner.New()
	sp.Spinner = spinner.Dot
	return &resultScreen{
		ctx: ctx, r: r, pin: pin, spin: sp,
		km: newResultKeys(),
	}
}

func (s *resultScreen) busy() bool { return s.sending }

// syncKeys enables the keys that act on the outcome shown: none while the
// payout is on its way, so that nothing could send again meanwhile.
func (s *resultScreen) syncKeys() {
	k := &s.km
	failed := s.res != nil && s.res.State == journal.StateFailed
	k.Home.SetEnabled(!s.sending)
	k.Again.SetEnabled(!s.sending)
	k.Edit.SetEnabled(!s.sending && (s.notSent || failed))
	k.Settle.SetEnabled(!s.sending && !s.notSent && s.res != nil && s.res.State == journal.StateInDoubt)
	k.Save.SetEnabled(!s.sending && !s.notSent && s.offerSave)
}

func (s *resultScreen) keys() []key.Binding {
	s.syncKeys()
	k := s.km
	return []key.Binding{k.Home.Binding, k.Again.Binding, k.Edit.Binding, k.Settle.Binding, k.Save.Binding}
}

// startSend shows the sending screen and posts the reviewed payout.
func (a *App) startSend(r *payout.Review, pin string) tea.Cmd {
	s := newResultScreen(&a.shared, r, pin)
	a.pages[screenResult] = s
	a.setScreen(screenResult)
	a.setStatus("", true)
	return s.send()
}

// send posts the reviewed payout.
func (s *resultScreen) send() tea.Cmd {
	s.sending = true
	s.gen = s.ctx.nextGen()
	s.sentPIN = s.pin
	desk, gen, r, pin := s.ctx.acct.Desk, s.gen, s.r, s.pin
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		ctx, cancel := within(timeoutSend)
		defer cancel()
		res, err := desk.Send(ctx, r, pin)
		return sentMsg{gen: gen, res: res, err: err}
	})
}

func (s *resultScreen) settle() tea.Cmd {
	s.sending = true
	s.gen = s.ctx.nextGen()
	s.tries++
	s.sentPIN = s.pin
	desk, gen, trace, pin := s.ctx.acct.Desk, s.gen, s.r.TraceID, s.pin
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		ctx, cancel := within(timeoutSend)
		defer cancel()
		res, err := desk.Settle(ctx, trace, pin)
		return sentMsg{gen: gen, res: res, err: err}
	})
}

func (s *resultScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		if !s.sending {
			return nil
		}
		var cmd tea.Cmd
		s.spin, cmd = s.spin.Update(msg)
		return cmd
	case sentMsg:
		if msg.gen != s.gen {
			return nil
		}
		return s.onSent(msg)
	case settleTickMsg:
		// Routed here only while this screen is shown.
		if msg.gen != s.gen || s.sending {
			return nil
		}
		return s.settle()
	case tea.KeyMsg:
		return s.onKey(msg)
	}
	return nil
}

// onSent takes the outcome of a post or a settlement: what the journal
// says of it, whether to offer saving the recipient, when to look the
// trace up again; the root is told that the send is over.
func (s *resultScreen) onSent(msg sentMsg) tea.Cmd {
	s.sending = false
	res := msg.res
	s.res, s.err = &res, msg.err
	acct := s.ctx.acct
	if msg.err != nil {
		// Send refuses some payouts before writing or posting anything
		// (a stale review, a journal that cannot be trusted, a PIN just
		// refused): those are not in doubt.
		_, recorded := acct.Journal().Lookup(s.r.TraceID)
		s.notSent = !recorded
	}
	if res.State != journal.StateInDoubt || msg.err != nil {
		s.pin = ""
	}
	if res.State == journal.StateFailed {
		e, ok := acct.Journal().Lookup(s.r.TraceID)
		s.failUnrecorded = ok && e.State != journal.StateFailed
	}
	if res.State == journal.StateDone && acct.Book != nil {
		_, saved := acct.Book.ByUser(s.r.Recipient.UserID)
		s.offerSave = !saved
	}
	// The balances behind this screen moved when it was paid.
	s.ctx.ask(sentEndedMsg{pin: s.sentPIN, errs: []error{res.Err, msg.err}, moved: res.State == journal.StateDone})
	s.sentPIN = ""
	if res.State == journal.StateInDoubt && msg.err == nil {
		gen := s.gen
		// Look-ups soon after (they post nothing while a post may
		// still arrive, and find a payout that went through), then
		// one when the last post's window is over.
		if s.tries < len(settleDelays) {
			d := settleDelays[s.tries]
			return tea.Tick(d, func(time.Time) tea.Msg { return settleTickMsg{gen: gen} })
		}
		if until, ok := pendingUntil(res); ok {
			d := time.Until(until) + time.Second
			return tea.Tick(d, func(time.Time) tea.Msg { return settleTickMsg{gen: gen} })
		}
	}
	return nil
}

func (s *resultScreen) onKey(k tea.KeyMsg) tea.Cmd {
	s.syncKeys()
	km := s.km
	switch {
	case km.Home.matches(k):
		s.gen = s.ctx.nextGen() // stop automatic settlement of this screen
		s.pin = ""
		s.ctx.ask(showMsg{screenHome})
		s.ctx.ask(refreshMsg{})
	case km.Again.matches(k):
		s.gen = s.ctx.nextGen()
		s.pin = ""
		s.ctx.ask(openMsg{screenTransfer})
	case km.Edit.matches(k):
		// Nothing recorded under the trace: the draft keeps it. A refused
		// payout's trace is closed: the edited draft is a new payout with
		// a trace of its own.
		s.ctx.ask(editDraftMsg{renew: !s.notSent})
	case km.Save.matches(k):
		s.offerSave = false
		u := s.r.Recipient
		s.ctx.ask(saveRecipientMsg{user: rail.User{UserID: u.UserID, IdentityNumber: u.IdentityNumber, FullName: u.FullName}})
	case km.Settle.matches(k):
		return s.settle()
	}
	return nil
}

func (s *resultScreen) view(height int) string {
	st := s.ctx.st
	r := s.r
	w := s.ctx.width - 2
	what := payout.GroupDigits(r.AmountText) + " " + truncate(nameText(r.Asset.Symbol), 12) + " to " + truncate(nameText(r.Recipient.FullName), 40) + " (Mixin ID " + clean(r.Recipient.IdentityNumber) + ")"
	if s.sending {
		verb := "Sending "
		if s.res != nil {
			verb = "Settling by trace: "
		}
		return s.spin.View() + " " + st.Title.Render(verb+what) + "\n\n" +
			st.Subtle.Render("trace "+r.TraceID) + "\n\n" +
			st.Subtle.Render("The intent is in the journal. Whatever happens now, this payout is settled by its trace and never paid twice.")
	}
	if s.notSent {
		return st.Error.Render("✗ Not sent: "+what) + "\n\n" +
			para(explain(s.err), w, "  ") + "\n\n" +
			para("Nothing was recorded or posted for this payout. Press e to go back to the form and review it again.", w, "  ") + "\n"
	}
	var b strings.Builder
	if s.err != nil {
		b.WriteString(para("✗ "+explain(s.err), w, "") + "\n\n")
	}
	if s.res == nil {
		return b.String()
	}
	switch s.res.State {
	case journal.StateDone:
		b.WriteString(s.paidView(st, what))
	case journal.StateFailed:
		b.WriteString(s.failedView(st, what, w))
	case journal.StateInDoubt:
		b.WriteString(st.Warn.Render("? In doubt: "+what) + "\n\n")
		b.WriteString(s.doubtView(st, w))
	}
	return b.String()
}

// paidView is a payout that went through: its snapshot and trace.
func (s *resultScreen) paidView(st Styles, what string) string {
	r := s.r
	var b strings.Builder
	head := "✓ Paid " + what
	if s.res.Already {
		head = "✓ Already paid: " + what + " (nothing was sent again)"
	}
	b.WriteString(st.Good.Render(head) + "\n\n")
	if sn := s.res.Snap; sn != nil {
		b.WriteString(st.Label.Render("  Snapshot        ") + hang(sn.SnapshotID, 18, s.ctx.width-2) + "\n")
		if sn.TxHash != "" {
			// The Safe rail's kernel transaction, as the network knows it.
			b.WriteString(st.Label.Render("  Transaction     ") + hang(clean(sn.TxHash), 18, s.ctx.width-2) + "\n")
		}
		if sn.ClosingBalance != "" {
			b.WriteString(st.Label.Render("  Closing balance ") + payout.GroupDigits(sn.ClosingBalance) + " " + clean(r.Asset.Symbol) + "\n")
		}
	}
	b.WriteString(st.Label.Render("  Trace id        ") + r.TraceID + "\n")
	if s.res.Reposted {
		b.WriteString("\n" + st.Subtle.Render("The first post's outcome was unknown; it was settled by re-posting the same trace.") + "\n")
	}
	return b.String()
}

// failedView is a payout the server refused.
func (s *resultScreen) failedView(st Styles, what string, w int) string {
	var b strings.Builder
	b.WriteString(st.Error.Render("✗ Not paid: "+what) + "\n\n")
	b.WriteString(para(explain(s.res.Err), w, "  ") + "\n")
	if s.failUnrecorded {
		// The refusal could not be written: to the journal the payout
		// is still in doubt, and it is settled as such.
		b.WriteString("\n" + st.Warn.Render(para("The journal could not record this refusal. At the next start the payout is looked up by its trace and, if it never executed, posted again with the same trace: do not send it again by hand.", w, "  ")) + "\n")
	} else {
		b.WriteString(st.Label.Render("  Trace id ") + s.r.TraceID + st.Subtle.Render(" (closed; a new review makes a new one)") + "\n")
	}
	return b.String()
}

// doubtView says what happens to a payout in doubt, and when.
func (s *resultScreen) doubtView(st Styles, w int) string {
	var b strings.Builder
	until, pending := pendingUntil(*s.res)
	if pending {
		at := until.Local().Format("15:04:05")
		cause := ""
		if !payout.IsPostPending(s.res.Err) && s.res.Err != nil {
			cause = " (" + clean(doubtCause(s.res.Err)) + ")"
		}
		b.WriteString(para("In doubt until "+at+": the last post may still reach the server"+cause+", so nothing is posted again before then. The trace is looked up meanwhile; at "+at+" it is looked up once more and, only if it was never executed, posted again with the same trace.", w, "  ") + "\n\n")
		hold := "No other payout or PIN check is sent before " + at + " either: a second request with the PIN could make the held one count as a wrong PIN."
		if acct := s.ctx.acct; acct != nil && acct.Desk != nil && !acct.Desk.NeedsPIN() {
			hold = "No other payout is sent before " + at + " either: nothing more leaves while the outcome of this one is unknown."
		}
		b.WriteString(para(hold+" Do not send this payout again by hand.", w, "  ") + "\n")
		next := "Next look-up in " + settleDelays[min(s.tries, len(settleDelays)-1)].String() + ", and at " + at + " (s to look the trace up now)."
		if s.tries >= len(settleDelays) {
			next = "Next settlement at " + at + " (s to look the trace up now)."
		}
		b.WriteString("\n" + st.Subtle.Render(next) + "\n")
		return b.String()
	}
	b.WriteString(para("The outcome is unknown: "+clean(doubtCause(s.res.Err))+".", w, "  ") + "\n\n")
	b.WriteString(para("mixdesk settles it by its trace "+s.r.TraceID+": it looks the trace up, and posts the same trace again only if it was never executed. Do not send this payout again by hand.", w, "  ") + "\n")
	if s.tries < len(settleDelays) {
		b.WriteString("\n" + st.Subtle.Render("Next automatic settlement in "+settleDelays[s.tries].String()+" (s to settle now).") + "\n")
	} else {
		b.WriteString("\n" + st.Subtle.Render("Still in doubt after "+plural(s.tries, "try")+". It is settled again before the next send and at the next start (s to try now).") + "\n")
	}
	return b.String()
}

func (s *resultScreen) typing() bool { return false }

// pendingUntil tells whether a post of the payout may still reach the
// server, and until when.
func pendingUntil(res payout.Result) (time.Time, bool) {
	var pe *payout.PostPendingError
	if errors.As(res.Err, &pe) {
		return pe.Until, true
	}
	if res.Until.After(time.Now()) {
		return res.Until, true
	}
	return time.Time{}, false
}

// fullKeys: ? lists the help line's keys.
func (s *resultScreen) fullKeys() []key.Binding { return nil }
