package sandbox

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/mixin"
)

func TestFaultServerError(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "10")
	b := e.newActor("Payee", mixin.KeyEd25519, "")
	e.srv.InjectFault(http.MethodPost, "/transfers", Fault{Kind: FaultServerError, Times: 2})
	e.srv.InjectFault("", "/assets", Fault{Kind: FaultServerError, Status: 503})

	in := mixin.TransferInput{AssetID: e.asset, OpponentID: b.user.UserID, Amount: "1", TraceID: uuid.NewString()}
	for range 2 {
		r := a.transfer(in)
		if r.status != http.StatusInternalServerError || r.err != nil || r.data != nil {
			t.Fatalf("want a bare HTTP 500, got %d %q", r.status, r.raw)
		}
		if r.header.Get("X-Server-Time") == "" {
			t.Error("no X-Server-Time on a 500")
		}
	}
	if len(e.srv.Ledger()) != 0 {
		t.Fatal("a 500 moved money")
	}
	// Reads are not hit by a POST fault; the GET /assets fault hits once.
	decode[mixin.User](t, a.get("/me"))
	if r := a.get("/assets/" + e.asset); r.status != http.StatusServiceUnavailable {
		t.Fatalf("want 503, got %d", r.status)
	}
	decode[mixin.Asset](t, a.get("/assets/"+e.asset))
	// The faults are used up: the same trace now pays.
	decode[mixin.Snapshot](t, a.transfer(in))
	if len(e.srv.Ledger()) != 1 {
		t.Fatal("no transfer after the faults")
	}
}

func TestFaultTooManyRequestsAndClear(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "")
	e.srv.InjectFault(http.MethodGet, "/search/", Fault{Kind: FaultTooManyRequests, Times: 5})
	e.srv.InjectFault(http.MethodGet, "/me", Fault{Kind: FaultServerError, Times: 5})
	e.srv.InjectFault(http.MethodGet, "/me", Fault{Kind: 99}) // unknown kind: ignored
	wantError(t, a.get("/search/"+a.user.IdentityNumber), mixin.CodeTooManyRequests, "")
	e.srv.ClearFaults()
	decode[mixin.User](t, a.get("/search/"+a.user.IdentityNumber))
	decode[mixin.User](t, a.get("/me"))
}

func TestFaultDelay(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "10")
	b := e.newActor("Payee", mixin.KeyEd25519, "")
	const delay = 300 * time.Millisecond
	e.srv.InjectFault(http.MethodPost, "/transfers", Fault{Kind: FaultDelay, Delay: delay, Times: 2})

	// The caller gives up during the delay: nothing is done.
	in := mixin.TransferInput{AssetID: e.asset, OpponentID: b.user.UserID, Amount: "4", TraceID: uuid.NewString()}
	body := transferJSON(in, a.pin())
	id := uuid.NewString()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := e.sendCtx(ctx, http.MethodPost, "/transfers", body, "Bearer "+a.token(http.MethodPost, "/transfers", body, id), id); err == nil {
		t.Fatal("the call did not time out")
	}
	// Other calls are not held up meanwhile (the lock is not held).
	start := time.Now()
	decode[mixin.User](t, a.get("/me"))
	if time.Since(start) > delay/2 {
		t.Fatal("a read waited for the delayed call")
	}
	time.Sleep(delay) // let the abandoned handler finish
	if len(e.srv.Ledger()) != 0 {
		t.Fatal("an abandoned delayed call moved money")
	}
	// Settled as the client does: the trace is unknown, so post again.
	wantError(t, a.get("/transfers/trace/"+in.TraceID), mixin.CodeNotFound, "")
	start = time.Now()
	decode[mixin.Snapshot](t, a.transfer(in))
	if time.Since(start) < delay {
		t.Fatal("the second call was not delayed")
	}
	if a.balance() != "6" {
		t.Fatalf("balance %s", a.balance())
	}
}

func TestFaultCommitThenDrop(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyRSA, "10")
	b := e.newActor("Payee", mixin.KeyEd25519, "")
	e.srv.InjectFault(http.MethodPost, "/transfers", Fault{Kind: FaultCommitThenDrop})

	in := mixin.TransferInput{AssetID: e.asset, OpponentID: b.user.UserID, Amount: "3", TraceID: uuid.NewString()}
	body := transferJSON(in, a.pin())
	id := uuid.NewString()
	if r, err := e.sendCtx(context.Background(), http.MethodPost, "/transfers", body, "Bearer "+a.token(http.MethodPost, "/transfers", body, id), id); err == nil {
		t.Fatalf("want a dropped connection, got HTTP %d %q", r.status, r.raw)
	}
	led := e.srv.Ledger()
	if len(led) != 1 || led[0].TraceID != in.TraceID || a.balance() != "7" {
		t.Fatalf("the transfer was not committed: %+v", led)
	}
	// The in-doubt transfer is settled by its trace; a same-trace re-post
	// with a fresh PIN returns it and moves nothing.
	got := decode[mixin.Snapshot](t, a.get("/transfers/trace/"+in.TraceID))
	if got.SnapshotID != led[0].SnapshotID || got.Amount != "-3" {
		t.Fatalf("trace look-up %+v", got)
	}
	if again := decode[mixin.Snapshot](t, a.transfer(in)); again != got {
		t.Fatalf("re-post %+v", again)
	}
	if len(e.srv.Ledger()) != 1 || a.balance() != "7" || b.balance() != "3" {
		t.Fatal("the re-post moved money")
	}
}
