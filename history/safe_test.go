package history

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/payout/saferail"
	"mixdesk/safe"
	safesandbox "mixdesk/safe/sandbox"
)

// The people of the Safe history world.
const (
	safeDeskID  = "00000000-0000-4000-8000-0000000000d1"
	safeAliceID = "00000000-0000-4000-8000-0000000000a1" // on Safe, pays the desk with her own client
	safeBobID   = "00000000-0000-4000-8000-0000000000b1" // not on Safe
	safeCarlID  = "00000000-0000-4000-8000-0000000000c1" // on Safe
)

// safeSeed is 32 bytes of b, a fixed test key.
func safeSeed(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// safeClient registers a session for id and returns a Safe client paying
// as id (spend key seed spend).
func safeClient(t *testing.T, srv *safesandbox.Server, url, id string, spend, session byte) (*safe.Client, safe.Keystore) {
	t.Helper()
	sid := uuid.NewSHA1(uuid.NameSpaceOID, []byte(id)).String()
	if err := srv.AddSession(id, sid, ed25519.NewKeyFromSeed(safeSeed(session)).Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	ks := safe.Keystore{AppID: id, SessionID: sid, ServerPublicKey: hex.EncodeToString(ed25519.NewKeyFromSeed(safeSeed(0x77)).Public().(ed25519.PublicKey)),
		SessionPrivateKey: hex.EncodeToString(safeSeed(session)), SpendPrivateKey: hex.EncodeToString(safeSeed(spend))}
	acct, err := ks.Open()
	if err != nil {
		t.Fatal(err)
	}
	c, err := safe.NewClient(url, acct, safe.WithRetry(mixin.RetryPolicy{Attempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	return c, ks
}

// safePay pays p with c through the whole Safe path (outputs, ghost keys,
// verify, sign, submit) and returns the transaction's hash.
func safePay(t *testing.T, c *safe.Client, p safe.Payment) string {
	t.Helper()
	ctx := context.Background()
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
	return u.Hash.String()
}

// safeWorld is a Safe account with a history: 105 deposits (more than a
// page), a payout of the desk, a payment received from Alice, a payment
// of another tool, a payout refused and one in doubt (its submit answered
// 500, so it did not execute).
type safeWorld struct {
	srv   *safesandbox.Server
	desk  *payout.Desk
	j     *journal.Journal
	trace map[string]string // memo -> trace (request id)
	hash  map[string]string // memo -> transaction hash
}

func newSafeWorld(t *testing.T) *safeWorld {
	t.Helper()
	srv := safesandbox.New(safesandbox.Options{Seed: 3})
	for _, u := range []struct {
		id, name, identity string
		spend              byte
	}{{safeDeskID, "Treasury Desk", "7000101", 0x01}, {safeAliceID, "Alice Liddell", "7000102", 0x02}, {safeCarlID, "Carl Ek", "7000104", 0x04}} {
		if err := srv.AddUser(u.id, u.name, u.identity, safe.NewSpendKey(safeSeed(u.spend)).Public()); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.AddUser(safeBobID, "Bob Bell", "7000103", [32]byte{}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddAsset(safe.Asset{AssetID: btcID, Symbol: "BTC", Name: "Bitcoin", Precision: 8, PriceUSD: "60000"}); err != nil {
		t.Fatal(err)
	}
	for i := range 105 {
		if _, err := srv.Deposit(safeDeskID, btcID, "0.01"+strings.Repeat("0", i%3)+"1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := srv.Deposit(safeAliceID, btcID, "1"); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	other, ks := safeClient(t, srv, hs.URL, safeDeskID, 0x01, 0x11)
	alice, _ := safeClient(t, srv, hs.URL, safeAliceID, 0x02, 0x12)
	r, err := saferail.Dial(hs.URL, ks, saferail.WithRetry(mixin.RetryPolicy{Attempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	j, _, err := journal.Open(filepath.Join(t.TempDir(), "journal.jsonl"), journal.WithOperator("alice"), journal.WithHost("desk-1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	desk, err := payout.NewDeskOn(r, j, payout.Config{Self: safeDeskID, PostWindow: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	w := &safeWorld{srv: srv, desk: desk, j: j, trace: map[string]string{}, hash: map[string]string{}}
	ctx := context.Background()
	send := func(memo, to, amount string, want journal.State) {
		t.Helper()
		rev, err := desk.Review(ctx, payout.Draft{AssetID: btcID, Recipient: to, Amount: amount, Memo: memo}, nil)
		if err != nil {
			t.Fatalf("%s: %v", memo, err)
		}
		res, err := desk.Send(ctx, rev, "")
		if err != nil || res.State != want {
			t.Fatalf("%s: %+v, %v; want %s", memo, res, err, want)
		}
		w.trace[memo] = res.TraceID
		if res.Snap != nil {
			w.hash[memo] = res.Snap.TxHash
		}
	}
	send("Invoice 1", safeAliceID, "0.015", journal.StateDone)
	w.trace["Refund 2"] = uuid.NewString()
	w.hash["Refund 2"] = safePay(t, alice, safe.Payment{RequestID: w.trace["Refund 2"], AssetID: btcID, Recipient: safeDeskID, Amount: "0.2", Memo: "Refund 2"})
	w.trace["Payroll 3"] = uuid.NewString()
	w.hash["Payroll 3"] = safePay(t, other, safe.Payment{RequestID: w.trace["Payroll 3"], AssetID: btcID, Recipient: safeCarlID, Amount: "0.012", Memo: "Payroll 3"})
	send("Invoice 4", safeBobID, "0.01", journal.StateFailed)
	srv.InjectFault(http.MethodPost, "/safe/transactions", safesandbox.Fault{Kind: safesandbox.FaultServerError})
	send("Invoice 5", safeCarlID, "0.02", journal.StateInDoubt)
	return w
}

// byMemo finds the row of a memo.
func byMemo(t *testing.T, rows []Row, memo string) Row {
	t.Helper()
	for _, r := range rows {
		if r.Memo == memo {
			return r
		}
	}
	t.Fatalf("no row of %q", memo)
	return Row{}
}

// TestSafeHistory: on the Safe rail the history pages the snapshots in and
// out, joins them with the journal (done, IN DOUBT, failed, received,
// other tool), shows deposits apart from payments received, carries each
// movement's transaction hash, filters on it, and exports it.
func TestSafeHistory(t *testing.T) {
	t.Parallel()
	w := newSafeWorld(t)
	h := New(w.desk.Rail(), w.j)
	if calls := loadAll(t, h); calls != 2 {
		t.Fatalf("%d pages, want 2", calls)
	}
	rows := h.Rows()
	wantSorted(t, rows)
	wantUniqueSnapshots(t, rows)
	if len(rows) != 105+5 {
		t.Fatalf("%d rows, want 110", len(rows))
	}
	want := map[string]State{"Invoice 1": StateDone, "Refund 2": StateReceived, "Payroll 3": StateOther, "Invoice 4": StateFailed, "Invoice 5": StateInDoubt}
	for memo, st := range want {
		r := byMemo(t, rows, memo)
		if r.State != st || r.TraceID != w.trace[memo] || r.TxHash != w.hash[memo] || r.Deposit != nil {
			t.Errorf("%s: %+v; want %s, trace %s, transaction %q", memo, r, st, w.trace[memo], w.hash[memo])
		}
		if (r.TxHash == "") != (st == StateFailed || st == StateInDoubt) {
			t.Errorf("%s: transaction %q", memo, r.TxHash)
		}
	}
	if r := byMemo(t, rows, "Invoice 1"); r.Operator != "alice@desk-1" || r.Closing != "" || !r.Amount.Equal(decimal.RequireFromString("-0.015")) {
		t.Errorf("the desk's payout: %+v", r)
	}
	deposits := 0
	for _, r := range rows {
		if r.State != StateDeposit {
			continue
		}
		deposits++
		if r.Deposit == nil || len(r.Deposit.Hash) != 64 || len(r.TxHash) != 64 || r.OpponentID != "" || r.TraceID != "" || !r.Amount.IsPositive() {
			t.Fatalf("deposit row %+v", r)
		}
	}
	if deposits != 105 {
		t.Fatalf("%d deposits, want 105", deposits)
	}

	// In: the payment received and the deposits; out: the rest.
	if n := len(h.Filter(Filter{Direction: DirIn}, nil)); n != 106 {
		t.Errorf("in: %d rows, want 106", n)
	}
	if n := len(h.Filter(Filter{Direction: DirOut}, nil)); n != 4 {
		t.Errorf("out: %d rows, want 4", n)
	}
	// A transaction hash, by its start in upper case; a deposit's chain
	// transaction.
	for _, c := range []struct{ text, memo string }{
		{strings.ToUpper(w.hash["Payroll 3"][:20]), "Payroll 3"},
		{w.hash["Refund 2"][30:], "Refund 2"},
	} {
		got, idx := h.Query(Filter{Text: c.text}, nil)
		if len(idx) != 1 || got[idx[0]].Memo != c.memo {
			t.Errorf("search %q: %d rows, want the row of %s", c.text, len(idx), c.memo)
		}
	}
	dep := rows[len(rows)-1]
	if got, idx := h.Query(Filter{Text: dep.Deposit.Hash[10:40]}, nil); len(idx) != 1 || got[idx[0]].SnapshotID != dep.SnapshotID {
		t.Errorf("search by a deposit's chain transaction: %d rows", len(idx))
	}

	// The export: tx_hash as a last column when asked for, read back; the
	// twelve columns otherwise.
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rows, nil, nil, WithTxHash()); err != nil {
		t.Fatal(err)
	}
	if head, _, _ := strings.Cut(buf.String(), "\n"); !strings.HasSuffix(head, ",state,closing_balance,tx_hash") {
		t.Fatalf("header %q", head)
	}
	got, err := ReadCSV(&buf)
	if err != nil || len(got) != len(rows) {
		t.Fatalf("ReadCSV: %d rows, %v", len(got), err)
	}
	for i, c := range got {
		r := rows[i]
		if c.TxHash != r.TxHash || c.State != string(r.State) || c.SnapshotID != r.SnapshotID || c.Memo != r.Memo {
			t.Errorf("export row %d: %+v, want %+v", i, c, r)
		}
		if r.State == StateDeposit && (c.Direction != "in" || c.CounterpartyID != "") {
			t.Errorf("export row %d of a deposit: %+v", i, c)
		}
	}
	buf.Reset()
	if err := WriteCSV(&buf, rows, nil, nil); err != nil {
		t.Fatal(err)
	}
	if head, _, _ := strings.Cut(buf.String(), "\n"); !strings.HasSuffix(head, ",state,closing_balance") {
		t.Fatalf("header without the option %q", head)
	}
	if got, err := ReadCSV(&buf); err != nil || len(got) != len(rows) || got[0].TxHash != "" {
		t.Fatalf("ReadCSV of twelve columns: %d rows, %v", len(got), err)
	}

	// Settled by the desk (its kept signed bytes submitted again), the
	// payout in doubt is one row, done, with its transaction.
	res, err := w.desk.Settle(context.Background(), w.trace["Invoice 5"], "")
	if err != nil || res.State != journal.StateDone || res.Snap == nil || res.Snap.TxHash == "" {
		t.Fatalf("settle: %+v, %v", res, err)
	}
	h = New(w.desk.Rail(), w.j)
	loadAll(t, h)
	rows = h.Rows()
	wantUniqueSnapshots(t, rows)
	if r := byMemo(t, rows, "Invoice 5"); r.State != StateDone || r.TxHash != res.Snap.TxHash || r.JournalOnly() || len(rows) != 110 {
		t.Errorf("the settled payout: %+v (%d rows)", r, len(rows))
	}
}

// TestReadCSVTxHashColumn: an export with the tx_hash column reads its
// hashes back; a thirteenth column by another name, or rows that do not
// have the header's columns, are refused.
func TestReadCSVTxHashColumn(t *testing.T) {
	const head = "time,direction,asset,asset_id,amount,counterparty,counterparty_id,memo,trace_id,snapshot_id,state,closing_balance"
	const good = "2026-11-26T13:45:01.5Z,in,BTC,a,0.5,,,,,d,deposit,"
	rows, err := ReadCSV(strings.NewReader(head + ",tx_hash\n" + good + ",ab12\n"))
	if err != nil || len(rows) != 1 || rows[0].TxHash != "ab12" || rows[0].State != "deposit" {
		t.Fatalf("with tx_hash: %+v, %v", rows, err)
	}
	for _, c := range []struct{ name, in, want string }{
		{"other thirteenth column", head + ",hash\n" + good + ",ab12\n", `column 13 of the header is "hash"`},
		{"row without the hash", head + ",tx_hash\n" + good + "\n", "wrong number of fields"},
		{"row with a hash too many", head + "\n" + good + ",ab12\n", "wrong number of fields"},
		{"fourteen columns", head + ",tx_hash,more\n", "want 12 (or 13 with tx_hash)"},
	} {
		if rows, err := ReadCSV(strings.NewReader(c.in)); err == nil || !strings.Contains(err.Error(), c.want) || rows != nil {
			t.Errorf("%s: %v, %v; want an error with %q", c.name, rows, err, c.want)
		}
	}
}
