package keystore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// Kinds of failure. Every error a Store returns (other than a
// *mixin.FieldError from validation) is an *Error whose Kind is one of these,
// so callers test with errors.Is. ErrNoBus, ErrNoProvider, ErrLocked and
// ErrTimeout also match ErrUnavailable.
//
// A Backend may return these sentinels itself (the Memory backend's faults
// do, to simulate a keyring in that state); a Store maps them like the
// keyring library's own errors.
var (
	// ErrNotFound: there is no profile (or keyring entry) by that name.
	ErrNotFound = errors.New("keystore: not found")
	// ErrExists: the profile exists; Save needs overwrite to replace it.
	ErrExists = errors.New("keystore: profile exists")
	// ErrInvalidName: the profile name breaks the naming rules.
	ErrInvalidName = errors.New("keystore: invalid profile name")
	// ErrCorrupt: the stored profile (or the profile list) is incomplete or
	// damaged and is not used.
	ErrCorrupt = errors.New("keystore: damaged entry")
	// ErrLimit: the profile record or the number of profiles is over its limit.
	ErrLimit = errors.New("keystore: limit reached")
	// ErrTooLarge: the keyring refused a value as too large.
	ErrTooLarge = errors.New("keystore: value too large for the keyring")

	// ErrUnavailable: the keyring cannot be used right now. It is the Kind
	// of keyring failures that fit none of the more precise kinds below,
	// and errors.Is matches it for those kinds as well.
	ErrUnavailable = errors.New("keystore: keyring unavailable")
	// ErrNoBus: Linux and BSD: there is no D-Bus session bus to reach a
	// Secret Service on.
	ErrNoBus = errors.New("keystore: no D-Bus session bus")
	// ErrNoProvider: no keyring service answers (no Secret Service on the
	// bus, no Keychain tool, no Credential Manager, unsupported OS).
	ErrNoProvider = errors.New("keystore: no keyring provider")
	// ErrLocked: the keyring (collection) is locked or missing and could
	// not be unlocked without the operator.
	ErrLocked = errors.New("keystore: keyring locked")
	// ErrTimeout: a keyring call did not return in time, or an earlier call
	// that timed out is still running.
	ErrTimeout = errors.New("keystore: keyring timed out")
)

// Error is a keystore failure: what was being done, to which profile, what
// kind of failure it was and what the operator can do about it. Error()
// returns a single line that never contains a secret.
type Error struct {
	Op      string // "save", "load", "list", "default", "set default", "delete", "rename", "probe"
	Profile string // the profile involved, when there is one and its name is valid
	Kind    error  // one of the Err* sentinels, or context.Canceled
	Detail  string // what happened and what to do, one line
	Err     error  // the underlying cause, if any (never holds a secret)
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("keystore: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		if e.Profile != "" {
			fmt.Fprintf(&b, " %q", e.Profile)
		}
		b.WriteString(": ")
	}
	if e.Detail != "" {
		b.WriteString(e.Detail)
	} else if e.Kind != nil {
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "keystore: "))
	}
	return b.String()
}

// Is reports whether target is e's Kind, or ErrUnavailable for any kind of
// keyring unavailability.
func (e *Error) Is(target error) bool {
	if target == e.Kind {
		return true
	}
	return target == ErrUnavailable && isUnavailable(e.Kind)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func isUnavailable(kind error) bool {
	switch kind {
	case ErrUnavailable, ErrNoBus, ErrNoProvider, ErrLocked, ErrTimeout:
		return true
	}
	return false
}

// errStillWaiting is the cause when a Store refuses a call because an
// abandoned one has not returned yet.
var errStillWaiting = errors.New("an earlier keyring call is still running")

// classify turns an error from a Backend (or from the timeout machinery)
// into a Kind and a one-line explanation for the operator.
//
//lint:ignore ST1008 kind is a category (one of the Err* kinds), not a failure of classify
func classify(err error, timeout time.Duration) (kind error, detail string) {
	switch {
	case errors.Is(err, errStillWaiting):
		return ErrTimeout, "an earlier keyring request has not finished (is an unlock prompt waiting for an answer?); answer it or wait, then try again"
	case errors.Is(err, context.Canceled):
		return context.Canceled, "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrTimeout):
		var de *deadlineError
		if errors.As(err, &de) {
			return ErrTimeout, timeoutDetail(de.limit)
		}
		return ErrTimeout, timeoutDetail(timeout)
	case errors.Is(err, keyring.ErrNotFound), errors.Is(err, ErrNotFound):
		return ErrNotFound, "not found in the keyring"
	case errors.Is(err, keyring.ErrSetDataTooBig), errors.Is(err, ErrTooLarge):
		return ErrTooLarge, detailFor(ErrTooLarge)
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return ErrNoProvider, detailFor(ErrNoProvider)
	}
	for _, k := range []error{ErrNoBus, ErrNoProvider, ErrLocked, ErrUnavailable} {
		if errors.Is(err, k) {
			return k, detailFor(k)
		}
	}
	if k := classifyPlatform(err); k != nil {
		return k, detailFor(k)
	}
	// go-keyring's own message when the Secret Service refused to unlock
	// the collection (no login keyring, or the unlock prompt failed).
	if strings.Contains(err.Error(), "failed to unlock correct collection") {
		return ErrLocked, detailFor(ErrLocked)
	}
	return ErrUnavailable, "the keyring failed: " + oneLine(err.Error(), 200)
}

func timeoutDetail(d time.Duration) string { return timeoutDetailOS(d, runtime.GOOS) }

// timeoutDetailOS is timeoutDetail's line on goos.
func timeoutDetailOS(d time.Duration, goos string) string {
	what := "in time"
	if d > 0 {
		what = "within " + d.String()
	}
	hint := "it may be locked and waiting at an unlock prompt; unlock it and try again"
	if goos != "darwin" && goos != "windows" {
		hint = "it may be locked and waiting at an unlock prompt, or the Secret Service is stuck; unlock it or restart the keyring service, then try again"
	}
	return "the keyring did not answer " + what + "; " + hint
}

// detailFor is the operator's line for a kind of failure that a keyring
// library or platform error was classified as, on this OS.
func detailFor(kind error) string { return detailForOS(kind, runtime.GOOS) }

// detailForOS is detailFor's line on goos; the tests check every OS's lines
// on any OS.
func detailForOS(kind error, goos string) string {
	switch kind {
	case ErrTooLarge:
		return "the keyring refused a value as too large"
	case ErrNoBus:
		return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and " + userBusPath() + " does not exist); run mixdesk in a desktop session, or see the README, \"Running mixdesk without a desktop\""
	case ErrNoProvider:
		switch goos {
		case "darwin":
			return "the macOS Keychain is not reachable (/usr/bin/security is missing or failed to start)"
		case "windows":
			return "Windows Credential Manager is not available in this logon session; run mixdesk as a normal interactive user"
		case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
			return "no Secret Service on the D-Bus session bus; install and start one (GNOME Keyring or KWallet, or KeePassXC with its Secret Service enabled)"
		}
		return "no supported keyring on " + goos + " (mixdesk needs the macOS Keychain, Windows Credential Manager or a Linux Secret Service)"
	case ErrLocked:
		switch goos {
		case "darwin":
			return "the login keychain is locked; unlock it (Keychain Access) and try again"
		case "windows":
			return "Windows Credential Manager refused access; log in again and try again"
		}
		return "the keyring is locked or has no default collection; unlock it (log in to the desktop session or open your keyring manager) and try again"
	case ErrTimeout:
		return timeoutDetailOS(0, goos)
	}
	return "the keyring is not available"
}

// oneLine squeezes s onto one line of at most max bytes.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "..."
	}
	return s
}

// userBusPath is where the D-Bus library looks for this user's session
// bus when DBUS_SESSION_BUS_ADDRESS is not set.
func userBusPath() string {
	uid := os.Getuid()
	if uid < 0 { // no user ids on this OS
		return "/run/user/UID/bus"
	}
	return "/run/user/" + strconv.Itoa(uid) + "/bus"
}
