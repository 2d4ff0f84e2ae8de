package apicore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxBody bounds what is read of any answer.
const MaxBody = 8 << 20

// envelope is every answer's body: data or error. The data is decoded
// straight into its final type, in the same pass as the envelope.
type envelope[T, E any] struct {
	Data  *T `json:"data"`
	Error *E `json:"error"`
}

// Decode turns an answer to op (sent with request id reqID) into its data
// or an error: larger than MaxBody, a redirect, a wrong request id echo or
// anything else off the contract is a Protocol error; a 5xx a Server
// error; an error object what Failed makes of it. The data is decoded in
// one pass with the envelope, then checked and cleaned by settle, once.
func Decode[T, E any](errs *Errors[E], op, reqID string, resp *http.Response, raw []byte, settle func(*T) error) (*T, error) {
	out, _, err := decode(errs, op, reqID, resp, raw, settle)
	return out, err
}

// decode is Decode that also says whether a read tries again after the
// failure (a 5xx, a rate limit).
func decode[T, E any](errs *Errors[E], op, reqID string, resp *http.Response, raw []byte, settle func(*T) error) (*T, bool, error) {
	broken := func(reason string, redirect bool) error {
		return errs.Protocol(op, reason+errs.InDoubt(op), redirect)
	}
	if len(raw) > MaxBody {
		return nil, false, broken("answer larger than 8 MiB", false)
	}
	if resp.StatusCode >= 500 {
		return nil, true, errs.Server(resp.StatusCode, ShortText(errs.Clean, strings.TrimSpace(string(raw))))
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		return nil, false, broken(redirectReason(errs.Clean, resp), true)
	}
	if echo := resp.Header.Get("X-Request-Id"); echo != reqID {
		return nil, false, broken("the answer was not the answer to this request (a proxy or the network mixed answers up)", false)
	}
	var env envelope[T, E]
	derr := json.Unmarshal(raw, &env)
	var typeErr *json.UnmarshalTypeError
	if derr != nil && !errors.As(derr, &typeErr) {
		return nil, false, broken(fmt.Sprintf("HTTP %d with a body that is not JSON", resp.StatusCode), false)
	}
	if env.Error != nil {
		if err := errs.Failed(env.Error, serverTime(resp.Header)); err != nil {
			return nil, errs.RateLimited(err), err
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, false, broken(fmt.Sprintf("HTTP %d without an error object", resp.StatusCode), false)
	}
	if derr != nil {
		return nil, false, broken("unexpected data: "+ShortText(errs.Clean, derr.Error()), false)
	}
	if env.Data == nil {
		return nil, false, broken("answer has neither data nor error", false)
	}
	if err := settle(env.Data); err != nil {
		return nil, false, broken("unexpected data: "+ShortText(errs.Clean, err.Error()), false)
	}
	return env.Data, false, nil
}

// bodyBufs holds the buffers answers are read into, for the next answer:
// a walk over many pages reads each page into the same memory.
var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer kept for reuse.
const maxPooledBody = 1 << 20

// readBody reads the answer, at most MaxBody+1 bytes, into a buffer from
// bodyBufs, grown once to the announced length when there is one. Give it
// back with putBody.
func readBody(resp *http.Response) (*bytes.Buffer, error) {
	buf := bodyBufs.Get().(*bytes.Buffer)
	buf.Reset()
	if n := resp.ContentLength; n > 0 && n <= MaxBody {
		buf.Grow(int(n) + bytes.MinRead) // room for the read that sees the end
	}
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, MaxBody+1))
	return buf, err
}

func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBody {
		bodyBufs.Put(buf)
	}
}

// redirectReason says what the redirect answer was and where it pointed
// (the host only, cleaned for display).
func redirectReason(clean func(string) string, resp *http.Response) string {
	to := ""
	if loc, err := resp.Location(); err == nil && loc.Host != "" {
		to = " to " + ShortText(clean, loc.Host)
	}
	return fmt.Sprintf("the API answered with a redirect (HTTP %d%s), which it never does; it was not followed", resp.StatusCode, to)
}

// ShortText is outside text for an error message: made display-safe by
// clean and cut to 200 bytes on a character boundary.
func ShortText(clean func(string) string, s string) string {
	s = clean(s)
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}
