package keystore

import (
	"errors"
	"syscall"
)

// Windows error codes that Credential Manager returns.
const (
	errorAccessDenied       = syscall.Errno(5)
	errorNoSuchLogonSession = syscall.Errno(1312)
)

// checkPlatform has nothing to check before a Credential Manager call.
func checkPlatform() error { return nil }

// classifyPlatform recognises Credential Manager failures: no logon session
// (services, some remote sessions) and access denied.
func classifyPlatform(err error) error {
	var en syscall.Errno
	if errors.As(err, &en) {
		switch en {
		case errorNoSuchLogonSession:
			return ErrNoProvider
		case errorAccessDenied:
			return ErrLocked
		}
	}
	return nil
}
