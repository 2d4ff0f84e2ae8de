// Package apicore is the request core the two API clients share (mixin,
// the legacy API, and safe, the Safe API): a call's body is marshalled
// once and exactly those bytes are signed and sent; every answer must echo
// the request id; its data or error is decoded in one pass with the
// envelope and checked once; reads are tried again on a 5xx, a transport
// failure or a 429, and nothing else is ever tried again (a payment post
// is one try); a redirect is never followed.
//
// It knows neither client's types: a client names what went wrong in its
// own typed errors through an Errors, signs with its own Signer, and gives
// each answer type its own check.
package apicore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Signer makes the bearer token of one request: over its method, URI (path
// and query) and body, with reqID as the token id.
type Signer interface {
	Token(method, uri string, body []byte, reqID string, now time.Time) (string, error)
}

// Policy bounds the retries of reads.
type Policy struct {
	Attempts int           // total tries; below 1 means 1
	Base     time.Duration // first back-off; doubled each time, with jitter
	Max      time.Duration // cap of one back-off
}

// Errors is how a client names what went wrong, in its own types. E is the
// type an answer's error object decodes into.
type Errors[E any] struct {
	// Prefix starts the errors made before anything is sent ("mixin").
	Prefix string
	// Transport is a failure to get any answer.
	Transport func(op string, err error) error
	// Server is a 5xx answer; body is its start, display-safe.
	Server func(status int, body string) error
	// Protocol is an answer that breaks the contract; redirect says that
	// it was a redirect, refused.
	Protocol func(op, reason string, redirect bool) error
	// Failed is the error an answer's error object names, cleaned, with
	// serverTime the answer's X-Server-Time (Unix nanoseconds, 0 when
	// absent); nil when the object names none (code 0).
	Failed func(e *E, serverTime int64) error
	// RateLimited tells the application errors after which a read is
	// tried again (429).
	RateLimited func(error) bool
	// InDoubt is what a broken answer to op means for the operator,
	// added to its reason: for a payment, that whether it was made is
	// unknown. "" for reads.
	InDoubt func(op string) string
	// Clean makes outside text display-safe.
	Clean func(string) string
}

// Conn is how a client reaches its host for one call.
type Conn[E any] struct {
	Base    string       // scheme, host and path prefix, without a trailing "/"
	HTTP    *http.Client // one that refuses redirects (NoRedirects)
	Timeout time.Duration
	Retry   Policy
	Signer  Signer
	Now     func() time.Time // the clock of the tokens
	Errors  *Errors[E]
}

// Call is one logical API call.
type Call struct {
	Method string
	Path   string     // already escaped
	Query  url.Values // may be nil; encoded with sorted keys, '+' as %2B
	Body   any        // marshalled once; nil for none
	Retry  bool       // reads only: never a call that can pay
}

// Do makes one logical call and returns its data, decoded into T and
// checked by settle (see Decode). Only a call with Retry is tried again,
// on a 5xx, a transport failure (a per-request timeout included) or a
// rate limit, at most Retry.Attempts times; the caller's own cancellation
// ends the waits and returns the last error.
func Do[T, E any](ctx context.Context, c *Conn[E], cl Call, settle func(*T) error) (*T, error) {
	var body []byte
	if cl.Body != nil {
		b, err := json.Marshal(cl.Body)
		if err != nil {
			return nil, fmt.Errorf("%s: encoding %s %s: %w", c.Errors.Prefix, cl.Method, cl.Path, err)
		}
		body = b
	}
	uri := cl.Path
	if len(cl.Query) > 0 {
		// Encode escapes '+' as %2B, as offsets with a time zone need.
		uri += "?" + cl.Query.Encode()
	}
	attempts := 1
	if cl.Retry {
		attempts = max(c.Retry.Attempts, 1)
	}
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			if werr := sleepCtx(ctx, c.Retry.backoff(i)); werr != nil {
				return nil, err
			}
		}
		var out *T
		var again bool
		out, again, err = once(ctx, c, cl.Method, uri, body, settle)
		if err == nil || !cl.Retry || !again {
			return out, err
		}
	}
	return nil, err
}

func (p Policy) backoff(attempt int) time.Duration {
	d := p.Base << (attempt - 1)
	if d > p.Max || d <= 0 {
		d = p.Max
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
// echo and decodes data or error in one pass. again says whether the
// failure is one a read tries again after.
func once[T, E any](ctx context.Context, c *Conn[E], method, uri string, body []byte, settle func(*T) error) (out *T, again bool, err error) {
	op := method + " " + stripQuery(uri)
	reqID := uuid.NewString()
	token, err := c.Signer.Token(method, uri, body, reqID, c.Now())
	if err != nil {
		return nil, false, err
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+uri, rd)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %s: %w", c.Errors.Prefix, op, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", reqID)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, true, c.Errors.Transport(op, err)
	}
	defer resp.Body.Close()
	buf, err := readBody(resp)
	defer putBody(buf)
	if err != nil {
		return nil, true, c.Errors.Transport(op, err)
	}
	// Nothing decoded keeps a reference to the body's bytes, so its buffer
	// goes back to the pool when once returns.
	return decode(c.Errors, op, reqID, resp, buf.Bytes(), settle)
}

func stripQuery(uri string) string {
	p, _, _ := strings.Cut(uri, "?")
	return p
}

// serverTime is the answer's X-Server-Time, 0 when absent.
func serverTime(h http.Header) int64 {
	st := h.Get("X-Server-Time")
	if st == "" {
		return 0
	}
	n, _ := strconv.ParseInt(st, 10, 64)
	return n
}
