package sandbox_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"mixdesk/mixin"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

// TestMessengerUserCalls: GET /users/:id and GET /search/:number answer a
// Safe session as the messenger API does (docs/safe-api.md §3.4), read
// with the legacy client.
func TestMessengerUserCalls(t *testing.T) {
	srv := sandbox.New(sandbox.Options{Seed: 3})
	for _, u := range []struct{ id, name, identity string }{{deskID, "desk", "7000"}, {aliceID, "Alice", "7001"}, {bobID, "Bob", "7001"}} {
		if err := srv.AddUser(u.id, u.name, u.identity, safe.NewSpendKey(seed32(0x09)).Public()); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	acct := account(t, srv, deskID, 0x01, 0x21)
	c, err := mixin.NewClient(hs.URL, acct.Session(), mixin.WithRetry(mixin.RetryPolicy{Attempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u, err := c.Search(ctx, "7001")
	if err != nil || u.UserID != aliceID || u.FullName != "Alice" {
		t.Fatalf("search = %+v, %v", u, err) // two users with 7001: the lowest id
	}
	if u, err = c.User(ctx, bobID); err != nil || u.IdentityNumber != "7001" || u.FullName != "Bob" {
		t.Fatalf("user = %+v, %v", u, err)
	}
	if _, err := c.Search(ctx, "7999"); !mixin.IsNotFound(err) {
		t.Fatalf("unknown number: %v", err)
	}
}
