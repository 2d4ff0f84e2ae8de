package sandbox

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/edwards25519"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"mixdesk/mixin"
)

// t0 is the start of every test clock.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// testClock is a settable clock shared by the server and the test's client.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: t0} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a server behind a loopback HTTP server, with one asset.
type env struct {
	tb    testing.TB
	clock *testClock
	srv   *Server
	url   string
	asset string // asset id of XIN
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	c := newClock()
	s := New(Options{Seed: 1, Now: c.Now})
	hs := httptest.NewServer(s)
	tb.Cleanup(hs.Close)
	a, err := s.AddAsset(mixin.Asset{Symbol: "XIN", Name: "Mixin", PriceUSD: "150.25", ChangeUSD: "-0.01"})
	if err != nil {
		tb.Fatal(err)
	}
	return &env{tb: tb, clock: c, srv: s, url: hs.URL, asset: a.AssetID}
}

// actor is an app session with its parsed client-side session.
type actor struct {
	e     *env
	creds mixin.Credentials
	user  mixin.User
	sess  *mixin.Session
}

// newActor makes an app session (RSA sessions are 1024 bits to keep tests
// fast) and credits it with fund of the env's asset when fund is not "".
func (e *env) newActor(name string, kind mixin.KeyKind, fund string) *actor {
	e.tb.Helper()
	creds, u, err := e.srv.NewAppSession(name, kind, 1024)
	if err != nil {
		e.tb.Fatal(err)
	}
	if fund != "" {
		if err := e.srv.Credit(u.UserID, e.asset, fund); err != nil {
			e.tb.Fatal(err)
		}
	}
	return e.actorFor(creds, u)
}

func (e *env) actorFor(creds mixin.Credentials, u mixin.User) *actor {
	e.tb.Helper()
	sess, err := mixin.NewSession(creds)
	if err != nil {
		e.tb.Fatalf("client rejects the issued credentials: %v", err)
	}
	return &actor{e: e, creds: creds, user: u, sess: sess}
}

// with is the actor reporting to tb, for use inside a fuzz function.
func (a *actor) with(tb testing.TB) *actor {
	e := *a.e
	e.tb = tb
	c := *a
	c.e = &e
	return &c
}

// reply is a decoded answer.
type reply struct {
	status int
	header http.Header
	raw    []byte
	data   json.RawMessage
	err    *mixin.Error
}

// send sends a request with the given token and X-Request-Id as is.
func (e *env) send(method, uri string, body []byte, token, requestID string) reply {
	e.tb.Helper()
	auth := ""
	if token != "" {
		auth = "Bearer " + token
	}
	r, err := e.sendCtx(context.Background(), method, uri, body, auth, requestID)
	if err != nil {
		e.tb.Fatalf("%s %s: %v", method, uri, err)
	}
	return r
}

// sendCtx sends a request with the Authorization header auth as is.
func (e *env) sendCtx(ctx context.Context, method, uri string, body []byte, auth, requestID string) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, method, e.url+uri, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if requestID != "" {
		req.Header.Set("X-Request-Id", requestID)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var env struct {
			Data  json.RawMessage `json:"data"`
			Error *mixin.Error    `json:"error"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			e.tb.Fatalf("%s %s: answer is not JSON: %q", method, uri, raw)
		}
		r.data, r.err = env.Data, env.Error
	}
	return r, nil
}

// token signs a request with the client's own code.
func (a *actor) token(method, uri string, body []byte, requestID string) string {
	a.e.tb.Helper()
	tok, err := a.sess.Token(method, uri, body, requestID, a.e.clock.Now())
	if err != nil {
		a.e.tb.Fatal(err)
	}
	return tok
}

// do sends a correctly signed request.
func (a *actor) do(method, uri string, body []byte) reply {
	a.e.tb.Helper()
	id := uuid.NewString()
	return a.e.send(method, uri, body, a.token(method, uri, body, id), id)
}

func (a *actor) get(uri string) reply {
	a.e.tb.Helper()
	return a.do(http.MethodGet, uri, nil)
}

// pin encrypts the actor's PIN afresh with the client's code.
func (a *actor) pin() string {
	a.e.tb.Helper()
	p, err := a.sess.EncryptPIN(a.creds.PIN, a.e.clock.Now())
	if err != nil {
		a.e.tb.Fatal(err)
	}
	return p
}

// transferBody marshals a transfer body with the given PIN.
func transferJSON(in mixin.TransferInput, pin string) []byte {
	b, _ := json.Marshal(map[string]string{
		"asset_id": in.AssetID, "opponent_id": in.OpponentID, "amount": in.Amount,
		"trace_id": in.TraceID, "memo": in.Memo, "pin": pin,
	})
	return b
}

// transfer posts a transfer with a fresh PIN.
func (a *actor) transfer(in mixin.TransferInput) reply {
	a.e.tb.Helper()
	return a.do(http.MethodPost, "/transfers", transferJSON(in, a.pin()))
}

// pay is a transfer of the env's asset to b with a new trace.
func (a *actor) pay(b *actor, amount string) reply {
	a.e.tb.Helper()
	return a.transfer(mixin.TransferInput{AssetID: a.e.asset, OpponentID: b.user.UserID, Amount: amount, TraceID: uuid.NewString()})
}

func (a *actor) balance() string { return a.e.srv.Balance(a.user.UserID, a.e.asset) }

// decode reads the data of a successful reply.
func decode[T any](tb testing.TB, r reply) T {
	tb.Helper()
	v, err := decodeData[T](r)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// decodeData is decode for goroutines other than the test's.
func decodeData[T any](r reply) (T, error) {
	var v T
	if r.err != nil {
		return v, fmt.Errorf("want data, got error %v (extra %v)", r.err, r.err.Extra)
	}
	if r.status != http.StatusOK {
		return v, fmt.Errorf("want HTTP 200, got %d: %q", r.status, r.raw)
	}
	if err := json.Unmarshal(r.data, &v); err != nil {
		return v, fmt.Errorf("decoding %q: %v", r.data, err)
	}
	return v, nil
}

// wantError checks that r is the application error code and, when reason
// is not "", that extra.reason contains it.
func wantError(tb testing.TB, r reply, code int, reason string) {
	tb.Helper()
	if r.err == nil {
		tb.Fatalf("want error %d, got HTTP %d %q", code, r.status, r.raw)
	}
	if r.status != http.StatusAccepted || r.err.Status != 202 {
		tb.Errorf("error answer: HTTP %d, status %d; want 202/202", r.status, r.err.Status)
	}
	if r.err.Code != code {
		tb.Fatalf("want error %d, got %d %s (extra %v)", code, r.err.Code, r.err.Description, r.err.Extra)
	}
	if reason != "" {
		got, _ := r.err.Extra["reason"].(string)
		if !strings.Contains(got, reason) {
			tb.Fatalf("error %d: reason %q does not contain %q", code, got, reason)
		}
	}
}

// wantField checks a 10002 naming field.
func wantField(tb testing.TB, r reply, field string) {
	tb.Helper()
	wantError(tb, r, mixin.CodeInvalidField, "")
	if got := r.err.Field(); got != field {
		tb.Fatalf("10002 names field %q, want %q (extra %v)", got, field, r.err.Extra)
	}
}

// --- hand-made tokens and PINs, independent of the client's code ---

// rsaKey and edKey read the actor's private key from the credentials.
func (a *actor) rsaKey() *rsa.PrivateKey {
	a.e.tb.Helper()
	block, _ := pem.Decode([]byte(a.creds.PrivateKey))
	if block == nil || block.Type != "RSA PRIVATE KEY" {
		a.e.tb.Fatal("not an RSA PEM key")
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		a.e.tb.Fatal(err)
	}
	return k
}

func (a *actor) edKey() ed25519.PrivateKey {
	a.e.tb.Helper()
	if len(a.creds.PrivateKey) == 64 {
		seed, err := hex.DecodeString(a.creds.PrivateKey)
		if err != nil {
			a.e.tb.Fatal(err)
		}
		return ed25519.NewKeyFromSeed(seed)
	}
	raw, err := base64.RawURLEncoding.DecodeString(a.creds.PrivateKey)
	if err != nil || len(raw) != ed25519.PrivateKeySize {
		a.e.tb.Fatal("not a base64url Ed25519 key")
	}
	return ed25519.PrivateKey(raw)
}

// claims are the correct claims for a request, to be spoiled by a test.
func (a *actor) claims(method, uri string, body []byte, requestID string) jwt.MapClaims {
	now := a.e.clock.Now().Unix()
	sum := sha256.Sum256([]byte(method + uri + string(body)))
	return jwt.MapClaims{
		"uid": a.creds.ClientID, "sid": a.creds.SessionID,
		"iat": now, "exp": now + 300, "jti": requestID, "scp": "FULL",
		"sig": hex.EncodeToString(sum[:]),
	}
}

// craft signs claims with the actor's own key and algorithm.
func (a *actor) craft(claims jwt.MapClaims) string {
	a.e.tb.Helper()
	if a.sess.KeyKind() == mixin.KeyRSA {
		return signWith(a.e.tb, jwt.SigningMethodRS512, a.rsaKey(), claims)
	}
	return signWith(a.e.tb, jwt.SigningMethodEdDSA, a.edKey(), claims)
}

func signWith(tb testing.TB, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// pinKey opens the actor's PIN token on the client side, independently of
// both the client package and the server.
func (a *actor) pinKey() []byte {
	a.e.tb.Helper()
	if a.sess.KeyKind() == mixin.KeyRSA {
		sealed, err := base64.StdEncoding.DecodeString(a.creds.PINToken)
		if err != nil {
			a.e.tb.Fatal(err)
		}
		k, err := rsa.DecryptOAEP(sha256.New(), nil, a.rsaKey(), sealed, []byte(a.creds.SessionID))
		if err != nil {
			a.e.tb.Fatal(err)
		}
		return k
	}
	var serverX []byte
	if len(a.creds.PINToken) == 64 {
		edPub, err := hex.DecodeString(a.creds.PINToken)
		if err != nil {
			a.e.tb.Fatal(err)
		}
		p, err := new(edwards25519.Point).SetBytes(edPub)
		if err != nil {
			a.e.tb.Fatal(err)
		}
		serverX = p.BytesMontgomery()
	} else {
		var err error
		if serverX, err = base64.RawURLEncoding.DecodeString(a.creds.PINToken); err != nil {
			a.e.tb.Fatal(err)
		}
	}
	h := sha512.Sum512(a.edKey().Seed())
	priv, err := ecdh.X25519().NewPrivateKey(h[:32])
	if err != nil {
		a.e.tb.Fatal(err)
	}
	pub, err := ecdh.X25519().NewPublicKey(serverX)
	if err != nil {
		a.e.tb.Fatal(err)
	}
	shared, err := priv.ECDH(pub)
	if err != nil {
		a.e.tb.Fatal(err)
	}
	return shared
}

// sealPIN encrypts a PIN plaintext of the §3 layout, with every part chosen
// by the test.
func sealPIN(tb testing.TB, key []byte, digits string, unix int64, iterator uint64, enc *base64.Encoding) string {
	tb.Helper()
	plain := make([]byte, 32)
	copy(plain, digits)
	binary.LittleEndian.PutUint64(plain[6:], uint64(unix))
	binary.LittleEndian.PutUint64(plain[14:], iterator)
	for i := 22; i < 32; i++ {
		plain[i] = 10
	}
	return sealRaw(tb, key, plain, enc)
}

// sealRaw encrypts any block-aligned plaintext under a fresh IV.
func sealRaw(tb testing.TB, key, plain []byte, enc *base64.Encoding) string {
	tb.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]byte, 16+len(plain))
	if _, err := rand.Read(out[:16]); err != nil {
		tb.Fatal(err)
	}
	cipher.NewCBCEncrypter(block, out[:16]).CryptBlocks(out[16:], plain)
	return enc.EncodeToString(out)
}

// verifyPIN posts /pin/verify with an encrypted PIN.
func (a *actor) verifyPIN(pin string) reply {
	a.e.tb.Helper()
	b, _ := json.Marshal(map[string]string{"pin": pin})
	return a.do(http.MethodPost, "/pin/verify", b)
}
