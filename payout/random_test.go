package payout

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/journal"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
)

// TestRandomFaultsAndCrashes sends many payouts through a sandbox that fails
// at random (a 5xx before anything is done, a commit whose answer is lost, a
// stall past the client's timeout, 429, and a post held past the client's
// timeout and executed later, followed by a 429 on the next post), with the
// process "killed" at random between intent and post and while settling,
// and the console restarted, and some reviews sent twice. A send refused
// because a post may still arrive is tried again after that time, as an
// operator would. After a final recovery the server's ledger must hold
// exactly one debit for every payout the journal calls done, none for any
// other (no payout recorded failed was executed), nothing the journal does
// not know, every review in the journal, balances that add up, and no PIN
// try counted at the server (the PIN is never typed wrong here).
//
// MIXDESK_RANDOM_SEED=n replays a run; -short sends 80 payouts instead of 250.
func TestRandomFaultsAndCrashes(t *testing.T) {
	n := 250
	if testing.Short() {
		n = 80
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("MIXDESK_RANDOM_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("MIXDESK_RANDOM_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with MIXDESK_RANDOM_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6d69786465736b))
	start := time.Now()

	const timeout, window = 100 * time.Millisecond, 400 * time.Millisecond
	r := newRig(t, seed%1_000_000_007+1, withTimeout(timeout), withPostWindow(window))
	ctx := context.Background()
	crash, crashSettling := false, false
	setAfterIntent(t, func() error {
		if crash {
			crash = false
			return errCrash
		}
		return nil
	})
	old := testHookBeforeRepost
	testHookBeforeRepost = func() error {
		if crashSettling {
			crashSettling = false
			return errCrash
		}
		return nil
	}
	t.Cleanup(func() { testHookBeforeRepost = old })

	type stat struct{ faults, held, waited, crashes, restarts, resends, refused, done, failed, inDoubt int }
	var st stat
	wasRecorded := map[string]bool{}
	memos := []string{"", "payroll", "refund #12", "vendor: ACME", "bonus ✓"}
	var reviews []*Review
	for i := 0; i < n; i++ {
		var rv *Review
		if len(reviews) > 0 && rng.IntN(20) == 0 {
			rv = reviews[rng.IntN(len(reviews))]
			st.resends++
		} else {
			amount := fmt.Sprintf("%d.%02d", rng.IntN(20), 1+rng.IntN(99))
			rv = r.review(r.draft(rng.IntN(len(r.users)), amount, memos[rng.IntN(len(memos))]), nil)
			reviews = append(reviews, rv)
		}

		post, trace := "/transfers", "/transfers/trace/"
		switch k := rng.IntN(100); {
		case k < 8:
			r.srv.InjectFault("POST", post, sandbox.Fault{Kind: sandbox.FaultServerError, Status: 500 + rng.IntN(4)})
		case k < 16:
			r.srv.InjectFault("POST", post, sandbox.Fault{Kind: sandbox.FaultCommitThenDrop})
		case k < 20:
			r.srv.InjectFault("POST", post, sandbox.Fault{Kind: sandbox.FaultDelay, Delay: 3 * time.Second})
		case k < 24:
			r.srv.InjectFault("POST", post, sandbox.Fault{Kind: sandbox.FaultTooManyRequests})
		case k < 28:
			r.srv.InjectFault("GET", trace, sandbox.Fault{Kind: sandbox.FaultServerError, Times: 1 + rng.IntN(4)})
		case k < 30:
			r.srv.InjectFault("GET", trace, sandbox.Fault{Kind: sandbox.FaultTooManyRequests, Times: 1 + rng.IntN(4)})
		case k < 32:
			r.srv.InjectFault("GET", trace, sandbox.Fault{Kind: sandbox.FaultDelay, Delay: time.Second})
		case k < 38:
			// Held past the timeout and executed later; the next post
			// (a settling re-post, or the next payout) is refused.
			hold := timeout + time.Duration(10+rng.IntN(90))*time.Millisecond
			r.srv.InjectFault("POST", post, sandbox.Fault{Kind: sandbox.FaultHold, Delay: hold})
			r.srv.InjectFault("POST", post, sandbox.Fault{Kind: sandbox.FaultTooManyRequests})
			st.held++
		default:
			st.faults--
		}
		st.faults++
		crash = rng.IntN(100) < 7
		crashSettling = rng.IntN(100) < 5

		res, err := r.desk.Send(ctx, rv, r.pin)
		crash = false
		for try := 0; err != nil && IsPostPending(err) && try < 5; try++ {
			// A post may still arrive: nothing was recorded; the operator
			// waits and confirms again.
			if _, ok := r.j.Lookup(rv.TraceID); ok && !wasRecorded[rv.TraceID] {
				t.Fatalf("payout %d: refused with %v, yet recorded", i, err)
			}
			st.waited++
			var pe *PostPendingError
			errors.As(err, &pe)
			time.Sleep(time.Until(pe.Until))
			res, err = r.desk.Send(ctx, rv, r.pin)
		}
		for try := 0; err != nil && mixin.IsTooManyRequests(err) && try < 5; try++ {
			// A 429 met while settling an earlier payout stops the send
			// before this one is recorded; the operator tries again.
			if _, ok := r.j.Lookup(rv.TraceID); ok && !wasRecorded[rv.TraceID] {
				t.Fatalf("payout %d: refused with %v, yet recorded", i, err)
			}
			st.refused++
			res, err = r.desk.Send(ctx, rv, r.pin)
		}
		crashSettling = false
		if err != nil && errors.Is(err, errCrash) {
			// Killed while settling an earlier payout: this one's intent
			// is durable already.
			res.Err = errCrash
		} else if err != nil {
			t.Fatalf("payout %d: Send: %v", i, err)
		}
		if _, ok := r.j.Lookup(rv.TraceID); !ok {
			t.Fatalf("payout %d: confirmed but not in the journal", i)
		}
		wasRecorded[rv.TraceID] = true
		if res.TraceID != rv.TraceID {
			t.Fatalf("payout %d: result for trace %s, sent %s", i, res.TraceID, rv.TraceID)
		}
		e := r.entry(rv.TraceID)
		if e.State != res.State {
			t.Fatalf("payout %d: result %s but the journal says %s", i, res.State, e.State)
		}
		switch res.State {
		case journal.StateDone:
			if res.Snap == nil || res.Snap.SnapshotID != e.Done.SnapshotID {
				t.Fatalf("payout %d: done as %+v, journal %+v", i, res.Snap, e.Done)
			}
		case journal.StateFailed:
			if !mixin.IsTooManyRequests(res.Err) && !notPostedWhilePending(res.Err) {
				t.Fatalf("payout %d: failed with %v; only a 429 or a post that may still arrive may fail a payout here", i, res.Err)
			}
		}
		if e.State == journal.StateInDoubt && !errors.Is(res.Err, errCrash) && res.Err != nil && strings.Contains(res.Err.Error(), "nothing was sent") {
			t.Fatalf("payout %d: in doubt, yet told %q", i, res.Err)
		}

		restart := errors.Is(res.Err, errCrash)
		if restart {
			st.crashes++
		} else if rng.IntN(50) == 0 {
			restart = true // closed and opened again by the operator
		}
		if restart {
			st.restarts++
			if rep := r.restart(); !rep.Intact() || rep.TornTail {
				t.Fatalf("payout %d: report after restart: %s", i, rep)
			}
			pin := ""
			switch rng.IntN(3) {
			case 0: // start-up recovery without the PIN
			case 1:
				pin = r.pin
			default:
				continue
			}
			crashSettling = rng.IntN(10) == 0
			_, err := r.desk.Recover(ctx, pin)
			crashSettling = false
			if errors.Is(err, errCrash) {
				st.crashes++
				if rep := r.restart(); !rep.Intact() || rep.TornTail {
					t.Fatalf("payout %d: report after a crash while settling: %s", i, rep)
				}
			} else if err != nil && !mixin.IsTooManyRequests(err) {
				t.Fatalf("payout %d: Recover: %v", i, err)
			}
		}
	}

	// The last start: no faults, a patient client, recovery with the PIN
	// once every held post has been handled and every window is over.
	r.srv.ClearFaults()
	r.srv.WaitHeld()
	r.timeout = 10 * time.Second
	if rep := r.restart(); !rep.Intact() {
		t.Fatalf("final report: %s", rep)
	}
	time.Sleep(window)
	out, err := r.desk.Recover(ctx, r.pin)
	if err != nil {
		t.Fatalf("final Recover: %v", err)
	}
	for _, res := range out {
		if res.State == journal.StateInDoubt {
			t.Errorf("final Recover left %s in doubt: %v", res.TraceID, res.Err)
		}
	}

	// Journal against ledger.
	ledger := r.srv.Ledger()
	byTrace := map[string][]sandbox.Entry{}
	for _, l := range ledger {
		byTrace[l.TraceID] = append(byTrace[l.TraceID], l)
	}
	inJournal := map[string]bool{}
	paidTo := map[string]decimal.Decimal{}
	total := decimal.Zero
	for _, e := range r.j.Entries() {
		tr := e.Intent.Trace
		inJournal[tr] = true
		led := byTrace[tr]
		switch e.State {
		case journal.StateDone:
			st.done++
			if len(led) != 1 {
				t.Errorf("done %s: %d transfers in the ledger, want 1: %+v", tr, len(led), led)
				continue
			}
			l := led[0]
			if l.SnapshotID != e.Done.SnapshotID || l.From != r.self.UserID || l.To != e.Intent.RecipientID ||
				l.AssetID != e.Intent.AssetID || l.Amount != e.Intent.Amount || l.Memo != e.Intent.Memo {
				t.Errorf("done %s: ledger %+v does not match intent %+v / done %+v", tr, l, e.Intent, e.Done)
			}
			a := decimal.RequireFromString(l.Amount)
			paidTo[l.To] = paidTo[l.To].Add(a)
			total = total.Add(a)
		case journal.StateFailed:
			st.failed++
			if len(led) != 0 {
				t.Errorf("failed %s (code %d): the ledger holds %+v", tr, e.Failed.Code, led)
			}
			notPosted := e.Failed.Code == CodeNotPosted &&
				(strings.Contains(e.Failed.Description, "429") || strings.Contains(e.Failed.Description, "may still reach the server"))
			if e.Failed.Code != mixin.CodeTooManyRequests && !notPosted {
				t.Errorf("failed %s with code %d %q", tr, e.Failed.Code, e.Failed.Description)
			}
		default:
			st.inDoubt++
			t.Errorf("%s still in doubt after the final recovery", tr)
		}
	}
	if len(inJournal) != len(reviews) {
		t.Errorf("journal has %d payouts, %d were reviewed and sent", len(inJournal), len(reviews))
	}
	for _, rv := range reviews {
		if !inJournal[rv.TraceID] {
			t.Errorf("payout %s is not in the journal", rv.TraceID)
		}
	}
	for _, l := range ledger {
		if !inJournal[l.TraceID] || l.From != r.self.UserID {
			t.Errorf("ledger entry %+v is not a payout of the journal", l)
		}
	}
	for _, tr := range r.count.Traces() {
		if !inJournal[tr] {
			t.Errorf("trace %s was posted but is not in the journal", tr)
		}
	}
	if len(ledger) != st.done {
		t.Errorf("ledger has %d transfers, the journal %d done payouts", len(ledger), st.done)
	}

	// Balances: what left the operator arrived, nothing more.
	opening := map[string]string{r.self.UserID: "50000"}
	for _, u := range r.users {
		opening[u.UserID] = "2500"
	}
	sum := decimal.Zero
	for id, open := range opening {
		got := r.bal(id, usdtID)
		sum = sum.Add(got)
		want := decimal.RequireFromString(open).Add(paidTo[id])
		if id == r.self.UserID {
			want = decimal.RequireFromString(open).Sub(total)
		}
		if !got.Equal(want) {
			t.Errorf("balance of %s is %s, want %s", id, got, want)
		}
	}
	if want := decimal.RequireFromString("60000"); !sum.Equal(want) {
		t.Errorf("USDT in the world: %s, want %s", sum, want)
	}

	if n := r.srv.PINFailures(r.self.UserID); n != 0 {
		t.Errorf("%d PIN tries counted at the server; the PIN was never typed wrong", n)
	}
	if rep := r.restart(); !rep.Intact() || len(r.j.InDoubt()) != 0 {
		t.Fatalf("journal after the run: %s; in doubt %d", rep, len(r.j.InDoubt()))
	}
	t.Logf("%d sends (%d reviews, %d resends, %d refused by a 429 while settling, %d waits for a post window): %d done, %d failed, %d in doubt; %d faults (%d held posts), %d crashes, %d restarts, %d posts; %v",
		n, len(reviews), st.resends, st.refused, st.waited, st.done, st.failed, st.inDoubt, st.faults, st.held, st.crashes, st.restarts, r.count.Posts(), time.Since(start).Round(time.Millisecond))
}

// notPostedWhilePending reports whether err says that the payout was not
// sent because a post of an earlier one might still arrive, or because a
// 429 stopped the settling of an earlier one (as recorded, when the same
// review is sent again).
func notPostedWhilePending(err error) bool {
	var np *NotPostedError
	return errors.As(err, &np) && (strings.Contains(np.Error(), "may still reach the server") || strings.Contains(np.Error(), "429"))
}
