package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/payout/rail"
	"mixdesk/payreq"
)

// The payment-request screen's modes.
type reqMode int

const (
	reqList reqMode = iota // the book, newest first
	reqForm                // a new request
	reqShow                // one request: link, QR code, watch
)

// requestScreen is the payment-request screen: the profile's book of
// payment requests in three modes, each a component of its own: the list
// (requestList), the form of a new request (requestForm), and one request
// with its link and QR code, watched until it is paid (requestDetail). The
// screen opens the book, hands each message to the mode it is for and
// moves between the modes when one asks (requestShared.move). It is kept
// in App.request across visits, so that the book is opened once per
// profile. It is a component.
type requestScreen struct {
	*requestShared // the book, the assets known, the look-ups' lifetime
	opening        bool
	openErr        string

	mode   reqMode
	list   *requestList
	form   *requestForm // an unfinished form is kept until it is created
	detail *requestDetail
}

// The screen and each of its modes are components; leaving the screen
// ends the look-ups of all three.
var (
	_ component = (*requestScreen)(nil)
	_ leaver    = (*requestScreen)(nil)
	_ component = (*requestList)(nil)
	_ component = (*requestForm)(nil)
	_ component = (*requestDetail)(nil)
)

// Messages of the payment-request screen.
type (
	reqBookMsg struct {
		path string
		book *payreq.Book
		err  error
	}
	reqCreatedMsg struct {
		trace string
		req   payreq.Request
		err   error
	}
	reqTickMsg    struct{ gen int }
	reqCheckedMsg struct {
		gen   int
		watch bool // a look-up of the watch (not a one-off check)
		trace string
		req   payreq.Request
		err   error
	}
	// reqSandboxPaidMsg: another user of the sandbox paid a request's
	// link (line says how), or could not (err).
	reqSandboxPaidMsg struct {
		trace string
		line  string
		err   error
	}
	reqPayerMsg struct {
		id   string
		user *rail.User
		err  error
	}
	reqAssetMsg struct {
		id    string
		asset *rail.Asset
		err   error
	}
)

// Moves a mode asks of the payment-request screen.
type (
	// reqToListMsg goes back to the list; reread reads the book into it
	// first.
	reqToListMsg struct{ reread bool }
	// reqToFormMsg opens the new-request form, or the unfinished one.
	reqToFormMsg struct{}
	// reqToShowMsg shows one request.
	reqToShowMsg struct{ req payreq.Request }
)

func newRequestScreen(ctx *shared, path string) *requestScreen {
	rq := newRequestShared(ctx, path)
	return &requestScreen{
		requestShared: rq,
		list:          newRequestList(ctx, rq),
		detail:        newRequestDetail(ctx, rq),
	}
}

// openRequests opens the payment-request screen of the open profile; the
// book is read in a command the first time.
func (a *App) openRequests() tea.Cmd {
	if a.acct == nil {
		return nil
	}
	path := a.acct.RequestsPath()
	s, _ := a.pages[screenRequest].(*requestScreen)
	if s == nil || s.path != path {
		s = newRequestScreen(&a.shared, path)
		s.sandboxPay = a.deps.SandboxPay
		a.pages[screenRequest] = s
	}
	a.setScreen(screenRequest)
	s.mode = reqList
	// Leaving gave up the look-ups on their way: they are asked again (and
	// the answer of a check that arrived meanwhile was dropped).
	s.detail.checking = false
	s.assets.fetching = map[string]bool{}
	var again tea.Cmd
	if f := s.form; f != nil && f.lookup != "" {
		again = s.assetCmd(f.lookup)
	}
	if a.pages[screenHome] != nil {
		s.assets.learn(a.balances)
	}
	if s.book == nil {
		if s.opening {
			return nil
		}
		s.opening, s.openErr = true, ""
		return func() tea.Msg {
			b, err := payreq.Open(path)
			return reqBookMsg{path: path, book: b, err: err}
		}
	}
	s.list.reload()
	return tea.Batch(again, s.fetchAssets(s.list.reqs))
}

// current is the mode shown.
func (s *requestScreen) current() component {
	switch {
	case s.mode == reqForm && s.form != nil:
		return s.form
	case s.mode == reqShow:
		return s.detail
	}
	return s.list
}

func (s *requestScreen) typing() bool            { return s.current().typing() }
func (s *requestScreen) keys() []key.Binding     { return s.current().keys() }
func (s *requestScreen) fullKeys() []key.Binding { return s.current().fullKeys() }

func (s *requestScreen) view(height int) string { return safeView(s.viewRaw(height)) }

func (s *requestScreen) viewRaw(height int) string {
	st := s.ctx.st
	switch {
	case s.openErr != "":
		return st.Title.Render("Payment requests") + "\n\n" +
			st.Error.Render(para("The request book cannot be used: "+s.openErr, s.ctx.width-2, "")) + "\n\n" +
			st.Subtle.Render("esc goes back; p on the balances tries again.")
	case s.book == nil:
		return st.Title.Render("Payment requests") + "\n\n" + st.Subtle.Render("Opening the request book…")
	}
	return s.current().view(height)
}

// update hands a message to the mode it is for, then makes the moves the
// mode asked for.
func (s *requestScreen) update(msg tea.Msg) tea.Cmd {
	cmd := s.route(msg)
	var cmds []tea.Cmd
	for moves := s.takeMoves(); len(moves) > 0; moves = s.takeMoves() {
		for _, m := range moves {
			cmds = append(cmds, s.onMove(m))
		}
	}
	return tea.Batch(append([]tea.Cmd{cmd}, cmds...)...)
}

func (s *requestScreen) route(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case reqBookMsg:
		return s.onBook(msg)
	case reqAssetMsg:
		return s.onAsset(msg)
	case reqCreatedMsg:
		return s.onCreated(msg)
	case reqTickMsg:
		if s.mode != reqShow {
			return nil // a tick of a watch that ended
		}
		return s.detail.onTick(msg)
	case reqCheckedMsg:
		s.list.reload()
		return s.detail.onChecked(msg, s.mode == reqShow)
	case reqPayerMsg:
		s.detail.onPayer(msg)
		return nil
	case reqSandboxPaidMsg:
		s.detail.onSandboxPaid(msg)
		return nil
	}
	// Keys, and cursor blinks and the like, go to the mode shown.
	return s.current().update(msg)
}

func (s *requestScreen) onMove(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case reqToListMsg:
		s.mode = reqList // a form left is kept for the next n
		if msg.reread {
			s.list.reload()
		}
	case reqToFormMsg:
		return s.openForm()
	case reqToShowMsg:
		return s.show(msg.req)
	}
	return nil
}

func (s *requestScreen) onBook(msg reqBookMsg) tea.Cmd {
	if msg.path != s.path {
		return nil // the book of another profile
	}
	s.opening = false
	if msg.err != nil {
		// Whole: it names the file and what is wrong with it.
		s.openErr = capitalize(strings.Join(strings.Fields(msg.err.Error()), " "))
		return nil
	}
	s.book = msg.book
	s.list.reload()
	return s.fetchAssets(s.list.reqs)
}

// onAsset learns an asset looked up; the form hears of the one it asked
// for.
func (s *requestScreen) onAsset(msg reqAssetMsg) tea.Cmd {
	if leftBehind(msg.err) {
		return nil // given up when the screen was left; asked again on return
	}
	delete(s.assets.fetching, msg.id)
	if msg.err == nil && msg.asset != nil {
		s.assets.learn([]rail.Asset{*msg.asset})
	}
	if f := s.form; f != nil && f.lookup == msg.id {
		f.onAsset(msg)
	}
	return nil
}

// onCreated follows the writing of a request: the list reads the book
// again, and the form, if still shown, gives way to the request created.
func (s *requestScreen) onCreated(msg reqCreatedMsg) tea.Cmd {
	s.list.reload()
	f := s.form
	if f == nil || f.trace != msg.trace || !f.created(msg) {
		return nil
	}
	s.form = nil
	if s.mode != reqForm {
		return nil // the operator left the form meanwhile; the request is in the list
	}
	s.list.pick(msg.req.TraceID)
	s.ctx.setStatus("Payment request created: share the link (c copies it) or the QR code.", true)
	return s.show(msg.req)
}

// openForm opens the new-request form, or the unfinished one.
func (s *requestScreen) openForm() tea.Cmd {
	s.mode = reqForm
	if s.form == nil {
		s.form = newRequestForm(s.ctx, s.requestShared)
	}
	s.assets.learn(s.ctx.balances)
	s.form.filter()
	return s.form.setFocus(s.form.focus)
}

// show opens one request.
func (s *requestScreen) show(r payreq.Request) tea.Cmd {
	s.mode = reqShow
	return s.detail.open(r)
}
