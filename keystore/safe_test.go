package keystore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"mixdesk/mixin"
	"mixdesk/safe"
	safesandbox "mixdesk/safe/sandbox"
)

// safeKeystore is a Safe keystore of a sandbox world.
func safeKeystore(t *testing.T) safe.Keystore {
	t.Helper()
	_, w, err := safesandbox.NewWorld(safesandbox.Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return w.Operator
}

// TestSafeProfileRoundTrip: a Safe profile is stored and read back whole,
// and its kind is told.
func TestSafeProfileRoundTrip(t *testing.T) {
	k := safeKeystore(t)
	s, err := New(NewMemory(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := Profile{Safe: &k}
	if p.Kind() != "safe" {
		t.Fatalf("kind %q", p.Kind())
	}
	if err := s.Save(ctx, "safe-desk", p, false); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, "safe-desk")
	if err != nil {
		t.Fatal(err)
	}
	if got.Safe == nil || *got.Safe != k || got.Kind() != "safe" {
		t.Fatalf("loaded %v, want the same keystore", got)
	}
	if _, err := got.Safe.Open(); err != nil {
		t.Fatalf("the loaded keystore does not open: %v", err)
	}
}

// TestSafeProfileNeverPrintsItsKeys: no format, log or JSON shows a key.
func TestSafeProfileNeverPrintsItsKeys(t *testing.T) {
	k := safeKeystore(t)
	p := Profile{Safe: &k}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("profile", "p", p)
	out := fmt.Sprintf("%v %+v %#v %s %q %x", p, p, p, p, p, p) + logged.String() + p.String()
	for name, secret := range map[string]string{"session key": k.SessionPrivateKey, "spend key": k.SpendPrivateKey} {
		if strings.Contains(out, secret) || strings.Contains(out, secret[:16]) {
			t.Errorf("the %s was printed", name)
		}
	}
	if !strings.Contains(out, "spend key [redacted]") {
		t.Errorf("printed %q", out)
	}
	if _, err := p.MarshalJSON(); err == nil {
		t.Error("a Safe profile was encoded as JSON")
	}
}

// TestSafeProfileChecked: a Safe profile without its spend key, or with a
// key that does not open, is refused with one line naming the field,
// never quoting a key, and nothing is stored.
func TestSafeProfileChecked(t *testing.T) {
	s, err := New(NewMemory(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, edit := range map[string]func(*safe.Keystore){
		"no spend key":  func(k *safe.Keystore) { k.SpendPrivateKey = "" },
		"bad spend key": func(k *safe.Keystore) { k.SpendPrivateKey = "zz" + k.SpendPrivateKey[2:] },
		"bad app id":    func(k *safe.Keystore) { k.AppID = "not-a-uuid" },
	} {
		k := safeKeystore(t)
		secret := k.SpendPrivateKey
		edit(&k)
		err := s.Save(ctx, "safe-bad", Profile{Safe: &k}, true)
		var fe *mixin.FieldError
		if !errors.As(err, &fe) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), secret[4:]) {
			t.Errorf("%s: %v, want one line naming the field", name, err)
		}
		if ok, _ := s.Exists(ctx, "safe-bad"); ok {
			t.Errorf("%s: stored", name)
		}
	}
}

// TestRealSafeProfileRoundTrip: a Safe profile goes through the system
// keyring (the Secret Service in CI, Wine's Credential Manager for the
// Windows build) and comes back whole.
func TestRealSafeProfileRoundTrip(t *testing.T) {
	s, svc := realStore(t)
	ctx := ctxT(t)
	k := safeKeystore(t)
	if err := s.Save(ctx, "safe", Profile{Safe: &k}, false); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, "safe")
	if err != nil || got.Safe == nil || *got.Safe != k {
		t.Fatalf("Load = %v, %v", got, err)
	}
	wantRealEntries(t, svc, "safe")
}
