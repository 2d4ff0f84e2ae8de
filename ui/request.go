package ui

import (
	"errors"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
	"mixdesk/payout"
	"mixdesk/payout/rail"
)

// Watching a payment request: how often its trace is looked up, and for how
// long before the console stops asking.
const (
	requestWatchEvery = 2 * time.Second
	requestWatchFor   = 10 * time.Minute
)

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
// per profile. It is a component.
type requestScreen struct {
	ctx     *shared
	path    string // the book's file
	book    *payout.Requests
	opening bool
	openErr string

	mode reqMode
	list []payout.Request // the book as last read, newest first
	sel  int              // selected row of list
	form *requestForm     // an unfinished form is kept until it is created

	// Assets known by id (balances and look-ups), in the order learnt.
	assets   map[string]rail.Asset
	order    []string
	fetching map[string]bool
	payers   map[string]*rail.User // payer names looked up, by user id

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

	km   requestKeys
	life lifetime // the look-ups of assets and payers, ended when the screen is left
}

// requestKeys is the payment-request screen's key map, by mode.
type requestKeys struct {
	// The list.
	Up, Down, Show, New, Home keyDef
	// The form.
	Next, Prev, PickUp, PickDown, Create, ToList keyDef
	// One request.
	Copy, Watch, Check, ShowBack keyDef
}

func newRequestKeys() requestKeys {
	return requestKeys{
		Up:   newKey([]string{"up", "k"}, "↑/↓", "select").long("↑/↓ k/j", "select a request"),
		Down: newKey([]string{"down", "j"}, "", ""),
		Show: newKey([]string{"enter"}, "enter", "show").long("enter", "show it: link, QR code, watch"),
		New:  newKey([]string{"n"}, "n", "new request"),
		Home: newKey([]string{"esc"}, "esc", "back to balances").long("esc", "back to the balances"),

		Next:     newKey([]string{"tab", "enter"}, "tab/enter", "next field").long("tab/enter", "next field (on the asset: take the highlighted one)"),
		Prev:     newKey([]string{"shift+tab"}, "shift+tab", "previous field"),
		PickUp:   newKey([]string{"up"}, "↑/↓", "choose asset").long("↑/↓", "choose the asset in the list, else move between fields"),
		PickDown: newKey([]string{"down"}, "", ""),
		Create:   newKey([]string{"enter"}, "enter", "create").long("enter", "on Create: write the request to the book and show its link"),
		ToList:   newKey([]string{"esc"}, "esc", "back to the list").long("esc", "back to the list (the form is kept)"),

		Copy:     newKey([]string{"c"}, "c", "copy link").long("c", "copy the payment link (OSC 52)"),
		Watch:    newKey([]string{"w"}, "w", "watch until paid").long("w", "watch until paid (again: stop watching)"),
		Check:    newKey([]string{"r"}, "r", "check now").long("r", "check once now"),
		ShowBack: newKey([]string{"esc"}, "esc", "back to the list").long("esc", "stop watching, or back to the list"),
	}
}

// requestForm is a new payment request being typed.
type requestForm struct {
	trace    string // made once when the form opens
	picker   assetPicker
	amount   textinput.Model
	memo     textinput.Model
	focus    reqField
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
		user *rail.User
		err  error
	}
	reqAssetMsg struct {
		id    string
		asset *rail.Asset
		err   error
	}
)

func newRequestScreen(ctx *shared, path string) *requestScreen {
	return &requestScreen{
		ctx:      ctx,
		path:     path,
		assets:   map[string]rail.Asset{},
		fetching: map[string]bool{},
		payers:   map[string]*rail.User{},
		every:    requestWatchEvery,
		limit:    requestWatchFor,
		now:      time.Now,

		km: newRequestKeys(),
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
		a.pages[screenRequest] = s
	}
	a.setScreen(screenRequest)
	s.mode = reqList
	// Leaving gave up the look-ups on their way: they are asked again (and
	// the answer of a check that arrived meanwhile was dropped).
	s.checking = false
	s.fetching = map[string]bool{}
	var again tea.Cmd
	if f := s.form; f != nil && f.lookup != "" {
		again = s.assetCmd(f.lookup)
	}
	if a.pages[screenHome] != nil {
		s.learnAssets(a.balances)
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
	return tea.Batch(again, s.fetchAssets())
}

// left ends the look-ups of assets and payers on their way (a check of a
// request's payment goes on: what it finds is written to the book).
func (s *requestScreen) left() { s.life.end() }

func (s *requestScreen) typing() bool {
	return s.mode == reqForm && s.form != nil && s.form.focus < rfCreate
}

// syncKeys enables the keys that act in the mode shown (Create is only
// shown when the form is ready: pressed before, it says what is missing),
// and words the watch key for what it does now.
func (s *requestScreen) syncKeys() {
	k := &s.km
	switch s.mode {
	case reqForm:
		return
	case reqShow:
		closed := s.cur.Closed()
		k.Copy.SetEnabled(s.link != "" && !s.cur.Spent())
		k.Watch.SetEnabled(!closed)
		if s.watching {
			k.Watch.SetHelp("w", "stop watching")
			k.ShowBack.SetHelp("esc", "stop watching")
		} else {
			k.Watch.SetHelp("w", "watch until paid")
			k.ShowBack.SetHelp("esc", "back to the list")
		}
		k.Check.SetEnabled(!closed && !s.checking)
	default:
		k.Up.SetEnabled(len(s.list) > 1)
		k.Show.SetEnabled(len(s.list) > 0)
		k.New.SetEnabled(s.book != nil)
	}
}

func (s *requestScreen) keys() []key.Binding {
	s.syncKeys()
	k := s.km
	switch s.mode {
	case reqForm:
		f := s.form
		switch {
		case f == nil:
			return []key.Binding{k.ToList.Binding}
		case f.focus == rfCreate && s.formReady():
			return []key.Binding{k.Create.Binding, k.Prev.Binding, k.ToList.Binding}
		case f.focus == rfCreate:
			return []key.Binding{k.Prev.Binding, k.ToList.Binding}
		case f.focus == rfAsset:
			return []key.Binding{k.Next.Binding, k.Prev.Binding, k.PickUp.Binding, k.ToList.Binding}
		}
		return []key.Binding{k.Next.Binding, k.Prev.Binding, k.ToList.Binding}
	case reqShow:
		return []key.Binding{k.Copy.Binding, k.Watch.Binding, k.Check.Binding, k.ShowBack.Binding}
	}
	return []key.Binding{k.Up.Binding, k.Show.Binding, k.New.Binding, k.Home.Binding}
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
func (s *requestScreen) knownAssets() []rail.Asset {
	out := make([]rail.Asset, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.assets[id])
	}
	return out
}

// learnAssets remembers assets (from the balances or a look-up).
func (s *requestScreen) learnAssets(as []rail.Asset) {
	for _, x := range as {
		if _, ok := s.assets[x.AssetID]; !ok {
			s.order = append(s.order, x.AssetID)
		}
		s.assets[x.AssetID] = x
	}
}

// fetchAssets looks up the assets of listed requests that the balances do
// not name, so that every row shows a symbol.
func (s *requestScreen) fetchAssets() tea.Cmd {
	var cmds []tea.Cmd
	for _, r := range s.list {
		if _, ok := s.assets[r.AssetID]; ok || s.fetching[r.AssetID] {
			continue
		}
		cmds = append(cmds, s.assetCmd(r.AssetID))
	}
	return tea.Batch(cmds...)
}

func (s *requestScreen) assetCmd(id string) tea.Cmd {
	s.fetching[id] = true
	acct := s.ctx.acct
	ctx, cancel := s.life.within(timeoutLookup)
	return func() tea.Msg {
		defer cancel()
		as, err := acct.Asset(ctx, id)
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

func (s *requestScreen) update(msg tea.Msg) tea.Cmd {
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
		return s.fetchAssets()
	case reqAssetMsg:
		if leftBehind(msg.err) {
			return nil // given up when the screen was left; asked again on return
		}
		delete(s.fetching, msg.id)
		if msg.err == nil && msg.asset != nil {
			s.learnAssets([]rail.Asset{*msg.asset})
		}
		if f := s.form; f != nil && f.lookup == msg.id {
			f.lookup = ""
			if msg.err != nil {
				if errors.Is(msg.err, rail.ErrNotFound) {
					f.fieldErr[rfAsset] = "no asset with this id"
				} else {
					f.fieldErr[rfAsset] = "looking the asset up failed: " + explain(msg.err)
				}
			}
			s.filter()
		}
		return nil
	case reqCreatedMsg:
		return s.onCreated(msg)
	case reqTickMsg:
		return s.onTick(msg)
	case reqCheckedMsg:
		return s.onChecked(msg)
	case reqPayerMsg:
		if leftBehind(msg.err) {
			return nil
		}
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
			return s.formKey(msg)
		case reqShow:
			return s.showKey(msg)
		}
		return s.listKey(msg)
	}
	// Cursor blinks and the like go to the focused field.
	if f := s.form; s.mode == reqForm && f != nil && f.field(f.focus) != nil {
		in := f.field(f.focus)
		var cmd tea.Cmd
		*in, cmd = in.Update(msg)
		return cmd
	}
	return nil
}

func (s *requestScreen) listKey(k tea.KeyMsg) tea.Cmd {
	s.syncKeys()
	km := s.km
	switch {
	case km.Home.matches(k):
		s.ctx.ask(showMsg{screenHome})
		return nil
	case s.book == nil:
		return nil
	case km.Up.matches(k) && len(s.list) > 0:
		s.sel = (s.sel + len(s.list) - 1) % len(s.list)
	case km.Down.matches(k) && len(s.list) > 0:
		s.sel = (s.sel + 1) % len(s.list)
	case km.Show.matches(k) && s.sel < len(s.list):
		return s.show(s.list[s.sel])
	case km.New.matches(k):
		return s.openForm()
	}
	return nil
}

// show opens one request.
func (s *requestScreen) show(r payout.Request) tea.Cmd {
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
	return s.payerCmd()
}

// payerCmd looks the payer's name up once the request is paid.
func (s *requestScreen) payerCmd() tea.Cmd {
	id := s.cur.PayerID
	if !s.cur.Paid() || id == "" || s.payers[id] != nil {
		return nil
	}
	acct := s.ctx.acct
	ctx, cancel := s.life.within(timeoutLookup)
	return func() tea.Msg {
		defer cancel()
		u, err := acct.User(ctx, id)
		return reqPayerMsg{id: id, user: u, err: err}
	}
}

func (s *requestScreen) showKey(k tea.KeyMsg) tea.Cmd {
	s.syncKeys()
	km := s.km
	switch {
	case km.ShowBack.matches(k):
		if s.watching {
			s.stopWatch()
			s.stopNote = "Stopped watching; the request stays open (w watches again)."
			return nil
		}
		s.mode = reqList
		s.reload()
		return nil
	case km.Copy.matches(k):
		return copyCmd("payment link", s.link)
	case km.Watch.matches(k):
		if s.watching {
			s.stopWatch()
			s.stopNote = "Stopped watching; the request stays open (w watches again)."
			return nil
		}
		return s.watch()
	case km.Check.matches(k):
		return s.checkCmd(false)
	}
	return nil
}

// watch starts watching the shown request until it is paid.
func (s *requestScreen) watch() tea.Cmd {
	s.watching = true
	s.watchGen++
	s.until = s.now().Add(s.limit)
	s.stopNote, s.checkErr = "", ""
	if s.checking {
		return s.tick() // a look-up is on its way; the watch follows it
	}
	return s.checkCmd(true)
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
func (s *requestScreen) checkCmd(watch bool) tea.Cmd {
	s.checking = true
	book, looker, trace, gen := s.book, s.ctx.acct.Desk.Rail(), s.cur.TraceID, s.watchGen
	return func() tea.Msg {
		// Not in the screen's lifetime: a payment found is written to the
		// book, which the list shows when the operator comes back.
		ctx, cancel := within(timeoutRead)
		defer cancel()
		r, err := book.CheckOn(ctx, looker, trace)
		return reqCheckedMsg{gen: gen, watch: watch, trace: trace, req: r, err: err}
	}
}

func (s *requestScreen) onTick(msg reqTickMsg) tea.Cmd {
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
	return s.checkCmd(true)
}

func (s *requestScreen) onChecked(msg reqCheckedMsg) tea.Cmd {
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
		if errors.As(msg.err, &mismatch) || !account.Diagnose(msg.err).Transient() {
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
		s.ctx.setStatus("Payment request paid: "+payout.GroupDigits(clean(s.cur.Amount))+" "+s.symbol(s.cur.AssetID)+".", true)
		return s.payerCmd()
	}
	if msg.watch && s.watching && msg.gen == s.watchGen {
		return s.tick()
	}
	return nil
}
