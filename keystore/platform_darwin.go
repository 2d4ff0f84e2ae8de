package keystore

import (
	"errors"
	"os/exec"
)

// checkPlatform has nothing to check before a Keychain call.
func checkPlatform() error { return nil }

// classifyPlatform recognises failures of /usr/bin/security. Its exit status
// is the low byte of the Security framework's status code: 36 is
// errSecInteractionNotAllowed (locked, no way to prompt), 51 errSecAuthFailed
// and 128 errSecUserCanceled (the unlock dialog was dismissed).
func classifyPlatform(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ErrNoProvider
	}
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		switch xe.ExitCode() {
		case 36, 51, 128:
			return ErrLocked
		}
	}
	return nil
}
