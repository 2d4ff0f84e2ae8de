package ui

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/uuid"

	"mixdesk/history"
	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/payout/saferail"
	"mixdesk/safe"
	safesandbox "mixdesk/safe/sandbox"
)

// safeHistWorld is a Safe profile with a history, made before the console
// starts: the world's opening deposits, a payout of the desk, a payment
// received from another sandbox user (paid with that user's own keys
// through the sandbox's transaction path), a payment of another tool, a
// deposit, a payout refused (a recipient not on Safe) and one in doubt
// (its submit answered 500; nothing executed). The look-ups of
// transactions fail until the test lets them, so that the settlement at
// start-up leaves the payout in doubt.
type safeHistWorld struct {
	*rig
	srv   *safesandbox.Server
	world safesandbox.World
	payer safe.User         // pays the operator in the world
	trace map[string]string // memo -> trace (request id)
}

// safeHistTrace is the fixed trace of the k-th event, so that views are the
// same on every run.
func safeHistTrace(k int) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("mixdesk safe history test "+itoa(k))).String()
}

// safeSeedHex is 32 bytes of b in hex, a fixed test key.
func safeSeedHex(b byte) string { return strings.Repeat(hex.EncodeToString([]byte{b}), 32) }

// safeUserClient adds a user on Safe with a session to srv, gives it
// amount of assetID as a deposit, and returns it with a Safe client paying
// as it.
func safeUserClient(t *testing.T, srv *safesandbox.Server, url, name, identity, assetID, amount string) (safe.User, *safe.Client) {
	t.Helper()
	u := safe.User{UserID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)).String(), IdentityNumber: identity, FullName: name, HasSafe: true}
	ks := safe.Keystore{AppID: u.UserID, SessionID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(name+" session")).String(),
		SessionPrivateKey: safeSeedHex(0x21), SpendPrivateKey: safeSeedHex(0x22),
		ServerPublicKey: hex.EncodeToString(ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey))}
	seed, _ := hex.DecodeString(ks.SpendPrivateKey)
	if err := srv.AddUser(u.UserID, name, identity, safe.NewSpendKey(seed).Public()); err != nil {
		t.Fatal(err)
	}
	sess, _ := hex.DecodeString(ks.SessionPrivateKey)
	if err := srv.AddSession(u.UserID, ks.SessionID, ed25519.NewKeyFromSeed(sess).Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Deposit(u.UserID, assetID, amount); err != nil {
		t.Fatal(err)
	}
	return u, safeClientOf(t, url, ks)
}

// safeClientOf is a Safe client on a keystore.
func safeClientOf(t *testing.T, url string, ks safe.Keystore) *safe.Client {
	t.Helper()
	acct, err := ks.Open()
	if err != nil {
		t.Fatal(err)
	}
	c, err := safe.NewClient(url, acct, safe.WithRetry(mixin.RetryPolicy{Attempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// safePayWith pays p with c through the whole Safe path: outputs, ghost
// keys, verify, sign, submit.
func safePayWith(t *testing.T, c *safe.Client, p safe.Payment) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	u, err := c.Prepare(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := c.VerifyAndSign(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, u.RequestID, signed, u.Hash); err != nil {
		t.Fatal(err)
	}
}

func newSafeHistWorld(t *testing.T) *safeHistWorld {
	t.Helper()
	r, srv, world := safeRig(t)
	w := &safeHistWorld{rig: r, srv: srv, world: world, trace: map[string]string{}}
	url := r.deps.Env.APIURL
	var payer *safe.Client
	w.payer, payer = safeUserClient(t, srv, url, "Farah Nasser", "7000100099", usdtID, "500")

	j, rep, err := journal.Open(journal.Path(r.deps.Env.DataDir, profileName), journal.WithOperator("alice"), journal.WithHost("desk-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Intact() {
		t.Fatal(rep.Err())
	}
	defer j.Close() // before the console opens it
	rl, err := saferail.Dial(url, world.Operator, r.deps.Env.SafeOptions...)
	if err != nil {
		t.Fatal(err)
	}
	desk, err := payout.NewDeskOn(rl, j, payout.Config{Self: r.op, PostWindow: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	send := func(k int, memo, to, amount string, want journal.State) {
		t.Helper()
		w.trace[memo] = safeHistTrace(k)
		rev, err := desk.Review(ctx, payout.Draft{AssetID: usdtID, Recipient: to, Amount: amount, Memo: memo, TraceID: w.trace[memo]}, nil)
		if err != nil {
			t.Fatalf("%s: review: %v", memo, err)
		}
		res, err := desk.Send(ctx, rev, "")
		if err != nil || res.State != want || res.TraceID != w.trace[memo] {
			t.Fatalf("%s: %+v, %v; want %s", memo, res, err, want)
		}
	}
	send(1, "Invoice 1", world.Users[0].UserID, "120.5", journal.StateDone)
	w.trace["Refund 2"] = safeHistTrace(2)
	safePayWith(t, payer, safe.Payment{RequestID: w.trace["Refund 2"], AssetID: usdtID, Recipient: r.op, Amount: "75.25", Memo: "Refund 2"})
	w.trace["Payroll 3"] = safeHistTrace(3)
	safePayWith(t, safeClientOf(t, url, world.Operator), safe.Payment{RequestID: w.trace["Payroll 3"], AssetID: usdtID, Recipient: world.Users[1].UserID, Amount: "40", Memo: "Payroll 3"})
	if _, err := srv.DepositFrom(r.op, btcID, "0.2", safeDepositSender); err != nil {
		t.Fatal(err)
	}
	send(5, "Invoice 5", world.Users[4].UserID, "10", journal.StateFailed) // not on Safe
	srv.InjectFault(http.MethodPost, "/safe/transactions", safesandbox.Fault{Kind: safesandbox.FaultServerError})
	send(6, "Invoice 6", world.Users[2].UserID, "300", journal.StateInDoubt)
	// Look-ups fail until the test lets them.
	srv.InjectFault(http.MethodGet, "/safe/transactions/", safesandbox.Fault{Kind: safesandbox.FaultServerError, Times: 1000})
	return w
}

// safeDepositSender is the chain address the world's deposit came from.
const safeDepositSender = "bc1qsandbox7deposit9sender0address4test2x"

// safeHashRE is a transaction's hash, 64 hex digits.
var safeHashRE = regexp.MustCompile(`\b[0-9a-f]{64}\b`)

// safeHistoryGolden is historyGolden with the transaction hashes (which
// change from run to run) made a fixed token of the same width.
func safeHistoryGolden(t *testing.T, name, view string) {
	t.Helper()
	historyGolden(t, name, safeHashRE.ReplaceAllString(view, strings.Repeat("h", 64)))
}

// safeNamesShown waits until the names of the counterparties on the
// screen are known (a deposit has none).
func (f *flow) safeNamesShown() {
	f.t.Helper()
	f.until("the names", func(a *App) bool {
		s := a.history()
		for i := s.top; i < len(s.idx) && i < s.top+s.visibleRows(a.bodyHeight()); i++ {
			if id := s.rows[s.idx[i]].OpponentID; id != "" {
				if _, ok := s.names.Get(id); !ok {
					return false
				}
			}
		}
		return true
	})
}

// TestSafeHistory: on a Safe profile the history lists the Safe
// snapshots, in and out, joined with the journal (done, IN DOUBT, not
// moved, received, other tool), shows deposits apart from payments
// received, gives each movement's network transaction in its details and
// in the export, and settles the payout in doubt through the desk (its
// kept signed transaction submitted again) with s.
func TestSafeHistory(t *testing.T) {
	t.Parallel()
	w := newSafeHistWorld(t)
	f := w.start(termW, termH)
	f.waitHome()
	f.until("the start-up settlement", func(a *App) bool { return !a.recovering })
	mustContain(t, flat(f.view()), "0 paid, 0 refused, 1 still in doubt", "1 payout in doubt")
	f.typ("h")
	f.until("the history", func(a *App) bool { return a.screen == screenHistory && a.history().h.Done() && !a.history().loading })
	f.safeNamesShown()
	v := f.view()
	safeHistoryGolden(t, "list", v)
	rows := tableLines(v)
	want := []struct{ memo, state string }{
		{"Invoice 6", "IN DOUBT"}, {"Invoice 5", "not moved"}, {"", "deposit"}, {"Payroll 3", "other tool"},
		{"Refund 2", "received"}, {"Invoice 1", "done"},
	}
	if len(rows) != len(want)+10 {
		t.Fatalf("%d rows, want %d (and the world's 10 opening deposits):\n%s", len(rows), len(want)+10, v)
	}
	for i, l := range rows {
		st := "deposit"
		if i < len(want) {
			if want[i].memo != "" && !strings.Contains(l, want[i].memo) {
				t.Errorf("row %d is not %s: %q", i, want[i].memo, l)
			}
			st = want[i].state
		}
		if !strings.HasSuffix(strings.TrimRight(l, " "), " "+st) {
			t.Errorf("row %d does not end in %q: %q", i, st, l)
		}
		if st == "deposit" && (!strings.Contains(l, depositWho) || !strings.Contains(l, " in ")) {
			t.Errorf("a deposit row does not say it came from the chain: %q", l)
		}
	}
	mustContain(t, lineWith(v, "Refund 2"), w.payer.FullName, w.payer.IdentityNumber, "+75.25", shortID(w.trace["Refund 2"]))
	mustContain(t, lineWith(v, "Invoice 1"), "-120.5", w.world.Users[0].FullName, shortID(w.trace["Invoice 1"]))

	// In only: the payment received and the deposits, nothing else.
	f.typ("dd")
	if n := f.shownCount(); n != 12 {
		t.Errorf("in only shows %d rows, want the payment received and 11 deposits", n)
	}
	f.typ("d")
	f.press(tea.KeyHome)

	// The details of the desk's payout: its network transaction, and no
	// closing balance line (the Safe API tells none).
	// The rows by memo; the deposit made in the world as "".
	var byMemo map[string]history.Row
	f.probe(func(a *App) {
		byMemo = map[string]history.Row{}
		for _, r := range a.history().rows {
			if r.Memo != "" || r.AssetID == btcID && r.Amount.String() == "0.2" {
				byMemo[r.Memo] = r
			}
		}
	})
	done := byMemo["Invoice 1"]
	reqs := map[string]safe.TransactionRequest{}
	for _, q := range w.srv.Requests() {
		reqs[q.RequestID] = q
	}
	if q := reqs[done.TraceID]; done.TxHash == "" || done.TxHash != q.TransactionHash {
		t.Fatalf("the payout's transaction is %q, the sandbox's %q", done.TxHash, q.TransactionHash)
	}
	for range 5 {
		f.press(tea.KeyDown)
	}
	f.press(tea.KeyEnter)
	v = f.view()
	safeHistoryGolden(t, "done", v)
	mustContain(t, v, "Entry  done", "Amount           -120.5 USDT", "Memo             Invoice 1", "Transaction      "+done.TxHash,
		"Confirmed by     "+histOperator, "t copy transaction")
	mustNotContain(t, v, "Closing balance")
	// A deposit: no counterparty, the chain's transaction.
	f.press(tea.KeyUp, tea.KeyUp, tea.KeyUp)
	v = f.view()
	safeHistoryGolden(t, "deposit", v)
	dep := byMemo[""]
	mustContain(t, v, "Entry  deposit", "Amount           +0.2 BTC", "From             a deposit from the asset's chain",
		"From address     "+safeDepositSender,
		"Deposit hash     "+dep.Deposit.Hash, "Transaction      "+dep.TxHash)
	mustContain(t, flat(v), "A deposit: coins that arrived from outside, on the asset's chain; no user paid them.")
	mustNotContain(t, v, "Counterparty", "Closing balance")
	// The payout in doubt: no transaction yet.
	f.press(tea.KeyUp, tea.KeyUp)
	v = f.view()
	safeHistoryGolden(t, "in_doubt", v)
	mustContain(t, v, "Entry  IN DOUBT", "Memo             Invoice 6", "Snapshot id      —", "Transaction      —")
	f.typ("t")
	f.until("the refusal", func(a *App) bool { return strings.HasPrefix(a.status, "This entry has no network transaction") })
	f.press(tea.KeyEsc)

	// The export has the transaction of every row.
	f.typ("e")
	var path string
	f.probe(func(a *App) { path = a.history().input.Value() })
	f.press(tea.KeyEnter)
	f.until("the export", func(a *App) bool { return strings.HasPrefix(a.status, "Wrote") })
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if head, _, _ := strings.Cut(string(raw), "\n"); !strings.HasSuffix(head, ",closing_balance,tx_hash") {
		t.Fatalf("the export's header is %q", head)
	}
	got, err := history.ReadCSV(strings.NewReader(string(raw)))
	if err != nil || len(got) != 16 {
		t.Fatalf("the export: %d rows, %v", len(got), err)
	}
	for _, c := range got {
		r, ok := byMemo[c.Memo]
		switch {
		case c.Memo == "" && (c.State != "deposit" || len(c.TxHash) != 64 || c.Direction != "in"):
			t.Errorf("a deposit exported as %+v", c)
		case ok && c.Memo != "" && (c.TxHash != r.TxHash || c.State != string(r.State)):
			t.Errorf("%s exported as %+v, want transaction %q", c.Memo, c, r.TxHash)
		}
	}

	// s settles the payout in doubt through the desk: looked up (not
	// found: the submit never executed), then its kept signed bytes
	// submitted again. The rows are read again: done, with its transaction.
	w.srv.ClearFaults()
	f.typ("s")
	f.until("the settlement", func(a *App) bool { return strings.Contains(a.status, "1 paid") })
	f.until("the rows again", func(a *App) bool {
		return !a.history().stale && a.history().h.Done() && !a.history().loading && a.history().h.Len() > 0
	})
	mustContain(t, f.view(), "In-doubt payouts settled: 1 paid, 0 refused, 0 still in doubt.")
	f.typ("/")
	f.typ("invoice 6")
	f.press(tea.KeyEnter)
	a := f.final()
	v = a.View()
	if rows := tableLines(v); len(rows) != 1 || !strings.HasSuffix(strings.TrimRight(rows[0], " "), " done") {
		t.Fatalf("the settled payout is not shown done:\n%s", v)
	}
	trace := w.trace["Invoice 6"]
	var mine []history.Row
	for _, r := range a.history().rows {
		if r.TraceID == trace {
			mine = append(mine, r)
		}
	}
	q := reqs[trace]
	for _, x := range w.srv.Requests() {
		if x.RequestID == trace {
			q = x
		}
	}
	if len(mine) != 1 || mine[0].State != history.StateDone || mine[0].TxHash != q.TransactionHash || q.State != safe.StateSpent {
		t.Fatalf("rows of the settled payout %+v; the sandbox's request %+v", mine, q)
	}
	if e, ok := a.acct.Journal().Lookup(trace); !ok || e.State != journal.StateDone || e.Done.SnapshotID != mine[0].SnapshotID {
		t.Errorf("the journal holds %+v for the settled payout", e)
	}
	if a.home().doubt != 0 {
		t.Errorf("home still counts %d payouts in doubt", a.home().doubt)
	}
}

// TestSafeHistoryFitsNarrowTerminal: at the smallest size the console
// takes, every row of a Safe history ends in its state on the screen, and
// a transaction's hash in the details stays whole on a line of its own.
func TestSafeHistoryFitsNarrowTerminal(t *testing.T) {
	t.Parallel()
	w := newSafeHistWorld(t)
	f := w.start(minWidth, minHeight)
	f.waitHome()
	f.until("the start-up settlement", func(a *App) bool { return !a.recovering })
	f.typ("h")
	f.until("the history", func(a *App) bool { return a.screen == screenHistory && a.history().h.Done() && !a.history().loading })
	f.safeNamesShown()
	v := f.view()
	fitsWidth(t, v, minWidth)
	for _, l := range tableLines(v) {
		l = strings.TrimRight(l, " ")
		if !strings.HasSuffix(l, " IN DOUBT") && !strings.HasSuffix(l, " not moved") && !strings.HasSuffix(l, " deposit") &&
			!strings.HasSuffix(l, " other tool") && !strings.HasSuffix(l, " received") && !strings.HasSuffix(l, " done") {
			t.Errorf("a row does not end in its state: %q", l)
		}
	}
	f.typ("/")
	f.typ("invoice 1")
	f.press(tea.KeyEnter, tea.KeyEnter)
	var hash string
	f.probe(func(a *App) { s := a.history(); hash = s.rows[s.idx[s.cursor]].TxHash })
	v = f.view()
	fitsWidth(t, v, minWidth)
	if l := lineWith(v, hash); hash == "" || strings.TrimSpace(l) != hash && !strings.HasSuffix(strings.TrimSpace(l), "Transaction      "+hash) {
		t.Errorf("the transaction %q is not whole on the screen:\n%s", hash, v)
	}
	f.final()
}
