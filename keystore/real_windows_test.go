package keystore

// Windows only: the Credential Manager error mapping through the whole
// Store, the size limit at the real backend, and the form of the stored
// credentials. CI runs the Windows test binary under Wine, whose advapi32
// implements CredReadW, CredWriteW, CredDeleteW and CredEnumerateW
// (.ci/wine-keystore.sh).

import (
	"bytes"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"mixdesk/keystore/internal/testcreds"
)

func TestWindowsErrorsThroughStore(t *testing.T) {
	cases := []struct {
		errno syscall.Errno
		kind  string
		says  string
	}{
		{1312, "no-provider", "keystore: probe: Windows Credential Manager is not available in this logon session; run mixdesk as a normal interactive user"},
		{5, "locked", "keystore: probe: Windows Credential Manager refused access; log in again and try again"},
		{1783, "too-large", "keystore: probe: the keyring refused a value as too large"},
		{87, "unavailable", "keystore: probe: the keyring failed: "},
	}
	for _, tc := range cases {
		s, m := newMemStore(t)
		m.SetFault(func(Op, string, string) error { return tc.errno })
		err := s.Probe(ctxT(t))
		wantKind(t, err, tc.kind)
		if !strings.HasPrefix(err.Error(), tc.says) {
			t.Errorf("errno %d: %q, want %q", uintptr(tc.errno), err, tc.says)
		}
	}
}

func TestRealWindowsSizeLimit(t *testing.T) {
	_, svc := realStore(t)
	b := System()
	// The largest value Credential Manager takes is stored and read back
	// whole; one byte more is refused before it reaches the keyring, as
	// ErrTooLarge. The Store's parts stay far below (MaxEntrySize).
	full := strings.Repeat("x", MaxSizeWindows)
	if err := b.Set(svc, "limit", full); err != nil {
		t.Fatalf("a %d-byte value: %v", len(full), err)
	}
	if got, err := b.Get(svc, "limit"); err != nil || got != full {
		t.Fatalf("reading the %d-byte value back: %d bytes, %v", len(full), len(got), err)
	}
	err := b.Set(svc, "over", full+"x")
	if kind, _ := classify(err, time.Second); kind != ErrTooLarge {
		t.Fatalf("a %d-byte value: %v (kind %v), want too large", len(full)+1, err, kind)
	}
	if MaxEntrySize >= MaxSizeWindows {
		t.Fatalf("MaxEntrySize %d is not under the Windows limit %d", MaxEntrySize, MaxSizeWindows)
	}
}

// credentialW is CREDENTIALW.
type credentialW struct {
	Flags              uint32
	Type               uint32
	TargetName         *uint16
	Comment            *uint16
	LastWritten        windows.Filetime
	CredentialBlobSize uint32
	CredentialBlob     *byte
	Persist            uint32
	AttributeCount     uint32
	Attributes         uintptr
	TargetAlias        *uint16
	UserName           *uint16
}

const (
	credTypeGeneric          = 1
	credPersistLocalMachine  = 2
	errorNotFoundCredentials = syscall.Errno(1168)
)

var (
	advapi32      = windows.NewLazySystemDLL("advapi32.dll")
	procCredReadW = advapi32.NewProc("CredReadW")
	procCredFree  = advapi32.NewProc("CredFree")
)

type storedCredential struct {
	target, user string
	persist      uint32
	blob         []byte
}

// readGeneric reads the generic credential named target with CredReadW.
func readGeneric(target string) (storedCredential, error) {
	name, err := windows.UTF16PtrFromString(target)
	if err != nil {
		return storedCredential{}, err
	}
	var p *credentialW
	r, _, e := procCredReadW.Call(uintptr(unsafe.Pointer(name)), credTypeGeneric, 0, uintptr(unsafe.Pointer(&p)))
	if r == 0 {
		return storedCredential{}, e
	}
	defer procCredFree.Call(uintptr(unsafe.Pointer(p)))
	return storedCredential{
		target:  windows.UTF16PtrToString(p.TargetName),
		user:    windows.UTF16PtrToString(p.UserName),
		persist: p.Persist,
		blob:    bytes.Clone(unsafe.Slice(p.CredentialBlob, p.CredentialBlobSize)),
	}, nil
}

func TestRealWindowsCredentialForm(t *testing.T) {
	s, svc := realStore(t)
	ctx := ctxT(t)
	if err := s.Save(ctx, "main", profileOf(t, testcreds.RSA4096, true), false); err != nil {
		t.Fatal(err)
	}
	// What the operator finds in Credential Manager: generic credentials
	// named SERVICE:USER, kept on this machine across log-ons, each holding
	// exactly what the Store wrote under USER.
	mv, err := System().Get(svc, manifestUser("main"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseManifest(mv)
	if err != nil {
		t.Fatal(err)
	}
	users := []string{IndexUser, manifestUser("main")}
	for i := 0; i < m.Parts; i++ {
		users = append(users, partUser("main", m.Slot, i))
	}
	for _, u := range users {
		c, err := readGeneric(svc + ":" + u)
		if err != nil {
			t.Fatalf("CredReadW %s:%s: %v", svc, u, err)
		}
		want, _ := System().Get(svc, u)
		if c.target != svc+":"+u || c.user != u || c.persist != credPersistLocalMachine || string(c.blob) != want {
			t.Fatalf("credential %s:%s: target %q, user %q, persist %d, %d-byte blob (want %d bytes)",
				svc, u, c.target, c.user, c.persist, len(c.blob), len(want))
		}
	}
	// The other slot holds nothing.
	if _, err := readGeneric(svc + ":" + partUser("main", otherSlot(m.Slot), 0)); err != errorNotFoundCredentials {
		t.Fatalf("the unused slot: %v, want ERROR_NOT_FOUND", err)
	}
}
