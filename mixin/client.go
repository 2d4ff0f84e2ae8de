package mixin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"mixdesk/mixin/apicore"
)

// DefaultBaseURL is the public API host (MIXIN-API.md §8).
const DefaultBaseURL = "https://api.mixin.one"

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
	base, err := apicore.BaseURL(baseURL, DefaultBaseURL)
	if err != nil {
		return nil, &FieldError{Field: "API URL", Reason: err.Error()}
	}
	if sess == nil {
		return nil, errors.New("mixin: NewClient needs a session")
	}
	c := &Client{
		base:    base,
		sess:    sess,
		http:    &http.Client{},
		retry:   DefaultRetry,
		now:     time.Now,
		timeout: 15 * time.Second,
	}
	for _, o := range opts {
		o(c)
	}
	c.http = apicore.NoRedirects(c.http)
	return c, nil
}

// Session is the session the client signs with.
func (c *Client) Session() *Session { return c.sess }

// BaseURL is the API host the client talks to.
func (c *Client) BaseURL() string { return c.base }

// call is one logical API call.
type call struct {
	method string
	path   string     // already escaped
	query  url.Values // may be nil
	body   any        // marshalled once; nil for GET
	retry  bool       // reads only
}

// do makes one logical call and returns its data, decoded into T, cleaned
// and checked (see answer). Only a call with retry is tried again (see
// RetryPolicy); a transfer never is.
func do[T any, P answer[T]](ctx context.Context, c *Client, cl call) (*T, error) {
	conn := apicore.Conn[Error]{
		Base: c.base, HTTP: c.http, Timeout: c.timeout, Retry: apicore.Policy(c.retry),
		Signer: c.sess, Now: c.now, Errors: &apiErrors,
	}
	return apicore.Do(ctx, &conn, apicore.Call{Method: cl.method, Path: cl.path, Query: cl.query, Body: cl.body, Retry: cl.retry}, settle[T, P])
}

// decodeAnswer turns an answer into its data or an error: a 5xx is a
// ServerError, an error object an *Error, anything off the contract a
// ProtocolError; the data is decoded in one pass with the envelope, then
// cleaned and checked.
func decodeAnswer[T any, P answer[T]](op, reqID string, resp *http.Response, raw []byte) (*T, error) {
	return apicore.Decode(&apiErrors, op, reqID, resp, raw, settle[T, P])
}

func settle[T any, P answer[T]](t *T) error { return P(t).settle() }

// apiErrors is how the request core names what went wrong: in this
// package's typed errors.
var apiErrors = apicore.Errors[Error]{
	Prefix:    "mixin",
	Transport: func(op string, err error) error { return &TransportError{Op: op, Err: err} },
	Server:    func(status int, body string) error { return &ServerError{StatusCode: status, Body: body} },
	Protocol: func(op, reason string, redirect bool) error {
		pe := &ProtocolError{Op: op, Reason: reason}
		if redirect {
			pe.Err = ErrRedirect
		}
		return pe
	},
	Failed: func(e *Error, serverTime int64) error {
		if e.Code == 0 {
			return nil
		}
		e.ServerTime = serverTime
		e.settle()
		return e
	},
	RateLimited: IsTooManyRequests,
	InDoubt:     inDoubt,
	Clean:       DisplayText,
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
