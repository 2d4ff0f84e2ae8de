package keystore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mixdesk/keystore/internal/testcreds"
	"mixdesk/mixin"
)

// creds returns valid generated credentials of kind k.
func creds(t testing.TB, k testcreds.Kind) mixin.Credentials {
	t.Helper()
	c, err := testcreds.Make(k)
	if err != nil {
		t.Fatalf("generating %s credentials: %v", k, err)
	}
	return c
}

func profileOf(t testing.TB, k testcreds.Kind, keepPIN bool) Profile {
	t.Helper()
	p := Profile{Credentials: creds(t, k), KeepPIN: keepPIN}
	if !keepPIN {
		p.PIN = ""
	}
	return p
}

// newMemStore returns a Store over a fresh Memory with a short call timeout.
func newMemStore(t testing.TB) (*Store, *Memory) {
	t.Helper()
	m := NewMemory()
	s, err := New(m, Options{CallTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s, m
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// kindName names the Kind of a keystore error for messages and for the
// helper process's report.
func kindName(err error) string {
	if err == nil {
		return "nil"
	}
	for _, k := range []struct {
		err  error
		name string
	}{
		{ErrNotFound, "not-found"}, {ErrExists, "exists"}, {ErrInvalidName, "invalid-name"},
		{ErrCorrupt, "corrupt"}, {ErrLimit, "limit"}, {ErrTooLarge, "too-large"},
		{ErrNoBus, "no-bus"}, {ErrNoProvider, "no-provider"}, {ErrLocked, "locked"},
		{ErrTimeout, "timeout"}, {context.Canceled, "canceled"}, {ErrUnavailable, "unavailable"},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		return "field"
	}
	return "other"
}

func wantKind(t testing.TB, err error, kind string) {
	t.Helper()
	if got := kindName(err); got != kind {
		t.Fatalf("error kind = %s, want %s (error: %v)", got, kind, err)
	}
	if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("error is not one line: %q", err.Error())
	}
}

// secretsOf lists the secret values of c that must never be printed.
func secretsOf(c mixin.Credentials) []string {
	out := []string{c.PINToken}
	if c.PIN != "" {
		out = append(out, c.PIN)
	}
	key := strings.TrimSpace(c.PrivateKey)
	// Any line of a PEM body, or the whole of a one-line key.
	for _, line := range strings.Split(key, "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

func assertNoSecrets(t testing.TB, where, text string, c mixin.Credentials) {
	t.Helper()
	for _, s := range secretsOf(c) {
		if s != "" && strings.Contains(text, s) {
			t.Fatalf("%s shows a secret: %q", where, text)
		}
	}
}
