package keystore

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"mixdesk/keystore/internal/testcreds"
)

// FuzzParseIndex: any index text either fails with a reason or yields a
// valid, sorted list whose default is listed.
func FuzzParseIndex(f *testing.F) {
	f.Add(`{"v":1,"default":"main","profiles":["main","ops"]}`)
	f.Add(`{"v":1,"profiles":["Bad","ok","ok"]}`)
	f.Add(`{"v":2}`)
	f.Add(`not json`)
	f.Fuzz(func(t *testing.T, s string) {
		idx, err := parseIndex(s)
		if err != nil {
			return
		}
		if !slices.IsSorted(idx.Profiles) || len(idx.Profiles) > MaxProfiles+1 {
			t.Fatalf("bad list %v", idx.Profiles)
		}
		for _, n := range idx.Profiles {
			if ValidateName(n) != nil {
				t.Fatalf("invalid name kept: %q", n)
			}
		}
		if idx.Default != "" && !idx.has(idx.Default) {
			t.Fatalf("default %q not listed", idx.Default)
		}
		v, err := idx.encode()
		if err != nil || len(v) >= MaxEntrySize {
			t.Fatalf("re-encoding: %d bytes, %v", len(v), err)
		}
	})
}

// FuzzLoadDamaged: whatever a manifest and a part hold, Load returns a
// profile that passes validation or an ErrCorrupt error, and never panics.
// (Keys are generated per process, so a fuzz worker cannot compare with the
// seed's profile.)
func FuzzLoadDamaged(f *testing.F) {
	p, err := testcreds.Make(testcreds.Ed25519)
	if err != nil {
		f.Fatal(err)
	}
	prof := Profile{Credentials: p, KeepPIN: true}
	rec, err := prof.normalise()
	if err != nil {
		f.Fatal(err)
	}
	parts, man, err := encodeRecord(rec)
	if err != nil {
		f.Fatal(err)
	}
	man.Slot = "a"
	mv, _ := encodeManifest(man)
	f.Add(mv, parts[0])
	f.Add(mv, parts[0][:10])
	f.Add(`{"v":1,"slot":"a","parts":1,"size":3,"sha256":"`+man.SHA256+`"}`, "AAAA")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, manifestText, part string) {
		m := NewMemory()
		s, _ := New(m, Options{CallTimeout: time.Second})
		_ = m.Set(DefaultService, manifestUser("main"), manifestText)
		_ = m.Set(DefaultService, partUser("main", "a", 0), part)
		got, err := s.Load(context.Background(), "main")
		if err == nil {
			if got.Validate() != nil {
				t.Fatal("Load returned a profile that does not validate")
			}
			return
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error is not ErrCorrupt: %v", err)
		}
	})
}
