package ui

import (
	"context"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/mixin"
	"mixdesk/payout"
)

type batchMode int

const (
	bmPath    batchMode = iota // asking for the CSV file
	bmReview                   // the checked batch, waiting for confirmation
	bmRunning                  // sending
	bmDone                     // the run ended; report written
)

// batchScreen loads a CSV batch, shows it checked, takes one confirmation
// and sends it row by row through payout, with progress, pause and stop.
type batchScreen struct {
	mode    batchMode
	path    textinput.Model
	loading bool
	loadErr string
	gen     int

	b       *payout.Batch
	invalid int // rows with errors, counted once when the file is checked
	top     int // first table row shown
	focus   int // 0 table, 1 total input, 2 PIN input, 3 send button
	total   textinput.Model
	pin     textinput.Model
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
}

type (
	batchPreparedMsg struct {
		gen int
		b   *payout.Batch
		err error
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
	if a.batch != nil && a.batch.mode == bmRunning {
		a.screen = screenBatch
		return nil
	}
	a.batch = newBatchScreen(!a.conn.profile.KeepPIN)
	a.screen = screenBatch
	return a.batch.path.Focus()
}

func newBatchScreen(askPIN bool) *batchScreen {
	s := &batchScreen{askPIN: askPIN, bar: progress.New(progress.WithWidth(50), progress.WithoutPercentage())}
	s.path = textinput.New()
	s.path.Prompt = ""
	s.path.Placeholder = "/path/to/payouts.csv"
	s.path.CharLimit = 4096
	s.path.Width = 60
	s.total = textinput.New()
	s.total.Prompt = ""
	s.total.CharLimit = 40
	s.total.Width = 30
	s.pin = textinput.New()
	s.pin.Prompt = ""
	s.pin.Placeholder = "6 digits"
	s.pin.CharLimit = 6
	s.pin.Width = 10
	s.pin.EchoMode = textinput.EchoPassword
	s.pin.EchoCharacter = '•'
	return s
}

func (s *batchScreen) busy() bool { return s.mode == bmRunning }

func (s *batchScreen) typing() bool {
	return s.mode == bmPath || s.mode == bmReview && (s.focus == 1 || s.focus == 2)
}

func (s *batchScreen) keys() []key.Binding {
	switch s.mode {
	case bmPath:
		return []key.Binding{bind([]string{"enter"}, "enter", "check the file"), bind([]string{"esc"}, "esc", "back")}
	case bmReview:
		ks := []key.Binding{bind([]string{"up", "down"}, "↑/↓", "scroll")}
		if s.confirmShown() {
			ks = append(ks, bind([]string{"tab"}, "tab", "next"))
		}
		if s.b != nil && !s.b.Acked() {
			ks = append(ks, bind([]string{"A"}, "A", "acknowledge duplicates"))
		}
		if s.b != nil && len(s.b.Unpriced()) > 0 && !s.b.UnpricedAcked() {
			ks = append(ks, bind([]string{"U"}, "U", "checked the unpriced totals"))
		}
		if s.canSend() {
			ks = append(ks, bind([]string{"enter"}, "enter", "send the batch"))
		}
		return append(ks, bind([]string{"esc"}, "esc", "back"))
	case bmRunning:
		pause := "pause"
		if s.ctl != nil && s.ctl.Paused() {
			pause = "resume"
		}
		return []key.Binding{bind([]string{"p"}, "p", pause), bind([]string{"x"}, "x", "stop after the rows on their way")}
	}
	return []key.Binding{bind([]string{"enter", "esc"}, "enter", "back to balances"), bind([]string{"r"}, "r", "check the file again")}
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
	return !s.askPIN || mixin.ValidatePIN(s.pin.Value()) == nil
}

func (s *batchScreen) prepare(a *App, path string) tea.Cmd {
	s.loading, s.loadErr = true, ""
	s.gen = a.nextGen()
	desk, gen, held := a.conn.desk, s.gen, append([]mixin.Asset(nil), a.home.assets...)
	return func() tea.Msg {
		f, err := payout.ParseBatchFile(path)
		if err != nil {
			return batchPreparedMsg{gen: gen, err: err}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		b, err := desk.PrepareBatch(ctx, f, held)
		return batchPreparedMsg{gen: gen, b: b, err: err}
	}
}

func (s *batchScreen) update(a *App, msg tea.Msg) tea.Cmd {
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
		s.b, s.mode, s.top, s.focus = msg.b, bmReview, 0, 0
		s.invalid = 0
		for _, it := range msg.b.Rows(0, msg.b.Len()) {
			if it.State == payout.ItemInvalid {
				s.invalid++
			}
		}
		s.total.SetValue("")
		s.pin.SetValue("")
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
		s.pin.SetValue("")
		a.quitArmed = false
		a.home.countDoubt(a)
		// A kept PIN the server refused is never sent again.
		return tea.Batch(a.home.refresh(a), a.keptPINRefused(msg.pin, msg.err))
	case tea.KeyMsg:
		return s.onKey(a, msg)
	}
	return s.updateInput(msg)
}

func (s *batchScreen) updateInput(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case s.mode == bmPath:
		s.path, cmd = s.path.Update(msg)
	case s.mode == bmReview && s.focus == 1:
		s.total, cmd = s.total.Update(msg)
	case s.mode == bmReview && s.focus == 2:
		s.pin, cmd = s.pin.Update(msg)
	}
	return cmd
}

func (s *batchScreen) setFocus(f int) tea.Cmd {
	n := 4
	f = (f + n) % n
	if f == 2 && !s.askPIN {
		f = 3
	}
	if !s.confirmShown() {
		f = 0
	}
	s.focus = f
	s.total.Blur()
	s.pin.Blur()
	switch f {
	case 1:
		return s.total.Focus()
	case 2:
		return s.pin.Focus()
	}
	return nil
}

func (s *batchScreen) onKey(a *App, k tea.KeyMsg) tea.Cmd {
	switch s.mode {
	case bmPath:
		switch k.String() {
		case "esc":
			a.screen = screenHome
			return nil
		case "enter":
			if s.loading {
				return nil
			}
			p := strings.TrimSpace(s.path.Value())
			if p == "" {
				s.loadErr = "Type the path of a CSV file."
				return nil
			}
			return s.prepare(a, p)
		}
		return s.updateInput(k)
	case bmReview:
		switch k.String() {
		case "esc":
			s.mode = bmPath
			s.pin.SetValue("")
			return s.path.Focus()
		case "tab":
			return s.setFocus(s.focus + 1)
		case "shift+tab":
			f := s.focus - 1
			if f == 2 && !s.askPIN {
				f = 1
			}
			return s.setFocus(f)
		case "up":
			// The table scrolls whatever has the focus, as the help says.
			s.top = max(0, s.top-1)
			return nil
		case "down":
			s.top = min(max(0, s.b.Len()-1), s.top+1)
			return nil
		case "pgdown":
			s.top = min(max(0, s.b.Len()-1), s.top+10)
			return nil
		case "pgup":
			s.top = max(0, s.top-10)
			return nil
		case "A":
			if s.focus == 0 {
				s.b.AckDuplicates()
				return nil
			}
		case "U":
			if s.focus == 0 {
				s.b.AckUnpriced()
				return nil
			}
		case "enter":
			if s.focus == 3 || s.canSend() && s.focus != 0 {
				if !s.canSend() {
					return nil
				}
				return s.run(a)
			}
			return s.setFocus(s.focus + 1)
		}
		return s.updateInput(k)
	case bmRunning:
		switch k.String() {
		case "p":
			if s.ctl.Paused() {
				s.ctl.Resume()
			} else {
				s.ctl.Pause()
			}
		case "x":
			s.ctl.Stop()
		}
		return nil
	case bmDone:
		switch k.String() {
		case "enter", "esc":
			a.screen = screenHome
		case "r":
			return s.prepare(a, strings.TrimSpace(s.path.Value()))
		}
	}
	return nil
}

// run sends the batch. Progress comes back through a channel read by a
// command that is issued again after each report.
func (s *batchScreen) run(a *App) tea.Cmd {
	pin := a.conn.pin()
	if s.askPIN {
		pin = s.pin.Value()
	}
	s.pin.SetValue("")
	s.mode, s.ctl, s.started = bmRunning, &payout.BatchControl{}, a.now()
	s.prog = s.b.Counts()
	s.updates = make(chan payout.BatchProgress, 1)
	desk, b, ctl, updates, input := a.conn.desk, s.b, s.ctl, s.updates, strings.TrimSpace(s.path.Value())
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
