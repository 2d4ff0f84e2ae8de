package keystore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"mixdesk/keystore/internal/testcreds"
	"mixdesk/mixin"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, k := range testcreds.All {
		for _, keep := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/keep=%v", k, keep), func(t *testing.T) {
				s, m := newMemStore(t)
				ctx := ctxT(t)
				p := profileOf(t, k, keep)
				// Pasted values often carry stray space and upper-case ids.
				pasted := p
				pasted.ClientID = "  " + strings.ToUpper(p.ClientID) + "\n"
				pasted.PrivateKey = "\n" + p.PrivateKey + "  \n"
				pasted.PINToken = " " + p.PINToken + "\n"
				if err := s.Save(ctx, "main", pasted, false); err != nil {
					t.Fatalf("Save: %v", err)
				}
				got, err := s.Load(ctx, "main")
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				want := p
				want.PrivateKey = strings.TrimSpace(p.PrivateKey)
				if got != want {
					t.Fatalf("Load returned a different profile (ids %s/%s, keep %v)", got.ClientID, got.SessionID, got.KeepPIN)
				}
				if !keep && got.PIN != "" {
					t.Fatal("a profile that does not keep its PIN came back with one")
				}
				// The PIN is not in the keyring at all when it is not kept.
				rec := storedRecord(t, m, DefaultService, "main")
				if keep != (rec.PIN != "") {
					t.Fatalf("stored PIN present = %v, want %v", rec.PIN != "", keep)
				}
			})
		}
	}
}

// storedRecord reads a profile's record straight from the Memory backend.
func storedRecord(t testing.TB, m *Memory, service, name string) record {
	t.Helper()
	mv, err := m.Get(service, manifestUser(name))
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	man, err := parseManifest(mv)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	var parts []string
	for i := 0; i < man.Parts; i++ {
		v, err := m.Get(service, partUser(name, man.Slot, i))
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		parts = append(parts, v)
	}
	rec, err := decodeRecord(man, parts)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	return rec
}

// TestEntriesFitEveryOS checks the sizes of every entry for every key kind
// against the Windows and macOS limits.
func TestEntriesFitEveryOS(t *testing.T) {
	for _, limit := range []int{MaxSizeWindows, MaxSizeMacOS} {
		for _, k := range testcreds.All {
			s, m := newMemStore(t)
			m.SetMaxSize(limit)
			ctx := ctxT(t)
			name := strings.Repeat("n", MaxNameLen) // the longest user names
			if err := s.Save(ctx, name, profileOf(t, k, true), false); err != nil {
				t.Fatalf("%s under a %d-byte limit: %v", k, limit, err)
			}
			if _, err := s.Load(ctx, name); err != nil {
				t.Fatalf("%s: Load: %v", k, err)
			}
			for _, u := range m.Users(DefaultService) {
				v, _ := m.Get(DefaultService, u)
				if len(v) >= MaxEntrySize {
					t.Fatalf("%s: entry %s is %d bytes, want < %d", k, u, len(v), MaxEntrySize)
				}
				// macOS: the whole "add-generic-password" line given to
				// /usr/bin/security must stay within 4096 bytes; the
				// keyring library stores the value as a prefixed base64.
				line := 54 + len(DefaultService) + len(u) + len("go-keyring-base64:") + (len(v)+2)/3*4
				if line > 4096 {
					t.Fatalf("%s: entry %s makes a %d-byte macOS command line", k, u, line)
				}
			}
		}
	}
	// The largest key really needs more than one part.
	s, m := newMemStore(t)
	if err := s.Save(ctxT(t), "big", profileOf(t, testcreds.RSA4096, true), false); err != nil {
		t.Fatal(err)
	}
	if n := len(m.Users(DefaultService)); n < 4 { // index, manifest, 2+ parts
		t.Fatalf("RSA-4096 profile stored in %d entries, want at least 4", n)
	}
}

func TestBackendRefusesSize(t *testing.T) {
	s, m := newMemStore(t)
	m.SetMaxSize(100)
	err := s.Save(ctxT(t), "main", profileOf(t, testcreds.RSA2048, true), false)
	wantKind(t, err, "too-large")
	if !errors.Is(err, keyring.ErrSetDataTooBig) {
		t.Fatalf("the cause is lost: %v", err)
	}
}

func TestValidationWritesNothing(t *testing.T) {
	good := creds(t, testcreds.RSA1024)
	other := creds(t, testcreds.RSA2048)
	ed := creds(t, testcreds.Ed25519)
	cases := []struct {
		name  string
		edit  func(p *Profile)
		field string
	}{
		{"empty client id", func(p *Profile) { p.ClientID = "" }, mixin.FieldClientID},
		{"bad client id", func(p *Profile) { p.ClientID = "not-a-uuid" }, mixin.FieldClientID},
		{"bad session id", func(p *Profile) { p.SessionID = "1234" }, mixin.FieldSessionID},
		{"empty key", func(p *Profile) { p.PrivateKey = "" }, mixin.FieldPrivateKey},
		{"damaged key", func(p *Profile) { p.PrivateKey = p.PrivateKey[:len(p.PrivateKey)/2] }, mixin.FieldPrivateKey},
		{"token of another key", func(p *Profile) { p.PINToken = other.PINToken }, mixin.FieldPINToken},
		{"token of another session", func(p *Profile) { p.SessionID = other.SessionID }, mixin.FieldPINToken},
		{"Ed25519 token for RSA key", func(p *Profile) { p.PINToken = ed.PINToken }, mixin.FieldPINToken},
		{"empty token", func(p *Profile) { p.PINToken = "" }, mixin.FieldPINToken},
		{"short PIN", func(p *Profile) { p.PIN = "12345" }, mixin.FieldPIN},
		{"letters in PIN", func(p *Profile) { p.PIN = "12a456" }, mixin.FieldPIN},
		{"kept PIN missing", func(p *Profile) { p.PIN = "" }, mixin.FieldPIN},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, m := newMemStore(t)
			p := Profile{Credentials: good, KeepPIN: true}
			tc.edit(&p)
			err := s.Save(ctxT(t), "main", p, true)
			var fe *mixin.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Save = %v, want a *mixin.FieldError", err)
			}
			if fe.Field != tc.field {
				t.Fatalf("field = %q, want %q (%v)", fe.Field, tc.field, err)
			}
			if err := p.Validate(); err == nil || err.Error() != fe.Error() {
				t.Fatalf("Validate = %v, want the same error as Save", err)
			}
			if m.Calls() != 0 {
				t.Fatalf("%d keyring calls made for an invalid profile", m.Calls())
			}
			assertNoSecrets(t, "validation error", err.Error(), good)
		})
	}
	// A PIN that is not kept is not checked (it is not stored).
	s, _ := newMemStore(t)
	p := Profile{Credentials: good}
	p.PIN = "bad"
	if err := s.Save(ctxT(t), "main", p, false); err != nil {
		t.Fatalf("unkept bad PIN: %v", err)
	}
}

func TestNameRules(t *testing.T) {
	for _, ok := range []string{"a", "main", "ops-2", "treasury_eu", "x.y", "0", strings.Repeat("z", MaxNameLen)} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
	secret := creds(t, testcreds.Ed25519Seed)
	for _, bad := range []string{"", "Main", "-x", ".x", "_x", "a b", "a/b", "a:b", "ä", strings.Repeat("z", MaxNameLen+1), IndexUser + " ", secret.PrivateKey + "!", "a\nb"} {
		err := ValidateName(bad)
		wantKind(t, err, "invalid-name")
		if bad != "" && len(bad) > 1 && strings.Contains(err.Error(), bad) {
			t.Errorf("the error quotes the name: %v", err)
		}
	}
	// Every Store method checks names before touching the keyring.
	s, m := newMemStore(t)
	ctx := ctxT(t)
	p := profileOf(t, testcreds.Ed25519, true)
	errs := []error{
		s.Save(ctx, "Bad", p, false),
		func() error { _, err := s.Load(ctx, "Bad"); return err }(),
		func() error { _, err := s.Exists(ctx, "Bad"); return err }(),
		s.Delete(ctx, "Bad"),
		s.SetDefault(ctx, "Bad"),
		s.Rename(ctx, "Bad", "good"),
		s.Rename(ctx, "good", "Bad"),
	}
	for i, err := range errs {
		wantKind(t, err, "invalid-name")
		if !strings.HasPrefix(err.Error(), "keystore: ") {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if m.Calls() != 0 {
		t.Fatalf("%d keyring calls for invalid names", m.Calls())
	}
}

func TestOverwrite(t *testing.T) {
	s, m := newMemStore(t)
	ctx := ctxT(t)
	big := profileOf(t, testcreds.RSA4096, true)
	small := profileOf(t, testcreds.Ed25519, false)
	if err := s.Save(ctx, "main", big, false); err != nil {
		t.Fatal(err)
	}
	err := s.Save(ctx, "main", small, false)
	wantKind(t, err, "exists")
	if got, _ := s.Load(ctx, "main"); got.ClientID != big.ClientID {
		t.Fatal("a refused save changed the profile")
	}
	// Back and forth between slots and sizes; no part is ever left over.
	for i, p := range []Profile{small, big, small, big} {
		if err := s.Save(ctx, "main", p, true); err != nil {
			t.Fatalf("overwrite %d: %v", i, err)
		}
		got, err := s.Load(ctx, "main")
		if err != nil || got.ClientID != p.ClientID || got.KeepPIN != p.KeepPIN {
			t.Fatalf("overwrite %d: Load = %v, %v", i, got, err)
		}
		assertExactEntries(t, m, DefaultService, "main")
	}
	if names, _ := s.List(ctx); !slices.Equal(names, []string{"main"}) {
		t.Fatalf("List = %v", names)
	}
}

// assertExactEntries checks that the keyring holds the index and exactly
// the manifest and parts the named profiles need, nothing else.
func assertExactEntries(t testing.TB, m *Memory, service string, names ...string) {
	t.Helper()
	want := []string{IndexUser}
	for _, n := range names {
		mv, err := m.Get(service, manifestUser(n))
		if err != nil {
			t.Fatalf("%s: manifest: %v", n, err)
		}
		man, err := parseManifest(mv)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, manifestUser(n))
		for i := 0; i < man.Parts; i++ {
			want = append(want, partUser(n, man.Slot, i))
		}
	}
	slices.Sort(want)
	if got := m.Users(service); !slices.Equal(got, want) {
		t.Fatalf("keyring entries = %v, want %v", got, want)
	}
}

func TestFailedOverwriteKeepsOld(t *testing.T) {
	for _, failOn := range []string{":b:0", ":b:1", "manifest"} {
		t.Run(failOn, func(t *testing.T) {
			s, m := newMemStore(t)
			ctx := ctxT(t)
			old := profileOf(t, testcreds.RSA2048, true)
			if err := s.Save(ctx, "main", old, false); err != nil {
				t.Fatal(err)
			}
			boom := errors.New("simulated failure")
			m.SetFault(func(op Op, _, user string) error {
				if op != OpSet {
					return nil
				}
				if failOn == "manifest" && user == manifestUser("main") || failOn != "manifest" && strings.HasSuffix(user, failOn) {
					return boom
				}
				return nil
			})
			err := s.Save(ctx, "main", profileOf(t, testcreds.RSA4096, false), true)
			if !errors.Is(err, boom) || !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Save = %v, want the simulated failure", err)
			}
			m.SetFault(nil)
			got, err := s.Load(ctx, "main")
			if err != nil || got != norm(t, old) {
				t.Fatalf("after a failed overwrite Load = %v, %v; want the old profile", got, err)
			}
			assertExactEntries(t, m, DefaultService, "main") // the half-written slot was undone
		})
	}
}

func TestHalfWrittenNewProfileIsNeverLoaded(t *testing.T) {
	for _, failOn := range []string{":a:0", ":a:2", "manifest"} {
		t.Run(failOn, func(t *testing.T) {
			s, m := newMemStore(t)
			ctx := ctxT(t)
			if err := s.Save(ctx, "keep", profileOf(t, testcreds.Ed25519, true), false); err != nil {
				t.Fatal(err)
			}
			m.SetFault(func(op Op, _, user string) error {
				if op == OpSet && (failOn == "manifest" && user == manifestUser("new") || strings.HasSuffix(user, "new"+failOn)) {
					return ErrLocked
				}
				return nil
			})
			err := s.Save(ctx, "new", profileOf(t, testcreds.RSA4096, true), false)
			wantKind(t, err, "locked")
			m.SetFault(nil)
			_, err = s.Load(ctx, "new")
			wantKind(t, err, "not-found")
			if names, _ := s.List(ctx); !slices.Equal(names, []string{"keep"}) {
				t.Fatalf("List = %v, want only keep", names)
			}
			assertExactEntries(t, m, DefaultService, "keep")
		})
	}
}

func TestCrashBeforeManifest(t *testing.T) {
	// A process that died after writing parts (and listing the name) but
	// before the manifest: the profile is listed, never loaded, and Delete
	// clears it.
	s, m := newMemStore(t)
	ctx := ctxT(t)
	parts, _, err := encodeRecord(mustRecord(t, profileOf(t, testcreds.RSA4096, true)))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range parts {
		_ = m.Set(DefaultService, partUser("main", "a", i), p)
	}
	_ = m.Set(DefaultService, IndexUser, `{"v":1,"profiles":["main"]}`)
	_, err = s.Load(ctx, "main")
	wantKind(t, err, "not-found")
	if ok, _ := s.Exists(ctx, "main"); ok {
		t.Fatal("Exists reports a profile without a manifest")
	}
	if err := s.Delete(ctx, "main"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := m.Users(DefaultService); !slices.Equal(got, []string{IndexUser}) {
		t.Fatalf("entries left: %v", got)
	}
}

func mustGet(t testing.TB, m *Memory, user string) string {
	t.Helper()
	v, err := m.Get(DefaultService, user)
	if err != nil {
		t.Fatalf("%s: %v", user, err)
	}
	return v
}

// norm is p as Load returns it: canonical ids, trimmed key and token.
func norm(t testing.TB, p Profile) Profile { return mustRecord(t, p).profile() }

func mustRecord(t testing.TB, p Profile) record {
	t.Helper()
	r, err := p.normalise()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDamagedProfiles(t *testing.T) {
	p := profileOf(t, testcreds.RSA4096, true)
	other := profileOf(t, testcreds.RSA2048, true)
	setRecord := func(m *Memory, r record) {
		parts, man, err := encodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		man.Slot = "a"
		for i, v := range parts {
			_ = m.Set(DefaultService, partUser("main", "a", i), v)
		}
		mv, _ := encodeManifest(man)
		_ = m.Set(DefaultService, manifestUser("main"), mv)
	}
	cases := []struct {
		name   string
		damage func(t *testing.T, m *Memory)
		says   string
	}{
		{"missing part", func(t *testing.T, m *Memory) {
			if err := m.Delete(DefaultService, partUser("main", "a", 1)); err != nil {
				t.Fatal(err)
			}
		}, "part 2 of 3 is missing"},
		{"altered part", func(t *testing.T, m *Memory) {
			v, _ := m.Get(DefaultService, partUser("main", "a", 0))
			b := []byte(v)
			b[10] ^= 1
			_ = m.Set(DefaultService, partUser("main", "a", 0), string(b))
		}, "checksum"},
		{"part from another save", func(t *testing.T, m *Memory) {
			parts, _, _ := encodeRecord(mustRecord(t, other))
			_ = m.Set(DefaultService, partUser("main", "a", 0), parts[0])
		}, ""},
		{"not base64", func(t *testing.T, m *Memory) {
			_ = m.Set(DefaultService, partUser("main", "a", 0), "!!!")
		}, "valid data"},
		{"manifest garbage", func(t *testing.T, m *Memory) {
			_ = m.Set(DefaultService, manifestUser("main"), "{")
		}, "manifest is not readable"},
		{"manifest newer", func(t *testing.T, m *Memory) {
			_ = m.Set(DefaultService, manifestUser("main"), `{"v":9,"slot":"a","parts":3,"size":10,"sha256":"`+strings.Repeat("0", 64)+`"}`)
		}, "version 9"},
		{"manifest too many parts", func(t *testing.T, m *Memory) {
			_ = m.Set(DefaultService, manifestUser("main"), `{"v":1,"slot":"a","parts":99,"size":10,"sha256":"`+strings.Repeat("0", 64)+`"}`)
		}, "99 parts"},
		{"manifest wrong slot", func(t *testing.T, m *Memory) {
			_ = m.Set(DefaultService, manifestUser("main"), `{"v":1,"slot":"c","parts":3,"size":10,"sha256":"`+strings.Repeat("0", 64)+`"}`)
		}, "slot"},
		{"manifest size", func(t *testing.T, m *Memory) {
			mv, _ := m.Get(DefaultService, manifestUser("main"))
			var man manifest
			_ = json.Unmarshal([]byte(mv), &man)
			man.Size++
			v, _ := encodeManifest(man)
			_ = m.Set(DefaultService, manifestUser("main"), v)
		}, "manifest says"},
		{"token of another key", func(t *testing.T, m *Memory) {
			r := mustRecord(t, p)
			r.PINToken = other.PINToken
			setRecord(m, r)
		}, "PIN token"},
		{"bad PIN", func(t *testing.T, m *Memory) {
			r := mustRecord(t, p)
			r.PIN = "12"
			setRecord(m, r)
		}, "PIN"},
		{"kept PIN missing", func(t *testing.T, m *Memory) {
			r := mustRecord(t, p)
			r.PIN = ""
			setRecord(m, r)
		}, "holds none"},
		{"PIN stored though not kept", func(t *testing.T, m *Memory) {
			r := mustRecord(t, p)
			r.KeepPIN = false
			setRecord(m, r)
		}, "not to be kept"},
		{"record version", func(t *testing.T, m *Memory) {
			r := mustRecord(t, p)
			r.Version = 2
			setRecord(m, r)
		}, "version 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, m := newMemStore(t)
			ctx := ctxT(t)
			if err := s.Save(ctx, "main", p, false); err != nil {
				t.Fatal(err)
			}
			tc.damage(t, m)
			got, err := s.Load(ctx, "main")
			wantKind(t, err, "corrupt")
			if !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), "delete it") {
				t.Fatalf("error %q does not say %q and what to do", err, tc.says)
			}
			if got != (Profile{}) {
				t.Fatal("a damaged profile was returned")
			}
			assertNoSecrets(t, "damage error", err.Error(), p.Credentials)
			assertNoSecrets(t, "damage error", err.Error(), other.Credentials)
			// Still there: Save needs overwrite, and Delete clears it.
			wantKind(t, s.Save(ctx, "main", p, false), "exists")
			if err := s.Delete(ctx, "main"); err != nil {
				t.Fatalf("Delete of a damaged profile: %v", err)
			}
			if got := m.Users(DefaultService); !slices.Equal(got, []string{IndexUser}) {
				t.Fatalf("entries left: %v", got)
			}
			// Overwriting repairs a damaged profile too.
			if err := s.Save(ctx, "main", p, false); err != nil {
				t.Fatal(err)
			}
			tc.damage(t, m)
			if err := s.Save(ctx, "main", p, true); err != nil {
				t.Fatalf("overwrite of a damaged profile: %v", err)
			}
			if got, err := s.Load(ctx, "main"); err != nil || got != norm(t, p) {
				t.Fatalf("after overwrite: %v", err)
			}
			assertExactEntries(t, m, DefaultService, "main")
		})
	}
	// A field error inside is reachable for the UI.
	s, m := newMemStore(t)
	if err := s.Save(ctxT(t), "main", p, false); err != nil {
		t.Fatal(err)
	}
	r := mustRecord(t, p)
	r.ClientID = "nope"
	parts, man, _ := encodeRecord(r)
	man.Slot = "b"
	for i, v := range parts {
		_ = m.Set(DefaultService, partUser("main", "b", i), v)
	}
	mv, _ := encodeManifest(man)
	_ = m.Set(DefaultService, manifestUser("main"), mv)
	_, err := s.Load(ctxT(t), "main")
	var fe *mixin.FieldError
	if !errors.As(err, &fe) || fe.Field != mixin.FieldClientID || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load = %v, want ErrCorrupt with the client id's FieldError", err)
	}
}

func TestDeleteRemovesEveryPart(t *testing.T) {
	s, m := newMemStore(t)
	ctx := ctxT(t)
	if err := s.Save(ctx, "main", profileOf(t, testcreds.RSA4096, true), false); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "ops", profileOf(t, testcreds.Ed25519, true), false); err != nil {
		t.Fatal(err)
	}
	// Junk in every slot position, as failed saves could leave.
	for _, slot := range slots {
		for i := 0; i < maxParts; i++ {
			_ = m.Set(DefaultService, partUser("main", slot, i), "junk")
		}
	}
	if err := s.Delete(ctx, "main"); err != nil {
		t.Fatal(err)
	}
	assertExactEntries(t, m, DefaultService, "ops")
	if names, _ := s.List(ctx); !slices.Equal(names, []string{"ops"}) {
		t.Fatalf("List = %v", names)
	}
	if d, _ := s.Default(ctx); d != "" {
		t.Fatalf("Default = %q after deleting the default profile", d)
	}
	wantKind(t, s.Delete(ctx, "main"), "not-found")
	_, err := s.Load(ctx, "main")
	wantKind(t, err, "not-found")
	if !strings.Contains(err.Error(), `"main"`) {
		t.Fatalf("not-found error does not name the profile: %v", err)
	}
}

func TestListAndDefault(t *testing.T) {
	s, _ := newMemStore(t)
	ctx := ctxT(t)
	if names, err := s.List(ctx); err != nil || len(names) != 0 {
		t.Fatalf("empty keyring: List = %v, %v", names, err)
	}
	if d, err := s.Default(ctx); err != nil || d != "" {
		t.Fatalf("empty keyring: Default = %q, %v", d, err)
	}
	p := profileOf(t, testcreds.Ed25519, true)
	for _, n := range []string{"zeta", "alpha", "mid"} {
		if err := s.Save(ctx, n, p, false); err != nil {
			t.Fatal(err)
		}
	}
	names, err := s.List(ctx)
	if err != nil || !slices.Equal(names, []string{"alpha", "mid", "zeta"}) {
		t.Fatalf("List = %v, %v", names, err)
	}
	names[0] = "changed" // the caller's copy only
	if again, _ := s.List(ctx); again[0] != "alpha" {
		t.Fatal("List shares its slice")
	}
	if d, _ := s.Default(ctx); d != "zeta" {
		t.Fatalf("Default = %q, want the first profile saved", d)
	}
	if err := s.SetDefault(ctx, "mid"); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Default(ctx); d != "mid" {
		t.Fatalf("Default = %q, want mid", d)
	}
	wantKind(t, s.SetDefault(ctx, "nobody"), "not-found")
	if d, _ := s.Default(ctx); d != "mid" {
		t.Fatal("a failed SetDefault changed the default")
	}
	if err := s.SetDefault(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Default(ctx); d != "" {
		t.Fatalf("Default = %q after clearing", d)
	}
	if err := s.Save(ctx, "new", p, false); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Default(ctx); d != "new" {
		t.Fatalf("Default = %q; a save with no default set should become it", d)
	}
	for _, n := range []string{"zeta", "alpha", "mid", "new"} {
		if ok, err := s.Exists(ctx, n); !ok || err != nil {
			t.Fatalf("Exists(%s) = %v, %v", n, ok, err)
		}
	}
	if ok, err := s.Exists(ctx, "nobody"); ok || err != nil {
		t.Fatalf("Exists(nobody) = %v, %v", ok, err)
	}
}

func TestRename(t *testing.T) {
	s, m := newMemStore(t)
	ctx := ctxT(t)
	p := profileOf(t, testcreds.RSA4096, true)
	q := profileOf(t, testcreds.Ed25519, false)
	if err := s.Save(ctx, "main", p, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "other", q, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename(ctx, "main", "treasury"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, "treasury")
	if err != nil || got != norm(t, p) {
		t.Fatalf("Load renamed = %v, %v", got, err)
	}
	_, err = s.Load(ctx, "main")
	wantKind(t, err, "not-found")
	if names, _ := s.List(ctx); !slices.Equal(names, []string{"other", "treasury"}) {
		t.Fatalf("List = %v", names)
	}
	if d, _ := s.Default(ctx); d != "treasury" {
		t.Fatalf("Default = %q, want it to follow the rename", d)
	}
	assertExactEntries(t, m, DefaultService, "other", "treasury")

	wantKind(t, s.Rename(ctx, "treasury", "other"), "exists")
	wantKind(t, s.Rename(ctx, "nobody", "x"), "not-found")
	if err := s.Rename(ctx, "other", "other"); err != nil {
		t.Fatalf("rename to itself: %v", err)
	}
	// A non-default profile renamed leaves the default alone.
	if err := s.Rename(ctx, "other", "second"); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Default(ctx); d != "treasury" {
		t.Fatalf("Default = %q", d)
	}
	assertExactEntries(t, m, DefaultService, "second", "treasury")
}

func TestRenameFailures(t *testing.T) {
	t.Run("new copy fails", func(t *testing.T) {
		s, m := newMemStore(t)
		ctx := ctxT(t)
		p := profileOf(t, testcreds.RSA2048, true)
		if err := s.Save(ctx, "main", p, false); err != nil {
			t.Fatal(err)
		}
		m.SetFault(func(op Op, _, user string) error {
			if op == OpSet && user == manifestUser("new") {
				return ErrLocked
			}
			return nil
		})
		wantKind(t, s.Rename(ctx, "main", "new"), "locked")
		m.SetFault(nil)
		if got, err := s.Load(ctx, "main"); err != nil || got != norm(t, p) {
			t.Fatalf("old profile after failed rename: %v", err)
		}
		if names, _ := s.List(ctx); !slices.Equal(names, []string{"main"}) {
			t.Fatalf("List = %v", names)
		}
		assertExactEntries(t, m, DefaultService, "main")
	})
	t.Run("old removal fails", func(t *testing.T) {
		s, m := newMemStore(t)
		ctx := ctxT(t)
		p := profileOf(t, testcreds.RSA2048, true)
		if err := s.Save(ctx, "main", p, false); err != nil {
			t.Fatal(err)
		}
		m.SetFault(func(op Op, _, user string) error {
			if op == OpDelete && user == manifestUser("main") {
				return ErrNoProvider
			}
			return nil
		})
		err := s.Rename(ctx, "main", "new")
		wantKind(t, err, "no-provider")
		if !strings.Contains(err.Error(), `delete "main" to finish`) {
			t.Fatalf("error does not say how to finish: %v", err)
		}
		m.SetFault(nil)
		if names, _ := s.List(ctx); !slices.Equal(names, []string{"main", "new"}) {
			t.Fatalf("List = %v, want both names listed", names)
		}
		if _, err := s.Load(ctx, "new"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "main"); err != nil {
			t.Fatal(err)
		}
		assertExactEntries(t, m, DefaultService, "new")
	})
	t.Run("damaged source", func(t *testing.T) {
		s, m := newMemStore(t)
		ctx := ctxT(t)
		if err := s.Save(ctx, "main", profileOf(t, testcreds.RSA4096, true), false); err != nil {
			t.Fatal(err)
		}
		_ = m.Delete(DefaultService, partUser("main", "a", 2))
		wantKind(t, s.Rename(ctx, "main", "new"), "corrupt")
		if ok, _ := s.Exists(ctx, "new"); ok {
			t.Fatal("a damaged profile was copied")
		}
	})
}

func TestProfileLimit(t *testing.T) {
	s, _ := newMemStore(t)
	ctx := ctxT(t)
	p := profileOf(t, testcreds.Ed25519, true)
	for i := 0; i < MaxProfiles; i++ {
		if err := s.Save(ctx, fmt.Sprintf("p%02d", i), p, false); err != nil {
			t.Fatalf("profile %d: %v", i, err)
		}
	}
	wantKind(t, s.Save(ctx, "onetoomany", p, false), "limit")
	wantKind(t, s.Rename(ctx, "p00", "renamed-no-room-needed"), "nil")
	// Overwriting an existing one is still fine.
	if err := s.Save(ctx, "p01", p, true); err != nil {
		t.Fatal(err)
	}
	names, _ := s.List(ctx)
	if len(names) != MaxProfiles {
		t.Fatalf("%d profiles listed", len(names))
	}
}

func TestDamagedIndex(t *testing.T) {
	s, m := newMemStore(t)
	ctx := ctxT(t)
	p := profileOf(t, testcreds.Ed25519, true)
	if err := s.Save(ctx, "main", p, false); err != nil {
		t.Fatal(err)
	}
	_ = m.Set(DefaultService, IndexUser, "not json")
	_, err := s.List(ctx)
	wantKind(t, err, "corrupt")
	_, err = s.Default(ctx)
	wantKind(t, err, "corrupt")
	if _, err := s.Load(ctx, "main"); err != nil {
		t.Fatalf("Load with a damaged list: %v", err)
	}
	if err := s.Save(ctx, "ops", p, false); err != nil {
		t.Fatalf("Save with a damaged list: %v", err)
	}
	names, err := s.List(ctx)
	if err != nil || !slices.Equal(names, []string{"ops"}) {
		t.Fatalf("rebuilt List = %v, %v", names, err)
	}
	if err := s.SetDefault(ctx, "main"); err != nil { // re-lists it
		t.Fatal(err)
	}
	if names, _ := s.List(ctx); !slices.Equal(names, []string{"main", "ops"}) {
		t.Fatalf("List = %v", names)
	}

	// Bad names, duplicates and an unlisted default are dropped on read.
	_ = m.Set(DefaultService, IndexUser, `{"v":1,"default":"ghost","profiles":["ops","Bad","ops","main","../x"]}`)
	names, err = s.List(ctx)
	if err != nil || !slices.Equal(names, []string{"main", "ops"}) {
		t.Fatalf("List = %v, %v", names, err)
	}
	if d, _ := s.Default(ctx); d != "" {
		t.Fatalf("Default = %q, want an unlisted default ignored", d)
	}
}

func TestTimeoutAbandonsCall(t *testing.T) {
	m := NewMemory()
	s, err := New(m, Options{CallTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var hung sync.WaitGroup
	hung.Add(1)
	m.SetFault(func(op Op, _, _ string) error {
		defer hung.Done()
		<-release // a keyring that never answers until released
		return nil
	})
	ctx := ctxT(t)
	start := time.Now()
	err = s.Probe(ctx)
	wantKind(t, err, "timeout")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout error does not match ErrUnavailable and DeadlineExceeded: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Probe took %v with a 50ms timeout", d)
	}
	if !strings.Contains(err.Error(), "50ms") {
		t.Fatalf("timeout error does not say the limit: %v", err)
	}
	// While the abandoned call runs, every call fails at once, without
	// reaching the backend.
	calls := m.Calls()
	start = time.Now()
	_, err = s.Load(ctx, "main")
	wantKind(t, err, "timeout")
	if !strings.Contains(err.Error(), "has not finished") {
		t.Fatalf("error does not say an earlier call is pending: %v", err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Fatalf("a call while another is abandoned took %v", d)
	}
	if m.Calls() != calls {
		t.Fatal("a call reached the backend while an abandoned one was running")
	}
	m.SetFault(nil)
	close(release)
	hung.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for s.Probe(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the store did not recover after the abandoned call returned")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Save(ctx, "main", profileOf(t, testcreds.Ed25519, true), false); err != nil {
		t.Fatal(err)
	}
}

func TestTimeoutDuringSaveNeverValid(t *testing.T) {
	// The manifest write hangs past the timeout, then lands: the profile
	// it commits is complete, so loading it later is correct; before it
	// lands, nothing loads.
	m := NewMemory()
	s, _ := New(m, Options{CallTimeout: 30 * time.Millisecond})
	ctx := ctxT(t)
	release := make(chan struct{})
	m.SetFault(func(op Op, _, user string) error {
		if op == OpSet && user == manifestUser("main") {
			<-release
		}
		return nil
	})
	p := profileOf(t, testcreds.RSA3072, true)
	wantKind(t, s.Save(ctx, "main", p, false), "timeout")
	if _, err := m.Get(DefaultService, manifestUser("main")); err == nil {
		t.Fatal("manifest present before the hung write finished")
	}
	// Its parts could not be removed (the keyring is stuck), so the name
	// stays listed: nothing stored is ever left out of the list.
	if idx, err := parseIndex(mustGet(t, m, IndexUser)); err != nil || !idx.has("main") {
		t.Fatalf("index after a stuck save: %v %v", idx.Profiles, err)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for s.Probe(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("no recovery")
		}
		time.Sleep(5 * time.Millisecond)
	}
	got, err := s.Load(ctx, "main")
	if err != nil || got != norm(t, p) {
		t.Fatalf("Load after the late commit = %v", err)
	}
}

func TestContext(t *testing.T) {
	s, m := newMemStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Probe(ctx)
	wantKind(t, err, "canceled")
	if m.Calls() != 0 {
		t.Fatal("a canceled context reached the backend")
	}
	// A caller's deadline bounds the whole operation.
	release := make(chan struct{})
	defer close(release)
	m.SetFault(func(Op, string, string) error { <-release; return nil })
	dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer dcancel()
	wantKind(t, s.Probe(dctx), "timeout")
	// A caller waiting for the Store (held by another operation) gives up
	// with its context.
	s2, _ := newMemStore(t)
	s2.sem <- struct{}{}
	lctx, lcancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer lcancel()
	wantKind(t, s2.Probe(lctx), "timeout")
	<-s2.sem
}

func TestErrorKindsAndMessages(t *testing.T) {
	unlockMsg := errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'")
	// The words of this OS's line (the Windows build runs under Wine in CI).
	onOS := func(unix, windows, darwin string) string {
		switch runtime.GOOS {
		case "windows":
			return windows
		case "darwin":
			return darwin
		}
		return unix
	}
	cases := []struct {
		err         error
		kind        string
		unavailable bool
		says        string
	}{
		{ErrNoBus, "no-bus", true, "no D-Bus session bus"},
		{ErrNoProvider, "no-provider", true, onOS("Secret Service", "Windows Credential Manager is not available", "macOS Keychain is not reachable")},
		{ErrLocked, "locked", true, onOS("locked", "Windows Credential Manager refused access", "keychain is locked")},
		{unlockMsg, "locked", true, onOS("unlock it", "log in again", "unlock it")},
		{keyring.ErrSetDataTooBig, "too-large", false, "too large"},
		{keyring.ErrUnsupportedPlatform, "no-provider", true, ""},
		{ErrTimeout, "timeout", true, "did not answer"},
		{errors.New("weird\nmultiline failure"), "unavailable", true, "the keyring failed: weird multiline failure"},
	}
	for _, tc := range cases {
		t.Run(tc.kind+"/"+tc.err.Error()[:5], func(t *testing.T) {
			s, m := newMemStore(t)
			m.SetFault(func(Op, string, string) error { return tc.err })
			for _, err := range []error{
				s.Probe(ctxT(t)),
				s.Save(ctxT(t), "main", profileOf(t, testcreds.Ed25519, true), false),
				func() error { _, err := s.List(ctxT(t)); return err }(),
			} {
				wantKind(t, err, tc.kind)
				if errors.Is(err, ErrUnavailable) != tc.unavailable {
					t.Fatalf("errors.Is(ErrUnavailable) = %v for %v", !tc.unavailable, err)
				}
				if !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("%q does not say %q", err, tc.says)
				}
				var ke *Error
				if !errors.As(err, &ke) || ke.Op == "" {
					t.Fatalf("not an *Error with an Op: %#v", err)
				}
			}
		})
	}
}

func TestPanickingBackend(t *testing.T) {
	s, m := newMemStore(t)
	m.SetFault(func(Op, string, string) error { panic("secret-value-in-panic") })
	err := s.Probe(ctxT(t))
	wantKind(t, err, "unavailable")
	if strings.Contains(err.Error(), "secret-value") {
		t.Fatalf("the panic value leaked: %v", err)
	}
}

func TestProfileNeverPrintsSecrets(t *testing.T) {
	for _, k := range []testcreds.Kind{testcreds.RSA1024, testcreds.Ed25519, testcreds.Ed25519Seed} {
		p := profileOf(t, k, true)
		p.PIN = "914273"
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
			outs = append(outs, fmt.Sprintf(verb, p), fmt.Sprintf(verb, &p), fmt.Sprintf(verb, []Profile{p}),
				fmt.Sprintf(verb, struct{ P Profile }{p}), fmt.Sprintf(verb, map[string]Profile{"x": p}))
		}
		outs = append(outs, p.String(), p.GoString(), fmt.Sprint(p), fmt.Sprintln(p))
		var logs bytes.Buffer
		slog.New(slog.NewTextHandler(&logs, nil)).Info("saved", "profile", p, "ptr", &p)
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("saved", "profile", p, "ptr", &p)
		outs = append(outs, logs.String())
		if !strings.Contains(logs.String(), "redacted") {
			t.Fatalf("slog output lacks the redacted form: %s", logs.String())
		}
		if _, err := json.Marshal(p); err == nil {
			t.Fatal("json.Marshal of a Profile succeeded")
		}
		if _, err := json.Marshal(struct{ P Profile }{p}); err == nil {
			t.Fatal("json.Marshal of a struct holding a Profile succeeded")
		}
		for _, o := range outs {
			assertNoSecrets(t, "printed profile", o, p.Credentials)
			if strings.Contains(o, "914273") {
				t.Fatalf("PIN printed: %s", o)
			}
		}
		if !strings.Contains(p.String(), p.ClientID) || !strings.Contains(p.String(), "PIN kept") {
			t.Fatalf("String lost the ids or the PIN choice: %s", p)
		}
		r := mustRecord(t, p)
		for _, o := range []string{fmt.Sprintf("%v %+v %#v %s", r, r, r, r)} {
			assertNoSecrets(t, "printed record", o, p.Credentials)
		}
	}
	// A secret typed into an id field is not printed either.
	p := profileOf(t, testcreds.Ed25519Seed, false)
	p.ClientID = p.PrivateKey
	if strings.Contains(p.String(), p.PrivateKey) || !strings.Contains(p.String(), "[not a UUID]") {
		t.Fatalf("String printed a non-UUID id: %s", p)
	}
}

func TestConcurrentUse(t *testing.T) {
	s, m := newMemStore(t)
	ctx := ctxT(t)
	p := profileOf(t, testcreds.Ed25519, true)
	q := profileOf(t, testcreds.RSA2048, false)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := fmt.Sprintf("w%d", i)
			prof := p
			if i%2 == 1 {
				prof = q
			}
			for j := 0; j < 5; j++ {
				if err := s.Save(ctx, name, prof, true); err != nil {
					errs <- err
					return
				}
				got, err := s.Load(ctx, name)
				if err != nil || got.ClientID != prof.ClientID {
					errs <- fmt.Errorf("load %s: %v", name, err)
					return
				}
				if _, err := s.List(ctx); err != nil {
					errs <- err
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	names, _ := s.List(ctx)
	if len(names) != 8 {
		t.Fatalf("List = %v", names)
	}
	assertExactEntries(t, m, DefaultService, names...)
}

func TestRecordTooLarge(t *testing.T) {
	s, m := newMemStore(t)
	p := profileOf(t, testcreds.RSA2048, true)
	// PEM allows text before the block; a paste with pages of it is
	// refused before anything is stored.
	p.PrivateKey = strings.Repeat("notes ", 2000) + "\n" + p.PrivateKey
	err := s.Save(ctxT(t), "main", p, false)
	var fe *mixin.FieldError
	if !errors.As(err, &fe) || fe.Field != mixin.FieldPrivateKey || !strings.Contains(fe.Reason, "too long") {
		t.Fatalf("Save = %v, want a too-long private key", err)
	}
	if m.Calls() != 0 {
		t.Fatal("keyring touched")
	}
}

func TestNewOptions(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Fatal("nil backend accepted")
	}
	for _, bad := range []string{"a:b", "has space", strings.Repeat("s", 65), "ü"} {
		if _, err := New(NewMemory(), Options{Service: bad}); err == nil {
			t.Fatalf("service %q accepted", bad)
		}
	}
	s, err := New(NewMemory(), Options{})
	if err != nil || s.Service() != DefaultService || s.timeout != DefaultCallTimeout {
		t.Fatalf("defaults: %v %v", s, err)
	}
	// Two services in one keyring never see each other's profiles.
	m := NewMemory()
	a, _ := New(m, Options{Service: "svc-a"})
	b, _ := New(m, Options{Service: "svc-b"})
	ctx := ctxT(t)
	if err := a.Save(ctx, "main", profileOf(t, testcreds.Ed25519, true), false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Load(ctx, "main"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("b sees a's profile: %v", err)
	}
}

func TestPartsAreBase64Chunks(t *testing.T) {
	parts, man, err := encodeRecord(mustRecord(t, profileOf(t, testcreds.RSA4096, true)))
	if err != nil {
		t.Fatal(err)
	}
	if man.Parts != len(parts) || len(parts) < 2 {
		t.Fatalf("%d parts, manifest says %d", len(parts), man.Parts)
	}
	for i, p := range parts {
		if len(p) > partSize || (i < len(parts)-1 && len(p) != partSize) {
			t.Fatalf("part %d is %d bytes", i, len(p))
		}
	}
	if _, err := base64.StdEncoding.DecodeString(strings.Join(parts, "")); err != nil {
		t.Fatal(err)
	}
}
