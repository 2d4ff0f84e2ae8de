package ui

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/mixin"
	"mixdesk/payout"
)

// Watching a payment request: how often its trace is looked up, and for how
// long before the console stops asking.
const (
	requestWatchEvery = 2 * time.Second
	requestWatchFor   = 10 * time.Minute
)

// requestsPath is the request book of a profile.
func requestsPath(dataDir, profile string) string {
	return filepath.Join(dataDir, "requests-"+profile+".json")
}

// The payment-request screen's modes.
type reqMode int

const (
	reqList reqMode = iota // the book, newest first
	reqForm                // a new request
	reqShow                // one request: link, QR code, watch
)

// The new-request form's focus order.
type reqField int

const (
	rfAsset reqField = iota
	rfAmount
	rfMemo
	rfCreate
	rfCount
)

// requestScreen lists the profile's payment requests, makes new ones and
// shows one with its link and QR code, watching its trace until it is paid.
// It is kept in App.request across visits, so that the book is opened once
// per profile.
type requestScreen struct {
	path    string // the book's file
	book    *payout.Requests
	opening bool
	openErr string

	mode reqMode
	list []payout.Request // the book as last read, newest first
	sel  int              // selected row of list
	form *requestForm     // an unfinished form is kept until it is created

	// Assets known by id (balances and look-ups), in the order learnt.
	assets   map[string]mixin.Asset
	order    []string
	fetching map[string]bool
	payers   map[string]*mixin.User // payer names looked up, by user id

	// The request shown.
	cur      payout.Request
	link     string
	linkErr  string
	qr       string
	qrErr    string
	checking bool
	checked  time.Time // the last look-up that answered
	checkErr string
	payerErr string

	// Watching: a look-up every `every` until paid or until `until`.
	watching bool
	watchGen int // ticks and answers of an earlier watch carry an older gen
	until    time.Time
	stopNote string
	every    time.Duration
	limit    time.Duration
	now      func() time.Time

	kUp, kDown, kShow, kNew, kHome      key.Binding
	kNext, kPrev, kPick, kCreate, kList key.Binding
	kCopy, kWatch, kCheck, kShowBack    key.Binding
}

// requestForm is a new payment request being typed.
type requestForm struct {
	trace    string // made once when the form opens
	inputs   [3]textinput.Model
	focus    reqField
	matches  []string // asset ids matching the asset field
	pick     int      // position in matches
	asset    *mixin.Asset
	fieldErr [3]string
	formErr  string
	lookup   string // an asset id being looked up
	creating bool
}

// Messages of the payment-request screen.
type (
	reqBookMsg struct {
		path string
		book *payout.Requests
		err  error
	}
	reqCreatedMsg struct {
		trace string
		req   payout.Request
		err   error
	}
	reqTickMsg    struct{ gen int }
	reqCheckedMsg struct {
		gen   int
		watch bool // a look-up of the watch (not a one-off check)
		trace string
		req   payout.Request
		err   error
	}
	reqPayerMsg struct {
		id   string
		user *mixin.User
		err  error
	}
	reqAssetMsg struct {
		id    string
		asset *mixin.Asset
		err   error
	}
)

func newRequestScreen(path string) *requestScreen {
	return &requestScreen{
		path:     path,
		assets:   map[string]mixin.Asset{},
		fetching: map[string]bool{},
		payers:   map[string]*mixin.User{},
		every:    requestWatchEvery,
		limit:    requestWatchFor,
		now:      time.Now,

		kUp:   bind([]string{"up", "k"}, "↑/↓", "select"),
		kDown: bind([]string{"down", "j"}, "", ""),
		kShow: bind([]string{"enter"}, "enter", "show"),
		kNew:  bind([]string{"n"}, "n", "new request"),
		kHome: bind([]string{"esc"}, "esc", "back to balances"),

		kNext:   bind([]string{"tab", "enter"}, "tab/enter", "next field"),
		kPrev:   bind([]string{"shift+tab"}, "shift+tab", "previous field"),
		kPick:   bind([]string{"up", "down"}, "↑/↓", "choose asset"),
		kCreate: bind([]string{"enter"}, "enter", "create"),
		kList:   bind([]string{"esc"}, "esc", "back to the list"),

		kCopy:     bind([]string{"c"}, "c", "copy link"),
		kWatch:    bind([]string{"w"}, "w", "watch until paid"),
		kCheck:    bind([]string{"r"}, "r", "check now"),
		kShowBack: bind([]string{"esc"}, "esc", "back to the list"),
	}
}

// openRequests opens the payment-request screen of the open profile; the
// book is read in a command the first time.
func (a *App) openRequests() tea.Cmd {
	if a.conn == nil {
		return nil
	}
	path := requestsPath(a.deps.DataDir, a.conn.name)
	if a.request == nil || a.request.path != path {
		a.request = newRequestScreen(path)
	}
	s := a.request
	a.screen = screenRequest
	s.mode = reqList
	s.checking = false // an answer that arrived while away was dropped
	if a.home != nil {
		s.learnAssets(a.home.assets)
	}
	if s.book == nil {
		if s.opening {
			return nil
		}
		s.opening, s.openErr = true, ""
		return func() tea.Msg {
			b, err := payout.OpenRequests(path)
			return reqBookMsg{path: path, book: b, err: err}
		}
	}
	s.reload()
	return s.fetchAssets(a)
}

func (s *requestScreen) typing() bool {
	return s.mode == reqForm && s.form != nil && s.form.focus < rfCreate
}

func (s *requestScreen) keys() []key.Binding {
	switch s.mode {
	case reqForm:
		f := s.form
		if f == nil {
			return []key.Binding{s.kList}
		}
		if f.focus == rfCreate {
			s.kCreate.SetEnabled(s.formReady())
			return []key.Binding{s.kCreate, s.kPrev, s.kList}
		}
		ks := []key.Binding{s.kNext, s.kPrev}
		if f.focus == rfAsset {
			ks = append(ks, s.kPick)
		}
		return append(ks, s.kList)
	case reqShow:
		paid := s.cur.Closed()
		s.kCopy.SetEnabled(s.link != "" && !s.cur.Spent())
		s.kWatch.SetEnabled(!paid)
		if s.watching {
			s.kWatch.SetHelp("w", "stop watching")
			s.kShowBack.SetHelp("esc", "stop watching")
		} else {
			s.kWatch.SetHelp("w", "watch until paid")
			s.kShowBack.SetHelp("esc", "back to the list")
		}
		s.kCheck.SetEnabled(!paid && !s.checking)
		return []key.Binding{s.kCopy, s.kWatch, s.kCheck, s.kShowBack}
	}
	s.kUp.SetEnabled(len(s.list) > 1)
	s.kShow.SetEnabled(len(s.list) > 0)
	s.kNew.SetEnabled(s.book != nil)
	return []key.Binding{s.kUp, s.kShow, s.kNew, s.kHome}
}

// reload reads the book into the list, keeping the selected request.
func (s *requestScreen) reload() {
	if s.book == nil {
		return
	}
	keep := ""
	if s.sel < len(s.list) {
		keep = s.list[s.sel].TraceID
	}
	s.list = s.book.List()
	s.sel = 0
	for i, r := range s.list {
		if r.TraceID == keep {
			s.sel = i
		}
	}
}

// knownAssets lists the assets known, in the order learnt.
func (s *requestScreen) knownAssets() []mixin.Asset {
	out := make([]mixin.Asset, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.assets[id])
	}
	return out
}

// learnAssets remembers assets (from the balances or a look-up).
func (s *requestScreen) learnAssets(as []mixin.Asset) {
	for _, x := range as {
		if _, ok := s.assets[x.AssetID]; !ok {
			s.order = append(s.order, x.AssetID)
		}
		s.assets[x.AssetID] = x
	}
}

// fetchAssets looks up the assets of listed requests that the balances do
// not name, so that every row shows a symbol.
func (s *requestScreen) fetchAssets(a *App) tea.Cmd {
	var cmds []tea.Cmd
	for _, r := range s.list {
		if _, ok := s.assets[r.AssetID]; ok || s.fetching[r.AssetID] {
			continue
		}
		cmds = append(cmds, s.assetCmd(a, r.AssetID))
	}
	return tea.Batch(cmds...)
}

func (s *requestScreen) assetCmd(a *App, id string) tea.Cmd {
	s.fetching[id] = true
	desk := a.conn.desk
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		as, err := desk.LookupAsset(ctx, id)
		return reqAssetMsg{id: id, asset: as, err: err}
	}
}

// symbol is an asset's symbol, display-safe and at most 16 cells, or the
// start of its id while unknown.
func (s *requestScreen) symbol(id string) string {
	if as, ok := s.assets[id]; ok && clean(as.Symbol) != "" {
		return truncate(as.Symbol, 16)
	}
	return shortID(clean(id))
}

func (s *requestScreen) update(a *App, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case reqBookMsg:
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
		s.reload()
		return s.fetchAssets(a)
	case reqAssetMsg:
		delete(s.fetching, msg.id)
		if msg.err == nil && msg.asset != nil {
			s.learnAssets([]mixin.Asset{*msg.asset})
		}
		if f := s.form; f != nil && f.lookup == msg.id {
			f.lookup = ""
			if msg.err != nil {
				if mixin.IsNotFound(msg.err) {
					f.fieldErr[rfAsset] = "no asset with this id"
				} else {
					f.fieldErr[rfAsset] = "looking the asset up failed: " + explain(msg.err)
				}
			}
			s.filter()
		}
		return nil
	case reqCreatedMsg:
		return s.onCreated(a, msg)
	case reqTickMsg:
		return s.onTick(a, msg)
	case reqCheckedMsg:
		return s.onChecked(a, msg)
	case reqPayerMsg:
		if msg.err != nil {
			if msg.id == s.cur.PayerID {
				s.payerErr = explain(msg.err)
			}
			return nil
		}
		s.payers[msg.id] = msg.user
		return nil
	case tea.KeyMsg:
		switch s.mode {
		case reqForm:
			return s.formKey(a, msg)
		case reqShow:
			return s.showKey(a, msg)
		}
		return s.listKey(a, msg)
	}
	// Cursor blinks and the like go to the focused field.
	if f := s.form; s.mode == reqForm && f != nil && f.focus < rfCreate {
		var cmd tea.Cmd
		f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
		return cmd
	}
	return nil
}

func (s *requestScreen) listKey(a *App, k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, s.kHome):
		a.screen = screenHome
		return nil
	case s.book == nil:
		return nil
	case key.Matches(k, s.kUp) && len(s.list) > 0:
		s.sel = (s.sel + len(s.list) - 1) % len(s.list)
	case key.Matches(k, s.kDown) && len(s.list) > 0:
		s.sel = (s.sel + 1) % len(s.list)
	case key.Matches(k, s.kShow) && s.sel < len(s.list):
		return s.show(a, s.list[s.sel])
	case key.Matches(k, s.kNew):
		return s.openForm(a)
	}
	return nil
}

// show opens one request.
func (s *requestScreen) show(a *App, r payout.Request) tea.Cmd {
	s.mode = reqShow
	s.cur = r
	s.checkErr, s.payerErr, s.stopNote = "", "", ""
	s.checked = time.Time{}
	s.stopWatch()
	s.link, s.linkErr, s.qr, s.qrErr = "", "", "", ""
	link, err := r.Link()
	if err != nil {
		s.linkErr = explain(err)
	} else {
		s.link = link
		if s.qr, err = QRText(link); err != nil {
			s.qrErr = explain(err)
		}
	}
	return s.payerCmd(a)
}

// payerCmd looks the payer's name up once the request is paid.
func (s *requestScreen) payerCmd(a *App) tea.Cmd {
	id := s.cur.PayerID
	if !s.cur.Paid() || id == "" || s.payers[id] != nil {
		return nil
	}
	desk := a.conn.desk
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		u, err := desk.LookupUser(ctx, id)
		return reqPayerMsg{id: id, user: u, err: err}
	}
}

func (s *requestScreen) showKey(a *App, k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, s.kShowBack):
		if s.watching {
			s.stopWatch()
			s.stopNote = "Stopped watching; the request stays open (w watches again)."
			return nil
		}
		s.mode = reqList
		s.reload()
		return nil
	case key.Matches(k, s.kCopy) && s.link != "" && !s.cur.Spent():
		return copyCmd("payment link", s.link)
	case key.Matches(k, s.kWatch) && !s.cur.Closed():
		if s.watching {
			s.stopWatch()
			s.stopNote = "Stopped watching; the request stays open (w watches again)."
			return nil
		}
		s.watching = true
		s.watchGen++
		s.until = s.now().Add(s.limit)
		s.stopNote, s.checkErr = "", ""
		if s.checking {
			return s.tick() // a look-up is on its way; the watch follows it
		}
		return s.checkCmd(a, true)
	case key.Matches(k, s.kCheck) && !s.cur.Closed() && !s.checking:
		return s.checkCmd(a, false)
	}
	return nil
}

// stopWatch ends the watch; its pending tick and answer are then ignored.
func (s *requestScreen) stopWatch() {
	if s.watching {
		s.watching = false
		s.watchGen++
	}
}

func (s *requestScreen) tick() tea.Cmd {
	gen := s.watchGen
	return tea.Tick(s.every, func(time.Time) tea.Msg { return reqTickMsg{gen: gen} })
}

// checkCmd looks the shown request's trace up once.
func (s *requestScreen) checkCmd(a *App, watch bool) tea.Cmd {
	s.checking = true
	book, api, trace, gen := s.book, a.conn.client, s.cur.TraceID, s.watchGen
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r, err := book.Check(ctx, api, trace)
		return reqCheckedMsg{gen: gen, watch: watch, trace: trace, req: r, err: err}
	}
}

func (s *requestScreen) onTick(a *App, msg reqTickMsg) tea.Cmd {
	if !s.watching || msg.gen != s.watchGen || s.mode != reqShow {
		return nil // a tick of a watch that ended
	}
	if !s.now().Before(s.until) {
		s.stopWatch()
		s.stopNote = "Stopped watching after " + spellDuration(s.limit) + ": not paid yet. The link stays valid; w watches again."
		return nil
	}
	if s.checking {
		return s.tick()
	}
	return s.checkCmd(a, true)
}

func (s *requestScreen) onChecked(a *App, msg reqCheckedMsg) tea.Cmd {
	s.checking = false
	s.reload()
	if s.mode != reqShow || msg.trace != s.cur.TraceID {
		return nil
	}
	if msg.req.TraceID == s.cur.TraceID {
		s.cur = msg.req
	}
	if msg.err != nil {
		s.checkErr = explain(msg.err)
		var mismatch *payout.PaymentMismatchError
		if errors.As(msg.err, &mismatch) || !mixin.IsServerOrTransport(msg.err) {
			if s.watching {
				s.stopWatch()
				s.stopNote = "Stopped watching: the check cannot go on by itself."
			}
			return nil
		}
	} else {
		s.checkErr = ""
		s.checked = s.now()
	}
	if s.cur.Paid() {
		s.stopWatch()
		s.stopNote = ""
		a.setStatus("Payment request paid: "+payout.GroupDigits(clean(s.cur.Amount))+" "+s.symbol(s.cur.AssetID)+".", true)
		return s.payerCmd(a)
	}
	if msg.watch && s.watching && msg.gen == s.watchGen {
		return s.tick()
	}
	return nil
}
