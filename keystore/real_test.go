package keystore

// Tests against the real OS keyring through go-keyring. They run whenever
// the keyring answers and are skipped, with the reason, otherwise;
// MIXDESK_REQUIRE_KEYRING=1 turns the skip into a failure (CI runs them
// under .ci/with-secret-service.sh). Each test uses its own service name
// and removes it afterwards, so the operator's profiles are never touched.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"mixdesk/keystore/internal/testcreds"
)

// requireEnv makes an unreachable keyring a test failure instead of a skip.
const requireEnv = "MIXDESK_REQUIRE_KEYRING"

func keyringRequired() bool { return os.Getenv(requireEnv) == "1" }

// skipOrFail skips the test with reason, or fails it when the keyring (or
// what a test needs to imitate one) is required.
func skipOrFail(t *testing.T, reason string) {
	t.Helper()
	if keyringRequired() {
		t.Fatalf("%s=1 but %s", requireEnv, reason)
	}
	t.Skipf("skipped: %s (set %s=1 to make this a failure)", reason, requireEnv)
}

var (
	probeOnce sync.Once
	probeErr  error
)

// realStore returns a Store over the system keyring with a service name of
// its own, removed when the test ends; it skips (or fails) when the keyring
// does not answer.
func realStore(t *testing.T) (*Store, string) {
	t.Helper()
	probeOnce.Do(func() {
		s, err := New(System(), Options{Service: "mixdesk-test-probe", CallTimeout: 10 * time.Second})
		if err != nil {
			probeErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		probeErr = s.Probe(ctx)
	})
	if probeErr != nil {
		skipOrFail(t, "the system keyring is not reachable: "+probeErr.Error())
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	svc := "mixdesk-test-" + hex.EncodeToString(b[:])
	s, err := New(System(), Options{Service: svc, CallTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		done := make(chan error, 1)
		go func() { done <- keyring.DeleteAll(svc) }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("removing the test service %s: %v", svc, err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("removing the test service %s timed out", svc)
		}
	})
	return s, svc
}

// realEntries lists which of the entries a Store can write under svc for
// the given names exist in the system keyring.
func realEntries(t *testing.T, svc string, names ...string) []string {
	t.Helper()
	b := System()
	var users []string
	users = append(users, IndexUser)
	for _, n := range names {
		users = append(users, manifestUser(n))
		for _, slot := range slots {
			for i := 0; i < maxParts; i++ {
				users = append(users, partUser(n, slot, i))
			}
		}
	}
	var present []string
	for _, u := range users {
		v, err := b.Get(svc, u)
		switch {
		case err == nil:
			if len(v) >= MaxEntrySize {
				t.Errorf("entry %s is %d bytes", u, len(v))
			}
			present = append(present, u)
		case errors.Is(err, keyring.ErrNotFound):
		default:
			t.Fatalf("reading %s: %v", u, err)
		}
	}
	slices.Sort(present)
	return present
}

// wantRealEntries checks that exactly the index and the current manifest
// and parts of each named profile are stored.
func wantRealEntries(t *testing.T, svc string, names ...string) {
	t.Helper()
	want := []string{IndexUser}
	for _, n := range names {
		mv, err := System().Get(svc, manifestUser(n))
		if err != nil {
			t.Fatalf("%s: manifest: %v", n, err)
		}
		m, err := parseManifest(mv)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, manifestUser(n))
		for i := 0; i < m.Parts; i++ {
			want = append(want, partUser(n, m.Slot, i))
		}
	}
	slices.Sort(want)
	if got := realEntries(t, svc, names...); !slices.Equal(got, want) {
		t.Fatalf("keyring holds %v, want %v", got, want)
	}
}

func TestRealRoundTripEveryKeySize(t *testing.T) {
	s, svc := realStore(t)
	ctx := ctxT(t)
	var names []string
	for i, k := range testcreds.All {
		keep := i%2 == 0
		name := string(k)
		p := profileOf(t, k, keep)
		if err := s.Save(ctx, name, p, false); err != nil {
			t.Fatalf("%s: Save: %v", k, err)
		}
		got, err := s.Load(ctx, name)
		if err != nil {
			t.Fatalf("%s: Load: %v", k, err)
		}
		if got != norm(t, p) {
			t.Fatalf("%s: Load returned another profile", k)
		}
		if !keep && got.PIN != "" {
			t.Fatalf("%s: PIN stored though not kept", k)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	listed, err := s.List(ctx)
	if err != nil || !slices.Equal(listed, names) {
		t.Fatalf("List = %v, %v; want %v", listed, err, names)
	}
	wantRealEntries(t, svc, names...)
}

func TestRealOverwrite(t *testing.T) {
	s, svc := realStore(t)
	ctx := ctxT(t)
	big := profileOf(t, testcreds.RSA4096, true)
	small := profileOf(t, testcreds.Ed25519, false)
	if err := s.Save(ctx, "main", big, false); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.Save(ctx, "main", small, false), "exists")
	for i, p := range []Profile{small, big, small} {
		if err := s.Save(ctx, "main", p, true); err != nil {
			t.Fatalf("overwrite %d: %v", i, err)
		}
		got, err := s.Load(ctx, "main")
		if err != nil || got != norm(t, p) {
			t.Fatalf("overwrite %d: Load: %v", i, err)
		}
		wantRealEntries(t, svc, "main")
	}
}

func TestRealDelete(t *testing.T) {
	s, svc := realStore(t)
	ctx := ctxT(t)
	if err := s.Save(ctx, "main", profileOf(t, testcreds.RSA4096, true), false); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "ops", profileOf(t, testcreds.RSA1024, true), false); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "main"); err != nil {
		t.Fatal(err)
	}
	wantRealEntries(t, svc, "ops")
	_, err := s.Load(ctx, "main")
	wantKind(t, err, "not-found")
	wantKind(t, s.Delete(ctx, "main"), "not-found")
	if d, _ := s.Default(ctx); d != "" {
		t.Fatalf("Default = %q after deleting it", d)
	}
	if err := s.Delete(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if got := realEntries(t, svc, "main", "ops"); !slices.Equal(got, []string{IndexUser}) {
		t.Fatalf("left in the keyring: %v", got)
	}
}

func TestRealMissingPart(t *testing.T) {
	s, svc := realStore(t)
	ctx := ctxT(t)
	if err := s.Save(ctx, "main", profileOf(t, testcreds.RSA4096, true), false); err != nil {
		t.Fatal(err)
	}
	if err := System().Delete(svc, partUser("main", "a", 1)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Load(ctx, "main")
	wantKind(t, err, "corrupt")
	if names, _ := s.List(ctx); !slices.Equal(names, []string{"main"}) {
		t.Fatalf("List = %v", names)
	}
	if err := s.Delete(ctx, "main"); err != nil {
		t.Fatal(err)
	}
	if got := realEntries(t, svc, "main"); !slices.Equal(got, []string{IndexUser}) {
		t.Fatalf("left in the keyring: %v", got)
	}
}

func TestRealRenameAndDefault(t *testing.T) {
	s, svc := realStore(t)
	ctx := ctxT(t)
	p := profileOf(t, testcreds.RSA3072, true)
	if err := s.Save(ctx, "main", p, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "spare", profileOf(t, testcreds.Ed25519Seed, true), false); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename(ctx, "main", "treasury"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, "treasury"); err != nil || got != norm(t, p) {
		t.Fatalf("Load: %v", err)
	}
	if d, _ := s.Default(ctx); d != "treasury" {
		t.Fatalf("Default = %q", d)
	}
	if err := s.SetDefault(ctx, "spare"); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Default(ctx); d != "spare" {
		t.Fatalf("Default = %q", d)
	}
	wantRealEntries(t, svc, "spare", "treasury")
	if got := realEntries(t, svc, "main"); !slices.Equal(got, []string{IndexUser}) {
		t.Fatalf("old name left entries: %v", got)
	}
}

// heldBackend makes each real keyring call and then holds its result back
// until release is closed, so that the Store's deadline passes while the
// call is still running, however fast the keyring answers (under Wine a
// call takes microseconds, and Windows' clock moves in ticks of up to a
// millisecond or more, so a call can beat even a one-nanosecond limit).
type heldBackend struct {
	Backend
	release chan struct{}
}

func (b heldBackend) Get(service, user string) (string, error) {
	v, err := b.Backend.Get(service, user)
	<-b.release
	return v, err
}

func (b heldBackend) Set(service, user, value string) error {
	err := b.Backend.Set(service, user, value)
	<-b.release
	return err
}

func (b heldBackend) Delete(service, user string) error {
	err := b.Backend.Delete(service, user)
	<-b.release
	return err
}

func TestRealTimeout(t *testing.T) {
	_, svc := realStore(t)
	// A real call that has not returned by the deadline is abandoned, and
	// the Store refuses further calls at once until it returns.
	held := heldBackend{Backend: System(), release: make(chan struct{})}
	released := false
	release := func() {
		if !released {
			released = true
			close(held.release)
		}
	}
	defer release()
	s, err := New(held, Options{Service: svc, CallTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	err = s.Probe(ctx)
	wantKind(t, err, "timeout")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("%v does not match ErrUnavailable", err)
	}
	// Refused without reaching the keyring (a call that reached it would be
	// held and time out with the other message).
	err = s.Probe(ctx)
	wantKind(t, err, "timeout")
	if !errors.Is(err, errStillWaiting) {
		t.Fatalf("the call after an abandoned one: %v, want a refusal while it runs", err)
	}
	release()
	deadline := time.Now().Add(10 * time.Second)
	for s.running.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the abandoned call never returned")
		}
		time.Sleep(2 * time.Millisecond)
	}
	// The keyring itself is fine afterwards.
	ok, _ := New(System(), Options{Service: svc})
	if err := ok.Probe(ctx); err != nil {
		t.Fatalf("Probe after an abandoned call: %v", err)
	}
	if err := s.Probe(ctx); err != nil {
		t.Fatalf("Probe on the Store whose call was abandoned, once it returned: %v", err)
	}
}

func TestRealConcurrentStores(t *testing.T) {
	s1, svc1 := realStore(t)
	s2, svc2 := realStore(t)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	profiles := []Profile{profileOf(t, testcreds.RSA2048, true), profileOf(t, testcreds.RSA2048, false)}
	for i, s := range []*Store{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := profiles[i]
			for j := 0; j < 3; j++ {
				name := fmt.Sprintf("p%d", j)
				if err := s.Save(ctx, name, p, false); err != nil {
					errs <- err
					return
				}
				if got, err := s.Load(ctx, name); err != nil || got.KeepPIN != (i == 0) {
					errs <- fmt.Errorf("load: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantRealEntries(t, svc1, "p0", "p1", "p2")
	wantRealEntries(t, svc2, "p0", "p1", "p2")
}
