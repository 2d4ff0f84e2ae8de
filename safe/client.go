package safe

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
	"time"

	"github.com/google/uuid"

	"mixdesk/mixin"
)

// maxBody bounds what is read of any answer.
const maxBody = 8 << 20

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
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &mixin.FieldError{Field: "API URL", Reason: "need http(s)://host, e.g. " + mixin.DefaultBaseURL}
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, &mixin.FieldError{Field: "API URL", Reason: "plain http is allowed only for a sandbox on this machine (localhost, 127.0.0.1, ::1); use https"}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, &mixin.FieldError{Field: "API URL", Reason: "must not carry a query or fragment"}
	}
	if acct == nil {
		return nil, errors.New("safe: NewClient needs an account")
	}
	c := &Client{base: u.String(), acct: acct, http: &http.Client{}, retry: mixin.DefaultRetry, now: time.Now, timeout: 15 * time.Second}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	own := *c.http
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &own
	if c.retry.Attempts < 1 {
		c.retry.Attempts = 1
	}
	return c, nil
}

// Account is the account the client acts as.
func (c *Client) Account() *Account { return c.acct }

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

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

// do makes one logical call and decodes its data into out.
func (c *Client) do(ctx context.Context, cl call, out checked) error {
	var body []byte
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return fmt.Errorf("safe: encoding %s %s: %w", cl.method, cl.path, err)
		}
		body = b
	}
	uri := cl.path
	if len(cl.query) > 0 {
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
				return err
			}
		}
		err = c.once(ctx, cl.method, uri, body, out)
		if err == nil || !cl.retry || !retryable(err) {
			return err
		}
	}
	return err
}

func retryable(err error) bool {
	var se *mixin.ServerError
	var te *mixin.TransportError
	return errors.As(err, &se) || errors.As(err, &te) || mixin.IsTooManyRequests(err)
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.retry.Base << (attempt - 1)
	if d > c.retry.Max || d <= 0 {
		d = c.retry.Max
	}
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
// echo and decodes data or error.
func (c *Client) once(ctx context.Context, method, uri string, body []byte, out checked) error {
	op := method + " " + stripQuery(uri)
	reqID := uuid.NewString()
	token, err := c.acct.session.Token(method, uri, body, reqID, c.now())
	if err != nil {
		return err
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
		return fmt.Errorf("safe: %s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", reqID)
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &mixin.TransportError{Op: op, Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return &mixin.TransportError{Op: op, Err: err}
	}
	return decodeAnswer(op, reqID, resp, raw, out)
}

// decodeAnswer turns an answer into its data or an error (docs/safe-api.md
// §5): a 5xx is a ServerError, an error object a *mixin.Error, anything off
// the contract a ProtocolError.
func decodeAnswer(op, reqID string, resp *http.Response, raw []byte, out checked) error {
	broken := func(reason string, sentinel error) error {
		return &mixin.ProtocolError{Op: op, Reason: reason + inDoubt(op), Err: sentinel}
	}
	if len(raw) > maxBody {
		return broken("answer larger than 8 MiB", nil)
	}
	if resp.StatusCode >= 500 {
		return &mixin.ServerError{StatusCode: resp.StatusCode, Body: shortText(string(bytes.TrimSpace(raw)))}
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		return broken(fmt.Sprintf("the API answered with a redirect (HTTP %d), which it never does; it was not followed", resp.StatusCode), mixin.ErrRedirect)
	}
	if echo := resp.Header.Get("X-Request-Id"); echo != reqID {
		return broken("the answer was not the answer to this request (a proxy or the network mixed answers up)", nil)
	}
	var env struct {
		Data  json.RawMessage `json:"data"`
		Error *mixin.Error    `json:"error"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return broken(fmt.Sprintf("HTTP %d with a body that is not JSON", resp.StatusCode), nil)
	}
	if env.Error != nil && env.Error.Code != 0 {
		if st := resp.Header.Get("X-Server-Time"); st != "" {
			env.Error.ServerTime, _ = strconv.ParseInt(st, 10, 64)
		}
		env.Error.Description = shortText(env.Error.Description)
		// Extra is free text from outside; only the name of a bad field is kept.
		if f := env.Error.Field(); f != "" {
			env.Error.Extra = map[string]any{"field": shortText(f)}
		} else {
			env.Error.Extra = nil
		}
		return env.Error
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return broken(fmt.Sprintf("HTTP %d without an error object", resp.StatusCode), nil)
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return broken("answer has neither data nor error", nil)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return broken("unexpected data: "+shortText(err.Error()), nil)
	}
	if err := out.check(); err != nil {
		return broken("unexpected data: "+shortText(err.Error()), nil)
	}
	return nil
}

// inDoubt is what a broken answer means for a call that can spend.
func inDoubt(op string) string {
	if op == "POST /safe/transactions" {
		return "; whether the transaction was submitted is unknown: it is settled by its request id"
	}
	return ""
}

func stripQuery(uri string) string {
	p, _, _ := strings.Cut(uri, "?")
	return p
}

// shortText is outside text for an error message: display-safe, at most
// 200 bytes.
func shortText(s string) string {
	s = mixin.DisplayText(s)
	if len(s) > 200 {
		cut := 200
		for cut > 0 && s[cut]&0xc0 == 0x80 {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}
