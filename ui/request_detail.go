package ui

import (
	"errors"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
	"mixdesk/payout"
	"mixdesk/payout/rail"
	"mixdesk/payreq"
)

// Watching a payment request: how often its trace is looked up, and for how
// long before the console stops asking.
const (
	requestWatchEvery = 2 * time.Second
	requestWatchFor   = 10 * time.Minute
)

// requestDetail is one payment request shown: its details, its link and
// QR code, and where it stands, checked once or watched until it is paid.
// It is kept by the screen across the requests shown (the look-up on its
// way and the payers' names stay). It is a component: esc asks the screen
// for the list.
type requestDetail struct {
	ctx *shared
	rq  *requestShared

	cur      payreq.Request
	link     string
	linkErr  string
	qr       string
	qrErr    string
	checking bool
	checked  time.Time // the last look-up that answered
	checkErr string
	payerErr string
	paying   bool                  // another user of the sandbox is paying the link
	payers   map[string]*rail.User // payer names looked up, by user id

	// Watching: a look-up every `every` until paid or until `until`.
	watching bool
	watchGen int // ticks and answers of an earlier watch carry an older gen
	until    time.Time
	stopNote string
	every    time.Duration
	limit    time.Duration
	now      func() time.Time

	km requestDetailKeys
}

// requestDetailKeys is the key map of a request shown.
type requestDetailKeys struct {
	Copy, Watch, Check, SandboxPay, Back keyDef
}

func newRequestDetailKeys() requestDetailKeys {
	return requestDetailKeys{
		Copy:  newKey([]string{"c"}, "c", "copy link").long("c", "copy the payment link (OSC 52)"),
		Watch: newKey([]string{"w"}, "w", "watch until paid").long("w", "watch until paid (again: stop watching)"),
		Check: newKey([]string{"r"}, "r", "check now").long("r", "check once now"),
		SandboxPay: newKey([]string{"p"}, "p", "sandbox: another user pays").
			long("p", "sandbox only: another user of the sandbox pays the link through the sandbox's API"),
		Back: newKey(qBack, "esc/q", "back to the list").long("esc/q", "stop watching, or back to the list"),
	}
}

func newRequestDetail(ctx *shared, rq *requestShared) *requestDetail {
	return &requestDetail{
		ctx:    ctx,
		rq:     rq,
		payers: map[string]*rail.User{},
		every:  requestWatchEvery,
		limit:  requestWatchFor,
		now:    time.Now,
		km:     newRequestDetailKeys(),
	}
}

// open shows a request.
func (d *requestDetail) open(r payreq.Request) tea.Cmd {
	d.cur = r
	d.checkErr, d.payerErr, d.stopNote = "", "", ""
	d.checked = time.Time{}
	d.stopWatch()
	d.link, d.linkErr, d.qr, d.qrErr = "", "", "", ""
	link, err := r.Link()
	if err != nil {
		d.linkErr = explain(err)
	} else {
		d.link = link
		if d.qr, err = QRText(link); err != nil {
			d.qrErr = explain(err)
		}
	}
	return d.payerCmd()
}

func (d *requestDetail) typing() bool { return false }

// syncKeys enables the keys that act on the request as it stands, and
// words the watch key for what it does now.
func (d *requestDetail) syncKeys() {
	k := &d.km
	closed := d.cur.Closed()
	k.Copy.SetEnabled(d.link != "" && !d.cur.Spent())
	k.Watch.SetEnabled(!closed)
	if d.watching {
		k.Watch.SetHelp("w", "stop watching")
		k.Back.SetHelp("esc/q", "stop watching")
	} else {
		k.Watch.SetHelp("w", "watch until paid")
		k.Back.SetHelp("esc/q", "back to the list")
	}
	k.Check.SetEnabled(!closed && !d.checking)
	k.SandboxPay.SetEnabled(d.rq.sandboxPay != nil && !closed && d.link != "" && !d.paying)
}

func (d *requestDetail) keys() []key.Binding {
	d.syncKeys()
	k := d.km
	return []key.Binding{k.Copy.Binding, k.Watch.Binding, k.Check.Binding, k.SandboxPay.Binding, k.Back.Binding}
}

// fullKeys is the whole key map of a request shown, for ?.
func (d *requestDetail) fullKeys() []key.Binding {
	k := d.km
	if d.rq.sandboxPay != nil {
		return fullOf(k.Copy, k.Watch, k.Check, k.SandboxPay, k.Back)
	}
	return fullOf(k.Copy, k.Watch, k.Check, k.Back)
}

func (d *requestDetail) update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	d.syncKeys()
	km := d.km
	switch {
	case km.Back.matches(k):
		if d.watching {
			d.stopWatch()
			d.stopNote = "Stopped watching; the request stays open (w watches again)."
			return nil
		}
		d.rq.move(reqToListMsg{reread: true})
	case km.Copy.matches(k):
		return copyCmd("payment link", d.link)
	case km.Watch.matches(k):
		if d.watching {
			d.stopWatch()
			d.stopNote = "Stopped watching; the request stays open (w watches again)."
			return nil
		}
		return d.watch()
	case km.Check.matches(k):
		return d.checkCmd(false)
	case km.SandboxPay.matches(k):
		return d.sandboxPayCmd()
	}
	return nil
}

// sandboxPayCmd has another user of the sandbox pay the shown request's
// link, as a payer would: the watch (or r) then finds the payment by its
// trace like any other.
func (d *requestDetail) sandboxPayCmd() tea.Cmd {
	d.paying = true
	pay, link, trace := d.rq.sandboxPay, d.link, d.cur.TraceID
	d.ctx.setStatus("Sandbox: another user is paying the link…", true)
	return func() tea.Msg {
		ctx, cancel := within(timeoutRead)
		defer cancel()
		line, err := pay(ctx, link)
		return reqSandboxPaidMsg{trace: trace, line: line, err: err}
	}
}

// onSandboxPaid says what the sandbox's payer did.
func (d *requestDetail) onSandboxPaid(msg reqSandboxPaidMsg) {
	d.paying = false
	if msg.err != nil {
		d.ctx.setStatus("Sandbox: the link was not paid: "+explain(msg.err), false)
		return
	}
	note := " (w watches for it, r checks once)."
	if d.watching {
		note = "; the watch looks for it."
	}
	d.ctx.setStatus("Sandbox: "+clean(msg.line)+note, true)
}

// payerCmd looks the payer's name up once the request is paid.
func (d *requestDetail) payerCmd() tea.Cmd {
	id := d.cur.PayerID
	if !d.cur.Paid() || id == "" || d.payers[id] != nil {
		return nil
	}
	acct := d.ctx.acct
	ctx, cancel := d.rq.life.within(timeoutLookup)
	return func() tea.Msg {
		defer cancel()
		u, err := acct.User(ctx, id)
		return reqPayerMsg{id: id, user: u, err: err}
	}
}

// onPayer keeps a payer's name looked up, or says why it is not known.
func (d *requestDetail) onPayer(msg reqPayerMsg) {
	if leftBehind(msg.err) {
		return
	}
	if msg.err != nil {
		if msg.id == d.cur.PayerID {
			d.payerErr = explain(msg.err)
		}
		return
	}
	d.payers[msg.id] = msg.user
}

// watch starts watching the shown request until it is paid.
func (d *requestDetail) watch() tea.Cmd {
	d.watching = true
	d.watchGen++
	d.until = d.now().Add(d.limit)
	d.stopNote, d.checkErr = "", ""
	if d.checking {
		return d.tick() // a look-up is on its way; the watch follows it
	}
	return d.checkCmd(true)
}

// stopWatch ends the watch; its pending tick and answer are then ignored.
func (d *requestDetail) stopWatch() {
	if d.watching {
		d.watching = false
		d.watchGen++
	}
}

func (d *requestDetail) tick() tea.Cmd {
	gen := d.watchGen
	return tea.Tick(d.every, func(time.Time) tea.Msg { return reqTickMsg{gen: gen} })
}

// checkCmd looks the shown request's trace up once.
func (d *requestDetail) checkCmd(watch bool) tea.Cmd {
	d.checking = true
	book, looker, trace, gen := d.rq.book, d.ctx.acct.RequestLooker(), d.cur.TraceID, d.watchGen
	return func() tea.Msg {
		// Not in the screen's lifetime: a payment found is written to the
		// book, which the list shows when the operator comes back.
		ctx, cancel := within(timeoutRead)
		defer cancel()
		r, err := book.Check(ctx, looker, trace)
		return reqCheckedMsg{gen: gen, watch: watch, trace: trace, req: r, err: err}
	}
}

// onTick is a tick of the watch, while the request is shown.
func (d *requestDetail) onTick(msg reqTickMsg) tea.Cmd {
	if !d.watching || msg.gen != d.watchGen {
		return nil // a tick of a watch that ended
	}
	if !d.now().Before(d.until) {
		d.stopWatch()
		d.stopNote = "Stopped watching after " + spellDuration(d.limit) + ": not paid yet. The link stays valid; w watches again."
		return nil
	}
	if d.checking {
		return d.tick()
	}
	return d.checkCmd(true)
}

// onChecked follows a look-up of a request's trace; shown is whether the
// request screen shows a request now.
func (d *requestDetail) onChecked(msg reqCheckedMsg, shown bool) tea.Cmd {
	d.checking = false
	if !shown || msg.trace != d.cur.TraceID {
		return nil
	}
	if msg.req.TraceID == d.cur.TraceID {
		d.cur = msg.req
	}
	if msg.err != nil {
		d.checkErr = explain(msg.err)
		var mismatch *payreq.PaymentMismatchError
		if errors.As(msg.err, &mismatch) || !account.Diagnose(msg.err).Transient() {
			if d.watching {
				d.stopWatch()
				d.stopNote = "Stopped watching: the check cannot go on by itself."
			}
			return nil
		}
	} else {
		d.checkErr = ""
		d.checked = d.now()
	}
	if d.cur.Paid() {
		d.stopWatch()
		d.stopNote = ""
		d.ctx.setStatus("Payment request paid: "+payout.GroupDigits(clean(d.cur.Amount))+" "+d.rq.symbol(d.cur.AssetID)+".", true)
		return d.payerCmd()
	}
	if msg.watch && d.watching && msg.gen == d.watchGen {
		return d.tick()
	}
	return nil
}
