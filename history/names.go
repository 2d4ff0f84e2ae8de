package history

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"mixdesk/mixin"
	"mixdesk/payout/rail"
)

// Name look-ups: how many run at once, and how long a failed id is left
// alone before it is asked for again.
const (
	nameWorkers = 4
	// nameRetryAfter: after a failure that may pass (timeout, 5xx, 429).
	nameRetryAfter = 30 * time.Second
	// nameGoneFor: after an answer that will not change soon (no such
	// user, not a user id).
	nameGoneFor = 10 * time.Minute
	// maxNameRunes bounds a name as kept.
	maxNameRunes = 128
)

// Names is a cache of counterparty names (the user's full name), filled by
// Resolve. It is safe for concurrent use. An open account keeps one, so
// that each name is asked for once.
type Names struct {
	rail UserReader
	now  func() time.Time

	mu     sync.Mutex
	known  map[string]string
	ids    map[string]string        // id -> Mixin ID number, as the server gave it
	failed map[string]time.Time     // id -> not asked again before
	busy   map[string]chan struct{} // ids being looked up; closed when done
}

// UserReader is the part of a rail that names read (a rail.Rail is one).
type UserReader interface {
	User(ctx context.Context, userID string) (*rail.User, error)
}

// NewNames makes an empty cache of the names r reads; now is its clock
// (when a failed look-up may be tried again), nil meaning time.Now. A
// cache without a rail cannot resolve.
func NewNames(r UserReader, now func() time.Time) *Names {
	if now == nil {
		now = time.Now
	}
	return &Names{rail: r, now: now, known: make(map[string]string), ids: make(map[string]string),
		failed: make(map[string]time.Time), busy: make(map[string]chan struct{})}
}

// Get returns the cached name of a user.
func (n *Names) Get(userID string) (string, bool) {
	if n == nil {
		return "", false
	}
	id := strings.ToLower(userID)
	n.mu.Lock()
	defer n.mu.Unlock()
	s, ok := n.known[id]
	return s, ok
}

// MixinID returns the Mixin ID number of a user whose name is cached, as
// the server gave it with the name, or "".
func (n *Names) MixinID(userID string) string {
	if n == nil {
		return ""
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ids[strings.ToLower(userID)]
}

// Name returns the cached name of a user, or "" (a func for Filter and
// WriteCSV).
func (n *Names) Name(userID string) string {
	s, _ := n.Get(userID)
	return s
}

// Resolve looks up, with the API, the names of the ids not cached yet, a
// few at a time, and caches them. An id being looked up by another Resolve
// is waited for, not asked twice. An id whose look-up failed is not asked
// again for a while (30 s; 10 min for an unknown user or a malformed id):
// Resolve skips it without error. The error tells how many look-ups failed;
// the names found are cached either way.
func (n *Names) Resolve(ctx context.Context, ids []string) error {
	if n == nil || n.rail == nil {
		return errors.New("history: names cannot be looked up without a connection to the server")
	}
	var mine []string
	var waits []chan struct{}
	now := n.now()
	n.mu.Lock()
	for _, id := range ids {
		id = strings.ToLower(strings.TrimSpace(id))
		if id == "" {
			continue
		}
		if _, ok := n.known[id]; ok {
			continue
		}
		if until, ok := n.failed[id]; ok && now.Before(until) {
			continue
		}
		if ch, ok := n.busy[id]; ok {
			if !slices.Contains(waits, ch) {
				waits = append(waits, ch)
			}
			continue
		}
		n.busy[id] = make(chan struct{})
		mine = append(mine, id)
	}
	n.mu.Unlock()

	errs := make([]error, len(mine))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(nameWorkers, len(mine)) {
		wg.Go(func() {
			for i := range next {
				errs[i] = n.lookup(ctx, mine[i])
			}
		})
	}
	for i, id := range mine {
		if ctx.Err() != nil {
			n.release(id) // never asked
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()

	for _, ch := range waits {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var failed int
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
		}
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case failed > 0:
		return fmt.Errorf("history: %d of %d names could not be looked up: %w", failed, len(mine), first)
	}
	return nil
}

// lookup asks for one name and records the answer; the id must be busy.
func (n *Names) lookup(ctx context.Context, id string) error {
	u, err := n.rail.User(ctx, id)
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case err == nil && u != nil:
		n.known[id] = cleanUserName(u.FullName)
		n.ids[id] = u.IdentityNumber
		delete(n.failed, id)
	case ctx.Err() != nil:
		// Given up by the caller: nothing is learned about the id.
	case err != nil && (errors.Is(err, rail.ErrNotFound) || errors.Is(err, rail.ErrInvalid) || isClientFieldError(err)):
		n.failed[id] = n.now().Add(nameGoneFor)
	default:
		n.failed[id] = n.now().Add(nameRetryAfter)
		if err == nil {
			err = errors.New("the server sent no user")
		}
	}
	if ch, ok := n.busy[id]; ok {
		close(ch)
		delete(n.busy, id)
	}
	return err
}

// release gives up an id claimed but not looked up.
func (n *Names) release(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ch, ok := n.busy[id]; ok {
		close(ch)
		delete(n.busy, id)
	}
}

func isClientFieldError(err error) bool {
	var fe *mixin.FieldError
	return errors.As(err, &fe)
}

// cleanUserName makes a name from the server safe to show in a terminal
// and to export: mixin.DisplayText (no escape sequences, controls,
// invisible or direction-changing characters), on one line with every run
// of spaces made one (so that padding cannot push a part of it out of
// sight), at most maxNameRunes runes with an ellipsis when cut.
func cleanUserName(s string) string {
	s = strings.Join(strings.Fields(mixin.DisplayText(s)), " ")
	if utf8.RuneCountInString(s) <= maxNameRunes {
		return s
	}
	r := []rune(s)[:maxNameRunes-1]
	return strings.TrimRight(string(r), " ") + "…"
}
