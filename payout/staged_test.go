package payout

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mixdesk/journal"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout/rail"
)

// memStaged is the mem rail paying in two stages, as a rail.Resumer: it
// keeps "built" (what it would send), then "sent" just before it sends,
// and pays (the mem rail's Pay, under the key, so a repeat moves nothing)
// only then. Faults stop it after a stage.
type memStaged struct {
	*memRail

	// What the next PayKept does.
	failBuild  bool // nothing kept; an error marked ErrNotSent
	refuseNext bool // keeps built, then refused before sending
	loseBuilt  bool // keeps built, then an unknown error (nothing sent)
	dropSent   bool // keeps sent, then the request is lost unexecuted
	refuseSent bool // keeps sent, then a refusal of the request
	loseResume bool // every Resume fails at once with an unknown error

	payKept, resumes int
	resumedWith      [][]rail.Kept // the kept states each Resume was given
	unsettled        [][][]rail.Kept
}

const memRefused = 7003

func (m *memStaged) Pay(context.Context, rail.Payment, string) (*rail.Movement, error) {
	return nil, rail.Mark(errors.New("mem staged rail: pays only with a keeper"), rail.ErrNotSent)
}

func (m *memStaged) Sent(kept []rail.Kept) bool {
	return slices.ContainsFunc(kept, func(k rail.Kept) bool { return k.Stage == "sent" })
}

func (m *memStaged) PayKept(ctx context.Context, p rail.Payment, pin string, keep rail.Keeper) (*rail.Movement, error) {
	m.payKept++
	m.unsettled = append(m.unsettled, keep.Unsettled())
	if m.failBuild {
		m.failBuild = false
		return nil, rail.Mark(errors.New("mem staged rail: could not build"), rail.ErrNotSent)
	}
	if err := keep.Keep("built", []byte("build "+p.Key+" "+p.Amount)); err != nil {
		return nil, err
	}
	switch {
	case m.refuseNext:
		m.refuseNext = false
		return nil, m.refusal(memRefused, "refused before anything was sent")
	case m.loseBuilt:
		m.loseBuilt = false
		return nil, errLost
	}
	return m.send(ctx, p, keep)
}

func (m *memStaged) send(ctx context.Context, p rail.Payment, keep rail.Keeper) (*rail.Movement, error) {
	if err := keep.Keep("sent", []byte("send "+p.Key)); err != nil {
		return nil, err
	}
	switch {
	case m.dropSent:
		m.dropSent = false
		return nil, errLost
	case m.refuseSent:
		m.refuseSent = false
		return nil, m.refusal(memRefused, "this request was refused")
	}
	return m.memRail.Pay(ctx, p, "")
}

func (m *memStaged) Resume(ctx context.Context, p rail.Payment, kept []rail.Kept, pin string, keep rail.Keeper) (*rail.Movement, error) {
	m.resumes++
	m.resumedWith = append(m.resumedWith, kept)
	if m.loseResume {
		return nil, errLost
	}
	if !slices.ContainsFunc(kept, func(k rail.Kept) bool { return k.Stage == "built" }) {
		return nil, rail.Mark(errors.New("mem staged rail: nothing was built"), rail.ErrNotSent)
	}
	if m.Sent(kept) {
		return m.memRail.Pay(ctx, p, "")
	}
	return m.send(ctx, p, keep)
}

// stagedDesk is a desk on a mem staged rail with a settable clock and an
// 11-minute window; restart opens the journal again under a new desk.
type stagedDesk struct {
	t     *testing.T
	d     *Desk
	m     *memStaged
	clock *sandbox.Clock
	path  string
}

func newStagedDesk(t *testing.T) *stagedDesk {
	clock := sandbox.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	s := &stagedDesk{t: t, m: &memStaged{memRail: newMemRail(clock.Now)}, clock: clock, path: filepath.Join(t.TempDir(), "journal.jsonl")}
	s.restart()
	return s
}

func (s *stagedDesk) restart() {
	s.t.Helper()
	if s.d != nil {
		s.d.journal.Close()
	}
	j, rep, err := journal.Open(s.path, journal.WithClock(s.clock.Now))
	if err != nil || !rep.Intact() {
		s.t.Fatalf("open: %v %v", err, rep)
	}
	s.t.Cleanup(func() { j.Close() })
	d, err := NewDeskOn(s.m, j, Config{Self: fakeID(5, 1), PostWindow: DefaultPostWindow})
	if err != nil {
		s.t.Fatal(err)
	}
	d.now = s.clock.Now
	s.d = d
}

func (s *stagedDesk) review(i int, amount string) *Review {
	s.t.Helper()
	rv, err := s.d.Review(context.Background(), Draft{AssetID: usdtID, Recipient: s.m.users[i].UserID, Amount: amount}, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return rv
}

// stages returns the stages kept for trace, read from the file.
func (s *stagedDesk) stages(trace string) []string {
	s.t.Helper()
	rep, err := journal.VerifyFile(s.path)
	if err != nil || !rep.Intact() {
		s.t.Fatalf("verify: %v %v", err, rep)
	}
	var out []string
	for _, r := range rep.Records {
		if r.Trace() == trace {
			if r.Rail != nil {
				out = append(out, r.Rail.Stage)
			} else {
				out = append(out, string(r.Kind))
			}
		}
	}
	return out
}

// TestStagedRailKeepsItsStages: the desk pays a staged rail with PayKept,
// never Pay; every stage is in the journal, in order, before the rail went
// on, and the outcome after; the held states of the other payments in doubt
// are handed to the rail.
func TestStagedRailKeepsItsStages(t *testing.T) {
	s := newStagedDesk(t)
	ctx := context.Background()
	rv := s.review(0, "5")
	res, err := s.d.Send(ctx, rv, "")
	if err != nil || res.State != journal.StateDone || s.m.payKept != 1 || s.m.pays != 1 || s.m.debits() != 1 {
		t.Fatalf("Send = %+v, %v (PayKept %d, paid %d)", res, err, s.m.payKept, s.m.pays)
	}
	if got := s.stages(rv.TraceID); !slices.Equal(got, []string{"intent", "built", "sent", "done"}) {
		t.Fatalf("journal of the payout: %v", got)
	}
	if e, _ := s.d.journal.Lookup(rv.TraceID); len(e.Rail) != 0 {
		t.Fatalf("a settled entry keeps %d states in memory", len(e.Rail))
	}

	// A payout left in doubt with its build kept holds it: the next
	// payout's rail is told, also after a restart.
	lost := s.review(1, "2")
	s.m.loseBuilt = true
	if res, err := s.d.Send(ctx, lost, ""); err != nil || res.State != journal.StateInDoubt {
		t.Fatalf("lost = %+v, %v", res, err)
	}
	s.m.loseResume = true // settling it fails: it stays in doubt
	s.m.failBuild = true  // the next payout is not sent: its build fails
	if _, err := s.d.Send(ctx, s.review(2, "1"), ""); err != nil {
		t.Fatal(err)
	}
	s.restart()
	s.m.failBuild = true
	if _, err := s.d.Send(ctx, s.review(2, "1.5"), ""); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([][]rail.Kept{{{Stage: "built", Data: []byte("build " + lost.TraceID + " 2")}}})
	for i, u := range s.m.unsettled[2:] {
		if fmt.Sprint(u) != want {
			t.Fatalf("PayKept %d was told of %v, want %s", i+3, u, want)
		}
	}
	// Nothing of it had been sent: it was resumed at once each time, no
	// window waited out; once resuming works it is paid.
	if s.m.resumes != 2 {
		t.Fatalf("%d resumes", s.m.resumes)
	}
	s.m.loseResume = false
	if res, err := s.d.Settle(ctx, lost.TraceID, ""); err != nil || res.State != journal.StateDone || s.m.debits() != 2 {
		t.Fatalf("settled = %+v, %v", res, err)
	}
	if got := s.stages(lost.TraceID); !slices.Equal(got, []string{"intent", "built", "post", "post", "post", "sent", "done"}) {
		t.Fatalf("journal of the lost payout: %v", got)
	}
}

// TestStagedRailNotSentIsNotInFlight: a staged payment whose rail kept
// nothing that was sent is not in flight: no window, no other payment held
// back; after a restart it is resumed at once from its kept states, and a
// payment that kept nothing at all is closed as not sent.
func TestStagedRailNotSentIsNotInFlight(t *testing.T) {
	s := newStagedDesk(t)
	ctx := context.Background()
	built := s.review(0, "4")
	s.m.loseBuilt = true
	res, err := s.d.Send(ctx, built, "")
	if err != nil || res.State != journal.StateInDoubt || !res.Until.IsZero() {
		t.Fatalf("lost after the build = %+v, %v; want in doubt, not in flight", res, err)
	}
	if err := s.d.pinGate(); err != nil {
		t.Fatalf("a payment that sent nothing holds the others back: %v", err)
	}

	// Killed after the intent: nothing kept.
	crashOnce(t)
	bare := s.review(1, "3")
	if res, _ := s.d.Send(ctx, bare, ""); res.State != journal.StateInDoubt {
		t.Fatalf("crash after the intent = %+v", res)
	}
	s.restart()
	out, err := s.d.Recover(ctx, "")
	if err != nil || len(out) != 2 {
		t.Fatalf("Recover = %+v, %v", out, err)
	}
	if out[0].State != journal.StateDone || !out[0].Reposted || s.m.resumes < 1 || s.m.payKept != 1 {
		t.Fatalf("the built payout = %+v (%d resumes, %d PayKept)", out[0], s.m.resumes, s.m.payKept)
	}
	if got := fmt.Sprint(s.m.resumedWith[0]); got != fmt.Sprint([]rail.Kept{{Stage: "built", Data: []byte("build " + built.TraceID + " 4")}}) {
		t.Fatalf("resumed with %s", got)
	}
	var np *NotPostedError
	if out[1].State != journal.StateFailed || !errors.As(out[1].Err, &np) || !errors.Is(out[1].Err, rail.ErrNotSent) {
		t.Fatalf("the bare intent = %+v; want failed, not sent", out[1])
	}
	if e, _ := s.d.journal.Lookup(bare.TraceID); e.Failed.Code != CodeNotPosted || !strings.Contains(e.Failed.Description, "nothing was built") {
		t.Fatalf("recorded %+v", e.Failed)
	}
	if s.m.debits() != 1 {
		t.Fatalf("%d debits", s.m.debits())
	}

	// An error marked ErrNotSent from PayKept closes the payout at once.
	s.m.failBuild = true
	nb := s.review(2, "1")
	if res, err := s.d.Send(ctx, nb, ""); err != nil || res.State != journal.StateFailed || !errors.As(res.Err, &np) {
		t.Fatalf("build failed = %+v, %v", res, err)
	}
	// A refusal before anything was sent is recorded as the rail's.
	s.m.refuseNext = true
	rf := s.review(2, "1.25")
	if res, err := s.d.Send(ctx, rf, ""); err != nil || res.State != journal.StateFailed || !rail.IsRefused(res.Err) {
		t.Fatalf("refused before sending = %+v, %v", res, err)
	}
	if e, _ := s.d.journal.Lookup(rf.TraceID); e.Failed.Code != memRefused {
		t.Fatalf("recorded %+v", e.Failed)
	}
}

// TestStagedRailSentKeepsTheRules: once a request that can execute a
// staged payment may have left, the payment is in flight: looked up only
// inside its window (no other payment goes out), resumed from its kept
// states after it (never paid afresh), and a refusal never fails it.
func TestStagedRailSentKeepsTheRules(t *testing.T) {
	s := newStagedDesk(t)
	ctx := context.Background()
	rv := s.review(0, "6")
	s.m.dropSent = true
	res, err := s.d.Send(ctx, rv, "")
	if err != nil || res.State != journal.StateInDoubt || res.Until.IsZero() {
		t.Fatalf("dropped after sending = %+v, %v", res, err)
	}
	if _, err := s.d.Send(ctx, s.review(1, "1"), ""); !IsPostPending(err) {
		t.Fatalf("a new payout while one may be in flight = %v", err)
	}
	s.restart()
	res, err = s.d.Settle(ctx, rv.TraceID, "")
	var pe *PostPendingError
	if err != nil || !errors.As(res.Err, &pe) || !pe.Own || s.m.resumes != 0 {
		t.Fatalf("settled inside the window = %+v, %v (%d resumes)", res, err, s.m.resumes)
	}
	s.clock.Advance(DefaultPostWindow + time.Second)
	res, err = s.d.Settle(ctx, rv.TraceID, "")
	if err != nil || res.State != journal.StateDone || s.m.resumes != 1 || s.m.payKept != 1 || s.m.debits() != 1 {
		t.Fatalf("settled after the window = %+v, %v (%d resumes, %d PayKept)", res, err, s.m.resumes, s.m.payKept)
	}
	if n := len(s.m.resumedWith[0]); n != 2 || s.m.resumedWith[0][1].Stage != "sent" {
		t.Fatalf("resumed with %v", s.m.resumedWith[0])
	}

	// A refusal once sent leaves the payout in doubt, in flight.
	rf := s.review(1, "2")
	s.m.refuseSent = true
	res, err = s.d.Send(ctx, rf, "")
	if err != nil || res.State != journal.StateInDoubt || !rail.IsRefused(res.Err) || res.Until.IsZero() {
		t.Fatalf("refused once sent = %+v, %v; want in doubt", res, err)
	}
	s.clock.Advance(DefaultPostWindow + time.Second)
	res, err = s.d.Settle(ctx, rf.TraceID, "")
	if err != nil || res.State != journal.StateDone || s.m.debits() != 2 {
		t.Fatalf("settled = %+v, %v", res, err)
	}
	// The window of a staged payment starts at its last kept state.
	e := s.d.journal.Entries()[0]
	if lp := lastPost(e); lp != e.LastPost {
		t.Fatalf("a settled entry's last post moved: %v", lp)
	}
	late := journal.Entry{LastPost: s.clock.Now(), Rail: []journal.RailState{{Stage: "sent", Time: s.clock.Now().Add(time.Minute)}}}
	if lastPost(late) != late.Rail[0].Time {
		t.Fatalf("last post %v, want the kept state's %v", lastPost(late), late.Rail[0].Time)
	}
}
