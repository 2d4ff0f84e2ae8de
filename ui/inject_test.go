package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/shopspring/decimal"

	"mixdesk/account"
	"mixdesk/journal"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout"
	"mixdesk/payout/rail"
	"mixdesk/payreq"
)

// injections are texts a hostile server, or a file written by one, may hand
// the console as a name, a symbol, a memo or an error.
var injections = []struct{ name, text string }{
	{"OSC 52 clipboard, BEL", "Mallory\x1b]52;c;SGVsbG8=\x07"},
	{"OSC 52 clipboard, ST", "Mallory\x1b]52;c;SGVsbG8=\x1b\\"},
	{"CSI clear and home", "Eve\x1b[2J\x1b[H"},
	{"RIS reset", "Reset\x1bc"},
	{"C1 CSI", "Red\u009b31m"},
	{"C1 CSI byte", "Red\x9b31m"},
	{"RLO", "Bob\u202egnp.exe"},
	{"ZWSP", "Zed\u200bWidth"},
	{"word joiner", "Word\u2060Joiner"},
	{"BOM", "\ufeffBom"},
	{"soft hyphen", "Soft\u00adHyphen"},
	{"line separator", "Line\u2028Sep"},
	{"6000 characters", strings.Repeat("Longname ", 666) + "Tail.."},
	{"padded", "Alice Ng" + strings.Repeat(" ", 150) + "x"},
	{"hidden id", "Bob \u200b(37160001)"},
}

// unsafeIn names the first thing in s that must never reach the terminal
// or a file: ESC, BEL, a C1 control (as a character or as a lone byte), a
// byte that is not UTF-8, or one of the invisible characters of the
// injections. "" when there is none.
func unsafeIn(s string) string {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return fmt.Sprintf("the byte %#x, not UTF-8, at %d", s[i], i)
		case r == 0x1b:
			return fmt.Sprintf("ESC at %d", i)
		case r == 0x07:
			return fmt.Sprintf("BEL at %d", i)
		case r >= 0x80 && r <= 0x9f:
			return fmt.Sprintf("the C1 control U+%04X at %d", r, i)
		case r == 0x202e || r == 0x200b || r == 0x2060 || r == 0xfeff || r == 0x00ad || r == 0x2028:
			return fmt.Sprintf("U+%04X at %d", r, i)
		}
		i += n
	}
	return ""
}

// mustBeSafe fails when a view or a file holds something unsafeIn finds.
func mustBeSafe(t *testing.T, where, s string) {
	t.Helper()
	if bad := unsafeIn(s); bad != "" {
		t.Errorf("%s holds %s:\n%q", where, bad, s)
	}
}

// hostileProxy stands between the console and the sandbox and, when armed,
// refuses the next transfer with an error whose description is hostile.
type hostileProxy struct {
	next http.Handler

	mu     sync.Mutex
	refuse string
}

func (h *hostileProxy) armRefusal(description string) {
	h.mu.Lock()
	h.refuse = description
	h.mu.Unlock()
}

func (h *hostileProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	d := h.refuse
	if r.Method == http.MethodPost && r.URL.Path == "/transfers" {
		h.refuse = ""
	} else {
		d = ""
	}
	h.mu.Unlock()
	if d == "" {
		h.next.ServeHTTP(w, r)
		return
	}
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"status": 202, "code": mixin.CodeInsufficientBalance, "description": d}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Server-Time", strconv.FormatInt(time.Now().UnixNano(), 10))
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(body)
}

// injectWorld is a sandbox whose users, assets, memos and operator app are
// named with the injections.
type injectWorld struct {
	*rig
	proxy  *hostileProxy
	people []mixin.User  // one user per injection, in order
	hostil []mixin.Asset // one asset per injection, in order
	twin   mixin.Asset   // a second "USDT / Tether USD"
}

// appInjection is the operator app's name: every short injection at once.
var appInjection = "Treasury\x1b]52;c;SGVsbG8=\x07 \x1b[2J\x1b[HDesk\x1bc\u009b31m\u202e\u200b\u2060\ufeff\u00ad\u2028!"

func newInjectWorld(t *testing.T) *injectWorld {
	t.Helper()
	srv := sandbox.New(sandbox.Options{Seed: testSeed})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	usdt, err := srv.AddAsset(mixin.Asset{AssetID: usdtID, Symbol: "USDT", Name: "Tether USD", PriceUSD: "1"})
	must(err)
	twin, err := srv.AddAsset(mixin.Asset{Symbol: "USDT", Name: "Tether USD", PriceUSD: "1"})
	must(err)
	creds, op, err := srv.NewAppSessionWith(appInjection, sandbox.SessionOptions{Kind: mixin.KeyEd25519})
	must(err)
	must(srv.Credit(op.UserID, usdt.AssetID, "50000"))
	must(srv.Credit(op.UserID, twin.AssetID, "1000"))
	w := &injectWorld{twin: twin}
	for _, in := range injections {
		as, err := srv.AddAsset(mixin.Asset{Symbol: in.text, Name: in.text})
		must(err)
		must(srv.Credit(op.UserID, as.AssetID, "100"))
		w.hostil = append(w.hostil, as)
		u := srv.AddUser(in.text)
		must(srv.Credit(u.UserID, usdt.AssetID, "100"))
		memo := []rune(in.text)
		memo = memo[:min(len(memo), 140)]
		_, err = srv.Transfer(u.UserID, mixin.TransferInput{AssetID: usdt.AssetID, OpponentID: op.UserID, Amount: "1.5", TraceID: payout.NewTraceID(), Memo: string(memo)})
		must(err)
		w.people = append(w.people, u)
	}

	r := &rig{t: t, srv: srv, op: op.UserID, rcpt: w.people[0],
		world: sandbox.World{Operator: creds, OperatorUser: op, Users: w.people}}
	w.proxy = &hostileProxy{next: srv}
	r.calls = &callCounter{next: w.proxy, calls: map[string]int{}}
	hs := httptest.NewServer(r.calls)
	t.Cleanup(hs.Close)
	r.mem = keystore.NewMemory()
	r.store, err = keystore.New(r.mem, keystore.Options{})
	must(err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	must(r.store.Save(ctx, profileName, keystore.Profile{Credentials: creds, KeepPIN: true}, false))
	must(r.store.SetDefault(ctx, profileName))
	r.deps = Deps{
		Env: account.Env{
			Store: r.store, APIURL: hs.URL, DataDir: t.TempDir(),
			ClientOptions: []mixin.Option{
				mixin.WithTimeout(8 * time.Second),
				mixin.WithRetry(mixin.RetryPolicy{Attempts: 2, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}),
			},
		},
		Sandbox: true,
	}
	w.rig = r
	return w
}

// TestInjectionsNeverReachTheScreenOrFiles sends every injection, as user
// names, asset symbols and names, memos of incoming transfers, the app's
// own name and a refusal's description, through every screen the operator
// reads them on and every file the console writes, and looks for what must
// never be there.
func TestInjectionsNeverReachTheScreenOrFiles(t *testing.T) {
	t.Parallel()
	w := newInjectWorld(t)
	a := New(w.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: tallH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	view := func(where string) string {
		t.Helper()
		v := a.View()
		mustBeSafe(t, where, v)
		return v
	}

	// Home: the app's name, every asset, the twin told apart.
	v := view("home")
	mustContain(t, v, "USDT    Tether USD · id "+shortID(w.twin.AssetID), "USDT    Tether USD · id "+shortID(usdtID))

	// The transfer picker, through every asset.
	p.typ("t")
	for i := range a.transfer().picker.matches {
		view("the transfer picker at " + itoa(i))
		p.press(tea.KeyDown)
	}
	// The over-balance error names the asset's symbol.
	for i, as := range w.hostil {
		p.press(tea.KeyEsc, tea.KeyEsc) // a draft asks first: the second esc drops it
		p.typ("t")
		for hl, _ := a.transfer().picker.highlighted(); hl.AssetID != as.AssetID; hl, _ = a.transfer().picker.highlighted() {
			p.press(tea.KeyDown)
		}
		p.press(tea.KeyEnter, tea.KeyTab)
		p.typ("1000")
		v := view("the over-balance error of " + injections[i].name)
		mustContain(t, v, "✗ exceeds the balance of 100")
	}
	p.press(tea.KeyEsc, tea.KeyEsc)

	// Every user as a recipient, to the confirmation.
	for i, u := range w.people {
		p.typ("t")
		p.typ("usdt")
		p.press(tea.KeyEnter)
		p.typ(u.IdentityNumber)
		p.until("the recipient", func(a *App) bool { return a.transfer().rcpt.user != nil || a.transfer().rcpt.err != "" })
		view("the transfer form with " + injections[i].name)
		p.press(tea.KeyTab)
		p.typ("1")
		p.press(tea.KeyTab, tea.KeyTab, tea.KeyEnter)
		p.until("the confirmation", func(a *App) bool { return a.screen == screenConfirm || a.transfer().formErr != "" })
		v := view("the confirmation to " + injections[i].name)
		// The verified ids keep their rows whatever the name.
		mustContain(t, v, "Mixin ID      "+u.IdentityNumber, "User id       "+u.UserID)
		if l := lineWith(v, "   To    "); len([]rune(strings.TrimRight(l, " "))) > termW {
			t.Errorf("the To row of %s is wider than the terminal: %d", injections[i].name, len([]rune(l)))
		}
		p.press(tea.KeyEsc, tea.KeyEsc, tea.KeyEsc) // the form, then its draft dropped
	}

	// One payout is refused with a hostile description; the result and
	// the history show the refusal.
	w.proxy.armRefusal("no\x1b]52;c;SGVsbG8=\x07 money\u202e\u2028\x1b[2J")
	p.toConfirm(w.rig, "2")
	p.confirmKept("2")
	p.until("the outcome", func(a *App) bool { return a.screen == screenResult && !a.result().busy() })
	view("the refusal")
	p.press(tea.KeyEsc)
	p.until("home", func(a *App) bool { return a.screen == screenHome })

	// History: the list with every name and memo, each entry's details,
	// the asset filter through every asset.
	p.typ("h")
	p.until("the history", func(a *App) bool {
		if a.history() == nil || !a.history().h.Done() || a.history().loading {
			return false
		}
		for _, u := range w.people {
			if _, ok := a.history().names.Get(u.UserID); !ok {
				return false
			}
		}
		return true
	})
	view("the history")
	for i := range a.history().idx {
		p.press(tea.KeyEnter)
		view("the history entry " + itoa(i))
		p.press(tea.KeyEsc, tea.KeyDown)
	}
	for i := range len(a.balances) + 1 {
		p.typ("a")
		view("the history filtered by asset " + itoa(i))
	}
	p.typ("x")

	// The history export.
	p.typ("e")
	path := filepath.Join(w.deps.Env.DataDir, "inject.csv")
	p.press(tea.KeyCtrlU)
	p.typ(path)
	p.press(tea.KeyEnter)
	p.until("the export", func(a *App) bool { return strings.HasPrefix(a.status, "Wrote") || strings.Contains(a.status, "xport") })
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (status %q)", err, a.status)
	}
	mustBeSafe(t, "the history export", string(body))
	p.press(tea.KeyEsc)

	// Payment requests: the picker through every asset, a request of a
	// hostile asset, paid by each of three hostile users in turn.
	p.typ("p")
	p.until("the book", func(a *App) bool { return a.request() != nil && a.request().book != nil })
	for k, payer := range []int{0, 6, 14} {
		p.typ("n")
		f := a.request().form
		for i := range f.picker.matches {
			view("the request picker at " + itoa(i))
			p.press(tea.KeyDown)
		}
		as := w.hostil[payer]
		for hl, _ := f.picker.highlighted(); hl.AssetID != as.AssetID; hl, _ = f.picker.highlighted() {
			p.press(tea.KeyDown)
		}
		p.press(tea.KeyEnter)
		p.typ("2")
		p.press(tea.KeyTab, tea.KeyTab, tea.KeyEnter)
		p.until("the request", func(a *App) bool { return a.request().mode == reqShow })
		view("the request of " + injections[payer].name)
		trace, u := a.request().detail.cur.TraceID, w.people[payer]
		if err := w.srv.Credit(u.UserID, as.AssetID, "2"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.srv.Transfer(u.UserID, mixin.TransferInput{AssetID: as.AssetID, OpponentID: w.op, Amount: "2", TraceID: trace}); err != nil {
			t.Fatal(err)
		}
		p.typ("r")
		p.until("the payer", func(a *App) bool {
			return a.request().detail.payers[u.UserID] != nil || a.request().detail.payerErr != ""
		})
		v := view("the request paid by " + injections[payer].name)
		mustContain(t, v, "· Mixin ID "+u.IdentityNumber)
		p.press(tea.KeyEsc)
		view("the request list after " + itoa(k+1))
	}

	// The journal export.
	rep, err := journal.VerifyFile(journal.Path(w.deps.Env.DataDir, profileName))
	if err != nil {
		t.Fatal(err)
	}
	jpath := filepath.Join(w.deps.Env.DataDir, "journal.csv")
	if err := journal.SaveCSV(jpath, rep.Records); err != nil {
		t.Fatal(err)
	}
	body, err = os.ReadFile(jpath)
	if err != nil {
		t.Fatal(err)
	}
	mustBeSafe(t, "the journal export", string(body))
}

// TestInjectionsPastTheClient: server text that reached a screen without
// the client's cleaning (a path added later, a file) is still drawn safe.
// Each screen gets the injections straight in its model.
func TestInjectionsPastTheClient(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: tallH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })

	var raw []mixin.Asset
	for i, in := range injections {
		raw = append(raw, mixin.Asset{AssetID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Symbol: in.text, Name: in.text, Balance: "5", PriceUSD: "1"})
	}
	for _, in := range injections {
		t.Run(in.name, func(t *testing.T) {
			view := func(where string) string {
				t.Helper()
				v := a.View()
				mustBeSafe(t, where, v)
				return v
			}
			a.acct.Me.FullName = in.text
			a.balances = append(sortAssets(railAssets(raw)), a.balances...)
			a.screen = screenHome
			view("home")

			a.pages[screenTransfer] = newTransferScreen(&a.shared, a.balances)
			a.screen = screenTransfer
			a.transfer().setFocus(tfAsset)
			view("the transfer picker")
			a.transfer().choose()
			a.transfer().field(tfAmount).SetValue("1000")
			a.transfer().rcpt.user = &rail.User{UserID: r.rcpt.UserID, IdentityNumber: "37160002", FullName: in.text}
			a.transfer().rcpt.resolved = ""
			a.transfer().setFocus(tfAmount)
			view("the transfer form")

			rv := &payout.Review{
				Recipient: rail.User{UserID: r.rcpt.UserID, IdentityNumber: "37160002", FullName: in.text},
				Asset:     rail.Asset(raw[0]), Amount: decimal.RequireFromString("1"), AmountText: "1", Memo: in.text, TraceID: payout.NewTraceID(),
				Warnings: []payout.Warning{{Kind: payout.WarnFirstTime, Text: "First payout to " + in.text}},
			}
			a.pages[screenConfirm] = newConfirmScreen(&a.shared, rv, false)
			a.screen = screenConfirm
			v := view("the confirmation")
			mustContain(t, v, "Mixin ID      37160002", "User id       "+r.rcpt.UserID)

			cmd := a.openRequests()
			p.run(cmd)
			p.until("the book", func(a *App) bool { return a.request().book != nil })
			s := a.request()
			s.assets.learn(railAssets(raw))
			p.run(s.openForm())
			for range s.form.picker.matches {
				view("the request picker")
				p.press(tea.KeyDown)
			}
			s.mode = reqShow
			d := s.detail
			d.cur = payreq.Request{TraceID: payout.NewTraceID(), AssetID: raw[0].AssetID, Amount: "1", Memo: in.text,
				Recipient: a.acct.Me.UserID, State: payreq.StatePaid, PayerID: r.rcpt.UserID, SnapshotID: in.text, PaidAt: time.Now()}
			d.payers[r.rcpt.UserID] = &rail.User{UserID: r.rcpt.UserID, IdentityNumber: "37160002", FullName: in.text}
			view("the paid request")
			d.cur.State, d.cur.SnapshotID, d.cur.PaidAt = payreq.StateOpen, "", time.Time{}
			view("the open request")
			s.mode = reqList
			s.list.reqs = []payreq.Request{d.cur}
			view("the request list")

			p.run(a.openHistory())
			a.history().filter.AssetID = raw[0].AssetID
			view("the history filter line")
			a.history().filter.AssetID = ""
			a.screen = screenHome
		})
	}
}
