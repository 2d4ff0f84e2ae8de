package faults

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"mixdesk/mixin"
)

// Site is what Serve needs of a sandbox for one call.
type Site struct {
	// MaxBody bounds the request body; a larger one is answered with
	// Unreadable.
	MaxBody int64
	// Now is the sandbox's clock, for X-Server-Time.
	Now func() time.Time
	// Handle routes, authenticates and answers a call whose body was read
	// in full: data, or an application error.
	Handle func(r *http.Request, body []byte) (any, *mixin.Error)
	// Unreadable is the answer to a body that could not be read.
	Unreadable *mixin.Error
	// RateLimited is the answer of a TooManyRequests fault.
	RateLimited *mixin.Error
}

// Serve answers one call as a sandbox does, with the pending faults
// applied: the first fault matching the call is used up, then the call is
// answered, failed, delayed, held or dropped as its kind says. Every
// answer echoes X-Request-Id and carries X-Server-Time (Unix nanoseconds);
// data is {"data": …} with HTTP 200, an application error {"error": …} with
// HTTP 202, as the real service answers.
func (s *Set) Serve(w http.ResponseWriter, r *http.Request, site Site) {
	if id := r.Header.Get("X-Request-Id"); id != "" {
		w.Header().Set("X-Request-Id", id)
	}
	// The body is read first: only then does the server notice a caller
	// that hangs up during an injected delay.
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, site.MaxBody))
	f, faulted := s.take(r.Method, r.URL.Path)
	if faulted {
		switch f.Kind {
		case ServerError:
			writeServerError(w, site.Now, f.Status)
			return
		case TooManyRequests:
			writeReply(w, site.Now, nil, site.RateLimited)
			return
		case Delay:
			if !sleepContext(r.Context(), f.Delay) {
				return // the caller gave up; nothing was done
			}
		case Hold:
			s.held.add()
			defer s.held.done()
			time.Sleep(f.Delay)
		}
	}
	var data any
	var apiErr *mixin.Error
	if readErr != nil {
		apiErr = site.Unreadable
	} else {
		data, apiErr = site.Handle(r, body)
	}
	if faulted && f.Kind == CommitThenDrop {
		// The call took effect; the caller never learns it.
		panic(http.ErrAbortHandler)
	}
	writeReply(w, site.Now, data, apiErr)
}

// writeReply writes {"data": data} with HTTP 200, or {"error": e} with
// HTTP 202.
func writeReply(w http.ResponseWriter, now func() time.Time, data any, e *mixin.Error) {
	status := http.StatusOK
	var payload any = struct {
		Data any `json:"data"`
	}{data}
	if e != nil {
		status = http.StatusAccepted
		payload = struct {
			Error *mixin.Error `json:"error"`
		}{e}
	}
	b, err := json.Marshal(payload)
	if err != nil {
		writeServerError(w, now, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Server-Time", serverTime(now))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeServerError answers a bare 5xx with a non-JSON body, as a failing
// front end does.
func writeServerError(w http.ResponseWriter, now func() time.Time, status int) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Server-Time", serverTime(now))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status)+"\n")
}

func serverTime(now func() time.Time) string { return strconv.FormatInt(now().UnixNano(), 10) }

// sleepContext waits d, or less if ctx ends; it reports whether d passed.
func sleepContext(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
