package sandbox

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/mixin"
)

func TestMeUsersSearch(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyRSA, "")
	bob := e.srv.AddUser("Bob Ndlovu")

	me := decode[mixin.User](t, a.get("/me"))
	want := mixin.User{
		UserID: a.user.UserID, IdentityNumber: a.user.IdentityNumber, FullName: "Desk",
		SessionID: a.creds.SessionID, PINTokenBase64: a.creds.PINToken, HasPIN: true, CreatedAt: a.user.CreatedAt,
	}
	if me != want {
		t.Fatalf("/me\n got %+v\nwant %+v", me, want)
	}
	if got := decode[mixin.User](t, a.get("/users/"+bob.UserID)); got != bob || got.FullName != "Bob Ndlovu" {
		t.Fatalf("/users = %+v", got)
	}
	if got := decode[mixin.User](t, a.get("/search/"+bob.IdentityNumber)); got != bob {
		t.Fatalf("/search = %+v", got)
	}
	if got := decode[mixin.User](t, a.get("/search/"+a.user.IdentityNumber)); got.UserID != a.user.UserID {
		t.Fatalf("/search self = %+v", got)
	}
	for _, uri := range []string{"/users/" + uuid.NewString(), "/users/nobody", "/search/1", "/search/" + bob.UserID, "/search/%2B8613800000000"} {
		wantError(t, a.get(uri), mixin.CodeNotFound, "")
	}
}

func TestAssets(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "")
	if got := decode[[]mixin.Asset](t, a.get("/assets")); got == nil || len(got) != 0 {
		t.Fatalf("/assets with no balance = %#v, want []", got)
	}
	xin := decode[mixin.Asset](t, a.get("/assets/"+e.asset))
	want := mixin.Asset{AssetID: e.asset, ChainID: e.asset, Symbol: "XIN", Name: "Mixin", Balance: "0", PriceUSD: "150.25", ChangeUSD: "-0.01"}
	if xin != want {
		t.Fatalf("/assets/:id\n got %+v\nwant %+v", xin, want)
	}
	if err := e.srv.Credit(a.user.UserID, e.asset, "1.10"); err != nil {
		t.Fatal(err)
	}
	got := decode[[]mixin.Asset](t, a.get("/assets"))
	want.Balance = "1.1"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("/assets = %+v", got)
	}
	wantError(t, a.get("/assets/"+uuid.NewString()), mixin.CodeNotFound, "no such asset")
	wantError(t, a.get("/assets/XIN"), mixin.CodeNotFound, "")
}

// snapshotWorld makes a sender with n transfers to two payees in two assets,
// one second apart, and returns the sender's snapshots oldest first.
func snapshotWorld(t *testing.T, n int) (*env, *actor, *actor, *actor, string, []mixin.Snapshot) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "1000")
	b := e.newActor("Bob", mixin.KeyEd25519, "")
	c := e.newActor("Cleo", mixin.KeyEd25519, "")
	other, err := e.srv.AddAsset(mixin.Asset{Symbol: "ETH", Name: "Ether", PriceUSD: "3000"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Credit(a.user.UserID, other.AssetID, "1000"); err != nil {
		t.Fatal(err)
	}
	var all []mixin.Snapshot
	for i := range n {
		e.clock.Advance(time.Second)
		to, asset := b, e.asset
		if i%3 == 1 {
			to = c
		}
		if i%2 == 1 {
			asset = other.AssetID
		}
		in := mixin.TransferInput{AssetID: asset, OpponentID: to.user.UserID, Amount: "1", TraceID: uuid.NewString()}
		all = append(all, decode[mixin.Snapshot](t, a.transfer(in)))
	}
	return e, a, b, c, other.AssetID, all
}

func snapshotIDs(s []mixin.Snapshot) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.SnapshotID
	}
	return out
}

func TestSnapshotsListing(t *testing.T) {
	_, a, b, c, eth, all := snapshotWorld(t, 12)
	newestFirst := slices.Clone(all)
	slices.Reverse(newestFirst)

	if got := decode[[]mixin.Snapshot](t, a.get("/snapshots")); !slices.Equal(snapshotIDs(got), snapshotIDs(newestFirst)) {
		t.Fatalf("DESC default order wrong")
	}
	if got := decode[[]mixin.Snapshot](t, a.get("/snapshots?order=ASC&limit=500")); !slices.Equal(snapshotIDs(got), snapshotIDs(all)) {
		t.Fatalf("ASC order wrong")
	}
	if got := decode[[]mixin.Snapshot](t, a.get("/snapshots?limit=1")); len(got) != 1 || got[0] != newestFirst[0] {
		t.Fatalf("limit=1: %+v", got)
	}
	// Filters, each party seeing its own view.
	for _, s := range decode[[]mixin.Snapshot](t, a.get("/snapshots?asset="+eth)) {
		if s.AssetID != eth || s.Amount != "-1" {
			t.Fatalf("asset filter let through %+v", s)
		}
	}
	got := decode[[]mixin.Snapshot](t, a.get("/snapshots?opponent="+c.user.UserID))
	if len(got) != 4 {
		t.Fatalf("opponent filter: %d snapshots, want 4", len(got))
	}
	for _, s := range got {
		if s.OpponentID != c.user.UserID {
			t.Fatalf("opponent filter let through %+v", s)
		}
	}
	got = decode[[]mixin.Snapshot](t, b.get("/snapshots?asset="+eth+"&opponent="+a.user.UserID))
	for _, s := range got {
		if s.AssetID != eth || s.OpponentID != a.user.UserID || s.Amount != "1" {
			t.Fatalf("payee view %+v", s)
		}
	}
	if len(got) != 4 {
		t.Fatalf("payee sees %d ETH snapshots, want 4", len(got))
	}
	if got := decode[[]mixin.Snapshot](t, a.get("/snapshots?opponent="+a.user.UserID)); len(got) != 0 {
		t.Fatalf("self as opponent: %d", len(got))
	}
}

func TestSnapshotsPagingInclusiveOffset(t *testing.T) {
	_, a, _, _, _, all := snapshotWorld(t, 10)
	for _, order := range []string{"DESC", "ASC"} {
		want := slices.Clone(all)
		if order == "DESC" {
			slices.Reverse(want)
		}
		// The offset is inclusive: the item at the boundary comes again.
		first := decode[[]mixin.Snapshot](t, a.get("/snapshots?limit=4&order="+order))
		boundary := first[len(first)-1]
		next := decode[[]mixin.Snapshot](t, a.get("/snapshots?limit=4&order="+order+"&offset="+url.QueryEscape(boundary.CreatedAt.Format(time.RFC3339Nano))))
		if next[0] != boundary {
			t.Fatalf("%s: page 2 starts with %s, not the boundary item", order, next[0].SnapshotID)
		}
		// Paging as the client does: by the last created_at, dropping
		// ids already seen, until a page brings nothing new.
		var seen []mixin.Snapshot
		offset := ""
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("paging does not end")
			}
			uri := "/snapshots?limit=3&order=" + order
			if offset != "" {
				uri += "&offset=" + url.QueryEscape(offset)
			}
			page := decode[[]mixin.Snapshot](t, a.get(uri))
			fresh := 0
			for _, s := range page {
				if !slices.ContainsFunc(seen, func(x mixin.Snapshot) bool { return x.SnapshotID == s.SnapshotID }) {
					seen = append(seen, s)
					fresh++
				}
			}
			if fresh == 0 {
				break
			}
			offset = page[len(page)-1].CreatedAt.Format(time.RFC3339Nano)
		}
		if !slices.Equal(snapshotIDs(seen), snapshotIDs(want)) {
			t.Fatalf("%s paging collected %d of %d, or out of order", order, len(seen), len(want))
		}
	}
	// An offset in another zone, '+' escaped, names the same instant.
	mid := all[4].CreatedAt.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano)
	got := decode[[]mixin.Snapshot](t, a.get("/snapshots?limit=1&offset="+url.QueryEscape(mid)))
	if len(got) != 1 || got[0] != all[4] {
		t.Fatalf("offset %s: %+v", mid, got)
	}
	// Before everything (DESC) and after everything (ASC): empty.
	if got := decode[[]mixin.Snapshot](t, a.get("/snapshots?offset=2000-01-01T00:00:00Z")); len(got) != 0 {
		t.Fatalf("DESC before the first: %d", len(got))
	}
	if got := decode[[]mixin.Snapshot](t, a.get("/snapshots?order=ASC&offset=2100-01-01T00:00:00Z")); len(got) != 0 {
		t.Fatalf("ASC after the last: %d", len(got))
	}
}

func TestSnapshotsBadQuery(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "")
	for query, field := range map[string]string{
		"limit=0":     "limit",
		"limit=501":   "limit",
		"limit=ten":   "limit",
		"limit=-1":    "limit",
		"order=desc":  "order",
		"order=NEW":   "order",
		"offset=2025": "offset",
		// An unescaped '+' arrives as a space.
		"offset=2025-03-01T14:00:00+02:00": "offset",
		"asset=btc":                        "asset",
		"opponent=37160854":                "opponent",
	} {
		wantField(t, a.get("/snapshots?"+query), field)
	}
	for _, query := range []string{"limit=500", "limit=1", "order=ASC", "order=DESC", "offset=2025-03-01T14:00:00Z", "unknown=1"} {
		decode[[]mixin.Snapshot](t, a.get("/snapshots?"+query))
	}
}

func TestSnapshotAndTraceViews(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "50")
	b := e.newActor("Payee", mixin.KeyEd25519, "")
	c := e.newActor("Stranger", mixin.KeyEd25519, "")
	in := mixin.TransferInput{AssetID: e.asset, OpponentID: b.user.UserID, Amount: "7.25", TraceID: uuid.NewString(), Memo: "fee"}
	sent := decode[mixin.Snapshot](t, a.transfer(in))

	received := sent
	received.OpponentID, received.Amount, received.OpeningBalance, received.ClosingBalance = a.user.UserID, "7.25", "0", "7.25"
	for _, v := range []struct {
		who  *actor
		want mixin.Snapshot
	}{{a, sent}, {b, received}} {
		if got := decode[mixin.Snapshot](t, v.who.get("/snapshots/"+sent.SnapshotID)); got != v.want {
			t.Errorf("%s /snapshots/:id\n got %+v\nwant %+v", v.who.user.FullName, got, v.want)
		}
		if got := decode[mixin.Snapshot](t, v.who.get("/transfers/trace/"+in.TraceID)); got != v.want {
			t.Errorf("%s /transfers/trace\n got %+v\nwant %+v", v.who.user.FullName, got, v.want)
		}
	}
	wantError(t, c.get("/snapshots/"+sent.SnapshotID), mixin.CodeForbidden, "")
	wantError(t, c.get("/transfers/trace/"+in.TraceID), mixin.CodeForbidden, "")
	wantError(t, a.get("/snapshots/"+uuid.NewString()), mixin.CodeNotFound, "no such snapshot")
	wantError(t, a.get("/snapshots/not-an-id"), mixin.CodeNotFound, "")
	wantError(t, a.get("/transfers/trace/"+uuid.NewString()), mixin.CodeNotFound, "no transfer")
	wantError(t, a.get("/transfers/trace/x"), mixin.CodeNotFound, "")
}
