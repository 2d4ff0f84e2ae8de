package ui

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

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

// fullKeys is the whole key map of the mode shown, for ?.
func (s *requestScreen) fullKeys() []key.Binding {
	switch s.mode {
	case reqForm:
		return []key.Binding{
			bind([]string{"tab", "enter"}, "tab/enter", "next field (on the asset: take the highlighted one)"),
			bind([]string{"shift+tab"}, "shift+tab", "previous field"),
			bind([]string{"up", "down"}, "↑/↓", "choose the asset in the list, else move between fields"),
			helpRow("asset", "type to filter by symbol or name; an asset id finds any asset"),
			helpRow("amount", "a plain decimal, at most 8 digits after the point"),
			helpRow("memo", "optional, up to 140 characters"),
			bind([]string{"enter"}, "enter", "on Create: write the request to the book and show its link"),
			bind([]string{"esc"}, "esc", "back to the list (the form is kept)"),
		}
	case reqShow:
		return []key.Binding{
			bind([]string{"c"}, "c", "copy the payment link (OSC 52)"),
			bind([]string{"w"}, "w", "watch until paid (again: stop watching)"),
			bind([]string{"r"}, "r", "check once now"),
			bind([]string{"esc"}, "esc", "stop watching, or back to the list"),
		}
	}
	return []key.Binding{
		bind([]string{"up", "down"}, "↑/↓ k/j", "select a request"),
		bind([]string{"enter"}, "enter", "show it: link, QR code, watch"),
		bind([]string{"n"}, "n", "new request"),
		bind([]string{"esc"}, "esc", "back to the balances"),
	}
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
		paid := s.cur.Paid()
		s.kCopy.SetEnabled(s.link != "")
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
	case key.Matches(k, s.kCopy) && s.link != "":
		return copyCmd("payment link", s.link)
	case key.Matches(k, s.kWatch) && !s.cur.Paid():
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
	case key.Matches(k, s.kCheck) && !s.cur.Paid() && !s.checking:
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

// openForm opens the new-request form, or the unfinished one.
func (s *requestScreen) openForm(a *App) tea.Cmd {
	s.mode = reqForm
	if s.form == nil {
		f := &requestForm{trace: payout.NewTraceID()}
		placeholders := [3]string{"type to filter: BTC, USDT… or an asset id", "0.00", "optional, up to 140 characters"}
		limits := [3]int{40, 29, 140}
		for i := range f.inputs {
			in := textinput.New()
			in.Prompt = ""
			in.Placeholder = placeholders[i]
			in.CharLimit = limits[i]
			in.Width = 44
			f.inputs[i] = in
		}
		s.form = f
		s.filter()
	}
	if a.home != nil {
		s.learnAssets(a.home.assets)
		s.filter()
	}
	return s.setFocus(s.form.focus)
}

func (s *requestScreen) setFocus(to reqField) tea.Cmd {
	f := s.form
	f.focus = to
	return focusOnly(f.inputs[:], int(to))
}

// filter recomputes the assets matching the asset field: by symbol, name or
// the start of the id.
func (s *requestScreen) filter() {
	f := s.form
	if f == nil {
		return
	}
	q := strings.ToLower(strings.TrimSpace(f.inputs[rfAsset].Value()))
	f.matches = f.matches[:0]
	for _, id := range s.order {
		as := s.assets[id]
		if assetMatches(as, q) {
			f.matches = append(f.matches, id)
		}
	}
	if f.pick >= len(f.matches) {
		f.pick = max(0, len(f.matches)-1)
	}
}

// choose takes the highlighted asset.
func (s *requestScreen) choose() {
	f := s.form
	if len(f.matches) == 0 {
		f.asset = nil
		if f.lookup == "" && f.fieldErr[rfAsset] == "" {
			f.fieldErr[rfAsset] = "no asset matches (an asset id finds any asset)"
		}
		return
	}
	as := s.assets[f.matches[f.pick]]
	f.asset = &as
	f.fieldErr[rfAsset] = ""
	f.inputs[rfAsset].SetValue(nameText(as.Symbol))
}

func (s *requestScreen) amountErr() string {
	v := strings.TrimSpace(s.form.inputs[rfAmount].Value())
	if v == "" {
		return ""
	}
	if _, _, err := mixin.ParseAmount(v); err != nil {
		return fieldReason(err)
	}
	return ""
}

func (s *requestScreen) memoErr() string {
	if err := mixin.ValidateMemo(s.form.inputs[rfMemo].Value()); err != nil {
		return fieldReason(err)
	}
	return ""
}

// fieldReason is the reason of a field error, or the error's text.
func fieldReason(err error) string {
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return err.Error()
}

// formReady: an asset is chosen, the amount and memo are valid, and the
// request is not being created already; Create is enabled.
func (s *requestScreen) formReady() bool {
	f := s.form
	if f == nil || f.asset == nil || f.creating {
		return false
	}
	if strings.TrimSpace(f.inputs[rfAmount].Value()) == "" || s.amountErr() != "" {
		return false
	}
	return s.memoErr() == ""
}

func (s *requestScreen) formKey(a *App, k tea.KeyMsg) tea.Cmd {
	f := s.form
	if f == nil {
		s.mode = reqList
		return nil
	}
	switch k.String() {
	case "esc":
		s.mode = reqList // the form is kept for the next n
		return nil
	case "up", "down":
		if f.focus == rfAsset && len(f.matches) > 0 {
			f.pick = step(f.pick, len(f.matches), k.String())
			return nil
		}
		return s.setFocus(reqField(step(int(f.focus), int(rfCount), k.String())))
	case "shift+tab":
		return s.setFocus(reqField(step(int(f.focus), int(rfCount), "up")))
	case "tab", "enter":
		if f.focus == rfAsset {
			s.choose()
		}
		if f.focus == rfCreate && k.String() == "enter" {
			return s.create(a)
		}
		return s.setFocus((f.focus + 1) % rfCount)
	}
	if f.focus >= rfCreate {
		return nil
	}
	before := f.inputs[f.focus].Value()
	var cmd tea.Cmd
	f.inputs[f.focus], cmd = f.inputs[f.focus].Update(k)
	if f.inputs[f.focus].Value() == before {
		return cmd
	}
	f.formErr = ""
	f.fieldErr[f.focus] = ""
	if f.focus == rfAsset {
		f.asset = nil
		f.pick = 0
		s.filter()
		// An asset id that no known asset has is looked up.
		if id, err := mixin.ParseUUID(mixin.FieldAsset, f.inputs[rfAsset].Value()); err == nil && len(f.matches) == 0 && !s.fetching[id] {
			f.lookup = id
			return tea.Batch(cmd, s.assetCmd(a, id))
		}
	}
	return cmd
}

// create writes the request to the book under the form's trace.
func (s *requestScreen) create(a *App) tea.Cmd {
	f := s.form
	if !s.formReady() {
		switch {
		case f.asset == nil:
			f.formErr = "Choose an asset first."
		case strings.TrimSpace(f.inputs[rfAmount].Value()) == "" || s.amountErr() != "":
			f.formErr = "Type a valid amount first."
		default:
			f.formErr = "Make the memo valid first."
		}
		return nil
	}
	f.creating = true
	book, trace, self := s.book, f.trace, a.conn.me.UserID
	asset, amount, memo := f.asset.AssetID, strings.TrimSpace(f.inputs[rfAmount].Value()), f.inputs[rfMemo].Value()
	return func() tea.Msg {
		r, err := book.CreateWithTrace(trace, self, asset, amount, memo)
		return reqCreatedMsg{trace: trace, req: r, err: err}
	}
}

func (s *requestScreen) onCreated(a *App, msg reqCreatedMsg) tea.Cmd {
	s.reload()
	f := s.form
	if f == nil || f.trace != msg.trace {
		return nil
	}
	f.creating = false
	if msg.err != nil {
		var fe *mixin.FieldError
		if errors.As(msg.err, &fe) {
			switch fe.Field {
			case mixin.FieldAsset:
				f.fieldErr[rfAsset] = fe.Reason
				return nil
			case mixin.FieldAmount:
				f.fieldErr[rfAmount] = fe.Reason
				return nil
			case mixin.FieldMemo:
				f.fieldErr[rfMemo] = fe.Reason
				return nil
			}
		}
		f.formErr = "Not created: " + explain(msg.err)
		return nil
	}
	s.form = nil
	if s.mode != reqForm {
		return nil // the operator left the form meanwhile; the request is in the list
	}
	for i, r := range s.list {
		if r.TraceID == msg.req.TraceID {
			s.sel = i
		}
	}
	a.setStatus("Payment request created: share the link (c copies it) or the QR code.", true)
	return s.show(a, msg.req)
}

func (s *requestScreen) view(a *App, height int) string { return safeView(s.viewRaw(a, height)) }

func (s *requestScreen) viewRaw(a *App, height int) string {
	switch {
	case s.openErr != "":
		return a.st.Title.Render("Payment requests") + "\n\n" +
			a.st.Error.Render(para("The request book cannot be used: "+s.openErr, a.width-2, "")) + "\n\n" +
			a.st.Subtle.Render("esc goes back; p on the balances tries again.")
	case s.book == nil:
		return a.st.Title.Render("Payment requests") + "\n\n" + a.st.Subtle.Render("Opening the request book…")
	}
	switch s.mode {
	case reqForm:
		return s.formView(a)
	case reqShow:
		return s.showView(a, height)
	}
	return s.listView(a, height)
}

func (s *requestScreen) listView(a *App, height int) string {
	st := a.st
	var b strings.Builder
	open, paid := 0, 0
	for _, r := range s.list {
		if r.Paid() {
			paid++
		} else {
			open++
		}
	}
	b.WriteString(st.Title.Render("Payment requests") + st.Subtle.Render("  "+itoa(open)+" open · "+itoa(paid)+" paid") + "\n\n")
	if len(s.list) == 0 {
		b.WriteString(para("No payment requests yet. Press n to make one: a link and a QR code that anyone can pay into this wallet, watched until it is paid.", a.width-2, ""))
		return b.String()
	}
	w := a.width - 2
	stateW, symW, amtW, whenW := 8, 8, 22, 20
	memoW := max(w-2-stateW-symW-amtW-whenW-2, 8)
	b.WriteString(st.Label.Render("  "+padRight("STATE", stateW)+padRight("ASSET", symW)+padLeft("AMOUNT", amtW-1)+"  "+padRight("MEMO", memoW)+padRight("CREATED", whenW)) + "\n")
	rows := max(height-4, 1)
	first := 0
	if s.sel >= rows {
		first = s.sel - rows + 1
	}
	for i := first; i < len(s.list) && i < first+rows; i++ {
		r := s.list[i]
		state := "○ open"
		if r.Paid() {
			state = "✓ paid"
		}
		memo := clean(r.Memo)
		if memo == "" {
			memo = "—"
		}
		// The symbol is cut after it is cleaned, by display width: never
		// inside an escape sequence.
		line := padRight(state, stateW) + padRight(truncate(s.symbol(r.AssetID), symW-1), symW) +
			padLeft(payout.GroupDigits(r.Amount), amtW-1) + "  " + padRight(truncate(memo, memoW-1), memoW) + padRight(localTime(r.CreatedAt), whenW)
		if i == s.sel {
			b.WriteString(st.Focused.Render("› "+line) + "\n")
		} else {
			b.WriteString("  " + line + "\n")
		}
	}
	if n := len(s.list) - first - rows; n > 0 {
		b.WriteString(st.Subtle.Render("  … "+plural(n, "more request")) + "\n")
	}
	return b.String()
}

func (s *requestScreen) formView(a *App) string {
	st := a.st
	f := s.form
	var b strings.Builder
	b.WriteString(st.Title.Render("New payment request") + st.Subtle.Render("  paid into "+truncate(nameText(a.conn.me.FullName), 32)+" ("+clean(a.conn.me.UserID)+")") + "\n\n")
	label := func(fl reqField, name string) string {
		l := marker(f.focus == fl) + padRight(name, 11)
		if f.focus == fl {
			return st.Focused.Render(l)
		}
		return st.Label.Render(l)
	}
	const indent = "             "
	errLine := func(e string) {
		if e != "" {
			b.WriteString(indent + st.Error.Render("✗ "+clean(e)) + "\n")
		}
	}
	twins := assetTwins(s.knownAssets())

	b.WriteString(label(rfAsset, "Asset") + f.inputs[rfAsset].View() + "\n")
	switch {
	case f.focus == rfAsset:
		// A window of the matches that holds the highlighted one.
		from, to := listWindow(len(f.matches), f.pick, 5)
		if from > 0 {
			b.WriteString(indent + st.Subtle.Render("… "+itoa(from)+" before") + "\n")
		}
		for i := from; i < to; i++ {
			id := f.matches[i]
			as := s.assets[id]
			line := padRight(truncate(as.Symbol, 6), 7) + padRight(truncate(as.Name, 18), 19) + st.Subtle.Render(shortID(clean(as.AssetID)))
			if twins[id] != "" {
				line += st.Warn.Render("  same symbol as another asset")
			}
			if i == f.pick {
				b.WriteString("           " + st.Focused.Render("▸ "+line) + "\n")
			} else {
				b.WriteString(indent + line + "\n")
			}
		}
		if to < len(f.matches) {
			b.WriteString(indent + st.Subtle.Render("… "+itoa(len(f.matches)-to)+" more") + "\n")
		}
		switch {
		case f.lookup != "":
			b.WriteString(indent + st.Subtle.Render("looking the asset up…") + "\n")
		case len(f.matches) == 0 && f.fieldErr[rfAsset] == "":
			b.WriteString(indent + st.Error.Render("no asset matches; type an asset id to use any asset") + "\n")
		}
	case f.asset != nil:
		b.WriteString(indent + st.Subtle.Render(truncate(f.asset.Name, 30)+" · "+clean(f.asset.AssetID)) + "\n")
	}
	errLine(f.fieldErr[rfAsset])

	b.WriteString(label(rfAmount, "Amount") + f.inputs[rfAmount].View() + "\n")
	if e := s.amountErr(); e != "" {
		errLine(e)
	} else if f.fieldErr[rfAmount] != "" {
		errLine(f.fieldErr[rfAmount])
	} else if amt, _, err := mixin.ParseAmount(strings.TrimSpace(f.inputs[rfAmount].Value())); err == nil && f.asset != nil {
		note := payout.GroupDigits(amt.String()) + " " + truncate(f.asset.Symbol, 16)
		if p := dec(f.asset.PriceUSD); p.IsPositive() {
			note += " · ≈ " + usd(amt.Mul(p)) + " USD"
		}
		b.WriteString(indent + st.Subtle.Render(note) + "\n")
	}

	n := utf8.RuneCountInString(f.inputs[rfMemo].Value())
	counter := st.Subtle.Render(itoa(n) + "/140")
	if n > mixin.MaxMemoRunes {
		counter = st.Error.Render(itoa(n) + "/140")
	}
	b.WriteString(label(rfMemo, "Memo") + f.inputs[rfMemo].View() + " " + counter + "\n")
	if e := s.memoErr(); e != "" {
		errLine(e)
	} else {
		errLine(f.fieldErr[rfMemo])
	}

	b.WriteString(st.Label.Render("  Trace id   ") + st.Subtle.Render(f.trace+"  (made once; the payment carries it)") + "\n\n")
	lbl := "Create"
	if f.creating {
		lbl = "Creating…"
	}
	b.WriteString("  " + st.button(lbl, f.focus == rfCreate, s.formReady()) + "\n")
	if f.formErr != "" {
		b.WriteString("\n" + st.Error.Render(clean(f.formErr)) + "\n")
	}
	return b.String()
}

// qrStyle draws the QR code light on dark whatever the terminal's theme,
// where the terminal has colours; without them (NO_COLOR) the terminal's own
// colours are used, which read correctly on a dark background.
var qrStyle = lipgloss.NewStyle().Foreground(lipgloss.Color("#FFFFFF")).Background(lipgloss.Color("#000000"))

func (s *requestScreen) showView(a *App, height int) string {
	w := a.width - 2
	head := s.showHead(a, w)
	if s.cur.Paid() {
		// A trace pays once: the code is of no more use, and a payer who
		// scanned it again would only be refused.
		return head + "\n\n" + a.st.Subtle.Render(para("The link is paid and cannot be paid again; its QR code is no longer shown.", w, ""))
	}
	qr := strings.TrimSuffix(s.qr, "\n")
	if qr == "" {
		if s.qrErr != "" {
			return head + "\n\n" + a.st.Error.Render("No QR code: "+s.qrErr)
		}
		return head
	}
	qrH, qrW := lipgloss.Height(qr), lipgloss.Width(qr)
	// Under the details when it fits, else beside them, else not at all.
	if lipgloss.Height(head)+1+qrH <= height && qrW <= w {
		return head + "\n\n" + qrStyle.Render(qr)
	}
	if side := w - qrW - 2; side >= 44 && qrH <= height {
		left := s.showHead(a, side)
		if lipgloss.Height(left) <= height {
			return lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(side+2).Render(left), qrStyle.Render(qr))
		}
	}
	// Short and narrow: the code with a one-line summary; the details come
	// back when the terminal is larger.
	if qrH+2 <= height && qrW <= w {
		r := s.cur
		sum := payout.GroupDigits(clean(r.Amount)) + " " + s.symbol(r.AssetID)
		if r.Memo != "" {
			sum += " · " + clean(r.Memo)
		}
		sum += " · trace " + shortID(clean(r.TraceID)) + " · open (c copies the link, w watches)"
		return a.st.Title.Render(truncate(sum, w)) + "\n\n" + qrStyle.Render(qr)
	}
	needW, needH := max(qrW+2, a.width), a.height-height+lipgloss.Height(head)+1+qrH
	return head + "\n\n" + a.st.Subtle.Render(para("Enlarge the terminal to see the QR code (to "+itoa(needW)+"×"+itoa(needH)+
		"; this one is "+itoa(a.width)+"×"+itoa(a.height)+"), or copy the link with c.", w, ""))
}

// showHead is the shown request without its QR code, w columns wide.
func (s *requestScreen) showHead(a *App, w int) string {
	st := a.st
	r := s.cur
	var b strings.Builder
	b.WriteString(st.Title.Render("Payment request") + "\n\n")

	// Where it stands first, so that it shows however tall the code is.
	switch {
	case r.Paid():
		// The payer's name is what they chose: cleaned, on one line and
		// cut; the Mixin ID the server gave stands apart from it.
		who := clean(r.PayerID)
		if u := s.payers[r.PayerID]; u != nil {
			who = truncate(nameText(u.FullName), max(w-40, 16)) + " · Mixin ID " + clean(u.IdentityNumber)
		} else if who == "" {
			who = "an unknown payer"
		}
		b.WriteString(st.Good.Render(para("✓ Paid by "+who+" at "+localTime(r.PaidAt), w, "")) + "\n")
		b.WriteString(st.Subtle.Render(para("snapshot "+orDash(clean(r.SnapshotID))+" · payer "+orDash(clean(r.PayerID)), w, "")) + "\n")
		if s.payerErr != "" {
			b.WriteString(st.Subtle.Render(para("(payer's name not found: "+s.payerErr+")", w, "")) + "\n")
		}
	case s.watching:
		line := "◌ Watching for the payment: the trace is looked up every " + spellDuration(s.every) + " until " + s.until.Local().Format("15:04:05")
		if !s.checked.IsZero() {
			line += " · last checked " + s.checked.Local().Format("15:04:05") + ", not paid yet"
		}
		b.WriteString(st.Warn.Render(para(line+".", w, "")) + "\n")
	default:
		line := "○ Open: not paid yet"
		if !s.checked.IsZero() {
			line += " (checked " + s.checked.Local().Format("15:04:05") + ")"
		}
		b.WriteString(para(line+". w watches until it is paid; r checks once.", w, "") + "\n")
	}
	if s.checking && !s.watching {
		b.WriteString(st.Subtle.Render("Checking…") + "\n")
	}
	if s.checkErr != "" {
		b.WriteString(st.Error.Render(para("✗ "+s.checkErr, w, "")) + "\n")
	}
	if s.stopNote != "" {
		b.WriteString(st.Subtle.Render(para(s.stopNote, w, "")) + "\n")
	}
	b.WriteString("\n")

	const lw = 11
	row := func(name, value string) {
		b.WriteString(st.Label.Render(padRight(name, lw)) + para(value, w, strings.Repeat(" ", lw))[lw:] + "\n")
	}
	asset := s.symbol(r.AssetID)
	if as, ok := s.assets[r.AssetID]; ok && clean(as.Name) != "" {
		asset += " (" + truncate(as.Name, 30) + ")"
	}
	row("Amount", payout.GroupDigits(clean(r.Amount))+" "+asset)
	row("Memo", orDash(clean(r.Memo)))
	to := clean(r.Recipient)
	if r.Recipient == a.conn.me.UserID {
		to = truncate(nameText(a.conn.me.FullName), 32) + " · " + to
	}
	row("Pay to", to)
	row("Trace id", clean(r.TraceID))
	row("Created", localTime(r.CreatedAt))
	if s.linkErr != "" {
		row("Link", st.Error.Render("none: "+s.linkErr))
	} else {
		// The link has no spaces to wrap at: cut it in pieces of the width.
		lines := chunk(s.link, max(w-lw, 20))
		for i, l := range lines {
			name := ""
			if i == 0 {
				name = "Link"
			}
			b.WriteString(st.Label.Render(padRight(name, lw)) + l + "\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// chunk cuts s into pieces of at most n runes.
func chunk(s string, n int) []string {
	var out []string
	r := []rune(s)
	for len(r) > n {
		out = append(out, string(r[:n]))
		r = r[n:]
	}
	return append(out, string(r))
}

// localTime shows a time in the local zone to the second, or "—".
func localTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// spellDuration says a duration in words: "2 seconds", "10 minutes".
func spellDuration(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	case d >= time.Second && d%time.Second == 0:
		return plural(int(d/time.Second), "second")
	}
	return d.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
