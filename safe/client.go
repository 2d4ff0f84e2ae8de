package safe

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"mixdesk/mixin"
	"mixdesk/mixin/apicore"
)

// Client talks to one Safe API host as one account (docs/safe-api.md). It
// signs every request like the legacy client (a fresh EdDSA token, 5 min,
// jti = X-Request-Id), retries reads on 5xx, transport failures and 429,
// and never retries a call that can spend. Errors are the legacy client's
// types: *mixin.Error (with the predicates of errors.go),
// *mixin.ServerError, *mixin.TransportError, *mixin.ProtocolError
// (mixin.IsServerOrTransport = outcome unknown). Safe for concurrent use.
type Client struct {
	base    string
	acct    *Account
	http    *http.Client
	retry   mixin.RetryPolicy
	now     func() time.Time
	timeout time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the HTTP client; the client works on a copy that
// refuses every redirect.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTimeout bounds each single request (default 15 s).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRetry sets the read retry policy (default mixin.DefaultRetry).
func WithRetry(p mixin.RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithClock sets the clock of the tokens (tests).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// NewClient makes a client for baseURL (https, or http on loopback only).
func NewClient(baseURL string, acct *Account, opts ...Option) (*Client, error) {
	base, err := apicore.BaseURL(baseURL, mixin.DefaultBaseURL)
	if err != nil {
		return nil, &mixin.FieldError{Field: "API URL", Reason: err.Error()}
	}
	if acct == nil {
		return nil, errors.New("safe: NewClient needs an account")
	}
	c := &Client{base: base, acct: acct, http: &http.Client{}, retry: mixin.DefaultRetry, now: time.Now, timeout: 15 * time.Second}
	for _, o := range opts {
		o(c)
	}
	c.http = apicore.NoRedirects(c.http)
	return c, nil
}

// Account is the account the client acts as.
func (c *Client) Account() *Account { return c.acct }

// checked is what an answer decodes into: it checks and cleans itself once,
// where it enters the program.
type checked interface{ check() error }

// call is one logical API call.
type call struct {
	method string
	path   string     // escaped
	query  url.Values // may be nil; encoded with sorted keys
	body   any        // marshalled once; nil for GET
	retry  bool       // reads (and /safe/keys) only
}

// do makes one logical call and decodes its data into out, from the data
// the envelope's pass kept raw, then checks it once. Only a call with
// retry is tried again; a verify or a submit never is.
func (c *Client) do(ctx context.Context, cl call, out checked) error {
	conn := apicore.Conn[mixin.Error]{
		Base: c.base, HTTP: c.http, Timeout: c.timeout, Retry: apicore.Policy(c.retry),
		Signer: c.acct.session, Now: c.now, Errors: &apiErrors,
	}
	_, err := apicore.Do(ctx, &conn, apicore.Call{Method: cl.method, Path: cl.path, Query: cl.query, Body: cl.body, Retry: cl.retry},
		func(data *json.RawMessage) error {
			if err := json.Unmarshal(*data, out); err != nil {
				return err
			}
			return out.check()
		})
	return err
}

// apiErrors is how the request core names what went wrong: in the legacy
// client's typed errors (docs/safe-api.md §5).
var apiErrors = apicore.Errors[mixin.Error]{
	Prefix:    "safe",
	Transport: func(op string, err error) error { return &mixin.TransportError{Op: op, Err: err} },
	Server:    func(status int, body string) error { return &mixin.ServerError{StatusCode: status, Body: body} },
	Protocol: func(op, reason string, redirect bool) error {
		pe := &mixin.ProtocolError{Op: op, Reason: reason}
		if redirect {
			pe.Err = mixin.ErrRedirect
		}
		return pe
	},
	Failed: func(e *mixin.Error, serverTime int64) error {
		if e.Code == 0 {
			return nil
		}
		e.ServerTime = serverTime
		e.Description = shortText(e.Description)
		// Extra is free text from outside; only the name of a bad field is kept.
		if f := e.Field(); f != "" {
			e.Extra = map[string]any{"field": shortText(f)}
		} else {
			e.Extra = nil
		}
		return e
	},
	RateLimited: mixin.IsTooManyRequests,
	InDoubt:     inDoubt,
	Clean:       mixin.DisplayText,
}

// inDoubt is what a broken answer means for a call that can spend.
func inDoubt(op string) string {
	if op == "POST /safe/transactions" {
		return "; whether the transaction was submitted is unknown: it is settled by its request id"
	}
	return ""
}

// shortText is outside text for an error message: display-safe, at most
// 200 bytes.
func shortText(s string) string { return apicore.ShortText(mixin.DisplayText, s) }
