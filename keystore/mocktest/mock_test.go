// Package mocktest runs the keystore's System backend over go-keyring's
// in-memory mock. keyring.MockInit replaces go-keyring's provider for the
// whole test binary and cannot be undone (go-keyring v0.2.8), and the mock
// is not safe for concurrent use, so these tests live apart from the
// real-keyring tests and never run in parallel.
package mocktest

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"mixdesk/keystore"
	"mixdesk/keystore/internal/testcreds"
)

func TestMain(m *testing.M) {
	// The Store's check for a session bus runs before go-keyring is
	// called; the mock needs no bus, so give it an address to find.
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		_ = os.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/mocktest")
	}
	keyring.MockInit()
	os.Exit(m.Run())
}

func newStore(t *testing.T) *keystore.Store {
	t.Helper()
	s, err := keystore.New(keystore.System(), keystore.Options{Service: "mixdesk-mocktest", CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func profile(t *testing.T, k testcreds.Kind, keep bool) keystore.Profile {
	t.Helper()
	c, err := testcreds.Make(k)
	if err != nil {
		t.Fatal(err)
	}
	p := keystore.Profile{Credentials: c, KeepPIN: keep}
	if !keep {
		p.PIN = ""
	}
	return p
}

func TestSystemBackendOverMock(t *testing.T) {
	keyring.MockInit()
	s := newStore(t)
	ctx := context.Background()
	if err := s.Probe(ctx); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	for _, k := range testcreds.All {
		name := string(k)
		p := profile(t, k, k != testcreds.RSA2048)
		if err := s.Save(ctx, name, p, false); err != nil {
			t.Fatalf("%s: Save: %v", k, err)
		}
		got, err := s.Load(ctx, name)
		if err != nil {
			t.Fatalf("%s: Load: %v", k, err)
		}
		if got.ClientID != p.ClientID || got.PIN != p.PIN || got.KeepPIN != p.KeepPIN ||
			got.PrivateKey != strings.TrimSpace(p.PrivateKey) || got.PINToken != p.PINToken {
			t.Fatalf("%s: Load returned another profile", k)
		}
	}
	if err := s.Save(ctx, "rsa-1024", profile(t, testcreds.Ed25519, true), false); !errors.Is(err, keystore.ErrExists) {
		t.Fatalf("Save over an existing profile = %v, want ErrExists", err)
	}
	if err := s.Rename(ctx, "rsa-1024", "legacy"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "legacy"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, "legacy"); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("Load after Delete = %v, want ErrNotFound", err)
	}
	names, err := s.List(ctx)
	if err != nil || len(names) != len(testcreds.All)-1 {
		t.Fatalf("List = %v, %v", names, err)
	}
	// Every part the Store wrote for a deleted profile is gone from the
	// mock too.
	for _, slot := range []string{"a", "b"} {
		for i := 0; i < 6; i++ {
			user := "profile:legacy:" + slot + ":" + string(rune('0'+i))
			if _, err := keyring.Get("mixdesk-mocktest", user); !errors.Is(err, keyring.ErrNotFound) {
				t.Fatalf("%s left behind: %v", user, err)
			}
		}
	}
}

func TestSystemBackendErrors(t *testing.T) {
	cases := []struct {
		err  error
		kind error
	}{
		{keyring.ErrSetDataTooBig, keystore.ErrTooLarge},
		{keyring.ErrUnsupportedPlatform, keystore.ErrNoProvider},
		{errors.New("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"), keystore.ErrLocked},
		{errors.New("something else"), keystore.ErrUnavailable},
	}
	for _, tc := range cases {
		keyring.MockInitWithError(tc.err)
		s := newStore(t)
		for _, err := range []error{
			s.Probe(context.Background()),
			s.Save(context.Background(), "main", profile(t, testcreds.Ed25519, true), false),
		} {
			if !errors.Is(err, tc.kind) {
				t.Fatalf("mock error %q gave %v, want kind %v", tc.err, err, tc.kind)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("not one line: %q", err)
			}
		}
	}
	keyring.MockInit()
}
