// Package sandbox is a strict in-process imitation of the Mixin Safe
// (Sequencer) API of docs/safe-api.md, built on the kernel library: users
// with registered spend keys and Sequencer-held view keys, unspent outputs
// per user, ghost keys and views derived with the kernel's own functions,
// verification that decodes every raw transaction, checks its inputs,
// amounts and extra, and verifies every signature before it spends, and
// request-id idempotency as the contract decides. Faults can be injected
// on any call (500, 429, delay, commit then drop, hold past the caller's
// timeout), and the whole world saved and loaded (Save, Load, SaveFile,
// LoadFile) so that a --sandbox world survives restarts.
package sandbox

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/MixinNetwork/mixin/crypto"
	"github.com/golang-jwt/jwt/v5"

	"mixdesk/internal/faults"
	"mixdesk/mixin"
	"mixdesk/safe"
)

const (
	maxBodyBytes   = 1 << 20 // 256 inputs of signed raw fit well within
	maxIssuedAhead = 5 * time.Minute
	maxTokenAge    = time.Hour
)

// Options configure a Server.
type Options struct {
	Now  func() time.Time // default time.Now
	Seed uint64           // seeds view keys, ghost keys and ids
}

// Server is the imitation; an http.Handler. Safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	now      func() time.Time
	rng      *rand.Rand
	pcg      *rand.PCG // rng's source, saved with the state
	secret   [32]byte  // mixes into ghost keys
	lastTime time.Time

	users     map[string]*user
	sessions  map[string]*session
	assets    map[string]*safe.Asset // by asset id
	byKernel  map[crypto.Hash]string // kernel asset id → asset id
	outputs   map[string]*output     // by "hash:index"
	ordered   []*output              // by sequence
	sequence  int64
	ghosts    map[crypto.Key]ghost // keys issued by /safe/keys
	usedKeys  map[crypto.Key]bool  // keys of outputs that exist
	requests  map[string]*request
	snapshots []*safe.Snapshot
	jtis      map[string]time.Time // jti → when it may be forgotten
	nextSweep time.Time

	faults faults.Set // injected faults and the calls they hold
	world  *World     // what NewWorld built; saved with the state
}

type user struct {
	id, name, identity string
	spend              crypto.Key // public; zero when not registered
	view               crypto.Key // private, the Sequencer's
	sessionID          string
}

func (u *user) registered() bool { return u.spend.HasValue() }

type session struct {
	id, userID string
	pub        ed25519.PublicKey
}

type output struct {
	safe.Output
	key crypto.Key // the one-time key of its single receiver
}

type ghost struct {
	receivers []string
	index     uint
}

type request struct {
	safe.TransactionRequest
	owner  string
	inputs []string // refs
}

// New makes an empty world.
func New(opts Options) *Server {
	s := newEmpty(opts)
	s.pcg = rand.NewPCG(opts.Seed, opts.Seed^0x5afe)
	s.rng = rand.New(s.pcg)
	copy(s.secret[:], s.randBytesLocked(32))
	return s
}

// newEmpty is a server with no world and no random source yet.
func newEmpty(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{
		now:      opts.Now,
		users:    map[string]*user{},
		sessions: map[string]*session{},
		assets:   map[string]*safe.Asset{},
		byKernel: map[crypto.Hash]string{},
		outputs:  map[string]*output{},
		ghosts:   map[crypto.Key]ghost{},
		usedKeys: map[crypto.Key]bool{},
		requests: map[string]*request{},
		jtis:     map[string]time.Time{},
	}
}

// ---- routing -------------------------------------------------------------

type call struct {
	r     *http.Request
	body  []byte
	param string
	user  *user
}

type handlerFunc func(s *Server, c *call) (any, *mixin.Error)

type route struct {
	method  string
	pattern []string
	handle  handlerFunc
}

var routes = []route{
	{http.MethodGet, []string{"safe", "me"}, (*Server).handleMe},
	{http.MethodGet, []string{"users", ":"}, (*Server).handleUser},
	{http.MethodGet, []string{"search", ":"}, (*Server).handleSearch},
	{http.MethodGet, []string{"safe", "outputs"}, (*Server).handleOutputs},
	{http.MethodGet, []string{"safe", "assets", ":"}, (*Server).handleAsset},
	{http.MethodPost, []string{"safe", "assets", "fetch"}, (*Server).handleFetchAssets},
	{http.MethodPost, []string{"safe", "keys"}, (*Server).handleKeys},
	{http.MethodPost, []string{"safe", "transaction", "requests"}, (*Server).handleVerify},
	{http.MethodPost, []string{"safe", "transactions"}, (*Server).handleSubmit},
	{http.MethodGet, []string{"safe", "transactions", ":"}, (*Server).handleLookup},
	{http.MethodGet, []string{"safe", "snapshots"}, (*Server).handleSnapshots},
}

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

// ServeHTTP answers one call, with the injected faults applied; every
// answer echoes X-Request-Id and carries X-Server-Time.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.faults.Serve(w, r, faults.Site{
		MaxBody:     maxBodyBytes,
		Now:         s.now,
		Handle:      s.handle,
		Unreadable:  apiErr(mixin.CodeBadRequest, "the body could not be read", ""),
		RateLimited: apiErr(mixin.CodeTooManyRequests, "rate limited", ""),
	})
}

func (s *Server) handle(r *http.Request, body []byte) (any, *mixin.Error) {
	h, param, ok := matchRoute(r.Method, r.URL.Path)
	if !ok {
		return nil, apiErr(mixin.CodeNotFound, "The endpoint is not found.", "")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.authenticateLocked(r, body)
	if e != nil {
		return nil, e
	}
	c.param = param
	return h(s, c)
}

// apiErr is an application error; field, when set, is extra.field.
func apiErr(code int, description, field string) *mixin.Error {
	e := &mixin.Error{Status: http.StatusAccepted, Code: code, Description: description}
	if field != "" {
		e.Extra = map[string]any{"field": field}
	}
	return e
}

func invalid(field, reason string) *mixin.Error {
	return apiErr(mixin.CodeInvalidField, "The request data has invalid field: "+reason, field)
}

// ---- authentication --------------------------------------------------------

type tokenClaims struct {
	UID   string `json:"uid"`
	SID   string `json:"sid"`
	Sig   string `json:"sig"`
	Scope string `json:"scp"`
	jwt.RegisteredClaims
}

func unauthorized(reason string) *mixin.Error {
	return apiErr(mixin.CodeUnauthorized, "Unauthorized, maybe invalid token: "+reason, "")
}

// authenticateLocked checks the EdDSA token as strictly as the legacy
// sandbox: signature, session owner, times, sig over the request, jti =
// X-Request-Id and never seen before.
func (s *Server) authenticateLocked(r *http.Request, body []byte) (*call, *mixin.Error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return nil, unauthorized("no bearer token")
	}
	var unverified tokenClaims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &unverified); err != nil {
		return nil, unauthorized("malformed token")
	}
	sess := s.sessions[unverified.SID]
	if sess == nil {
		return nil, unauthorized("unknown session")
	}
	var cl tokenClaims
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), jwt.WithoutClaimsValidation())
	if _, err := parser.ParseWithClaims(raw, &cl, func(*jwt.Token) (any, error) { return sess.pub, nil }); err != nil {
		return nil, unauthorized("bad signature")
	}
	u := s.users[sess.userID]
	if cl.SID != sess.id || cl.UID != sess.userID || u == nil || u.sessionID != sess.id {
		return nil, unauthorized("uid does not own the session")
	}
	now := s.now()
	if cl.ExpiresAt == nil || cl.IssuedAt == nil {
		return nil, unauthorized("exp and iat are required")
	}
	exp, iat := cl.ExpiresAt.Time, cl.IssuedAt.Time
	switch {
	case !now.Before(exp):
		return nil, unauthorized("token expired")
	case iat.After(now.Add(maxIssuedAhead)):
		return nil, unauthorized("token issued in the future")
	case now.After(iat.Add(maxTokenAge)):
		return nil, unauthorized("token too old")
	case cl.Sig != requestSig(r.Method, r.URL.RequestURI(), body):
		return nil, unauthorized("sig does not match the request")
	case cl.ID == "" || cl.ID != r.Header.Get("X-Request-Id"):
		return nil, unauthorized("jti does not match X-Request-Id")
	}
	if !now.Before(s.nextSweep) {
		for id, forget := range s.jtis {
			if forget.Before(now) {
				delete(s.jtis, id)
			}
		}
		s.nextSweep = now.Add(time.Minute)
	}
	if _, dup := s.jtis[cl.ID]; dup {
		return nil, unauthorized("jti already used")
	}
	forget := exp
	if limit := iat.Add(maxTokenAge); limit.Before(forget) {
		forget = limit
	}
	s.jtis[cl.ID] = forget
	return &call{r: r, body: body, user: u}, nil
}

func requestSig(method, uri string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte(uri))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// ---- faults ----------------------------------------------------------------

// FaultKind is what an injected fault does to a call (as mixin/sandbox).
type FaultKind = faults.Kind

const (
	// FaultServerError answers HTTP 5xx with a non-JSON body before doing
	// anything.
	FaultServerError = faults.ServerError
	// FaultDelay waits Fault.Delay, then handles the call; if the caller
	// gave up meanwhile, nothing is done.
	FaultDelay = faults.Delay
	// FaultTooManyRequests answers error 429 before doing anything.
	FaultTooManyRequests = faults.TooManyRequests
	// FaultCommitThenDrop handles the call in full (a submit spends) and
	// then drops the connection without an answer. It needs a real
	// http.Server (httptest.NewServer is one).
	FaultCommitThenDrop = faults.CommitThenDrop
	// FaultHold holds the call for Fault.Delay and then handles it in full,
	// whether or not the caller still waits: with a Delay longer than the
	// caller's timeout, a verify or submit the caller gave up on runs
	// afterwards, as behind a slow server or a congested network. The call
	// is authenticated when it is handled, after the hold, so one whose
	// token expired meanwhile is refused. WaitHeld waits for held calls.
	FaultHold = faults.Hold
)

// Fault is one injected fault (as mixin/sandbox): Kind; Times, the calls
// it applies to (zero means one); Delay, of FaultDelay and FaultHold;
// Status, of FaultServerError, 500..599 (zero means 500).
type Fault = faults.Fault

// InjectFault makes the next f.Times calls with method ("" = any) and a
// path starting with pathPrefix suffer f, in the order injected.
func (s *Server) InjectFault(method, pathPrefix string, f Fault) {
	s.faults.Inject(method, pathPrefix, f)
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// WaitHeld waits for the calls held by FaultHold so far.
func (s *Server) WaitHeld() { s.faults.WaitHeld() }
