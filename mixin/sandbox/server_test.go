package sandbox

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"mixdesk/mixin"
)

func TestEnvelopeAndHeaders(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "")
	id := uuid.NewString()
	r := e.send(http.MethodGet, "/me", nil, a.token(http.MethodGet, "/me", nil, id), id)
	me := decode[mixin.User](t, r)
	if me.UserID != a.user.UserID || me.SessionID != a.creds.SessionID {
		t.Fatalf("/me = %+v", me)
	}
	if got := r.header.Get("X-Request-Id"); got != id {
		t.Errorf("X-Request-Id echo = %q, want %q", got, id)
	}
	if got := r.header.Get("X-Server-Time"); got != strconv.FormatInt(e.clock.Now().UnixNano(), 10) {
		t.Errorf("X-Server-Time = %q", got)
	}
	if !strings.HasPrefix(string(r.raw), `{"data":`) {
		t.Errorf("body = %q", r.raw)
	}

	// Errors: HTTP 202, error envelope, headers still set.
	r = e.send(http.MethodGet, "/me", nil, "", id)
	wantError(t, r, mixin.CodeUnauthorized, "no bearer token")
	if r.header.Get("X-Server-Time") == "" || r.header.Get("X-Request-Id") != id {
		t.Errorf("error answer headers: %v", r.header)
	}
	if !strings.HasPrefix(string(r.raw), `{"error":{"status":202,"code":401,`) {
		t.Errorf("error body = %q", r.raw)
	}
}

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "")
	for _, c := range []struct{ method, uri string }{
		{"GET", "/nope"},
		{"POST", "/me"},
		{"GET", "/me/"},
		{"GET", "//me"},
		{"GET", "/assets/"},
		{"GET", "/transfers"},
		{"DELETE", "/transfers"},
		{"GET", "/transfers/trace"},
		{"GET", "/pin/verify"},
		{"GET", "/"},
	} {
		r := a.do(c.method, c.uri, nil)
		wantError(t, r, mixin.CodeNotFound, "no such endpoint")
	}
}

func TestBadBodies(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "10")
	for _, body := range []string{"", "{", "[]", `"x"`, "not json", `{"amount":"1"`} {
		for _, uri := range []string{"/transfers", "/pin/verify"} {
			wantError(t, a.do(http.MethodPost, uri, []byte(body)), mixin.CodeBadRequest, "")
		}
	}
	big := []byte(`{"memo":"` + strings.Repeat("x", maxBodyBytes) + `"}`)
	wantError(t, a.do(http.MethodPost, "/transfers", big), mixin.CodeBadRequest, "could not be read")
}

// TestAuthRejections walks every 401 cause for both key kinds.
func TestAuthRejections(t *testing.T) {
	for _, kind := range []mixin.KeyKind{mixin.KeyEd25519, mixin.KeyRSA} {
		t.Run(kind.String(), func(t *testing.T) {
			e := newEnv(t)
			a := e.newActor("Desk", kind, "")
			other := e.newActor("Other", mixin.KeyEd25519, "")
			const uri = "/assets"
			now := e.clock.Now().Unix()

			otherRSA, err := rsa.GenerateKey(rand.Reader, 1024)
			if err != nil {
				t.Fatal(err)
			}
			_, otherEd, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			// foreignKey signs with the right algorithm but the wrong key.
			foreignKey := func(c jwt.MapClaims) string {
				if kind == mixin.KeyRSA {
					return signWith(t, jwt.SigningMethodRS512, otherRSA, c)
				}
				return signWith(t, jwt.SigningMethodEdDSA, otherEd, c)
			}
			// wrongAlg signs with the other kind's algorithm.
			wrongAlg := func(c jwt.MapClaims) string {
				if kind == mixin.KeyRSA {
					return signWith(t, jwt.SigningMethodEdDSA, otherEd, c)
				}
				return signWith(t, jwt.SigningMethodRS512, otherRSA, c)
			}

			cases := []struct {
				name   string
				reason string
				// make returns the token and X-Request-Id to send with
				// GET /assets.
				make func(id string) (string, string)
			}{
				{"no token", "no bearer token", func(id string) (string, string) { return "", id }},
				{"malformed", "malformed token", func(id string) (string, string) { return "abc.def", id }},
				{"garbage segments", "malformed token", func(id string) (string, string) { return "a.b.c", id }},
				{"unknown sid", "unknown session", func(id string) (string, string) {
					c := a.claims("GET", uri, nil, id)
					c["sid"] = uuid.NewString()
					return a.craft(c), id
				}},
				{"uid not owning sid", "uid does not own", func(id string) (string, string) {
					c := a.claims("GET", uri, nil, id)
					c["uid"] = other.user.UserID
					return a.craft(c), id
				}},
				{"bad signature", "bad signature", func(id string) (string, string) {
					return foreignKey(a.claims("GET", uri, nil, id)), id
				}},
				{"tampered claims", "bad signature", func(id string) (string, string) {
					tok := a.craft(a.claims("GET", uri, nil, id))
					parts := strings.Split(tok, ".")
					c := a.claims("GET", uri, nil, id)
					c["exp"] = now + 3600
					forged := strings.Split(a.craft(c), ".")
					return parts[0] + "." + forged[1] + "." + parts[2], id
				}},
				{"other kind's algorithm", "not accepted", func(id string) (string, string) {
					return wrongAlg(a.claims("GET", uri, nil, id)), id
				}},
				{"RS256", "not accepted", func(id string) (string, string) {
					return signWith(t, jwt.SigningMethodRS256, otherRSA, a.claims("GET", uri, nil, id)), id
				}},
				{"HS256", "not accepted", func(id string) (string, string) {
					return signWith(t, jwt.SigningMethodHS256, []byte(a.creds.PINToken), a.claims("GET", uri, nil, id)), id
				}},
				{"none", "not accepted", func(id string) (string, string) {
					return signWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, a.claims("GET", uri, nil, id)), id
				}},
				{"sig of another method", "sig does not match", func(id string) (string, string) {
					return a.craft(a.claims("POST", uri, nil, id)), id
				}},
				{"sig of another URI", "sig does not match", func(id string) (string, string) {
					return a.craft(a.claims("GET", uri+"?x=1", nil, id)), id
				}},
				{"sig of another body", "sig does not match", func(id string) (string, string) {
					return a.craft(a.claims("GET", uri, []byte("{}"), id)), id
				}},
				{"sig missing", "sig does not match", func(id string) (string, string) {
					c := a.claims("GET", uri, nil, id)
					delete(c, "sig")
					return a.craft(c), id
				}},
				{"expired", "token expired", func(id string) (string, string) {
					c := a.claims("GET", uri, nil, id)
					c["iat"], c["exp"] = now-600, now-1
					return a.craft(c), id
				}},
				{"exp is now", "token expired", func(id string) (string, string) {
					c := a.claims("GET", uri, nil, id)
					c["exp"] = now
					return a.craft(c), id
				}},
				{"issued in the future", "issued in the future", func(id string) (string, string) {
					c := a.claims("GET", uri, nil, id)
					c["iat"], c["exp"] = now+301, now+900
					return a.craft(c), id
				}},
				{"too old", "too old", func(id string) (string, string) {
					c := a.claims("GET", uri, nil, id)
					c["iat"], c["exp"] = now-3601, now+86400
					return a.craft(c), id
				}},
				{"no exp", "required", func(id string) (string, string) {
					c := a.claims("GET", uri, nil, id)
					delete(c, "exp")
					return a.craft(c), id
				}},
				{"no iat", "required", func(id string) (string, string) {
					c := a.claims("GET", uri, nil, id)
					delete(c, "iat")
					return a.craft(c), id
				}},
				{"exp not a number", "malformed token", func(id string) (string, string) {
					c := a.claims("GET", uri, nil, id)
					c["exp"] = "soon"
					return a.craft(c), id
				}},
				{"jti differs from X-Request-Id", "jti does not match", func(id string) (string, string) {
					return a.craft(a.claims("GET", uri, nil, uuid.NewString())), id
				}},
				{"no X-Request-Id", "jti does not match", func(id string) (string, string) {
					return a.craft(a.claims("GET", uri, nil, id)), ""
				}},
				{"no jti", "jti does not match", func(id string) (string, string) {
					return a.craft(a.claims("GET", uri, nil, "")), ""
				}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					tok, id := c.make(uuid.NewString())
					wantError(t, e.send("GET", uri, nil, tok, id), mixin.CodeUnauthorized, c.reason)
				})
			}

			// The hand-made token is right when nothing is spoiled, and
			// it is single-use.
			id := uuid.NewString()
			tok := a.craft(a.claims("GET", uri, nil, id))
			decode[[]mixin.Asset](t, e.send("GET", uri, nil, tok, id))
			wantError(t, e.send("GET", uri, nil, tok, id), mixin.CodeUnauthorized, "jti already used")

			// Another scheme, or a bearer with no token.
			for _, auth := range []string{"Basic " + tok, "bearer " + tok, "Bearer "} {
				id := uuid.NewString()
				r, err := e.sendCtx(context.Background(), "GET", uri, nil, auth, id)
				if err != nil {
					t.Fatal(err)
				}
				wantError(t, r, mixin.CodeUnauthorized, "no bearer token")
			}
		})
	}
}

func TestTokenTimesAccepted(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "")
	now := e.clock.Now().Unix()
	for name, times := range map[string][2]int64{
		"iat 5 min ahead":       {now + 300, now + 600},
		"exp one second ahead":  {now - 299, now + 1},
		"90-day token, fresh":   {now, now + 90*86400},
		"iat an hour ago, live": {now - 3600, now + 60},
	} {
		id := uuid.NewString()
		c := a.claims("GET", "/me", nil, id)
		c["iat"], c["exp"] = times[0], times[1]
		if r := e.send("GET", "/me", nil, a.craft(c), id); r.err != nil {
			t.Errorf("%s: rejected: %v %v", name, r.err, r.err.Extra)
		}
	}
}

func TestSigCoversQueryAndBody(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "")
	// The query is part of the signed URI, exactly as sent.
	decode[[]mixin.Snapshot](t, a.get("/snapshots?limit=5&order=ASC"))
	id := uuid.NewString()
	tok := a.token("GET", "/snapshots?order=ASC&limit=5", nil, id)
	wantError(t, e.send("GET", "/snapshots?limit=5&order=ASC", nil, tok, id), mixin.CodeUnauthorized, "sig does not match")
	// Escaped offsets are signed in their escaped form.
	decode[[]mixin.Snapshot](t, a.get("/snapshots?offset=2025-03-01T14%3A00%3A00%2B02%3A00"))
}

func TestSessionExpiresWithNewSession(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "5")
	decode[mixin.User](t, a.get("/me"))
	creds, err := e.srv.IssueSession(a.user.UserID, SessionOptions{Kind: mixin.KeyEd25519, HexForm: true})
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, a.get("/me"), mixin.CodeUnauthorized, "session expired")
	if creds.PIN != a.creds.PIN || creds.ClientID != a.creds.ClientID || creds.SessionID == a.creds.SessionID {
		t.Fatalf("new session: same PIN and client, new session id expected")
	}
	b := e.actorFor(creds, a.user)
	me := decode[mixin.User](t, b.get("/me"))
	if me.SessionID != creds.SessionID {
		t.Fatalf("/me session = %s", me.SessionID)
	}
	// The new session starts with its own iterator; the PIN works.
	decode[mixin.User](t, b.verifyPIN(b.pin()))
	if _, err := e.srv.IssueSession(uuid.NewString(), SessionOptions{}); err != ErrUnknownUser {
		t.Fatalf("IssueSession(unknown) = %v", err)
	}
}

func TestJTIMemoryIsBounded(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "")
	for range 20 {
		decode[mixin.User](t, a.get("/me"))
	}
	count := func() int {
		e.srv.mu.Lock()
		defer e.srv.mu.Unlock()
		return len(e.srv.jtis.seen)
	}
	if n := count(); n != 20 {
		t.Fatalf("remembered %d jti's, want 20", n)
	}
	// A 90-day token is remembered for an hour at most, then refused on
	// its age.
	id := uuid.NewString()
	c := a.claims("GET", "/me", nil, id)
	c["exp"] = e.clock.Now().Unix() + 90*86400
	long := a.craft(c)
	decode[mixin.User](t, e.send("GET", "/me", nil, long, id))

	e.clock.Advance(maxTokenAge + 2*time.Minute)
	decode[mixin.User](t, a.get("/me"))
	if n := count(); n != 1 {
		t.Fatalf("after the tokens ran out %d jti's remain, want 1", n)
	}
	wantError(t, e.send("GET", "/me", nil, long, id), mixin.CodeUnauthorized, "too old")
}
