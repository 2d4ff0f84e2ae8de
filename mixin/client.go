package mixin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// DefaultBaseURL is the public API host (MIXIN-API.md §8).
const DefaultBaseURL = "https://api.mixin.one"

// maxBody bounds what is read of any answer.
const maxBody = 8 << 20

// RetryPolicy bounds the retries of reads (GET) on 5xx, transport failures
// and 429. Writes are never retried by the client.
type RetryPolicy struct {
	Attempts int           // total tries, at least 1
	Base     time.Duration // first back-off; doubled each time, with jitter
	Max      time.Duration // cap of one back-off
}

// DefaultRetry: four tries over about two seconds.
var DefaultRetry = RetryPolicy{Attempts: 4, Base: 200 * time.Millisecond, Max: 2 * time.Second}

// Client talks to one API host with one session. It is safe for concurrent use.
type Client struct {
	base    string
	sess    *Session
	http    *http.Client
	retry   RetryPolicy
	now     func() time.Time
	timeout time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the HTTP client (its Timeout is left as given).
// The client works on a copy of it that refuses every redirect; h itself is
// not changed.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTimeout bounds each single request (default 15 s).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRetry sets the read retry policy.
func WithRetry(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithClock sets the clock used for tokens and PIN timestamps (tests).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// NewClient makes a client for baseURL (scheme and host, optionally a path
// prefix) signing with sess.
func NewClient(baseURL string, sess *Session, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &FieldError{Field: "API URL", Reason: "need http(s)://host, e.g. " + DefaultBaseURL}
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, &FieldError{Field: "API URL", Reason: "plain http is allowed only for a sandbox on this machine (localhost, 127.0.0.1, ::1); use https"}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, &FieldError{Field: "API URL", Reason: "must not carry a query or fragment"}
	}
	if sess == nil {
		return nil, errors.New("mixin: NewClient needs a session")
	}
	c := &Client{
		base:    u.String(),
		sess:    sess,
		http:    &http.Client{},
		retry:   DefaultRetry,
		now:     time.Now,
		timeout: 15 * time.Second,
	}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	own := *c.http
	own.CheckRedirect = refuseRedirect
	c.http = &own
	if c.retry.Attempts < 1 {
		c.retry.Attempts = 1
	}
	return c, nil
}

// Session is the session the client signs with.
func (c *Client) Session() *Session { return c.sess }

// BaseURL is the API host the client talks to.
func (c *Client) BaseURL() string { return c.base }

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// refuseRedirect stops the HTTP client at the first redirect: the answer
// with the redirect is handed back as it is, and once turns it into an
// error. No request is ever sent to the address it names, so neither the
// token nor a PIN block goes there.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// envelope is every answer's body: data or error. The data is decoded
// straight into its final type, in the same pass as the envelope.
type envelope[T any] struct {
	Data  *T     `json:"data"`
	Error *Error `json:"error"`
}

// call is one logical API call.
type call struct {
	method string
	path   string     // already escaped
	query  url.Values // may be nil
	body   any        // marshalled once; nil for GET
	retry  bool       // reads only
}

// do makes one logical call and returns its data, decoded into T, cleaned
// and checked (see answer).
func do[T any, P answer[T]](ctx context.Context, c *Client, cl call) (*T, error) {
	var body []byte
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return nil, fmt.Errorf("mixin: encoding %s %s: %w", cl.method, cl.path, err)
		}
		body = b
	}
	uri := cl.path
	if len(cl.query) > 0 {
		// Encode escapes '+' as %2B, as offsets with a time zone need.
		uri += "?" + cl.query.Encode()
	}
	attempts := 1
	if cl.retry {
		attempts = c.retry.Attempts
	}
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			if werr := sleepCtx(ctx, c.backoff(i)); werr != nil {
				return nil, err
			}
		}
		var out *T
		out, err = once[T, P](ctx, c, cl.method, uri, body)
		if err == nil || !cl.retry || !retryable(err) {
			return out, err
		}
	}
	return nil, err
}

// retryable: a read that met a 5xx, a transport failure (a per-request
// timeout included) or a 429 is tried again; the caller's own cancellation
// ends the loop in sleepCtx.
func retryable(err error) bool {
	var se *ServerError
	var te *TransportError
	return errors.As(err, &se) || errors.As(err, &te) || IsTooManyRequests(err)
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.retry.Base << (attempt - 1)
	if d > c.retry.Max || d <= 0 {
		d = c.retry.Max
	}
	// Up to 25% jitter so that many clients do not retry in step.
	if d > 0 {
		d += time.Duration(rand.Int64N(int64(d)/4 + 1))
	}
	return d
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// once signs exactly the bytes it sends, sends them, checks the request id
// echo and decodes data or error in one pass.
func once[T any, P answer[T]](ctx context.Context, c *Client, method, uri string, body []byte) (*T, error) {
	op := method + " " + stripQuery(uri)
	reqID := uuid.NewString()
	token, err := c.sess.Token(method, uri, body, reqID, c.now())
	if err != nil {
		return nil, err
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+uri, rd)
	if err != nil {
		return nil, fmt.Errorf("mixin: %s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", reqID)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &TransportError{Op: op, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	buf, err := readBody(resp)
	defer putBody(buf)
	if err != nil {
		return nil, &TransportError{Op: op, Err: err}
	}
	// Nothing decoded keeps a reference to the body's bytes, so its buffer
	// goes back to the pool when once returns.
	return decodeAnswer[T, P](op, reqID, resp, buf.Bytes())
}

// decodeAnswer turns an answer into its data or an error: a 5xx is a
// ServerError, an error object an *Error, anything off the contract a
// ProtocolError; the data is decoded in one pass with the envelope, then
// cleaned and checked.
func decodeAnswer[T any, P answer[T]](op, reqID string, resp *http.Response, raw []byte) (*T, error) {
	broken := func(reason string, sentinel error) error {
		return &ProtocolError{Op: op, Reason: reason + inDoubt(op), Err: sentinel}
	}
	if len(raw) > maxBody {
		return nil, broken("answer larger than 8 MiB", nil)
	}
	if resp.StatusCode >= 500 {
		return nil, &ServerError{StatusCode: resp.StatusCode, Body: shortBody(raw)}
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		return nil, broken(redirectReason(resp), ErrRedirect)
	}
	if echo := resp.Header.Get("X-Request-Id"); echo != reqID {
		return nil, broken("the answer was not the answer to this request (a proxy or the network mixed answers up)", nil)
	}
	var env envelope[T]
	derr := json.Unmarshal(raw, &env)
	var typeErr *json.UnmarshalTypeError
	if derr != nil && !errors.As(derr, &typeErr) {
		return nil, broken(fmt.Sprintf("HTTP %d with a body that is not JSON", resp.StatusCode), nil)
	}
	if env.Error != nil && env.Error.Code != 0 {
		if st := resp.Header.Get("X-Server-Time"); st != "" {
			env.Error.ServerTime, _ = strconv.ParseInt(st, 10, 64)
		}
		env.Error.settle()
		return nil, env.Error
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, broken(fmt.Sprintf("HTTP %d without an error object", resp.StatusCode), nil)
	}
	if derr != nil {
		return nil, broken("unexpected data: "+shortText(derr.Error()), nil)
	}
	if env.Data == nil {
		return nil, broken("answer has neither data nor error", nil)
	}
	if err := P(env.Data).settle(); err != nil {
		return nil, broken("unexpected data: "+err.Error(), nil)
	}
	return env.Data, nil
}

// bodyBufs holds the buffers answers are read into, for the next answer:
// a walk over many pages of snapshots reads each page into the same memory.
var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer kept for reuse.
const maxPooledBody = 1 << 20

// readBody reads the answer, at most maxBody+1 bytes, into a buffer from
// bodyBufs, grown once to the announced length when there is one. Give it
// back with putBody.
func readBody(resp *http.Response) (*bytes.Buffer, error) {
	buf := bodyBufs.Get().(*bytes.Buffer)
	buf.Reset()
	if n := resp.ContentLength; n > 0 && n <= maxBody {
		buf.Grow(int(n) + bytes.MinRead) // room for the read that sees the end
	}
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBody+1))
	return buf, err
}

func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBody {
		bodyBufs.Put(buf)
	}
}

// redirectReason says what the redirect answer was and where it pointed
// (the host only, cleaned for display).
func redirectReason(resp *http.Response) string {
	to := ""
	if loc, err := resp.Location(); err == nil && loc.Host != "" {
		to = " to " + shortText(loc.Host)
	}
	return fmt.Sprintf("the API answered with a redirect (HTTP %d%s), which it never does; it was not followed", resp.StatusCode, to)
}

// inDoubt is what a broken answer to op means for the operator: for a
// transfer, that whether it was made is unknown until its trace is looked
// up. Reads need nothing added.
func inDoubt(op string) string {
	switch op {
	case "POST /transfers":
		return "; whether the transfer was made is unknown: it is settled by its trace"
	case "POST /pin/verify":
		return "; whether the PIN was checked is unknown"
	}
	return ""
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func stripQuery(uri string) string {
	p, _, _ := strings.Cut(uri, "?")
	return p
}

func shortBody(b []byte) string { return shortText(strings.TrimSpace(string(b))) }

// shortText is outside text for an error message: display-safe and cut
// to 200 bytes on a character boundary.
func shortText(s string) string {
	s = DisplayText(s)
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

// ClockSkew reports, for a 401 answer carrying X-Server-Time, how far the
// local clock is from the server's, and whether it is more than 5 minutes.
func ClockSkew(err error, now time.Time) (time.Duration, bool) {
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeUnauthorized || e.ServerTime == 0 {
		return 0, false
	}
	d := now.Sub(time.Unix(0, e.ServerTime))
	if d < 0 {
		d = -d
	}
	return d, d > 5*time.Minute
}
