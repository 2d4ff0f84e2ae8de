// Package sandbox is a strict in-process imitation of the Mixin wallet API
// of MIXIN-API.md: it verifies every access token, decrypts and checks every
// PIN, enforces trace idempotency and balances, and keeps snapshots for both
// parties of a transfer. It is the engine of `mixdesk --sandbox` and the
// server the tests of every HTTP-speaking package run against.
//
// A Server is an http.Handler holding the whole world: users, app sessions,
// assets, balances and transfers. Build one with New and the world-builder
// methods (AddAsset, AddUser, NewAppSession, Credit), or take the default
// world of NewWorld. Save and Load keep it across restarts. InjectFault makes
// chosen calls fail, stall or lose their answer. All money is fake, and keys
// drawn from a seed are predictable: never reuse sandbox credentials.
//
// Where the contract leaves room, the sandbox decides:
//   - Application errors are HTTP 202 with status 202 in the body. Most carry
//     extra.reason naming the check that failed (never a secret), so a client
//     bug shows its cause; 10002 also names extra.field.
//   - A token is refused more than an hour after its iat even if its exp is
//     later; this bounds how long a jti must be remembered.
//   - Unknown routes answer 404 before any authentication.
//   - A trace or snapshot look-up by someone who is not a party is 403.
//   - A wrong PIN does not advance the iterator; only a right one does.
//   - A PIN whose iterator is not above the last one, or whose time is off,
//     counts towards the lock like wrong digits: a held request that
//     arrives after a newer one costs the account a try.
package sandbox

import (
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"mixdesk/internal/faults"
	"mixdesk/mixin"
)

// maxBodyBytes bounds a request body; larger bodies are answered with 400.
const maxBodyBytes = 64 << 10

// Options configure a Server.
type Options struct {
	// Seed makes ids, names, identity numbers, PINs and Ed25519 keys
	// reproducible: two servers built the same way with the same non-zero
	// Seed issue the same values. RSA keys are always fresh (crypto/rsa
	// draws from the system source). Zero picks a random seed.
	Seed int64
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
	// Operator shapes the operator session NewWorld issues. The zero value
	// is an RSA-2048 session.
	Operator SessionOptions
}

// Server is the sandbox: an http.Handler over its state. It is safe for
// concurrent use.
type Server struct {
	now func() time.Time

	mu         sync.Mutex
	pcg        *mrand.PCG
	rng        *mrand.Rand
	users      map[string]*user // by user id
	userList   []*user          // creation order
	identities map[string]*user // by identity number
	sessions   map[string]*session
	assets     map[string]*mixin.Asset // balance field unused
	assetList  []string                // asset ids, insertion order
	balances   map[holding]decimal.Decimal
	transfers  []*transfer // commit order, which is created_at order
	bySnapshot map[string]*transfer
	byTrace    map[string]*transfer
	byUser     map[string][]*transfer // each user's transfers, oldest first
	lastTime   time.Time              // the latest created_at handed out
	jtis       jtiStore
	faults     faults.Set // injected faults and the calls they hold
	world      *World
}

// holding keys a balance.
type holding struct{ user, asset string }

// user is a Mixin user or app. pin is empty for users without a PIN.
type user struct {
	id        string
	identity  string
	fullName  string
	createdAt time.Time
	pin       string
	sessionID string // the current app session, "" for none
	// pinFailures are the times of wrong PINs; those older than the lock
	// window are pruned when the lock is checked.
	pinFailures []time.Time
}

// New makes an empty server: no users, no assets.
func New(opts Options) *Server {
	seed := uint64(opts.Seed)
	if seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
		seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	s := newEmpty(opts)
	s.pcg = mrand.NewPCG(seed, 0x6d69786465736b) // second word: a fixed stream id
	s.rng = mrand.New(s.pcg)
	return s
}

// newEmpty makes a server with empty state and no random source.
func newEmpty(opts Options) *Server {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Server{
		now:        now,
		users:      map[string]*user{},
		identities: map[string]*user{},
		sessions:   map[string]*session{},
		assets:     map[string]*mixin.Asset{},
		balances:   map[holding]decimal.Decimal{},
		bySnapshot: map[string]*transfer{},
		byTrace:    map[string]*transfer{},
		byUser:     map[string][]*transfer{},
		jtis:       jtiStore{seen: map[string]time.Time{}},
	}
}

// call is one authenticated request on its way to a handler.
type call struct {
	r     *http.Request
	body  []byte
	param string // the ":id" part of the route, if any
	user  *user
	sess  *session
}

// handlerFunc answers one call with data or an application error. Handlers
// run with s.mu held.
type handlerFunc func(s *Server, c *call) (any, *mixin.Error)

// route is one endpoint; a ":" segment in pattern captures call.param.
type route struct {
	method  string
	pattern []string
	handle  handlerFunc
}

var routes = []route{
	{http.MethodPost, []string{"transfers"}, (*Server).handleTransfer},
	{http.MethodGet, []string{"me"}, (*Server).handleMe},
	{http.MethodGet, []string{"assets"}, (*Server).handleAssets},
	{http.MethodGet, []string{"assets", ":"}, (*Server).handleAsset},
	{http.MethodGet, []string{"snapshots"}, (*Server).handleSnapshots},
	{http.MethodGet, []string{"snapshots", ":"}, (*Server).handleSnapshot},
	{http.MethodGet, []string{"transfers", "trace", ":"}, (*Server).handleTrace},
	{http.MethodGet, []string{"users", ":"}, (*Server).handleUser},
	{http.MethodGet, []string{"search", ":"}, (*Server).handleSearch},
	{http.MethodPost, []string{"pin", "verify"}, (*Server).handlePINVerify},
}

// matchRoute finds the endpoint for method and path. Paths are matched
// segment by segment; empty segments ("//", a trailing "/") match nothing.
func matchRoute(method, path string) (handlerFunc, string, bool) {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return nil, "", false
	}
	segs := strings.Split(rest, "/")
next:
	for _, rt := range routes {
		if rt.method != method || len(rt.pattern) != len(segs) {
			continue
		}
		param := ""
		for i, p := range rt.pattern {
			switch {
			case p == ":" && segs[i] != "":
				param = segs[i]
			case p != segs[i]:
				continue next
			}
		}
		return rt.handle, param, true
	}
	return nil, "", false
}

// ServeHTTP answers one API call, with the injected faults applied. Every
// answer carries X-Server-Time (Unix nanoseconds) and echoes X-Request-Id.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.faults.Serve(w, r, faults.Site{
		MaxBody:     maxBodyBytes,
		Now:         s.now,
		Handle:      s.handle,
		Unreadable:  errBadRequest("the body could not be read"),
		RateLimited: errTooManyRequests("rate limited"),
	})
}

// handle routes, authenticates and runs the handler.
func (s *Server) handle(r *http.Request, body []byte) (any, *mixin.Error) {
	h, param, ok := matchRoute(r.Method, r.URL.Path)
	if !ok {
		return nil, errNotFound("no such endpoint")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, apiErr := s.authenticateLocked(r, body)
	if apiErr != nil {
		return nil, apiErr
	}
	c.param = param
	return h(s, c)
}

// nextTimeLocked is the created_at of a new record: the clock in UTC, bumped
// by a nanosecond past the last one handed out so times strictly increase.
func (s *Server) nextTimeLocked() time.Time {
	t := s.now().UTC()
	if !t.After(s.lastTime) {
		t = s.lastTime.Add(time.Nanosecond)
	}
	s.lastTime = t
	return t
}

// randBytesLocked draws n bytes from the seeded source.
func (s *Server) randBytesLocked(n int) []byte {
	b := make([]byte, n+7)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], s.rng.Uint64())
	}
	return b[:n:n]
}

// newIDLocked draws a version-4 UUID from the seeded source.
func (s *Server) newIDLocked() string {
	var u uuid.UUID
	copy(u[:], s.randBytesLocked(16))
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// canonicalUUID returns s as a lower-case UUID if it is one in the 36-character
// form, else false.
func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
