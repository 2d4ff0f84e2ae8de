package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"mixdesk/mixin"
)

const (
	// maxIssuedAhead is how far in the future a token's iat may lie.
	maxIssuedAhead = 5 * time.Minute
	// maxTokenAge is how long after its iat a token is still taken, even
	// when its exp is later. It bounds how long a jti must be remembered:
	// a jti is kept until min(exp, iat+maxTokenAge), after which the token
	// is refused on its times alone. Tokens made per request, as the
	// client makes them, live 5 minutes and never meet this bound.
	maxTokenAge = time.Hour
	// jtiSweepEvery is how often remembered jti's are swept.
	jtiSweepEvery = time.Minute
)

// tokenClaims are the claims of an access token (MIXIN-API.md §2).
type tokenClaims struct {
	UID   string `json:"uid"`
	SID   string `json:"sid"`
	Sig   string `json:"sig"`
	Scope string `json:"scp"`
	jwt.RegisteredClaims
}

// algFor is the only JWT algorithm a session of the kind may sign with.
func algFor(k mixin.KeyKind) string {
	if k == mixin.KeyEd25519 {
		return jwt.SigningMethodEdDSA.Alg()
	}
	return jwt.SigningMethodRS512.Alg()
}

// authenticateLocked checks the access token of r against its method, URI
// and body, and returns the caller. Every failure is a 401 whose reason
// names the check that failed.
func (s *Server) authenticateLocked(r *http.Request, body []byte) (*call, *mixin.Error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return nil, errUnauthorized("no bearer token")
	}
	var unverified tokenClaims
	tok, _, err := jwt.NewParser().ParseUnverified(raw, &unverified)
	if err != nil {
		return nil, errUnauthorized("malformed token")
	}
	sess := s.sessions[unverified.SID]
	if sess == nil {
		return nil, errUnauthorized("unknown session")
	}
	alg := algFor(sess.kind)
	if tok.Method.Alg() != alg {
		return nil, errUnauthorized("algorithm " + tok.Method.Alg() + " is not accepted for " + sess.kind.String() + " sessions")
	}
	var cl tokenClaims
	parser := jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithoutClaimsValidation())
	if _, err := parser.ParseWithClaims(raw, &cl, func(*jwt.Token) (any, error) { return sess.verifyKey(), nil }); err != nil {
		return nil, errUnauthorized("bad signature")
	}
	if cl.SID != sess.id || cl.UID != sess.userID {
		return nil, errUnauthorized("uid does not own the session")
	}
	u := s.users[sess.userID]
	if u == nil || u.sessionID != sess.id {
		return nil, errUnauthorized("session expired")
	}
	now := s.now()
	if cl.ExpiresAt == nil || cl.IssuedAt == nil {
		return nil, errUnauthorized("exp and iat are required")
	}
	exp, iat := cl.ExpiresAt.Time, cl.IssuedAt.Time
	if !now.Before(exp) {
		return nil, errUnauthorized("token expired")
	}
	if iat.After(now.Add(maxIssuedAhead)) {
		return nil, errUnauthorized("token issued in the future")
	}
	if now.After(iat.Add(maxTokenAge)) {
		return nil, errUnauthorized("token too old")
	}
	if cl.Sig != requestSig(r.Method, r.URL.RequestURI(), body) {
		return nil, errUnauthorized("sig does not match the request")
	}
	if cl.ID == "" || cl.ID != r.Header.Get("X-Request-Id") {
		return nil, errUnauthorized("jti does not match X-Request-Id")
	}
	forget := exp
	if limit := iat.Add(maxTokenAge); limit.Before(forget) {
		forget = limit
	}
	if !s.jtis.add(cl.ID, forget, now) {
		return nil, errUnauthorized("jti already used")
	}
	return &call{r: r, body: body, user: u, sess: sess}, nil
}

// requestSig is hex SHA-256 over METHOD + URI + BODY.
func requestSig(method, uri string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte(uri))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// jtiStore remembers the jti of every accepted token until the token could
// no longer be accepted anyway, so a replay is refused and memory stays
// bounded by the request rate.
type jtiStore struct {
	seen      map[string]time.Time // jti → when it may be forgotten
	nextSweep time.Time
}

// add records jti and reports whether it was new.
func (j *jtiStore) add(jti string, forget, now time.Time) bool {
	if !now.Before(j.nextSweep) {
		j.sweep(now)
	}
	if _, dup := j.seen[jti]; dup {
		return false
	}
	j.seen[jti] = forget
	return true
}

// sweep forgets the jti's whose tokens have run out.
func (j *jtiStore) sweep(now time.Time) {
	for id, forget := range j.seen {
		if forget.Before(now) {
			delete(j.seen, id)
		}
	}
	j.nextSweep = now.Add(jtiSweepEvery)
}
