package ui

import (
	"context"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/payout"
	"mixdesk/payout/rail"
)

type batchMode int

// batchField is what has the focus on the batch review: the table, then
// the confirmation under it (the total, the PIN when asked, Send).
type batchField int

const (
	bcTable batchField = iota
	bcTotal
	bcPIN
	bcSend
	bcCount
)

// batchKeys is the batch screen's key map, by mode.
type batchKeys struct {
	// Asking for the file.
	Check, PathBack keyDef
	// The review.
	Up, Down, PageUp, PageDown, NextProblem, PrevProblem, Next, Prev, AckDup, AckUnpriced, Send, ReviewBack keyDef
	// Sending.
	Pause, Stop keyDef
	// The run ended.
	Home, Again keyDef
}

func newBatchKeys() batchKeys {
	return batchKeys{
		Check:    newKey([]string{"enter"}, "enter", "check the file"),
		PathBack: newKey([]string{"esc"}, "esc", "back"),

		Up:          newKey([]string{"up", "k"}, "↑/↓", "select").long("↑/↓ k/j", "select a row: its whole state and problem show under the table"),
		Down:        newKey([]string{"down", "j"}, "", ""),
		PageUp:      newKey([]string{"pgup"}, "", "").long("pgup/pgdn", "a page up or down"),
		PageDown:    newKey([]string{"pgdown"}, "", ""),
		NextProblem: newKey([]string{"n"}, "n/N", "next/previous problem").long("n/N", "the next or previous row with a problem"),
		PrevProblem: newKey([]string{"N"}, "", ""),
		Next:        newKey([]string{"tab"}, "tab", "next"),
		Prev:        newKey([]string{"shift+tab"}, "", ""),
		AckDup:      newKey([]string{"A"}, "A", "acknowledge duplicates"),
		AckUnpriced: newKey([]string{"U"}, "U", "checked the unpriced totals"),
		Send:        newKey([]string{"enter"}, "enter", "send the batch"),
		ReviewBack:  newKey([]string{"esc"}, "esc", "back"),

		Pause: newKey([]string{"p"}, "p", "pause"),
		Stop:  newKey([]string{"x"}, "x", "stop after the rows on their way"),

		Home:  newKey([]string{"enter", "esc"}, "enter", "back to balances"),
		Again: newKey([]string{"r"}, "r", "check the file again"),
	}
}

const (
	bmPath    batchMode = iota // asking for the CSV file
	bmReview                   // the checked batch, waiting for confirmation
	bmRunning                  // sending
	bmDone                     // the run ended; report written
)

// batchScreen loads a CSV batch, shows it checked, takes one confirmation
// and sends it row by row through payout, with progress, pause and stop.
// It is a component: it asks the root for the balances back and tells it
// when a run ended.
type batchScreen struct {
	ctx     *shared
	mode    batchMode
	path    textinput.Model
	loading bool
	loadErr string
	gen     int
	life    lifetime // the check of a file, ended when the screen is left

	b       *payout.Batch
	invalid int   // rows with errors, counted once when the file is checked
	issues  []int // the rows with a problem (n/N go through them), in file order
	top     int   // first table row shown
	sel     int   // the selected row, shown in full under the table
	focus   batchField
	total   textinput.Model
	pin     pinField
	askPIN  bool

	ctl      *payout.BatchControl
	prog     payout.BatchProgress
	updates  chan payout.BatchProgress
	done     chan batchDoneMsg
	bar      progress.Model
	runErr   error
	report   string
	reportEr string
	started  time.Time

	// checkReport is the report written for a batch that cannot be sent,
	// checkReportEr why it could not be written.
	checkReport, checkReportEr string

	km batchKeys
}

type (
	batchPreparedMsg struct {
		gen    int
		b      *payout.Batch
		err    error
		report string // the report of a batch that cannot be sent
		repErr error
	}
	batchProgressMsg struct{ p payout.BatchProgress }
	batchDoneMsg     struct {
		p      payout.BatchProgress
		err    error
		report string
		repErr error
		pin    string // the PIN the batch carried, to drop a kept one refused
	}
)

func (a *App) openBatch() tea.Cmd {
	if a.busy(screenBatch) { // a running batch is shown again
		a.setScreen(screenBatch)
		return nil
	}
	s := newBatchScreen(&a.shared, a.acct.AsksPIN())
	a.pages[screenBatch] = s
	a.setScreen(screenBatch)
	return s.init()
}

func newBatchScreen(ctx *shared, askPIN bool) *batchScreen {
	s := &batchScreen{ctx: ctx, askPIN: askPIN, bar: progress.New(progress.WithWidth(50), progress.WithoutPercentage()), km: newBatchKeys()}
	s.path = textinput.New()
	s.path.Prompt = ""
	setPlaceholder(&s.path, "/path/to/payouts.csv")
	s.path.CharLimit = 4096
	s.path.Width = 60
	s.total = textinput.New()
	s.total.Prompt = ""
	s.total.CharLimit = 40
	s.total.Width = 30
	s.pin = newPINField()
	return s
}

// init focuses the path of the file.
func (s *batchScreen) init() tea.Cmd { return s.path.Focus() }

func (s *batchScreen) busy() bool { return s.mode == bmRunning }

// left ends the check of a file on its way. A running batch is not
// screen work: it goes on behind other screens.
func (s *batchScreen) left() { s.life.end() }

func (s *batchScreen) typing() bool {
	return s.mode == bmPath || s.mode == bmReview && (s.focus == bcTotal || s.focus == bcPIN)
}

func (s *batchScreen) keys() []key.Binding {
	k := s.km
	switch s.mode {
	case bmPath:
		return []key.Binding{k.Check.Binding, k.PathBack.Binding}
	case bmReview:
		ks := []key.Binding{k.Up.Binding}
		if len(s.issues) > 0 {
			ks = append(ks, k.NextProblem.Binding)
		}
		if s.confirmShown() {
			ks = append(ks, k.Next.Binding)
		}
		if s.b != nil && !s.b.Acked() {
			ks = append(ks, k.AckDup.Binding)
		}
		if s.b != nil && len(s.b.Unpriced()) > 0 && !s.b.UnpricedAcked() {
			ks = append(ks, k.AckUnpriced.Binding)
		}
		switch {
		case s.focus == bcSend && s.canSend():
			k.Send.SetHelp("enter", "send the batch")
			ks = append(ks, k.Send.Binding)
		case s.focus == bcTotal || s.focus == bcPIN:
			k.Send.SetHelp("enter", "next")
			ks = append(ks, k.Send.Binding)
		}
		return append(ks, k.ReviewBack.Binding)
	case bmRunning:
		if s.ctl != nil && s.ctl.Paused() {
			k.Pause.SetHelp("p", "resume")
		} else {
			k.Pause.SetHelp("p", "pause")
		}
		return []key.Binding{k.Pause.Binding, k.Stop.Binding}
	}
	return []key.Binding{k.Home.Binding, k.Again.Binding}
}

// confirmShown: the confirmation (total, PIN, Send) is drawn, so the focus
// may go there. Until then every key is for the table: a key must never go
// to a field the operator cannot see.
func (s *batchScreen) confirmShown() bool {
	if s.b == nil || !s.b.Ready() {
		return false
	}
	_, total := s.b.LargestTotal()
	return total != ""
}

// canSend: the batch is valid, duplicates acknowledged, the total typed as
// shown, and the PIN given when it is asked for.
func (s *batchScreen) canSend() bool {
	if s.b == nil || !s.b.Ready() || !s.b.Confirms(s.total.Value()) {
		return false
	}
	return !s.askPIN || s.pin.valid()
}

// missing says what keeps the batch from being sent.
func (s *batchScreen) missing() string {
	switch {
	case s.b == nil || !s.b.Ready():
		return "the batch has problems or flags to acknowledge"
	case !s.b.Confirms(s.total.Value()):
		return "the total to type as shown"
	}
	return "the PIN (6 digits)"
}

func (s *batchScreen) prepare(path string) tea.Cmd {
	s.loading, s.loadErr = true, ""
	s.gen = s.ctx.nextGen()
	desk, gen, held := s.ctx.acct.Desk, s.gen, append([]rail.Asset(nil), s.ctx.balances...)
	ctx, cancel := s.life.within(timeoutPrepare)
	return func() tea.Msg {
		defer cancel()
		f, err := payout.ParseBatchFile(path)
		if err != nil {
			return batchPreparedMsg{gen: gen, err: err}
		}
		b, err := desk.PrepareBatchWith(ctx, f, held)
		msg := batchPreparedMsg{gen: gen, b: b, err: err}
		if err == nil && len(b.Errors()) > 0 {
			// A batch that cannot be sent is reported too: every row
			// with its problem, in a file the operator can read whole.
			msg.report, msg.repErr = payout.WriteBatchReport(path, b)
		}
		return msg
	}
}

func (s *batchScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case batchPreparedMsg:
		if msg.gen != s.gen {
			return nil
		}
		s.loading = false
		if msg.err != nil {
			s.loadErr = explain(msg.err)
			return nil
		}
		s.b, s.mode, s.top, s.sel, s.focus = msg.b, bmReview, 0, 0, bcTable
		s.invalid, s.issues = 0, nil
		for i, it := range msg.b.Rows(0, msg.b.Len()) {
			if it.State == payout.ItemInvalid {
				s.invalid++
			}
			if rowProblem(it) {
				s.issues = append(s.issues, i)
			}
		}
		s.checkReport, s.checkReportEr = msg.report, ""
		if msg.repErr != nil {
			s.checkReportEr = explain(msg.repErr)
		}
		s.total.SetValue("")
		s.pin.clear()
		s.path.Blur()
		return nil
	case batchProgressMsg:
		s.prog = msg.p
		return waitBatch(s.updates, s.done)
	case batchDoneMsg:
		s.prog, s.runErr, s.report, s.mode = msg.p, msg.err, msg.report, bmDone
		if msg.repErr != nil {
			s.reportEr = explain(msg.repErr)
		}
		s.pin.clear()
		s.ctx.ask(batchEndedMsg{pin: msg.pin, err: msg.err})
		return nil
	case tea.KeyMsg:
		return s.onKey(msg)
	}
	return s.updateInput(msg)
}

func (s *batchScreen) updateInput(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case s.mode == bmPath:
		s.path, cmd = s.path.Update(msg)
	case s.mode == bmReview && s.focus == bcTotal:
		s.total, cmd = s.total.Update(msg)
	case s.mode == bmReview && s.focus == bcPIN:
		s.pin.Model, cmd = s.pin.Update(msg)
	}
	return cmd
}

// move moves the focus by delta (1 on, -1 back), past the PIN when it is
// not asked for.
func (s *batchScreen) move(delta int) tea.Cmd {
	f := batchField(step(int(s.focus), int(bcCount), delta))
	if f == bcPIN && !s.askPIN {
		f = batchField(step(int(f), int(bcCount), delta))
	}
	return s.setFocus(f)
}

// setFocus focuses f, or the table while the confirmation is not drawn.
func (s *batchScreen) setFocus(f batchField) tea.Cmd {
	if !s.confirmShown() {
		f = bcTable
	}
	s.focus = f
	s.total.Blur()
	s.pin.Blur()
	switch f {
	case bcTotal:
		return s.total.Focus()
	case bcPIN:
		return s.pin.Focus()
	}
	return nil
}

func (s *batchScreen) onKey(k tea.KeyMsg) tea.Cmd {
	switch s.mode {
	case bmPath:
		return s.pathKey(k)
	case bmReview:
		return s.reviewKey(k)
	case bmRunning:
		switch {
		case s.km.Pause.matches(k):
			if s.ctl.Paused() {
				s.ctl.Resume()
			} else {
				s.ctl.Pause()
			}
		case s.km.Stop.matches(k):
			s.ctl.Stop()
		}
		return nil
	case bmDone:
		switch {
		case s.km.Home.matches(k):
			s.ctx.ask(showMsg{screenHome})
		case s.km.Again.matches(k):
			return s.prepare(strings.TrimSpace(s.path.Value()))
		}
	}
	return nil
}

func (s *batchScreen) pathKey(k tea.KeyMsg) tea.Cmd {
	switch {
	case s.km.PathBack.matches(k):
		s.ctx.ask(showMsg{screenHome})
		return nil
	case s.km.Check.matches(k):
		if s.loading {
			return nil
		}
		p := strings.TrimSpace(s.path.Value())
		if p == "" {
			s.loadErr = "Type the path of a CSV file."
			return nil
		}
		return s.prepare(p)
	}
	return s.updateInput(k)
}

func (s *batchScreen) reviewKey(k tea.KeyMsg) tea.Cmd {
	km := s.km
	if k.Type == tea.KeyRunes && s.focus != bcTable {
		// Letters (k, j, n, A…) are typed into the field that has the
		// focus; only the table takes them as keys.
		return s.updateInput(k)
	}
	switch {
	case km.ReviewBack.matches(k):
		s.mode = bmPath
		s.pin.clear()
		return s.path.Focus()
	case km.Next.matches(k):
		return s.move(1)
	case km.Prev.matches(k):
		return s.move(-1)
	// The arrows move the table's selection whatever has the focus, as
	// the help says.
	case km.Up.matches(k):
		s.selectRow(s.sel - 1)
		return nil
	case km.Down.matches(k):
		s.selectRow(s.sel + 1)
		return nil
	case km.PageDown.matches(k):
		s.selectRow(s.sel + s.pageRows())
		return nil
	case km.PageUp.matches(k):
		s.selectRow(s.sel - s.pageRows())
		return nil
	case km.NextProblem.matches(k):
		s.selectProblem(1)
		return nil
	case km.PrevProblem.matches(k):
		s.selectProblem(-1)
		return nil
	case km.AckDup.matches(k) && s.focus == bcTable:
		s.b.AckDuplicates()
		return nil
	case km.AckUnpriced.matches(k) && s.focus == bcTable:
		s.b.AckUnpriced()
		return nil
	case km.Send.matches(k):
		// As on a payout's confirmation: enter in a field moves on (a
		// matching total to Send), and only enter on Send sends.
		if s.focus == bcSend {
			if !s.canSend() {
				s.ctx.setStatus("Not yet: "+s.missing()+".", false)
				return nil
			}
			return s.run()
		}
		return s.move(1)
	}
	return s.updateInput(k)
}

// run sends the batch. Progress comes back through a channel read by a
// command that is issued again after each report.
func (s *batchScreen) run() tea.Cmd {
	pin := s.ctx.acct.PIN()
	if s.askPIN {
		pin = s.pin.Value()
	}
	s.pin.clear()
	s.mode, s.ctl, s.started = bmRunning, &payout.BatchControl{}, s.ctx.now()
	s.prog = s.b.Counts()
	s.updates = make(chan payout.BatchProgress, 1)
	desk, b, ctl, updates, input := s.ctx.acct.Desk, s.b, s.ctl, s.updates, strings.TrimSpace(s.path.Value())
	done := make(chan batchDoneMsg, 1)
	go func() {
		p, err := desk.RunBatch(context.Background(), b, pin, ctl, func(p payout.BatchProgress) {
			// Only the latest report matters: replace one not yet read.
			select {
			case updates <- p:
			default:
				select {
				case <-updates:
				default:
				}
				select {
				case updates <- p:
				default:
				}
			}
		})
		path, repErr := payout.WriteBatchReport(input, b)
		done <- batchDoneMsg{p: p, err: err, report: path, repErr: repErr, pin: pin}
		close(done)
	}()
	s.done = done
	return waitBatch(updates, done)
}

// forgetSecrets drops the PIN and the total typed, when the console locks.
func (s *batchScreen) forgetSecrets() {
	s.pin.clear()
	s.total.SetValue("")
}

// shutdown stops a running batch when the console quits and waits (a
// bounded time) for the rows on their way, so that the journal is not
// closed under them.
func (s *batchScreen) shutdown(limit time.Duration) {
	if s.mode != bmRunning || s.ctl == nil || s.done == nil {
		return
	}
	s.ctl.Stop()
	s.ctl.Resume()
	select {
	case <-s.done:
	case <-time.After(limit):
	}
}

// waitBatch delivers the next progress report, or the end of the run.
func waitBatch(updates <-chan payout.BatchProgress, done <-chan batchDoneMsg) tea.Cmd {
	return func() tea.Msg {
		select {
		case p := <-updates:
			return batchProgressMsg{p: p}
		case m, ok := <-done:
			if !ok {
				return nil
			}
			return m
		}
	}
}

// fullKeys: ? lists the review's whole key map, and the help line's keys
// elsewhere.
func (s *batchScreen) fullKeys() []key.Binding {
	if s.mode != bmReview {
		return nil
	}
	k := s.km
	return []key.Binding{k.Up.full(), k.PageUp.full(), k.NextProblem.full(), k.Next.full(), k.AckDup.full(), k.AckUnpriced.full(), k.Send.full(), k.ReviewBack.full()}
}
