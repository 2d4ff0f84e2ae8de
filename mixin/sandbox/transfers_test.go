package sandbox

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/mixin"
)

func TestTransfer(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyRSA, "100")
	b := e.newActor("Payee", mixin.KeyEd25519, "1")
	e.clock.Advance(time.Second)
	at := t0.Add(time.Second)
	in := mixin.TransferInput{AssetID: e.asset, OpponentID: b.user.UserID, Amount: "10.50", TraceID: uuid.NewString(), Memo: "invoice 7 ✓"}
	snap := decode[mixin.Snapshot](t, a.transfer(in))
	want := mixin.Snapshot{
		Type: "transfer", SnapshotID: snap.SnapshotID, TraceID: in.TraceID, AssetID: e.asset,
		OpponentID: b.user.UserID, Amount: "-10.5", OpeningBalance: "100", ClosingBalance: "89.5",
		Memo: in.Memo, CreatedAt: at,
	}
	if snap != want {
		t.Fatalf("snapshot\n got %+v\nwant %+v", snap, want)
	}
	if snap.CreatedAt.Location() != time.UTC {
		t.Errorf("created_at not UTC")
	}
	if a.balance() != "89.5" || b.balance() != "11.5" {
		t.Fatalf("balances %s / %s", a.balance(), b.balance())
	}
	led := e.srv.Ledger()
	if len(led) != 1 || led[0] != (Entry{SnapshotID: snap.SnapshotID, TraceID: in.TraceID, AssetID: e.asset,
		From: a.user.UserID, To: b.user.UserID, Amount: "10.5", Memo: in.Memo, CreatedAt: at}) {
		t.Fatalf("ledger %+v", led)
	}
	// The JSON amount is a canonical string and created_at carries nanoseconds.
	r := a.pay(b, "0.00000001")
	var raw map[string]any
	if err := json.Unmarshal(r.data, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["amount"] != "-0.00000001" || raw["created_at"] != "2025-03-01T12:00:01.000000001Z" {
		t.Fatalf("raw snapshot %v", raw)
	}
}

func TestTransferCounterUserIDAlias(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "5")
	b := e.newActor("Payee", mixin.KeyEd25519, "")
	body := func(fields map[string]string) []byte {
		fields["asset_id"], fields["amount"], fields["trace_id"], fields["pin"] = e.asset, "1", uuid.NewString(), a.pin()
		out, _ := json.Marshal(fields)
		return out
	}
	decode[mixin.Snapshot](t, a.do(http.MethodPost, "/transfers", body(map[string]string{"counter_user_id": b.user.UserID})))
	decode[mixin.Snapshot](t, a.do(http.MethodPost, "/transfers", body(map[string]string{"counter_user_id": b.user.UserID, "opponent_id": b.user.UserID})))
	wantField(t, a.do(http.MethodPost, "/transfers", body(map[string]string{"counter_user_id": a.user.UserID, "opponent_id": b.user.UserID})), "opponent_id")
	// JSON keys match case-insensitively, as the real service's do.
	in := body(map[string]string{"opponent_id": b.user.UserID})
	in = []byte(strings.Replace(string(in), `"pin"`, `"Pin"`, 1))
	decode[mixin.Snapshot](t, a.do(http.MethodPost, "/transfers", in))
	if b.balance() != "3" {
		t.Fatalf("payee balance %s", b.balance())
	}
}

func TestTransferInvalidFields(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "100")
	b := e.newActor("Payee", mixin.KeyEd25519, "")
	good := func() map[string]any {
		return map[string]any{
			"asset_id": e.asset, "opponent_id": b.user.UserID, "amount": "1",
			"trace_id": uuid.NewString(), "memo": "ok",
		}
	}
	cases := []struct {
		name  string
		key   string
		value any // nil deletes the key
		field string
	}{
		{"asset missing", "asset_id", nil, "asset_id"},
		{"asset not a UUID", "asset_id", "btc", "asset_id"},
		{"asset unknown", "asset_id", uuid.NewString(), "asset_id"},
		{"asset UUID without dashes", "asset_id", strings.ReplaceAll(e.asset, "-", ""), "asset_id"},
		{"asset a number", "asset_id", 7, "asset_id"},
		{"opponent missing", "opponent_id", nil, "opponent_id"},
		{"opponent unknown", "opponent_id", uuid.NewString(), "opponent_id"},
		{"opponent not a UUID", "opponent_id", "37160854", "opponent_id"},
		{"self transfer", "opponent_id", a.user.UserID, "opponent_id"},
		{"self transfer upper-case", "opponent_id", strings.ToUpper(a.user.UserID), "opponent_id"},
		{"amount missing", "amount", nil, "amount"},
		{"amount zero", "amount", "0", "amount"},
		{"amount zero decimals", "amount", "0.00000000", "amount"},
		{"amount negative", "amount", "-1", "amount"},
		{"amount plus sign", "amount", "+1", "amount"},
		{"amount exponent", "amount", "1e3", "amount"},
		{"amount leading space", "amount", " 1", "amount"},
		{"amount trailing space", "amount", "1 ", "amount"},
		{"amount inner space", "amount", "1 000", "amount"},
		{"amount nine decimals", "amount", "1.123456789", "amount"},
		{"amount below 1e-8", "amount", "0.000000001", "amount"},
		{"amount comma", "amount", "1,5", "amount"},
		{"amount bare point", "amount", ".5", "amount"},
		{"amount trailing point", "amount", "5.", "amount"},
		{"amount words", "amount", "ten", "amount"},
		{"amount hex", "amount", "0x10", "amount"},
		{"amount a JSON number", "amount", 1.5, "amount"},
		{"amount huge", "amount", strings.Repeat("9", 41), "amount"},
		{"amount Infinity", "amount", "Infinity", "amount"},
		{"trace missing", "trace_id", nil, "trace_id"},
		{"trace not a UUID", "trace_id", "my-trace", "trace_id"},
		{"memo 141 runes", "memo", strings.Repeat("é", 141), "memo"},
		{"memo a number", "memo", 5, "memo"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := good()
			if c.value == nil {
				delete(body, c.key)
			} else {
				body[c.key] = c.value
			}
			body["pin"] = a.pin()
			raw, _ := json.Marshal(body)
			wantField(t, a.do(http.MethodPost, "/transfers", raw), c.field)
		})
	}
	// Fields are checked before the PIN: a bad field with a wrong PIN is 10002.
	body := good()
	body["amount"], body["pin"] = "-1", "garbage"
	raw, _ := json.Marshal(body)
	wantField(t, a.do(http.MethodPost, "/transfers", raw), "amount")
	if a.balance() != "100" || len(e.srv.Ledger()) != 0 {
		t.Fatal("a refused transfer moved money")
	}
	// Limits that are fine.
	for _, in := range []mixin.TransferInput{
		{Amount: "0.00000001", Memo: strings.Repeat("é", 140)},
		{Amount: "007.10000000"},
		{Amount: "1"},
	} {
		in.AssetID, in.OpponentID, in.TraceID = strings.ToUpper(e.asset), strings.ToUpper(b.user.UserID), strings.ToUpper(uuid.NewString())
		s := decode[mixin.Snapshot](t, a.transfer(in))
		if s.TraceID != strings.ToLower(in.TraceID) || s.AssetID != e.asset || s.OpponentID != b.user.UserID {
			t.Errorf("ids not canonical: %+v", s)
		}
	}
	if b.balance() != "8.10000001" {
		t.Fatalf("payee balance %s", b.balance())
	}
}

func TestTransferPINErrors(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "100")
	b := e.newActor("Payee", mixin.KeyEd25519, "")
	in := mixin.TransferInput{AssetID: e.asset, OpponentID: b.user.UserID, Amount: "1", TraceID: uuid.NewString()}
	r := a.do(http.MethodPost, "/transfers", transferJSON(in, a.creds.PIN))
	wantError(t, r, mixin.CodePINFormat, "plaintext")
	if strings.Contains(string(r.raw), a.creds.PIN) {
		t.Fatal("the answer echoes the PIN")
	}
	wantError(t, a.do(http.MethodPost, "/transfers", transferJSON(in, "")), mixin.CodePINFormat, "")
	pin := a.pin()
	decode[mixin.Snapshot](t, a.do(http.MethodPost, "/transfers", transferJSON(in, pin)))
	// The same encrypted PIN cannot pay again, not even an idempotent re-post.
	wantError(t, a.do(http.MethodPost, "/transfers", transferJSON(in, pin)), mixin.CodePINIncorrect, "iterator")
	// A wrong PIN comes before the balance check.
	wantError(t, a.do(http.MethodPost, "/transfers", transferJSON(mixin.TransferInput{
		AssetID: e.asset, OpponentID: b.user.UserID, Amount: "1000", TraceID: uuid.NewString(),
	}, pin)), mixin.CodePINIncorrect, "")
	if len(e.srv.Ledger()) != 1 {
		t.Fatal("ledger changed")
	}
}

func TestInsufficientBalance(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "10")
	b := e.newActor("Payee", mixin.KeyEd25519, "")
	wantError(t, a.pay(b, "10.00000001"), mixin.CodeInsufficientBalance, "")
	// Another asset with no balance at all.
	other, err := e.srv.AddAsset(mixin.Asset{Symbol: "DOGE", Name: "Dogecoin", PriceUSD: "0.1"})
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, a.transfer(mixin.TransferInput{AssetID: other.AssetID, OpponentID: b.user.UserID, Amount: "1", TraceID: uuid.NewString()}), mixin.CodeInsufficientBalance, "")
	decode[mixin.Snapshot](t, a.pay(b, "10"))
	if a.balance() != "0" || b.balance() != "10" {
		t.Fatalf("balances %s / %s", a.balance(), b.balance())
	}
	wantError(t, a.pay(b, "0.00000001"), mixin.CodeInsufficientBalance, "")
}

func TestTraceIdempotency(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "100")
	b := e.newActor("Payee", mixin.KeyEd25519, "")
	c := e.newActor("Third", mixin.KeyEd25519, "100")
	in := mixin.TransferInput{AssetID: e.asset, OpponentID: b.user.UserID, Amount: "60", TraceID: uuid.NewString(), Memo: "rent"}
	first := decode[mixin.Snapshot](t, a.transfer(in))

	e.clock.Advance(time.Minute)
	again := in
	again.Amount = "60.000"
	for range 3 {
		// Identical (amount compared as a value): the original snapshot,
		// no money moves, although the balance would no longer cover it.
		if got := decode[mixin.Snapshot](t, a.transfer(again)); got != first {
			t.Fatalf("re-post answered\n%+v\nnot the original\n%+v", got, first)
		}
	}
	if a.balance() != "40" || b.balance() != "60" || len(e.srv.Ledger()) != 1 {
		t.Fatalf("re-posts moved money: %s / %s, %d entries", a.balance(), b.balance(), len(e.srv.Ledger()))
	}
	// Any difference is 20125, checked after the PIN and before the balance.
	for name, mod := range map[string]func(*mixin.TransferInput){
		"amount":   func(in *mixin.TransferInput) { in.Amount = "1" },
		"memo":     func(in *mixin.TransferInput) { in.Memo = "rent!" },
		"no memo":  func(in *mixin.TransferInput) { in.Memo = "" },
		"opponent": func(in *mixin.TransferInput) { in.OpponentID = c.user.UserID },
	} {
		t.Run(name, func(t *testing.T) {
			changed := in
			mod(&changed)
			wantError(t, a.with(t).transfer(changed), mixin.CodeTraceUsed, "")
		})
	}
	other, err := e.srv.AddAsset(mixin.Asset{Symbol: "DOGE", Name: "Dogecoin"})
	if err != nil {
		t.Fatal(err)
	}
	changed := in
	changed.AssetID = other.AssetID
	wantError(t, a.transfer(changed), mixin.CodeTraceUsed, "")
	// Someone else with the same trace and the same fields.
	wantError(t, c.transfer(in), mixin.CodeTraceUsed, "")
	// A wrong PIN still wins over the trace check.
	wantError(t, a.do(http.MethodPost, "/transfers", transferJSON(in, "123456")), mixin.CodePINFormat, "")
	if len(e.srv.Ledger()) != 1 || a.balance() != "40" || c.balance() != "100" {
		t.Fatal("a used trace moved money")
	}
}

func TestCreatedAtStrictlyIncreases(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "100")
	b := e.newActor("Payee", mixin.KeyEd25519, "")
	var last time.Time
	for i := range 6 {
		if i == 3 {
			e.clock.Advance(-time.Hour) // a clock stepping back
		}
		s := decode[mixin.Snapshot](t, a.pay(b, "1"))
		if !s.CreatedAt.After(last) {
			t.Fatalf("created_at %v not after %v", s.CreatedAt, last)
		}
		last = s.CreatedAt
	}
}

func TestServerTransfer(t *testing.T) {
	e := newEnv(t)
	payer := e.srv.AddUser("Walk-in Customer")
	if err := e.srv.Credit(payer.UserID, e.asset, "5"); err != nil {
		t.Fatal(err)
	}
	desk := e.newActor("Desk", mixin.KeyEd25519, "")
	in := mixin.TransferInput{AssetID: e.asset, OpponentID: desk.user.UserID, Amount: "2.5", TraceID: uuid.NewString(), Memo: "order 12"}
	snap, err := e.srv.Transfer(payer.UserID, in)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Amount != "-2.5" || snap.OpponentID != desk.user.UserID {
		t.Fatalf("payer view %+v", snap)
	}
	// The desk, polling the trace as for a payment link, sees it positive.
	got := decode[mixin.Snapshot](t, desk.get("/transfers/trace/"+in.TraceID))
	if got.Amount != "2.5" || got.OpponentID != payer.UserID || got.SnapshotID != snap.SnapshotID {
		t.Fatalf("payee view %+v", got)
	}
	if again, err := e.srv.Transfer(payer.UserID, in); err != nil || again != snap {
		t.Fatalf("idempotent Transfer = %+v, %v", again, err)
	}
	var me *mixin.Error
	in.TraceID = uuid.NewString()
	in.Amount = "3"
	if _, err := e.srv.Transfer(payer.UserID, in); !errors.As(err, &me) || me.Code != mixin.CodeInsufficientBalance {
		t.Fatalf("over balance: %v", err)
	}
	if _, err := e.srv.Transfer(uuid.NewString(), in); err != ErrUnknownUser {
		t.Fatalf("unknown payer: %v", err)
	}
}
