package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/payout/rail"
)

// Components are tested here on their own: built on a shared context
// without the App, drawn (golden views) and driven by keys, with what they
// ask of the root read back from the context.

// bodyH is the height the App leaves a screen on a termW×termH terminal
// with a one-line status and help line.
const bodyH = termH - 4

// testShared is a component's context on a w×h terminal, with no profile
// open.
func testShared(w, h int) *shared {
	c := newShared()
	c.width, c.height = w, h
	return &c
}

// keyPress is the key message of a key name as the terminal sends it.
func keyPress(name string) tea.KeyMsg {
	switch name {
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(name)}
}

// press sends keys to a component: names of keys, or text typed one rune
// at a time when prefixed with "type:".
func press(c component, keys ...string) {
	for _, k := range keys {
		if text, ok := strings.CutPrefix(k, "type:"); ok {
			for _, r := range text {
				c.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
			}
			continue
		}
		c.update(keyPress(k))
	}
}

func confirmComponent(askPIN bool) (*shared, *confirmScreen, *payout.Review) {
	ctx := testShared(termW, termH)
	rv := reviewOf("1250.5", alice)
	rv.Memo = "November rewards"
	rv.Warnings = []payout.Warning{
		{Kind: payout.WarnFirstTime, Text: "First payout to Alice Ng: check the recipient."},
		{Kind: payout.WarnLarge, Text: "Large payout: 1,250.5 USDT."},
	}
	return ctx, newConfirmScreen(ctx, rv, askPIN), rv
}

// TestConfirmComponentView: the confirmation drawn on its own, with two
// warnings and the PIN asked.
func TestConfirmComponentView(t *testing.T) {
	_, c, _ := confirmComponent(true)
	requireGolden(t, c.view(bodyH), termW)
}

// TestConfirmComponentKeys: focus starts on Cancel; each warning is
// acknowledged, the amount and the PIN typed; Confirm asks the root to
// send with the PIN typed, which the field does not keep; Cancel and esc
// ask for the form back and send nothing.
func TestConfirmComponentKeys(t *testing.T) {
	ctx, c, rv := confirmComponent(true)
	if !c.on(cfCancel) {
		t.Fatal("the focus does not start on Cancel")
	}
	press(c, "tab", "tab") // Confirm, then the first warning
	if !c.onWarning(0) || !c.km.Ack.Enabled() || !strings.Contains(strings.Join(helpKeyNames(c.keys()), " "), "space") {
		t.Fatalf("on the first warning: focus %+v, help %v", c.focus, helpKeyNames(c.keys()))
	}
	press(c, "space", "enter") // both acknowledged; the focus is on the amount
	if !c.on(cfAmount) || !c.allAcked() {
		t.Fatalf("focus %+v, acked %v", c.focus, c.acked)
	}
	press(c, "type:1,250.5", "tab", "type:123456", "tab", "tab")
	if !c.on(cfConfirm) || !c.canConfirm() {
		t.Fatalf("focus %+v, Confirm enabled %v", c.focus, c.canConfirm())
	}
	press(c, "enter")
	asks := ctx.takeAsks()
	send, ok := onlyAsk(asks).(sendPayoutMsg)
	if !ok || send.review != rv || send.pin != "123456" || !send.asked {
		t.Fatalf("Confirm asked %d requests, the first a %T (the PIN typed is not printed)", len(asks), onlyAsk(asks))
	}
	if c.pin.Value() != "" {
		t.Fatal("the PIN typed is kept after Confirm")
	}

	// Cancel: the form back, "Not sent."; esc: the form back.
	press(c, "left")
	if !c.on(cfCancel) {
		t.Fatalf("← from Confirm: focus %+v", c.focus)
	}
	press(c, "enter")
	if show, ok := onlyAsk(ctx.takeAsks()).(showMsg); !ok || show.to != screenTransfer || ctx.status != "Not sent." {
		t.Fatalf("Cancel: status %q", ctx.status)
	}
	press(c, "tab", "type:9", "esc")
	if show, ok := onlyAsk(ctx.takeAsks()).(showMsg); !ok || show.to != screenTransfer {
		t.Fatal("esc did not ask for the form")
	}
}

// TestConfirmComponentWrongAmountSendsNothing: with the amount wrong,
// Confirm stays disabled and asks nothing; space on a field is typed.
func TestConfirmComponentWrongAmountSendsNothing(t *testing.T) {
	ctx, c, _ := confirmComponent(false)
	press(c, "tab", "tab", "space", "space", "type:1250 .5", "tab", "tab")
	if c.amount.Value() != "1250 .5" {
		t.Fatalf("the amount field holds %q", c.amount.Value())
	}
	press(c, "enter")
	if asks := ctx.takeAsks(); len(asks) != 0 || c.canConfirm() {
		t.Fatalf("a wrong amount asked %d requests", len(asks))
	}
	mustContain(t, c.view(bodyH), "✗ not an amount")
}

func onlyAsk(asks []tea.Msg) tea.Msg {
	if len(asks) != 1 {
		return nil
	}
	return asks[0]
}

// batchComponent is a batch screen on a context with the rig's profile
// open (and its balances read), without the App.
func batchComponent(t *testing.T, r *rig) (*shared, *batchScreen) {
	t.Helper()
	ctx := testShared(termW, termH)
	cctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	acct, err := r.deps.Env.Open(cctx, profileName, keystore.Profile{Credentials: r.world.Operator, KeepPIN: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = acct.Close() })
	as, err := acct.Balances(cctx)
	if err != nil {
		t.Fatal(err)
	}
	ctx.acct, ctx.balances = acct, sortAssets(as)
	s := newBatchScreen(ctx, false)
	s.init()
	t.Cleanup(func() { s.shutdown(5 * time.Second) })
	return ctx, s
}

// runUntil runs a command and feeds what it returns to the component,
// and so on with the commands that gives, until cond holds.
func runUntil(t *testing.T, c component, cmd tea.Cmd, what string, cond func() bool) {
	t.Helper()
	queue := []tea.Cmd{cmd}
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if len(queue) == 0 || time.Now().After(deadline) {
			t.Fatalf("no %s", what)
		}
		next := queue[0]
		queue = queue[1:]
		if next == nil {
			continue
		}
		switch msg := next().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		default:
			queue = append(queue, c.update(msg))
		}
	}
}

// TestBatchComponentReviewAndRun: the batch screen on its own checks the
// file, draws the review (golden), takes the total, sends every row, and
// asks the root for the balances back at its end.
func TestBatchComponentReviewAndRun(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	ctx, s := batchComponent(t, r)
	press(s, "type:"+writeBatch(t, r, batchBody(r)))
	cmd := s.update(keyPress("enter"))
	runUntil(t, s, cmd, "review", func() bool { return s.mode == bmReview })
	checkGolden(t, "review", safeView(s.view(bodyH)), termW)

	// The table has the focus: A and digits are not typed anywhere.
	press(s, "type:A1")
	if s.focus != bcTable || s.total.Value() != "" {
		t.Fatalf("focus %d, total %q", s.focus, s.total.Value())
	}
	press(s, "tab", "type:1,012.5", "tab")
	if s.focus != bcSend || !s.canSend() {
		t.Fatalf("focus %d (no PIN asked: Send after the total), can send %v", s.focus, s.canSend())
	}
	cmd = s.update(keyPress("enter"))
	runUntil(t, s, cmd, "end of the run", func() bool { return s.mode == bmDone })
	end, ok := onlyAsk(ctx.takeAsks()).(batchEndedMsg)
	if !ok || end.err != nil {
		t.Fatalf("the end of the run asked for no batchEndedMsg, or with the error %v", end.err)
	}
	mustContain(t, s.view(bodyH), "paid 3 now", "✓ Every row was sent.")
	if n := r.calls.count("POST /transfers"); n != 3 {
		t.Fatalf("%d transfers posted, want 3", n)
	}
	press(s, "enter")
	if show, ok := onlyAsk(ctx.takeAsks()).(showMsg); !ok || show.to != screenHome {
		t.Fatal("enter at the end did not ask for the balances")
	}
}

// TestLockComponentKeptPIN: the lock on its own checks a PIN against the
// kept one: a wrong one is counted and the field emptied, the right one
// asks the root to unlock; the PIN is never drawn.
func TestLockComponentKeptPIN(t *testing.T) {
	ctx := testShared(termW, termH)
	ctx.acct = account.New(profileName, keystore.Profile{Credentials: mixin.Credentials{PIN: "246810"}, KeepPIN: true}, rail.User{}, nil)
	l := newLockScreen(ctx, 5*time.Minute)
	press(l, "type:135790")
	if v := l.view(bodyH); strings.Contains(v, "135790") || !strings.Contains(v, "after 5m0s without a key") {
		t.Fatalf("the lock shows:\n%s", v)
	}
	runUntil(t, l, l.update(keyPress("enter")), "refusal", func() bool { return l.wrong == 1 })
	if l.pin.Value() != "" || len(ctx.takeAsks()) != 0 {
		t.Fatal("a wrong PIN stays in the field or unlocks")
	}
	mustContain(t, l.view(bodyH), "Wrong PIN: still locked.", "1 wrong try at this lock.")
	press(l, "type:246810")
	runUntil(t, l, l.update(keyPress("enter")), "unlock", func() bool { return len(ctx.asks) > 0 })
	if _, ok := onlyAsk(ctx.takeAsks()).(unlockedMsg); !ok || l.pin.Value() != "" {
		t.Fatal("the right PIN did not ask to unlock")
	}
}
