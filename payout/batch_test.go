package payout

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"mixdesk/addressbook"
	"mixdesk/internal/csvcell"
	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout/rail"
)

// ---- parsing ----

func TestParseBatchFileErrors(t *testing.T) {
	many := "recipient,asset,amount\n" + strings.Repeat("a,b,1\n", MaxBatchRows+1)
	huge := "recipient,asset,amount,memo\na,b,1," + strings.Repeat("x", maxBatchBytes) + "\n"
	tests := []struct {
		name, text string
		line       int
		want       string
	}{
		{"empty", "", 0, "empty"},
		{"missing column", "recipient,asset\nx,y\n", 1, "missing column amount"},
		{"missing two", "recipient,memo\nx,y\n", 1, "missing column asset, amount"},
		{"unknown column", "recipient,asset,amount,amt\nx,y,1,2\n", 1, `unknown column "amt"`},
		{"repeated column", "recipient,asset,amount,Amount\nx,y,1,1\n", 1, "column amount given twice"},
		{"header only", "recipient,asset,amount\n", 0, "no rows"},
		{"header only, blank rows", "recipient,asset,amount\n\n,,\n", 0, "no rows"},
		{"bare quote", "recipient,asset,amount\nx,y,1\nab\"c,USDT,1\n", 3, `a quote (") inside a cell`},
		{"unclosed quote", "recipient,asset,amount\nx,y,1\n\"abc,USDT,1\nz,USDT,2\n", 3, "not closed"},
		{"text after a quote", "recipient,asset,amount\n\"abc\"d,USDT,1\n", 2, "not closed"},
		{"too many rows", many, MaxBatchRows + 2, "more than 10000 rows"},
		{"too large", huge, 0, "larger than 8 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseBatch(strings.NewReader(tc.text), "pay.csv")
			var fe *BatchFileError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseBatch = %v, %v; want a *BatchFileError", f, err)
			}
			if fe.Line != tc.line || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "pay.csv") {
				t.Errorf("error %q (line %d); want line %d and %q", err, fe.Line, tc.line, tc.want)
			}
		})
	}
}

func TestParseBatchRows(t *testing.T) {
	text := "\ufeff Amount ,Recipient,asset,KEY,memo\r\n" +
		" 10.50 , alice ,usdt,,payroll\r\n" +
		"\r\n" +
		",,,,\r\n" +
		"1,bob,BTC,k-2,\"two\r\nlines\"\r\n" +
		"1,carol,ETH\r\n" +
		"2,dave,ETH,k-4,x\r\n"
	f, err := ParseBatch(strings.NewReader(text), "pay.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !f.HasKeys || len(f.Rows) != 4 {
		t.Fatalf("HasKeys %v, %d rows; want true, 4: %+v", f.HasKeys, len(f.Rows), f.Rows)
	}
	want := []BatchRow{
		{Line: 2, Recipient: "alice", Asset: "usdt", Amount: "10.50", Memo: "payroll", Key: "alice|USDT|10.5|payroll"},
		{Line: 5, Recipient: "bob", Asset: "BTC", Amount: "1", Memo: "two\nlines", Key: "k-2", KeyGiven: true},
		{Line: 7, Recipient: "carol", Asset: "ETH", Amount: "1", Key: "carol|ETH|1|"},
		{Line: 8, Recipient: "dave", Asset: "ETH", Amount: "2", Memo: "x", Key: "k-4", KeyGiven: true},
	}
	if !slices.Equal(f.Rows, want) {
		t.Errorf("rows\n%+v\nwant\n%+v", f.Rows, want)
	}
	if len(f.Problems) != 1 || f.Problems[0].Line != 7 || f.Problems[0].Field != "row" {
		t.Errorf("problems %+v; want the short row of line 7", f.Problems)
	}
	if !regexp.MustCompile(`^b-[0-9a-f]{16}$`).MatchString(f.ID) {
		t.Errorf("batch id %q", f.ID)
	}
}

func TestBatchIDIsCanonical(t *testing.T) {
	u1, u2 := "8dcf823d-9eb3-4da2-8734-f0aad50c0da6", "0b5a1ae8-14f4-4c8e-9e6f-3a1b6c2d7e90"
	base := "recipient,asset,amount,memo\n" + u1 + ",USDT,10,a\n" + u2 + ",BTC,0.5,b\n"
	id := func(text string) string {
		t.Helper()
		f, err := ParseBatch(strings.NewReader(text), "x.csv")
		if err != nil {
			t.Fatalf("ParseBatch(%q): %v", text, err)
		}
		return f.ID
	}
	want := id(base)
	same := map[string]string{
		"CRLF":              strings.ReplaceAll(base, "\n", "\r\n"),
		"no final newline":  strings.TrimSuffix(base, "\n"),
		"extra blank lines": base + "\n\n",
		"byte order mark":   "\ufeff" + base,
		"rows swapped":      "recipient,asset,amount,memo\n" + u2 + ",BTC,0.5,b\n" + u1 + ",USDT,10,a\n",
		"columns swapped":   "memo,amount,asset,recipient\na,10,USDT," + u1 + "\nb,0.5,BTC," + u2 + "\n",
		"quotes and spaces": "recipient,asset,amount,memo\n\"" + u1 + "\", USDT ,\"10\",a\n" + strings.ToUpper(u2) + ",btc,0.50,b\n",
	}
	for name, text := range same {
		if got := id(text); got != want {
			t.Errorf("%s: id %s, want %s", name, got, want)
		}
	}
	if got := id(strings.Replace(base, ",10,", ",11,", 1)); got == want {
		t.Error("without keys, another amount must give another batch id")
	}
	keyed := "recipient,asset,amount,key\n" + u1 + ",USDT,10,alice-nov\n" + u2 + ",BTC,0.5,bob-nov\n"
	edited := strings.Replace(keyed, ",10,", ",12,", 1)
	if id(keyed) != id(edited) {
		t.Error("with keys, an edited amount must keep the batch id")
	}
}

func TestDefaultRowKey(t *testing.T) {
	if got := DefaultRowKey("Alice", "usdt", "10.50", "Nov"); got != "alice|USDT|10.5|Nov" {
		t.Errorf("DefaultRowKey = %q", got)
	}
	up := strings.ToUpper(usdtID)
	if got := DefaultRowKey("1234", up, "1", ""); got != "1234|"+usdtID+"|1|" {
		t.Errorf("DefaultRowKey = %q", got)
	}
	if got := DefaultRowKey("x", "USDT", "01", ""); got != "x|USDT|01|" {
		t.Errorf("an amount that does not parse is kept as written: %q", got)
	}
	long := DefaultRowKey("x", "USDT", "1", strings.Repeat("ü", 140))
	if !strings.HasPrefix(long, "sha256:") || len(long) != 7+32 {
		t.Errorf("long key %q", long)
	}
	if long == DefaultRowKey("x", "USDT", "2", strings.Repeat("ü", 140)) {
		t.Error("hashed keys of different rows are equal")
	}
}

func TestBatchTrace(t *testing.T) {
	a := BatchTrace("b-0123456789abcdef", "k", 0)
	if a != BatchTrace("b-0123456789abcdef", "k", 0) {
		t.Fatal("not deterministic")
	}
	u, err := uuid.Parse(a)
	if err != nil || u.Version() != 5 {
		t.Fatalf("trace %s: version %v, %v", a, u.Version(), err)
	}
	want := uuid.NewSHA1(BatchNamespace, []byte("b-0123456789abcdef\x00k")).String()
	if a != want {
		t.Errorf("trace %s, want %s", a, want)
	}
	seen := map[string]bool{a: true}
	for _, other := range []string{BatchTrace("b-0123456789abcdef", "k", 1), BatchTrace("b-0123456789abcdef", "k2", 0), BatchTrace("b-0123456789abcdf0", "k", 0)} {
		if seen[other] {
			t.Errorf("trace %s repeats", other)
		}
		seen[other] = true
	}
}

// ---- helpers ----

// newBookRig is a rig whose desk has an address book holding labels
// (label → index in r.users) and the configuration cfg.
func newBookRig(t *testing.T, seed int64, labels map[string]int, cfg Config) *rig {
	t.Helper()
	book, err := addressbook.Open(filepath.Join(t.TempDir(), "book.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Book = book
	r := newRig(t, seed, withConfig(cfg))
	for label, i := range labels {
		u := r.users[i]
		if err := book.Save(addressbook.Entry{Label: label, UserID: u.UserID, IdentityNumber: u.IdentityNumber, FullName: u.FullName}, ""); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// prepare parses text and prepares it on the rig's desk.
func (r *rig) prepare(text string) (*Batch, error) {
	r.t.Helper()
	f, err := ParseBatch(strings.NewReader(text), filepath.Join(r.t.TempDir(), "pay.csv"))
	if err != nil {
		return nil, err
	}
	return r.desk.PrepareBatchWith(context.Background(), f, railAssets(r.world.Assets))
}

// railAssets are the world's assets as the console holds them: the rail's
// shape, as the account reads its balances.
func railAssets(as []mixin.Asset) []rail.Asset {
	out := make([]rail.Asset, len(as))
	for i, a := range as {
		out[i] = rail.Asset{AssetID: a.AssetID, ChainID: a.ChainID, Symbol: a.Symbol, Name: a.Name, IconURL: a.IconURL,
			Balance: a.Balance, PriceUSD: a.PriceUSD, ChangeUSD: a.ChangeUSD}
	}
	return out
}

func (r *rig) mustPrepare(text string) *Batch {
	r.t.Helper()
	b, err := r.prepare(text)
	if err != nil {
		r.t.Fatalf("prepare: %v", err)
	}
	return b
}

func (r *rig) runBatch(b *Batch, pin string, ctl *BatchControl, progress func(BatchProgress)) (BatchProgress, error) {
	r.t.Helper()
	return r.desk.RunBatch(context.Background(), b, pin, ctl, progress)
}

// items returns every row of b.
func items(b *Batch) []BatchItem { return b.Rows(0, b.Len()) }

// wantEachPaidOnce checks that every row of b is done and that the ledger
// holds exactly one transfer under its trace, from the operator, of the
// row's asset, recipient, amount and memo, with the row's snapshot id; and
// that the operator made no other transfer since mark (a ledger length)
// but those with the traces others.
func (r *rig) wantEachPaidOnce(b *Batch, mark int, others ...string) {
	r.t.Helper()
	its := items(b)
	traces := map[string]bool{}
	for _, it := range its {
		if it.State != ItemDone {
			r.t.Fatalf("line %d: state %s (%v), want done", it.Row.Line, it.State, it.Err)
		}
		ds := r.debits(it.Trace)
		if len(ds) != 1 {
			r.t.Fatalf("line %d: %d transfers with trace %s, want 1", it.Row.Line, len(ds), it.Trace)
		}
		e := ds[0]
		if e.To != it.User.UserID || e.AssetID != it.Asset.AssetID || e.Amount != it.AmountText || e.Memo != it.Memo || e.SnapshotID != it.SnapshotID {
			r.t.Fatalf("line %d: ledger %+v, row %+v", it.Row.Line, e, it)
		}
		traces[it.Trace] = true
	}
	for _, o := range others {
		traces[o] = true
	}
	for _, e := range r.srv.Ledger()[mark:] {
		if e.From == r.self.UserID && !traces[e.TraceID] {
			r.t.Fatalf("the operator made a transfer that is no row of the batch: %+v", e)
		}
	}
}

func csvOf(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// ---- prepare ----

func TestPrepareBatchReportsEveryError(t *testing.T) {
	r := newBookRig(t, 21, map[string]int{"Alice": 0}, Config{Limits: map[string]AssetLimit{usdtID: {PerTransfer: "1000"}}})
	u := r.users
	text := csvOf("recipient,asset,amount,memo,key",
		"alice,USDT,10,ok,k1",                                 // 2: fine (label, any case)
		"bob,USDT,10,,k2",                                     // 3: unknown label
		u[1].UserID+",DOGE,1,,k3",                             // 4: unknown symbol
		u[1].UserID+",USDT,1.123456789,,k4",                   // 5: 9 decimals
		u[2].UserID+",USDT,-5,,k5",                            // 6: sign
		u[2].UserID+",USDT,5,"+strings.Repeat("m", 141)+",k6", // 7: memo too long
		r.self.UserID+",USDT,5,,k7",                           // 8: self
		"99999999,USDT,5,,k8",                                 // 9: no such Mixin ID
		u[3].UserID+",USDT,2000,,k9",                          // 10: over the per-transfer cap
		u[3].UserID+",USDT,1,,k1",                             // 11: key of line 2
		u[3].UserID+",USDT,1",                                 // 12: a cell short
		",USDT,1,,k12",                                        // 13: no recipient
		u[3].IdentityNumber+","+ethID+",0.1,,k13",             // 14: fine (Mixin ID, asset UUID)
	)
	b := r.mustPrepare(text)
	type lf struct {
		line  int
		field string
	}
	var got []lf
	for _, e := range b.Errors() {
		got = append(got, lf{e.Line, e.Field})
	}
	want := []lf{{3, "recipient"}, {4, "asset"}, {5, "amount"}, {6, "amount"}, {7, "memo"}, {8, "recipient"}, {9, "recipient"},
		{10, "amount"}, {11, "key"}, {12, "row"}, {13, "recipient"}}
	if !slices.Equal(got, want) {
		t.Errorf("errors %v\nwant    %v\n%v", got, want, b.Errors())
	}
	for _, e := range b.Errors() {
		if e.Reason == "" || !strings.HasPrefix(e.Error(), fmt.Sprintf("line %d: ", e.Line)) {
			t.Errorf("error %q has no reason or line", e.Error())
		}
	}
	its := items(b)
	if its[0].State != ItemNew || its[0].User.UserID != u[0].UserID || its[0].User.FullName != u[0].FullName {
		t.Errorf("line 2: %+v", its[0])
	}
	if its[12].State != ItemNew || its[12].User.UserID != u[3].UserID || its[12].Asset.Symbol != "ETH" {
		t.Errorf("line 14: %+v", its[12])
	}
	if b.Ready() {
		t.Fatal("a batch with errors is ready")
	}
	if _, err := r.runBatch(b, r.pin, nil, nil); !errors.Is(err, ErrBatchNotReady) {
		t.Fatalf("RunBatch = %v, want ErrBatchNotReady", err)
	}
	if n := r.count.Posts(); n != 0 {
		t.Fatalf("%d transfers posted", n)
	}
}

func TestPrepareBatchAddressBookOnly(t *testing.T) {
	r := newBookRig(t, 22, map[string]int{"alice": 0}, Config{AddressBookOnly: true})
	b := r.mustPrepare(csvOf("recipient,asset,amount", "alice,USDT,1", r.users[0].UserID+",USDT,2", r.users[1].UserID+",USDT,3"))
	errs := b.Errors()
	if len(errs) != 1 || errs[0].Line != 4 || !strings.Contains(errs[0].Reason, "not in the address book") {
		t.Fatalf("errors %v; want line 4 refused (not saved)", errs)
	}
}

func TestPrepareBatchWithoutBook(t *testing.T) {
	r := newRig(t, 23)
	b := r.mustPrepare(csvOf("recipient,asset,amount", "alice,USDT,1"))
	if errs := b.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Reason, "no address book") {
		t.Fatalf("errors %v", errs)
	}
}

func TestBatchTotalsAndCaps(t *testing.T) {
	r := newRig(t, 24, withConfig(Config{Limits: map[string]AssetLimit{usdtID: {Daily: "100"}}}))
	u := r.users
	// One payout today already counts against the cap.
	if res := r.send(r.review(r.draft(0, "30", "earlier"), nil)); res.State != journal.StateDone {
		t.Fatal(res)
	}
	b := r.mustPrepare(csvOf("recipient,asset,amount", u[1].UserID+",USDT,40", u[2].UserID+",USDT,35", u[1].UserID+",BTC,3"))
	tot := b.Totals()
	if len(tot) != 2 || tot[0].Asset.Symbol != "USDT" || !tot[0].ToPay.Equal(decimal.RequireFromString("75")) ||
		!tot[0].HasDaily || !tot[0].Used.Equal(decimal.RequireFromString("30")) || !tot[0].Left.Equal(decimal.RequireFromString("70")) {
		t.Fatalf("totals %+v", tot)
	}
	errs := b.Errors()
	if len(errs) != 2 || errs[0].Line != 0 || !strings.Contains(errs[0].Reason, "daily cap") ||
		!strings.Contains(errs[1].Reason, "BTC: 3 to pay, but the balance is 2.5") {
		t.Fatalf("errors %v; want the daily cap of USDT and the balance of BTC", errs)
	}
	if b.Ready() {
		t.Fatal("a batch over a cap is ready")
	}

	// Within the cap when prepared, over it by the time it runs: the row
	// that would cross the cap stops the batch, nothing after it is sent.
	b = r.mustPrepare(csvOf("recipient,asset,amount", u[1].UserID+",USDT,20", u[2].UserID+",USDT,20", u[3].UserID+",USDT,20"))
	if !b.Ready() {
		t.Fatalf("not ready: %v", b.Errors())
	}
	if res := r.send(r.review(r.draft(0, "15", "meanwhile"), nil)); res.State != journal.StateDone {
		t.Fatal(res)
	}
	p, err := r.runBatch(b, r.pin, nil, nil)
	var ce *CapError
	var se *BatchStopError
	if !errors.As(err, &ce) || !errors.As(err, &se) || se.Line != 4 || ce.Kind != CapDaily {
		t.Fatalf("RunBatch = %+v, %v; want a daily *CapError at line 4", p, err)
	}
	if p.Done != 2 || p.Left() != 1 {
		t.Fatalf("progress %+v", p)
	}
	if got := r.bal(r.self.UserID, usdtID); !got.Equal(decimal.RequireFromString("49915")) {
		t.Fatalf("balance %s, want 49915 (30 + 15 + 2×20 paid)", got)
	}
}

func TestBatchLargestTotal(t *testing.T) {
	b := &Batch{totals: []AssetTotal{
		{Asset: rail.Asset{Symbol: "USDT"}, ToPay: decimal.RequireFromString("5000"), ValueUSD: decimal.RequireFromString("5001")},
		{Asset: rail.Asset{Symbol: "BTC"}, ToPay: decimal.RequireFromString("0.1"), ValueUSD: decimal.RequireFromString("6425.037")},
		{Asset: rail.Asset{Symbol: "ETH"}, ToPay: decimal.Zero},
	}}
	if s, text := b.LargestTotal(); s != "BTC" || text != "0.1" {
		t.Errorf("LargestTotal = %s %s, want BTC 0.1 (largest in USD)", s, text)
	}
	if !b.Confirms(" 0.1 ") || b.Confirms("0.10") || b.Confirms("5000") {
		t.Error("Confirms")
	}
	// An asset without a USD price cannot be weighed against the others:
	// the typed total stays the largest priced one, and the unpriced
	// total must be acknowledged on its own before the batch is ready.
	b.totals = append(b.totals, AssetTotal{Asset: rail.Asset{Symbol: "XIN"}, ToPay: decimal.RequireFromString("12000")})
	if s, text := b.LargestTotal(); s != "BTC" || text != "0.1" {
		t.Errorf("LargestTotal = %s %s, want BTC 0.1 (the largest priced)", s, text)
	}
	if u := b.Unpriced(); len(u) != 1 || u[0].Asset.Symbol != "XIN" {
		t.Fatalf("Unpriced = %+v, want XIN", u)
	}
	if b.Ready() {
		t.Error("ready with an unpriced total not acknowledged")
	}
	b.AckUnpriced()
	if !b.Ready() {
		t.Error("not ready after the unpriced total was acknowledged")
	}
	// Only unpriced assets: the typed total is the largest amount; the
	// other totals are still acknowledged apart.
	only := &Batch{totals: []AssetTotal{
		{Asset: rail.Asset{Symbol: "XIN"}, ToPay: decimal.RequireFromString("12")},
		{Asset: rail.Asset{Symbol: "FOO"}, ToPay: decimal.RequireFromString("5000")},
	}}
	if s, text := only.LargestTotal(); s != "FOO" || text != "5000" || !only.Confirms("5,000") {
		t.Errorf("LargestTotal = %s %s, want FOO 5000", s, text)
	}
	if s, text := (&Batch{}).LargestTotal(); s != "" || text != "" || (&Batch{}).Confirms("") {
		t.Error("nothing to pay confirms nothing")
	}
}

// ---- run ----

func TestBatchRunThenRerunPaysNothing(t *testing.T) {
	r := newBookRig(t, 31, map[string]int{"Payroll Alice": 0}, Config{})
	u := r.users
	text := csvOf("recipient,asset,amount,memo",
		"payroll alice,USDT,100,November",
		u[1].UserID+",usdt,200.5,November",
		u[2].IdentityNumber+","+btcID+",0.01,",
		u[3].UserID+",ETH,1.25,bonus",
		strings.ToUpper(u[1].UserID)+",BTC,0.002,fee",
	)
	b := r.mustPrepare(text)
	if !b.Ready() {
		t.Fatalf("not ready: %v %v", b.Errors(), b.Duplicates())
	}
	if s, amount := b.LargestTotal(); s != "ETH" || amount != "1.25" {
		t.Errorf("LargestTotal %s %s, want ETH 1.25 (about 3,901 USD, beside 771 USD of BTC and 300.5 USDT)", s, amount)
	}
	var last BatchProgress
	p, err := r.runBatch(b, r.pin, nil, func(p BatchProgress) { last = p })
	if err != nil || p.Done != 5 || p.Total != 5 || p.Failed+p.InDoubt+p.Skipped != 0 || last != p {
		t.Fatalf("RunBatch = %+v, %v (last progress %+v)", p, err, last)
	}
	r.wantEachPaidOnce(b, 0)
	for _, it := range items(b) {
		e := r.entry(it.Trace)
		if e.Intent.BatchID != b.ID || e.Intent.RowKey != it.Key {
			t.Errorf("line %d: intent batch %q key %q, want %q %q", it.Row.Line, e.Intent.BatchID, e.Intent.RowKey, b.ID, it.Key)
		}
		if it.Trace != BatchTrace(b.ID, it.Key, 0) {
			t.Errorf("line %d: trace %s", it.Row.Line, it.Trace)
		}
	}
	r.wantBal("operator", r.self.UserID, usdtID, "49699.5")

	// The same file again, from a new process, saved with CRLF line ends.
	posts := r.count.Posts()
	r.restart()
	again := r.mustPrepare(strings.ReplaceAll(text, "\n", "\r\n"))
	if again.ID != b.ID {
		t.Fatalf("batch id %s, first run %s", again.ID, b.ID)
	}
	if c := again.Counts(); c.Skipped != 5 || c.Left() != 0 {
		t.Fatalf("counts %+v; want every row skipped", c)
	}
	if s, amount := again.LargestTotal(); s != "" || amount != "" {
		t.Errorf("LargestTotal %s %s; nothing is left to pay", s, amount)
	}
	p, err = r.runBatch(again, r.pin, nil, nil)
	if err != nil || p.Skipped != 5 || p.Done != 0 {
		t.Fatalf("re-run = %+v, %v", p, err)
	}
	if n := r.count.Posts() - posts; n != 0 {
		t.Fatalf("the re-run posted %d transfers", n)
	}
	for _, it := range items(again) {
		if !it.Already || it.SnapshotID == "" {
			t.Errorf("line %d: %+v; want done before, with its snapshot", it.Row.Line, it)
		}
	}
	r.wantEachPaidOnce(again, 0)
}

// manyRows is a batch of n USDT rows of distinct amounts to the world's
// users in turn.
func (r *rig) manyRows(n int) string {
	var sb strings.Builder
	sb.WriteString("recipient,asset,amount,memo\n")
	for i := range n {
		fmt.Fprintf(&sb, "%s,USDT,%d.%02d,row %d\n", r.users[i%len(r.users)].UserID, 1+i/10, i, i+1)
	}
	return sb.String()
}

func TestBatchCrashThenRerunPaysEachOnce(t *testing.T) {
	steadyGroups(t)
	r := newRig(t, 32)
	text := r.manyRows(40)
	b := r.mustPrepare(text)
	// The process dies before its 7th post: the rows before are paid (the
	// last of them without its done record, not written yet), the rest of
	// the group and the group written ahead are recorded but not posted,
	// the others are not even recorded.
	var n atomic.Int32
	setAfterIntent(t, func() error {
		if n.Add(1) == 7 {
			return errCrash
		}
		return nil
	})
	_, err := r.runBatch(b, r.pin, nil, nil)
	if !errors.Is(err, errCrash) {
		t.Fatalf("RunBatch = %v, want the crash", err)
	}
	setAfterIntent(t, nil)
	if paid := len(r.srv.Ledger()); paid != 6 {
		t.Fatalf("%d transfers before the crash, want 6", paid)
	}

	r.restart()
	again := r.mustPrepare(text)
	c := again.Counts()
	if c.Skipped == 0 || c.InDoubt < 2 || c.Left() == 0 || c.Skipped+c.InDoubt+c.Left() != 40 {
		t.Fatalf("after the crash: %+v; want rows done, in doubt and new", c)
	}
	posts := r.count.Posts()
	p, err := r.runBatch(again, r.pin, nil, nil)
	// The row posted before the crash without its done record was paid
	// before this run: it is found on the server, not paid now.
	if err != nil || p.Done+p.Found+p.Skipped != 40 || p.Found != 1 {
		t.Fatalf("re-run = %+v, %v", p, err)
	}
	r.wantEachPaidOnce(again, 0)
	if got := len(r.srv.Ledger()); got != 40 {
		t.Fatalf("%d transfers in the ledger, want 40", got)
	}
	// What was executed was found by trace; only the rest was posted.
	if n := r.count.Posts() - posts; n != 34 {
		t.Errorf("the re-run posted %d transfers, want 34", n)
	}
	if r.j.Len() != 40 {
		t.Errorf("journal has %d entries, want 40", r.j.Len())
	}
}

func TestBatchEditedRowIsNotPaidTwice(t *testing.T) {
	r := newRig(t, 33)
	u := r.users
	first := csvOf("recipient,asset,amount,key",
		u[0].UserID+",USDT,10,nov-alice",
		u[1].UserID+",USDT,10,nov-bob",
		u[2].UserID+",USDT,10,nov-carol")
	edited := strings.Replace(first, "10,nov-bob", "12,nov-bob", 1)
	b := r.mustPrepare(first)
	if _, err := r.runBatch(b, r.pin, nil, nil); err != nil {
		t.Fatal(err)
	}
	bobTrace := items(b)[1].Trace

	// Same journal: the edit is seen before anything is posted.
	posts := r.count.Posts()
	e := r.mustPrepare(edited)
	if e.ID != b.ID {
		t.Fatalf("the edit changed the batch id")
	}
	bob := items(e)[1]
	if bob.State != ItemFailed || !mixin.IsTraceUsed(bob.Err) || bob.Trace != bobTrace || !strings.Contains(bob.Problem(), "already used for another payout (10 ") {
		t.Fatalf("edited row %+v (%v); want refused with 20125", bob, bob.Err)
	}
	p, err := r.runBatch(e, r.pin, nil, nil)
	if err != nil || p.Skipped != 2 || p.Failed != 1 || r.count.Posts() != posts {
		t.Fatalf("RunBatch = %+v, %v, %d posts", p, err, r.count.Posts()-posts)
	}

	// A console with a fresh journal (another machine) asks the server,
	// which refuses the trace with 20125; the other rows are found paid
	// (the server answers their trace with the first snapshot).
	r.path = filepath.Join(t.TempDir(), "other", "journal.jsonl")
	r.restart()
	e = r.mustPrepare(edited)
	p, err = r.runBatch(e, r.pin, nil, nil)
	if err != nil || p.Done != 2 || p.Failed != 1 {
		t.Fatalf("fresh journal: %+v, %v", p, err)
	}
	bob = items(e)[1]
	if bob.State != ItemFailed || !mixin.IsTraceUsed(bob.Err) {
		t.Fatalf("edited row %+v; want refused by the server with 20125", bob)
	}
	if f := r.wantState(bobTrace, journal.StateFailed).Failed; f.Code != mixin.CodeTraceUsed {
		t.Fatalf("journal: %+v", f)
	}
	ds := r.debits(bobTrace)
	if len(ds) != 1 || ds[0].Amount != "10" {
		t.Fatalf("ledger for the edited row: %+v; want the first 10 only", ds)
	}
	if len(r.srv.Ledger()) != 3 {
		t.Fatalf("ledger: %+v", r.srv.Ledger())
	}
	path, err := WriteBatchReport(filepath.Join(t.TempDir(), "nov.csv"), e)
	if err != nil {
		t.Fatal(err)
	}
	rep := readReport(t, path)
	if rep[2][11] != "failed" || !strings.Contains(rep[2][13], "20125") {
		t.Errorf("report row of the edited line: %q", rep[2])
	}
}

func TestBatchWrongPINStopsAtOnce(t *testing.T) {
	r := newRig(t, 34)
	text := r.manyRows(5)
	b := r.mustPrepare(text)
	p, err := r.runBatch(b, wrongPIN(r.pin), nil, nil)
	var se *BatchStopError
	if !mixin.IsPINIncorrect(err) || !errors.As(err, &se) || se.Line != 2 {
		t.Fatalf("RunBatch = %+v, %v; want a PIN refusal at line 2", p, err)
	}
	if n := r.count.Posts(); n != 1 || len(r.srv.Ledger()) != 0 {
		t.Fatalf("%d posts, ledger %v; want one refused post", n, r.srv.Ledger())
	}
	if p.Failed != 1 || p.Left() != 4 || p.InDoubt != 0 {
		t.Fatalf("progress %+v", p)
	}

	// With the right PIN the refused row is tried again under its next
	// attempt trace, and every row is paid once.
	again := r.mustPrepare(text)
	first := items(again)[0]
	if first.State != ItemNew || first.Attempt != 1 || first.Trace != BatchTrace(again.ID, first.Key, 1) || !mixin.IsPINIncorrect(first.Err) {
		t.Fatalf("refused row: %+v", first)
	}
	if _, err := r.runBatch(again, r.pin, nil, nil); err != nil {
		t.Fatal(err)
	}
	r.wantEachPaidOnce(again, 0)
}

func TestBatchPINLockMidBatch(t *testing.T) {
	r := newRig(t, 35)
	text := r.manyRows(30)
	b := r.mustPrepare(text)
	// Once ten rows are done, the server locks the PIN (429): the row that
	// meets it is refused, rows recorded ahead stay in doubt unposted.
	var once sync.Once
	progress := func(p BatchProgress) {
		if p.Done == 10 {
			once.Do(func() { r.srv.InjectFault("POST", "/transfers", sandbox.Fault{Kind: sandbox.FaultTooManyRequests}) })
		}
	}
	p, err := r.runBatch(b, r.pin, nil, progress)
	if !mixin.IsTooManyRequests(err) || !mixin.IsPINError(err) {
		t.Fatalf("RunBatch = %+v, %v; want the 429 to stop it", p, err)
	}
	if p.Done != 10 || p.Failed != 1 || len(r.srv.Ledger()) != 10 || r.count.Posts() != 11 {
		t.Fatalf("progress %+v, ledger %d, posts %d", p, len(r.srv.Ledger()), r.count.Posts())
	}
	var doubt int
	for _, it := range items(b) {
		if it.State == ItemInDoubt {
			doubt++
			if !errors.Is(it.Err, errNotPostedPIN) || len(r.debits(it.Trace)) != 0 {
				t.Errorf("line %d: %v", it.Row.Line, it.Err)
			}
		}
	}
	if doubt != p.InDoubt {
		t.Fatalf("%d rows in doubt, progress says %d", doubt, p.InDoubt)
	}

	again := r.mustPrepare(text)
	if c := again.Counts(); c.Skipped != 10 || c.InDoubt != p.InDoubt {
		t.Fatalf("counts %+v", c)
	}
	if _, err := r.runBatch(again, r.pin, nil, nil); err != nil {
		t.Fatal(err)
	}
	r.wantEachPaidOnce(again, 0)
}

func TestBatchInsufficientBalanceStops(t *testing.T) {
	r := newRig(t, 36)
	var sb strings.Builder
	sb.WriteString("recipient,asset,amount,memo\n")
	for i := range 12 {
		fmt.Fprintf(&sb, "%s,USDT,100.%02d,row %d\n", r.users[i%4].UserID, i, i+1)
	}
	b := r.mustPrepare(sb.String())
	// Someone else spends from the account after the review: 550 are left.
	if _, err := r.srv.Transfer(r.self.UserID, mixin.TransferInput{AssetID: usdtID, OpponentID: r.users[0].UserID, Amount: "49450", TraceID: NewTraceID()}); err != nil {
		t.Fatal(err)
	}
	p, err := r.runBatch(b, r.pin, nil, nil)
	var se *BatchStopError
	if !mixin.IsInsufficientBalance(err) || !errors.As(err, &se) || se.Line != 7 {
		t.Fatalf("RunBatch = %+v, %v; want 20117 at line 7", p, err)
	}
	if p.Done != 5 || p.InDoubt != 0 {
		t.Fatalf("progress %+v; want 5 done, none in doubt", p)
	}
	for _, it := range items(b)[5:] {
		if it.State == ItemFailed && !mixin.IsInsufficientBalance(it.Err) || it.State != ItemFailed && it.State != ItemNew {
			t.Errorf("line %d: %s %v", it.Row.Line, it.State, it.Err)
		}
	}
	r.wantBal("operator", r.self.UserID, usdtID, "49.9")
}

func TestBatchSettlesInDoubtFirst(t *testing.T) {
	r := newRig(t, 37)
	crashOnce(t)
	rv := r.review(r.draft(0, "3", "single"), nil)
	if res := r.send(rv); res.State != journal.StateInDoubt {
		t.Fatalf("single payout %+v, want in doubt", res)
	}
	setAfterIntent(t, nil)
	b := r.mustPrepare(r.manyRows(3))
	if _, err := r.runBatch(b, r.pin, nil, nil); err != nil {
		t.Fatal(err)
	}
	r.wantOneDebit(rv)
	if r.count.Traces()[0] != rv.TraceID {
		t.Fatalf("posts %v; the payout in doubt goes first", r.count.Traces())
	}
	r.wantState(rv.TraceID, journal.StateDone)
}

func TestBatchDuplicatesNeedAcknowledgement(t *testing.T) {
	r := newRig(t, 38)
	u := r.users
	// An earlier single payout of 7 USDT to user 3.
	if res := r.send(r.review(r.draft(3, "7", ""), nil)); res.State != journal.StateDone {
		t.Fatal(res)
	}
	text := csvOf("recipient,asset,amount,memo",
		u[0].UserID+",USDT,5,tip",
		u[1].UserID+",USDT,6,",
		u[0].UserID+",USDT,5,tip",
		u[0].UserID+",USDT,5.0,another memo",
		u[3].UserID+",USDT,7,again?",
		u[0].UserID+",USDT,5,tip",
	)
	b := r.mustPrepare(text)
	dups := b.Duplicates()
	if len(dups) != 2 || dups[0].Kind != DupInFile || !slices.Equal(dups[0].Lines, []int{2, 4, 5, 7}) || !dups[0].SameKey ||
		dups[1].Kind != DupRecent || !slices.Equal(dups[1].Lines, []int{6}) || dups[1].EarlierTrace == "" {
		t.Fatalf("duplicates %+v", dups)
	}
	if b.Ready() || b.Acked() {
		t.Fatal("ready before the acknowledgement")
	}
	if _, err := r.runBatch(b, r.pin, nil, nil); !errors.Is(err, ErrBatchNotReady) {
		t.Fatal(err)
	}
	b.AckDuplicates()
	if !b.Ready() {
		t.Fatalf("not ready after the acknowledgement: %v", b.Errors())
	}
	keys := []string{}
	for _, it := range items(b) {
		keys = append(keys, it.Key)
	}
	k := DefaultRowKey(u[0].UserID, "USDT", "5", "tip")
	if keys[0] != k || keys[2] != k+"#2" || keys[5] != k+"#3" {
		t.Fatalf("keys %q", keys)
	}
	if _, err := r.runBatch(b, r.pin, nil, nil); err != nil {
		t.Fatal(err)
	}
	r.wantEachPaidOnce(b, 1)

	again := r.mustPrepare(text)
	again.AckDuplicates()
	if c := again.Counts(); c.Skipped != 6 {
		t.Fatalf("re-run counts %+v; want all six done (the acknowledgement gives the same keys)", c)
	}
}

func TestBatchPauseResumeStop(t *testing.T) {
	r := newRig(t, 39)
	text := r.manyRows(30)
	b := r.mustPrepare(text)
	ctl := &BatchControl{}
	paused := make(chan BatchProgress, 1)
	var pauseOnce, stopOnce sync.Once
	progress := func(p BatchProgress) {
		switch {
		case p.Paused:
			select {
			case paused <- p:
			default:
			}
		case p.Done >= 3:
			pauseOnce.Do(ctl.Pause)
			if p.Done >= 12 {
				stopOnce.Do(ctl.Stop)
			}
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.runBatch(b, r.pin, ctl, progress)
		done <- err
	}()
	var at BatchProgress
	select {
	case at = <-paused:
	case <-time.After(5 * time.Second):
		t.Fatal("the batch did not pause")
	}
	if !ctl.Paused() || at.Done < 3 || at.InDoubt != 0 {
		t.Fatalf("paused at %+v", at)
	}
	// Paused, nothing moves and other sends can get through.
	posts := r.count.Posts()
	single := r.send(r.review(r.draft(0, "0.5", "while paused"), nil))
	if single.State != journal.StateDone {
		t.Fatalf("a payout while the batch is paused: %+v", single)
	}
	time.Sleep(20 * time.Millisecond)
	if n := r.count.Posts(); n != posts+1 {
		t.Fatalf("%d posts while paused", n-posts)
	}
	ctl.Resume()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the batch did not stop")
	}
	var se *BatchStopError
	if !errors.Is(err, ErrBatchStopped) || !errors.As(err, &se) || !ctl.Stopped() {
		t.Fatalf("RunBatch = %v, want stopped", err)
	}
	c := b.Counts()
	if c.Done < 12 || c.InDoubt != 0 || c.Failed != 0 || c.Left() == 0 || se.Line != items(b)[c.Done].Row.Line {
		t.Fatalf("stopped at %+v (line %d)", c, se.Line)
	}
	if len(r.srv.Ledger()) != c.Done+1 {
		t.Fatalf("ledger %d, done %d", len(r.srv.Ledger()), c.Done)
	}

	again := r.mustPrepare(text)
	if _, err := r.runBatch(again, r.pin, nil, nil); err != nil {
		t.Fatal(err)
	}
	r.wantEachPaidOnce(again, 0, single.TraceID)
}

func TestBatchCancelledContext(t *testing.T) {
	r := newRig(t, 40)
	b := r.mustPrepare(r.manyRows(20))
	ctx, cancel := context.WithCancel(context.Background())
	p, err := r.desk.RunBatch(ctx, b, r.pin, nil, func(p BatchProgress) {
		if p.Done == 5 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("RunBatch = %+v, %v", p, err)
	}
	// Whatever was recorded is in doubt in the journal, never lost.
	for _, it := range items(b) {
		if e, ok := r.j.Lookup(it.Trace); ok && e.State == journal.StateInDoubt && it.State != ItemInDoubt {
			t.Errorf("line %d: journal in doubt, row %s", it.Row.Line, it.State)
		}
	}
	again := r.mustPrepare(r.manyRows(20))
	if _, err := r.runBatch(again, r.pin, nil, nil); err != nil {
		t.Fatal(err)
	}
	r.wantEachPaidOnce(again, 0)
}

func TestBatchStaleAndRunning(t *testing.T) {
	start := time.Date(2025, 11, 26, 9, 0, 0, 0, time.UTC)
	r := newRig(t, 41, withClock(start))
	b := r.mustPrepare(r.manyRows(2))
	r.clock.Advance(MaxReviewAge + time.Second)
	if _, err := r.runBatch(b, r.pin, nil, nil); !errors.Is(err, ErrBatchStale) {
		t.Fatalf("RunBatch = %v, want ErrBatchStale", err)
	}
	b = r.mustPrepare(r.manyRows(2))
	if _, err := r.runBatch(b, "12345", nil, nil); fieldErr(err) == nil {
		t.Fatalf("RunBatch with a 5-digit PIN = %v", err)
	}
	if r.count.Posts() != 0 {
		t.Fatal("posted")
	}
	other := newRig(t, 42)
	if _, err := other.desk.RunBatch(context.Background(), b, r.pin, nil, nil); err == nil {
		t.Fatal("a batch ran on a desk that did not prepare it")
	}
}

// steadyGroups lifts the time bound on batch groups for the rest of the
// test. Groups grow while rows are paid, bounded by the time a group of
// posts takes: on a slow or loaded machine (or under -race) that bound
// keeps them small, and a test that counts on their sizes would test the
// machine's speed instead of the rule.
func steadyGroups(t *testing.T) {
	t.Helper()
	old := batchWindowSpan
	batchWindowSpan = time.Hour
	t.Cleanup(func() { batchWindowSpan = old })
}

func TestBatchGroupCommit(t *testing.T) {
	steadyGroups(t)
	r := newRig(t, 43)
	b := r.mustPrepare(r.manyRows(64))
	before := r.j.Syncs()
	if _, err := r.runBatch(b, r.pin, nil, nil); err != nil {
		t.Fatal(err)
	}
	r.wantEachPaidOnce(b, 0)
	// 64 intents and 64 outcomes, each fsynced, would be 128.
	if n := r.j.Syncs() - before; n == 0 || n > 16 {
		t.Errorf("%d fsyncs for 64 rows", n)
	}
	rep := r.restart()
	if !rep.Intact() || rep.Count != 128 {
		t.Fatalf("journal after the batch: %s", rep)
	}
}

func TestBatchControlConcurrent(t *testing.T) {
	var c BatchControl
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				switch i % 3 {
				case 0:
					c.Pause()
				case 1:
					c.Resume()
				default:
					_, _, ch := c.state()
					_ = ch
					_ = c.Paused()
				}
			}
		}()
	}
	wg.Wait()
	c.Stop()
	if !c.Stopped() {
		t.Fatal("not stopped")
	}
	var nilc *BatchControl
	nilc.Pause()
	nilc.Stop()
	if nilc.Paused() || nilc.Stopped() {
		t.Fatal("a nil control pauses")
	}
}

// ---- report ----

func readReport(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], batchReportHeader) {
		t.Fatalf("header %q", recs[0])
	}
	return recs
}

func TestBatchReport(t *testing.T) {
	r := newRig(t, 44)
	u := r.users
	text := csvOf("recipient,asset,amount,memo,key",
		u[0].UserID+",USDT,1,\"=HYPERLINK(\"\"x\"\")\",a",
		u[1].UserID+",USDT,2,,b",
		u[2].UserID+",USDT,3,,c",
		u[3].UserID+",USDT,4,,d",
	)
	b := r.mustPrepare(text)
	ctl := &BatchControl{}
	_, err := r.runBatch(b, r.pin, ctl, func(p BatchProgress) {
		if p.Done == 1 {
			ctl.Stop()
		}
	})
	if !errors.Is(err, ErrBatchStopped) {
		t.Fatal(err)
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "november.csv")
	path, err := WriteBatchReport(input, b)
	if err != nil || path != filepath.Join(dir, "november.report.csv") {
		t.Fatalf("WriteBatchReport = %q, %v", path, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("report mode: %v %v", fi.Mode(), err)
	}
	rep := readReport(t, path)
	if len(rep) != 5 {
		t.Fatalf("%d report lines", len(rep))
	}
	for k, it := range items(b) {
		row := rep[k+1]
		snap := ""
		if ds := r.debits(it.Trace); len(ds) == 1 {
			snap = ds[0].SnapshotID
		}
		want := []string{fmt.Sprint(it.Row.Line), it.Row.Recipient, u[k].FullName, u[k].UserID, "USDT", usdtID, it.AmountText,
			csvcell.Guard(it.Row.Memo), it.Key, b.ID, it.Trace, string(it.State), snap}
		if !slices.Equal(row[:13], want) {
			t.Errorf("report line %d\n%q\nwant\n%q", k+2, row, want)
		}
		switch it.State {
		case ItemDone:
			if row[13] != "" || snap == "" {
				t.Errorf("done row %q", row)
			}
		case ItemNew:
			if !strings.HasPrefix(row[13], "not sent: ") || !strings.Contains(row[13], "stopped") || snap != "" {
				t.Errorf("row not sent %q", row)
			}
		default:
			t.Errorf("row %q", row)
		}
	}
	if rep[1][7] != `'=HYPERLINK("x")` {
		t.Errorf("memo cell %q is not protected", rep[1][7])
	}
	// Never over an earlier report.
	for _, want := range []string{"november.report-2.csv", "november.report-3.csv"} {
		if p, err := WriteBatchReport(input, b); err != nil || p != filepath.Join(dir, want) {
			t.Fatalf("WriteBatchReport = %q, %v; want %s", p, err, want)
		}
	}

	// An invalid batch reports every row too, with its problem.
	bad := r.mustPrepare(csvOf("recipient,asset,amount", u[0].UserID+",USDT,1e3", "nobody,USDT,1"))
	path, err = WriteBatchReport(filepath.Join(dir, "bad.txt"), bad)
	if err != nil || filepath.Base(path) != "bad.report.csv" {
		t.Fatal(path, err)
	}
	rep = readReport(t, path)
	if len(rep) != 3 || rep[1][11] != "invalid" || !strings.Contains(rep[1][13], "amount: no exponent") || rep[1][6] != "1e3" ||
		rep[2][11] != "invalid" || !strings.Contains(rep[2][13], "recipient:") {
		t.Fatalf("report %q", rep)
	}
}

func TestBatchReportPath(t *testing.T) {
	for in, want := range map[string]string{
		"/x/pay.csv":       "/x/pay.report.csv",
		"/x/pay":           "/x/pay.report.csv",
		"/x/.hidden":       "/x/.hidden.report.csv",
		"/x/a.b.CSV":       "/x/a.b.report.csv",
		"relative/one.csv": "relative/one.report.csv",
	} {
		if got := BatchReportPath(in); got != want {
			t.Errorf("BatchReportPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// ---- fuzz ----

func FuzzParseBatch(f *testing.F) {
	seeds := []string{
		"recipient,asset,amount,memo,key\n8dcf823d-9eb3-4da2-8734-f0aad50c0da6,USDT,10,hi,k1\n",
		"\ufeffRecipient,Asset,Amount\r\nalice,usdt,1.5\r\n",
		"recipient,asset,amount\n\"a,b\",USDT,1\n\"multi\nline\",BTC,2\n",
		"recipient,asset,amount\nab\"c,USDT,1\n",
		"recipient,asset,amount\n\"abc,USDT,1\n",
		"recipient,asset\nx,y\n",
		"recipient,asset,amount,amount\n",
		"recipient,asset,amount\n,,\n1,2\n1,2,3,4\n",
		"",
		"\n\n\n",
		"recipient,asset,amount,memo\nx,y,1," + strings.Repeat("é", 300) + "\n",
		"recipient,asset,amount,key\nx,y,1,\x00\nx,y,1,\xff\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	idPattern := regexp.MustCompile(`^b-[0-9a-f]{16}$`)
	f.Fuzz(func(t *testing.T, text string) {
		bf, err := ParseBatch(strings.NewReader(text), "fuzz.csv")
		if err != nil {
			var fe *BatchFileError
			if !errors.As(err, &fe) || bf != nil {
				t.Fatalf("ParseBatch = %v, %v", bf, err)
			}
			return
		}
		if !idPattern.MatchString(bf.ID) || len(bf.Rows) == 0 || len(bf.Rows) > MaxBatchRows {
			t.Fatalf("id %q, %d rows", bf.ID, len(bf.Rows))
		}
		keys := make([]string, len(bf.Rows))
		for i, r := range bf.Rows {
			if r.Key == "" || (i > 0 && r.Line <= bf.Rows[i-1].Line) || (!r.KeyGiven && r.Key != DefaultRowKey(r.Recipient, r.Asset, r.Amount, r.Memo)) {
				t.Fatalf("row %d: %+v", i, r)
			}
			keys[i] = r.Key
		}
		if BatchID(keys) != bf.ID {
			t.Fatal("the id is not the id of the keys")
		}
		// The checks that need no server, and the report, take any row.
		its := make([]BatchItem, len(bf.Rows))
		for i, r := range bf.Rows {
			its[i] = BatchItem{Row: r, Key: r.Key, State: ItemInvalid}
		}
		checkCells(its)
		if err := writeBatchReport(io.Discard, &Batch{ID: bf.ID, items: its}); err != nil {
			t.Fatal(err)
		}
		again, err := ParseBatch(strings.NewReader(strings.ReplaceAll(text, "\r\n", "\n")), "fuzz.csv")
		if err == nil && !strings.Contains(text, "\"") && again.ID != bf.ID {
			t.Fatalf("CRLF changed the id: %s / %s", bf.ID, again.ID)
		}
	})
}

func TestParseBatchFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pay.csv")
	if err := os.WriteFile(path, []byte("recipient,asset,amount\nalice,USDT,1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := ParseBatchFile(path)
	if err != nil || f.Name != path || len(f.Rows) != 1 {
		t.Fatalf("ParseBatchFile = %+v, %v", f, err)
	}
	if _, err := ParseBatchFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a folder: %v", err)
	}
	if _, err := ParseBatchFile(filepath.Join(dir, "none.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

func TestBatchPreparedTwiceRunOnce(t *testing.T) {
	r := newRig(t, 45)
	text := r.manyRows(6)
	b1, b2 := r.mustPrepare(text), r.mustPrepare(text)
	if _, err := r.runBatch(b1, r.pin, nil, nil); err != nil {
		t.Fatal(err)
	}
	posts := r.count.Posts()
	p, err := r.runBatch(b2, r.pin, nil, nil)
	if err != nil || p.Skipped != 6 || r.count.Posts() != posts {
		t.Fatalf("second review of the same file: %+v, %v, %d posts", p, err, r.count.Posts()-posts)
	}
	r.wantEachPaidOnce(b2, 0)
}
