package payout

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout/rail"
)

// memRail is a second rail, in memory, that pays without a PIN (its secret
// would be in the session): what the desk needs of a rail, and nothing of
// the legacy API. Its codes are its own.
type memRail struct {
	now func() time.Time

	mu      sync.Mutex
	users   []rail.User
	assets  map[string]rail.Asset
	balance map[string]decimal.Decimal
	paid    map[string]rail.Movement // by key
	moves   []rail.Movement          // newest last
	pays    int                      // Pay calls
	// loseNext executes the next payment and loses its answer; dropNext
	// loses the next payment before it executes. Both answer errLost.
	loseNext, dropNext bool
}

var errLost = errors.New("mem rail: the answer was lost")

// The mem rail's refusal codes.
const (
	memInsufficient = 7001
	memKeyUsed      = 7002
)

func newMemRail(now func() time.Time) *memRail {
	m := &memRail{now: now, assets: map[string]rail.Asset{}, balance: map[string]decimal.Decimal{}, paid: map[string]rail.Movement{}}
	for i := range 3 {
		m.users = append(m.users, rail.User{UserID: fakeID(3, i), IdentityNumber: fmt.Sprint(7000 + i), FullName: fmt.Sprintf("Person %d", i)})
	}
	m.assets[usdtID] = rail.Asset{AssetID: usdtID, Symbol: "USDT", Name: "Tether USD", PriceUSD: "1"}
	m.balance[usdtID] = decimal.RequireFromString("100")
	return m
}

func (m *memRail) User(_ context.Context, id string) (*rail.User, error) {
	for _, u := range m.users {
		if u.UserID == id {
			return &u, nil
		}
	}
	return nil, rail.Mark(errors.New("mem rail: no such user"), rail.ErrNotFound)
}

func (m *memRail) UserByMixinID(_ context.Context, n string) (*rail.User, error) {
	for _, u := range m.users {
		if u.IdentityNumber == n {
			return &u, nil
		}
	}
	return nil, rail.Mark(errors.New("mem rail: no such user"), rail.ErrNotFound)
}

func (m *memRail) Asset(_ context.Context, id string) (*rail.Asset, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.assets[id]
	if !ok {
		return nil, rail.Mark(errors.New("mem rail: no such asset"), rail.ErrNotFound)
	}
	a.Balance = m.balance[id].String()
	return &a, nil
}

func (m *memRail) NeedsPIN() bool        { return false }
func (m *memRail) CheckPIN(string) error { return nil }

func (m *memRail) Validate(p rail.Payment) (rail.Payment, error) {
	if p.Key == "" || p.AssetID == "" || p.RecipientID == "" {
		return p, errors.New("mem rail: incomplete payment")
	}
	return p, nil
}

func (m *memRail) Pay(_ context.Context, p rail.Payment, pin string) (*rail.Movement, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pays++
	if pin != "" {
		return nil, errors.New("mem rail: a PIN was sent to a rail that has none")
	}
	if m.dropNext {
		m.dropNext = false
		return nil, errLost
	}
	if old, ok := m.paid[p.Key]; ok {
		if old.AssetID == p.AssetID && old.OpponentID == p.RecipientID && old.Amount == "-"+p.Amount && old.Memo == p.Memo {
			return &old, nil
		}
		return nil, m.refusal(memKeyUsed, "key used with other content")
	}
	amount := decimal.RequireFromString(p.Amount)
	if amount.GreaterThan(m.balance[p.AssetID]) {
		return nil, m.refusal(memInsufficient, "not enough")
	}
	open := m.balance[p.AssetID]
	m.balance[p.AssetID] = open.Sub(amount)
	mv := rail.Movement{SnapshotID: fakeID(9, len(m.moves)), Key: p.Key, AssetID: p.AssetID, OpponentID: p.RecipientID,
		Amount: "-" + p.Amount, Memo: p.Memo, CreatedAt: m.now(), OpeningBalance: open.String(), ClosingBalance: m.balance[p.AssetID].String()}
	m.paid[p.Key] = mv
	m.moves = append(m.moves, mv)
	if m.loseNext {
		m.loseNext = false
		return nil, errLost
	}
	return &mv, nil
}

func (m *memRail) PaymentByKey(_ context.Context, key string) (*rail.Movement, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mv, ok := m.paid[key]; ok {
		return &mv, nil
	}
	return nil, rail.Mark(errors.New("mem rail: no payment under this key"), rail.ErrNotFound)
}

func (m *memRail) Movements(_ context.Context, q rail.Query) ([]rail.Movement, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []rail.Movement
	for _, mv := range slices.Backward(m.moves) {
		if (q.Before.IsZero() || !mv.CreatedAt.After(q.Before)) && (q.Opponent == "" || q.Opponent == mv.OpponentID) {
			out = append(out, mv)
		}
	}
	return out, nil
}

func (m *memRail) refusal(code int, desc string) *rail.RefusedError {
	r := rail.Other
	switch code {
	case memInsufficient:
		r = rail.Insufficient
	case memKeyUsed:
		r = rail.KeyUsed
	}
	return &rail.RefusedError{Reason: r, Code: code, Description: desc}
}

func (m *memRail) Refusal(code int, desc string) *rail.RefusedError { return m.refusal(code, desc) }
func (m *memRail) KeyTaken(desc string) *rail.RefusedError          { return m.refusal(memKeyUsed, desc) }

func (m *memRail) debits() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.moves)
}

// memDesk is a desk on a mem rail, with a settable clock and an 11-minute
// post window.
func memDesk(t *testing.T) (*Desk, *memRail, *sandbox.Clock) {
	t.Helper()
	clock := sandbox.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	m := newMemRail(clock.Now)
	j, _, err := journal.Open(filepath.Join(t.TempDir(), "journal.jsonl"), journal.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	d, err := NewDeskOn(m, j, Config{Self: fakeID(5, 1), PostWindow: DefaultPostWindow})
	if err != nil {
		t.Fatal(err)
	}
	d.now = clock.Now
	return d, m, clock
}

// TestDeskOnARailWithoutPIN: a rail that needs no PIN is reviewed, paid and
// settled by key with no PIN at all; paying the same review twice moves
// money once.
func TestDeskOnARailWithoutPIN(t *testing.T) {
	d, m, _ := memDesk(t)
	ctx := context.Background()
	if d.NeedsPIN() {
		t.Fatal("the desk says the mem rail needs a PIN")
	}
	if err := d.VerifyPIN(ctx, ""); !errors.Is(err, ErrNoPINCheck) {
		t.Fatalf("VerifyPIN on a rail without a PIN check = %v", err)
	}
	rv, err := d.Review(ctx, Draft{AssetID: usdtID, Recipient: "7001", Amount: "12.50", Memo: "invoice"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rv.Recipient.UserID != m.users[1].UserID || rv.Recipient.FullName != "Person 1" || !rv.BalanceAfter.Equal(decimal.RequireFromString("87.5")) {
		t.Fatalf("review = %+v", rv)
	}
	res, err := d.Send(ctx, rv, "")
	if err != nil || res.State != journal.StateDone || res.Snap == nil || res.Snap.ClosingBalance != "87.5" {
		t.Fatalf("Send without a PIN = %+v, %v", res, err)
	}
	again, err := d.Send(ctx, rv, "")
	if err != nil || !again.Already || again.State != journal.StateDone || m.debits() != 1 {
		t.Fatalf("Send again = %+v, %v; %d debits", again, err, m.debits())
	}

	// The duplicate warning reads the rail's movements.
	rv2, err := d.Review(ctx, Draft{AssetID: usdtID, Recipient: m.users[1].UserID, Amount: "12.5"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hasWarning(rv2, WarnDuplicate) || hasWarning(rv2, WarnFirstTime) {
		t.Fatalf("second review's warnings = %+v", rv2.Warnings)
	}

	// A refusal is recorded with the rail's code, and read back as the
	// rail's refusal.
	big, err := d.Review(ctx, Draft{AssetID: usdtID, Recipient: m.users[0].UserID, Amount: "80"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	m.balance[usdtID] = decimal.RequireFromString("1")
	m.mu.Unlock()
	res, err = d.Send(ctx, big, "")
	if err != nil || res.State != journal.StateFailed || !rail.IsInsufficient(res.Err) {
		t.Fatalf("Send over the balance = %+v, %v", res, err)
	}
	if e, _ := d.journal.Lookup(big.TraceID); e.Failed.Code != memInsufficient {
		t.Fatalf("recorded code %d, want the rail's %d", e.Failed.Code, memInsufficient)
	}
	res, err = d.Send(ctx, big, "")
	if err != nil || !res.Already || !rail.IsInsufficient(res.Err) {
		t.Fatalf("the recorded refusal = %+v, %v; want the rail's insufficient refusal", res, err)
	}
}

// TestRailWithoutPINKeepsTheRulesInFlight: on a rail without a PIN, a post
// whose answer was lost is only looked up inside its window, no other
// payment goes out meanwhile, and after the window it is found (executed)
// or posted again with its key and no PIN (not executed).
func TestRailWithoutPINKeepsTheRulesInFlight(t *testing.T) {
	d, m, clock := memDesk(t)
	ctx := context.Background()
	draft := func(i int, amount string) *Review {
		t.Helper()
		rv, err := d.Review(ctx, Draft{AssetID: usdtID, Recipient: m.users[i].UserID, Amount: amount}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return rv
	}

	// Executed, answer lost.
	lost := draft(0, "5")
	m.loseNext = true
	res, err := d.Send(ctx, lost, "")
	if err != nil || res.State != journal.StateInDoubt || !errors.Is(res.Err, errLost) || res.Until.IsZero() {
		t.Fatalf("lost answer = %+v, %v", res, err)
	}
	other := draft(1, "1")
	if _, err := d.Send(ctx, other, ""); !IsPostPending(err) || strings.Contains(err.Error(), "PIN") {
		t.Fatalf("a new payout while a post may be in flight = %v; want it refused, without a word of a PIN", err)
	}
	if _, ok := d.journal.Lookup(other.TraceID); ok {
		t.Fatal("the refused payout was recorded")
	}
	clock.Advance(DefaultPostWindow + time.Second)
	res, err = d.Settle(ctx, lost.TraceID, "")
	if err != nil || res.State != journal.StateDone || res.Reposted || m.debits() != 1 {
		t.Fatalf("settled after the window = %+v, %v; %d debits", res, err, m.debits())
	}

	// Lost before it executed: in doubt, looked up only inside the window,
	// posted again with its key and no PIN after it.
	dropped := draft(2, "3")
	m.dropNext = true
	res, err = d.Send(ctx, dropped, "")
	if err != nil || res.State != journal.StateInDoubt {
		t.Fatalf("dropped = %+v, %v", res, err)
	}
	pays := m.pays
	res, err = d.Settle(ctx, dropped.TraceID, "")
	var pe *PostPendingError
	if err != nil || res.State != journal.StateInDoubt || !errors.As(res.Err, &pe) || !pe.Own || m.pays != pays {
		t.Fatalf("settled inside the window = %+v, %v; want a look-up only", res, err)
	}
	clock.Advance(DefaultPostWindow + time.Second)
	res, err = d.Settle(ctx, dropped.TraceID, "")
	if err != nil || res.State != journal.StateDone || !res.Reposted || errors.Is(res.Err, ErrNeedPIN) || m.debits() != 2 {
		t.Fatalf("settled after the window = %+v, %v; %d debits", res, err, m.debits())
	}
	if mv, _ := m.PaymentByKey(ctx, dropped.TraceID); mv == nil || mv.Amount != "-3" {
		t.Fatalf("the re-post paid %+v", mv)
	}
}
