package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"mixdesk/account"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout"
	"mixdesk/payout/rail"
)

// Colours off, as under NO_COLOR: views are plain text, and every focus cue
// must survive without bold, reverse or colour.
func init() { lipgloss.SetColorProfile(termenv.Ascii) }

// The console runs, for the tests, straight in a terminal (not in tmux or
// screen, whatever runs the tests): a copy writes one plain OSC 52
// sequence.
func init() {
	terminalEnv = func(k string) string {
		if k == "TERM" {
			return "xterm-256color"
		}
		return ""
	}
}

// Asset ids of the sandbox's default world.
const (
	btcID  = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"
	usdtID = "4d8c508b-91c5-375b-92b0-ee702ed2dac5"
)

const (
	testSeed    = 20240611
	profileName = "treasury"
	termW       = 100
	termH       = 30
	// waitLong bounds a wait for anything that crosses HTTP.
	waitLong = 10 * time.Second
)

// callCounter sits in front of the sandbox and counts the calls that reach
// it, remembering the trace id of every POST /transfers.
type callCounter struct {
	next http.Handler

	mu     sync.Mutex
	calls  map[string]int // "POST /transfers", "GET /me", "GET /assets/:id", ...
	traces []string       // trace_id of each POST /transfers, in order
}

func (c *callCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.Path
	for _, p := range []string{"/transfers/trace/", "/users/", "/search/", "/assets/", "/snapshots/"} {
		if strings.HasPrefix(r.URL.Path, p) {
			key = r.Method + " " + p + ":id"
		}
	}
	var trace string
	if r.Method == http.MethodPost && r.URL.Path == "/transfers" {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			var b struct {
				TraceID string `json:"trace_id"`
			}
			_ = json.Unmarshal(body, &b)
			trace = b.TraceID
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	c.mu.Lock()
	c.calls[key]++
	if trace != "" {
		c.traces = append(c.traces, trace)
	}
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}

func (c *callCounter) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[key]
}

func (c *callCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

func (c *callCounter) posted() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.traces...)
}

// rig is one test's world: a sandbox behind an HTTP server, an in-memory
// keyring and the console's dependencies.
type rig struct {
	t     *testing.T
	srv   *sandbox.Server
	world sandbox.World
	calls *callCounter
	mem   *keystore.Memory
	store *keystore.Store
	deps  Deps
	op    string     // the operator's user id
	rcpt  mixin.User // the person paid in the flows
}

type rigOpts struct {
	noProfile bool // no profile in the keyring: the console starts on setup
	askPIN    bool // the stored profile does not keep its PIN
	// postWindow is the desk's post window; zero: one nanosecond.
	postWindow time.Duration
}

func newRig(t *testing.T, o rigOpts) *rig {
	t.Helper()
	srv, w, err := sandbox.NewWorld(sandbox.Options{Seed: testSeed, Operator: sandbox.SessionOptions{Kind: mixin.KeyEd25519}})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, srv: srv, world: w, op: w.OperatorUser.UserID, rcpt: w.Users[0]}
	r.calls = &callCounter{next: srv, calls: map[string]int{}}
	hs := httptest.NewServer(r.calls)
	t.Cleanup(hs.Close)
	r.mem = keystore.NewMemory()
	r.store, err = keystore.New(r.mem, keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !o.noProfile {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.store.Save(ctx, profileName, keystore.Profile{Credentials: w.Operator, KeepPIN: !o.askPIN}, false); err != nil {
			t.Fatal(err)
		}
		if err := r.store.SetDefault(ctx, profileName); err != nil {
			t.Fatal(err)
		}
	}
	r.deps = Deps{
		Env: account.Env{
			Store:   r.store,
			APIURL:  hs.URL,
			DataDir: t.TempDir(),
			ClientOptions: []mixin.Option{
				mixin.WithTimeout(8 * time.Second),
				mixin.WithRetry(mixin.RetryPolicy{Attempts: 2, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}),
			},
			// The sandbox here never executes a post after answering or
			// failing it (no FaultHold unless a test says so): no post is
			// in flight once its answer is in, so the window is one
			// nanosecond, unless o.postWindow sets one.
			Payout: payout.Config{PostWindow: time.Nanosecond},
		},
		Sandbox: true,
	}
	if o.postWindow > 0 {
		r.deps.Env.Payout.PostWindow = o.postWindow
	}
	return r
}

// wrongPIN is a well-formed PIN that is not the operator's.
func (r *rig) wrongPIN() string {
	if r.world.Operator.PIN == "123456" {
		return "654321"
	}
	return "123456"
}

// balance is the operator's balance of an asset on the server.
func (r *rig) balance(assetID string) string { return r.srv.Balance(r.op, assetID) }

// ledgerFor lists the committed transfers with a trace id.
func (r *rig) ledgerFor(trace string) []sandbox.Entry {
	var out []sandbox.Entry
	for _, e := range r.srv.Ledger() {
		if e.TraceID == trace {
			out = append(out, e)
		}
	}
	return out
}

// harness wraps the App for teatest so that a test can look at the model in
// the middle of a flow: a probe runs on the program's goroutine, in order
// with the keys sent before it.
type harness struct{ app *App }

type probeMsg struct {
	f    func(*App)
	done chan struct{}
}

func (h *harness) Init() tea.Cmd { return h.app.Init() }

func (h *harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if p, ok := msg.(probeMsg); ok {
		p.f(h.app)
		close(p.done)
		return h, nil
	}
	_, cmd := h.app.Update(msg)
	return h, cmd
}

func (h *harness) View() string { return h.app.View() }

// flow drives one console through teatest.
type flow struct {
	t  *testing.T
	r  *rig
	tm *teatest.TestModel
}

func (r *rig) start(w, h int) *flow {
	r.t.Helper()
	app := New(r.deps)
	r.t.Cleanup(app.Close)
	tm := teatest.NewTestModel(r.t, &harness{app: app}, teatest.WithInitialTermSize(w, h))
	f := &flow{t: r.t, r: r, tm: tm}
	r.t.Cleanup(func() { _ = tm.Quit() })
	return f
}

// typ types s one key per rune, a space as the terminal sends it.
func (f *flow) typ(s string) {
	for _, c := range s {
		if c == ' ' {
			f.tm.Send(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
			continue
		}
		f.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{c}})
	}
}

// press sends special keys.
func (f *flow) press(ks ...tea.KeyType) {
	for _, k := range ks {
		if k == tea.KeySpace {
			f.tm.Send(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
			continue
		}
		f.tm.Send(tea.KeyMsg{Type: k})
	}
}

// waitFor waits until every text has appeared in the output since the last
// wait. Output is consumed: wait only for what the next frame must draw.
func (f *flow) waitFor(texts ...string) {
	f.t.Helper()
	teatest.WaitFor(f.t, f.tm.Output(), func(b []byte) bool {
		for _, s := range texts {
			if !bytes.Contains(b, []byte(s)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(waitLong), teatest.WithCheckInterval(10*time.Millisecond))
}

// probe runs fn on the program's goroutine after every message sent before.
func (f *flow) probe(fn func(*App)) {
	f.t.Helper()
	done := make(chan struct{})
	f.tm.Send(probeMsg{f: fn, done: done})
	select {
	case <-done:
	case <-time.After(waitLong):
		f.t.Fatal("the program did not answer a probe (has it quit?)")
	}
}

// view is the console's View() now.
func (f *flow) view() string {
	f.t.Helper()
	var v string
	f.probe(func(a *App) { v = a.View() })
	return v
}

// final quits the program and returns the App as it ended.
func (f *flow) final() *App {
	f.t.Helper()
	_ = f.tm.Quit()
	return f.finished()
}

// finished waits for the program to end by itself.
func (f *flow) finished() *App {
	f.t.Helper()
	m := f.tm.FinalModel(f.t, teatest.WithFinalTimeout(waitLong))
	return m.(*harness).app
}

// waitHome waits for the home screen with its balances.
func (f *flow) waitHome() {
	f.t.Helper()
	f.waitFor("Balances as of")
}

var (
	uuidRE  = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	clockRE = regexp.MustCompile(`\b\d{2}:\d{2}:\d{2}\b`)
	// A test's temporary directory: its name ends in a random number of
	// varying length.
	tmpRE = regexp.MustCompile(`/tmp/\S*?Test\w*?\d+/`)
)

// normalize replaces what changes from run to run (UUIDs, clock times) with
// fixed tokens of the same width, so that the layout stays as drawn.
func normalize(v string) string {
	v = uuidRE.ReplaceAllString(v, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
	v = clockRE.ReplaceAllString(v, "HH:MM:SS")
	if tmpRE.MatchString(v) {
		// The padding after the path varies with the directory's name.
		v = tmpRE.ReplaceAllString(v, "TMPDIR/")
		lines := strings.Split(v, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " ")
		}
		v = strings.Join(lines, "\n")
	}
	return v
}

// requireGolden checks that a view fits a terminal width columns wide and
// compares it, normalised, with testdata/<test name>.golden.
func requireGolden(t *testing.T, view string, width int) {
	t.Helper()
	fitsWidth(t, view, width)
	golden.RequireEqual(t, []byte(normalize(view)))
}

// checkGolden runs requireGolden as a subtest named name.
func checkGolden(t *testing.T, name, view string, width int) {
	t.Helper()
	t.Run(name, func(t *testing.T) { requireGolden(t, view, width) })
}

// fitsWidth fails for a line wider than the terminal: Bubble Tea cuts such
// lines at the right edge, so the operator never sees their end.
func fitsWidth(t *testing.T, view string, width int) {
	t.Helper()
	// Lines are padded to the widest one; the padding itself is harmless.
	for _, l := range strings.Split(view, "\n") {
		l = strings.TrimRight(l, " ")
		if w := lipgloss.Width(l); w > width {
			t.Errorf("a line is %d wide on a %d-column terminal; what is past the edge is lost: %q", w, width, l)
		}
	}
}

// flat is the text of a view with every run of spaces and line breaks made
// one space, to look for a sentence however it is wrapped.
func flat(view string) string { return strings.Join(strings.Fields(view), " ") }

func mustContain(t *testing.T, view string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(view, w) {
			t.Errorf("the screen lacks %q:\n%s", w, view)
		}
	}
}

func mustNotContain(t *testing.T, view string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(view, b) {
			t.Errorf("the screen shows %q, it must not:\n%s", b, view)
		}
	}
}

// lineWith returns the first line of view containing s, or "".
func lineWith(view, s string) string {
	for _, l := range strings.Split(view, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// traceOnForm reads the trace id shown on the transfer form.
func traceOnForm(t *testing.T, view string) string {
	t.Helper()
	id := uuidRE.FindString(lineWith(view, "Trace id"))
	if id == "" {
		t.Fatalf("no trace id on the form:\n%s", view)
	}
	return id
}

// pump drives an App without a program, for Update-level tests: commands
// run on goroutines and their messages are fed back on the test goroutine.
// Spinner and cursor-blink ticks are dropped; settlement ticks are held so
// that the test decides when they arrive.
type pump struct {
	t    *testing.T
	app  *App
	msgs chan tea.Msg
	stop chan struct{}
	held []settleTickMsg
}

func newPump(t *testing.T, app *App) *pump {
	p := &pump{t: t, app: app, msgs: make(chan tea.Msg, 64), stop: make(chan struct{})}
	t.Cleanup(func() { close(p.stop) })
	return p
}

func (p *pump) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				p.run(c)
			}
			return
		}
		if msg == nil {
			return
		}
		select {
		case p.msgs <- msg:
		case <-p.stop:
		}
	}()
}

// feed delivers one message to the App, unless it is a tick the pump drops
// or holds (recognised by its type once it fires).
func (p *pump) feed(msg tea.Msg) {
	switch m := msg.(type) {
	case spinner.TickMsg:
		return
	case settleTickMsg:
		p.held = append(p.held, m)
		return
	}
	if strings.Contains(strings.ToLower(fmt.Sprintf("%T", msg)), "blink") {
		return
	}
	_, cmd := p.app.Update(msg)
	p.run(cmd)
}

// send delivers one message now, whatever it is.
func (p *pump) send(msg tea.Msg) {
	_, cmd := p.app.Update(msg)
	p.run(cmd)
}

func (p *pump) typ(s string) {
	for _, c := range s {
		if c == ' ' {
			p.send(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
			continue
		}
		p.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{c}})
	}
}

func (p *pump) press(ks ...tea.KeyType) {
	for _, k := range ks {
		if k == tea.KeySpace {
			p.send(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
			continue
		}
		p.send(tea.KeyMsg{Type: k})
	}
}

// waitHeld feeds messages until a settlement tick has fired and is held.
func (p *pump) waitHeld() settleTickMsg {
	p.t.Helper()
	deadline := time.After(waitLong)
	for len(p.held) == 0 {
		select {
		case m := <-p.msgs:
			p.feed(m)
		case <-deadline:
			p.t.Fatal("no settlement tick fired")
		}
	}
	m := p.held[0]
	p.held = p.held[1:]
	return m
}

// until feeds messages until cond holds.
func (p *pump) until(what string, cond func(*App) bool) {
	p.t.Helper()
	deadline := time.After(waitLong)
	for !cond(p.app) {
		select {
		case m := <-p.msgs:
			p.feed(m)
		case <-deadline:
			p.t.Fatalf("timed out waiting for %s; the screen:\n%s", what, p.app.View())
		}
	}
}

// until polls the model (by probes) until cond holds. Use it where the
// screen may not change, so that waiting on new output would hang.
func (f *flow) until(what string, cond func(*App) bool) {
	f.t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		var ok bool
		f.probe(func(a *App) { ok = cond(a) })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s; the screen:\n%s", what, f.view())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fillTransfer opens the transfer form from home and fills it: the asset
// picked by filter, the rig's recipient by Mixin ID number, the amount and
// the memo. It leaves the focus on Review.
func (f *flow) fillTransfer(filter, amount, memo string) {
	f.t.Helper()
	f.typ("t")
	f.until("the transfer form", func(a *App) bool { return a.screen == screenTransfer })
	f.typ(filter)
	f.press(tea.KeyEnter)
	f.typ(f.r.rcpt.IdentityNumber)
	f.waitFor("✓ " + f.r.rcpt.FullName)
	f.press(tea.KeyTab)
	f.typ(amount)
	f.press(tea.KeyTab)
	f.typ(memo)
	f.press(tea.KeyTab)
}

// review presses Review and waits for a new confirmation screen.
func (f *flow) review() {
	f.t.Helper()
	var before *confirmScreen
	f.probe(func(a *App) { before = a.confirm() })
	f.press(tea.KeyEnter)
	f.until("the confirmation", func(a *App) bool { return a.screen == screenConfirm && a.confirm() != before })
}

// confirm acknowledges every warning, types the amount (and the PIN when
// one is asked) and presses Confirm. The focus starts on Cancel.
func (f *flow) confirm(amount, pin string) {
	f.t.Helper()
	f.press(tea.KeyTab, tea.KeyTab) // Cancel → Confirm → first warning (or the amount)
	var n int
	f.probe(func(a *App) { n = len(a.confirm().r.Warnings) })
	for range n {
		f.press(tea.KeySpace)
	}
	f.typ(amount)
	if pin != "" {
		f.press(tea.KeyTab)
		f.typ(pin)
	}
	f.press(tea.KeyTab, tea.KeyTab) // → Cancel → Confirm
	f.until("Confirm to be enabled", func(a *App) bool {
		return a.screen == screenConfirm && a.confirm().on(cfConfirm) && a.confirm().canConfirm()
	})
	f.press(tea.KeyEnter)
}

// drain feeds the messages already waiting.
func (p *pump) drain() {
	for {
		select {
		case m := <-p.msgs:
			p.feed(m)
		default:
			return
		}
	}
}

// toConfirm fills the transfer form from home (USDT to the rig's
// recipient by Mixin ID number) and reviews it: the confirmation is shown.
func (p *pump) toConfirm(r *rig, amount string) {
	p.t.Helper()
	p.typ("t")
	p.typ("usdt")
	p.press(tea.KeyEnter)
	p.typ(r.rcpt.IdentityNumber)
	p.until("the recipient", func(a *App) bool { return a.transfer().rcpt.user != nil })
	p.press(tea.KeyTab)
	p.typ(amount)
	p.press(tea.KeyTab, tea.KeyTab, tea.KeyEnter)
	p.until("the confirmation", func(a *App) bool { return a.screen == screenConfirm })
}

// confirmKept acknowledges every warning, types the amount and presses
// Confirm, for a profile that keeps its PIN. The send starts.
func (p *pump) confirmKept(amount string) {
	p.t.Helper()
	p.press(tea.KeyTab, tea.KeyTab)
	for range p.app.confirm().r.Warnings {
		p.press(tea.KeySpace)
	}
	p.typ(amount)
	p.press(tea.KeyTab, tea.KeyTab, tea.KeyEnter)
}

// railUser is a user of the sandbox as the rail (and the console) holds it.
func railUser(u mixin.User) rail.User {
	return rail.User{UserID: u.UserID, IdentityNumber: u.IdentityNumber, FullName: u.FullName}
}

// railAssets are assets of the legacy client as the rail (and the console)
// holds them.
func railAssets(as []mixin.Asset) []rail.Asset {
	out := make([]rail.Asset, len(as))
	for i, a := range as {
		out[i] = rail.Asset(a)
	}
	return out
}
