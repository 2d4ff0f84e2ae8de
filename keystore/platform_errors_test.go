package keystore

// The Windows and macOS error mappings and messages, checked on every OS:
// the Windows build also runs its tests under Wine in CI, the macOS build
// is only compiled there.

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestClassifyCredManagerErrors(t *testing.T) {
	cases := []struct {
		err  error
		want error
	}{
		{syscall.Errno(1312), ErrNoProvider}, // ERROR_NO_SUCH_LOGON_SESSION
		{fmt.Errorf("credential write: %w", syscall.Errno(1312)), ErrNoProvider},
		{syscall.Errno(5), ErrLocked},      // ERROR_ACCESS_DENIED
		{syscall.Errno(1783), ErrTooLarge}, // RPC_X_BAD_STUB_DATA: blob over 2560 bytes
		{syscall.Errno(1168), nil},         // ERROR_NOT_FOUND: the library's ErrNotFound already
		{syscall.Errno(87), nil},           // ERROR_INVALID_PARAMETER
		{errors.New("access denied"), nil}, // text is never matched
	}
	for _, tc := range cases {
		if got := classifyCredManager(tc.err); got != tc.want {
			t.Errorf("%#v: got %v, want %v", tc.err, got, tc.want)
		}
	}
}

// exitError returns the error of a process that exited with status code.
func exitError(t *testing.T, code int) error {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to produce an exit status with")
	}
	err = exec.Command(sh, "-c", fmt.Sprintf("exit %d", code)).Run()
	var xe *exec.ExitError
	if !errors.As(err, &xe) || xe.ExitCode() != code {
		t.Fatalf("sh -c 'exit %d': %v", code, err)
	}
	return err
}

func TestClassifySecurityToolErrors(t *testing.T) {
	for _, tc := range []struct {
		code int
		want error
	}{
		{36, ErrLocked},  // errSecInteractionNotAllowed
		{51, ErrLocked},  // errSecAuthFailed
		{128, ErrLocked}, // errSecUserCanceled
		{44, nil},        // errSecItemNotFound: the library reports ErrNotFound from the output
		{1, nil},
	} {
		if got := classifySecurityTool(exitError(t, tc.code)); got != tc.want {
			t.Errorf("exit status %d: got %v, want %v", tc.code, got, tc.want)
		}
	}
	// The keyring library runs /usr/bin/security by its absolute path, so a
	// missing tool fails to start with a *fs.PathError, not an *exec.Error.
	missing := filepath.Join(t.TempDir(), "security")
	err := exec.Command(missing, "find-generic-password").Run()
	if got := classifySecurityTool(err); got != ErrNoProvider {
		t.Errorf("missing tool (%v): got %v, want %v", err, got, ErrNoProvider)
	}
	err = exec.Command("mixdesk-no-such-security-tool").Run()
	if got := classifySecurityTool(err); got != ErrNoProvider {
		t.Errorf("tool not on PATH (%v): got %v, want %v", err, got, ErrNoProvider)
	}
}

func TestDetailEveryOS(t *testing.T) {
	kinds := []error{ErrNoBus, ErrNoProvider, ErrLocked, ErrTimeout, ErrTooLarge, ErrUnavailable}
	for _, goos := range []string{"linux", "windows", "darwin", "freebsd", "plan9"} {
		for _, k := range kinds {
			d := detailForOS(k, goos)
			if d == "" || strings.ContainsAny(d, "\n\r") || strings.HasPrefix(d, "keystore:") {
				t.Errorf("%s, %v: detail %q", goos, k, d)
			}
		}
	}
	// The lines the README quotes, word for word.
	exact := []struct {
		goos string
		kind error
		want string
	}{
		{"windows", ErrNoProvider, "Windows Credential Manager is not available in this logon session; run mixdesk as a normal interactive user"},
		{"windows", ErrLocked, "Windows Credential Manager refused access; log in again and try again"},
		{"darwin", ErrLocked, "the login keychain is locked; unlock it (Keychain Access) and try again"},
		{"linux", ErrNoProvider, "no Secret Service on the D-Bus session bus; install and start one (GNOME Keyring or KWallet, or KeePassXC with its Secret Service enabled)"},
		{"linux", ErrLocked, "the keyring is locked or has no default collection; unlock it (log in to the desktop session or open your keyring manager) and try again"},
		{"plan9", ErrNoProvider, "no supported keyring on plan9 (mixdesk needs the macOS Keychain, Windows Credential Manager or a Linux Secret Service)"},
	}
	for _, tc := range exact {
		if got := detailForOS(tc.kind, tc.goos); got != tc.want {
			t.Errorf("%s, %v:\n got %q\nwant %q", tc.goos, tc.kind, got, tc.want)
		}
	}
	// Only the Secret Service can be "stuck"; Windows and macOS are told
	// about an unlock prompt only.
	for goos, stuck := range map[string]bool{"linux": true, "freebsd": true, "windows": false, "darwin": false} {
		d := timeoutDetailOS(5*time.Second, goos)
		if !strings.Contains(d, "within 5s") || strings.Contains(d, "Secret Service") != stuck {
			t.Errorf("%s: timeout detail %q", goos, d)
		}
	}
}
