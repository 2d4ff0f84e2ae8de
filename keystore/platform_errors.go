package keystore

// The Windows and macOS error mappings live here, without a build tag, so
// that their tests run on every OS (CI runs on Linux). platform_windows.go
// and platform_darwin.go call them; nothing else does, since the same
// numbers mean other things elsewhere.

import (
	"errors"
	"io/fs"
	"os/exec"
	"syscall"
)

// Windows error codes that the Credential Manager functions (CredReadW,
// CredWriteW, CredDeleteW) set.
const (
	winErrorAccessDenied       = syscall.Errno(5)
	winErrorNoSuchLogonSession = syscall.Errno(1312)
	// RPC_X_BAD_STUB_DATA: Windows' answer to CredWriteW with a blob over
	// 2560 bytes. The keyring library refuses such a value before the call
	// (keyring.ErrSetDataTooBig), so this is a second line of defence.
	winRPCBadStubData = syscall.Errno(1783)
)

// classifyCredManager recognises Windows Credential Manager failures: no
// logon session (services, some remote sessions), access denied and a value
// over the size limit. A missing entry (ERROR_NOT_FOUND) is the keyring
// library's keyring.ErrNotFound by the time it gets here.
func classifyCredManager(err error) error {
	var en syscall.Errno
	if !errors.As(err, &en) {
		return nil
	}
	switch en {
	case winErrorNoSuchLogonSession:
		return ErrNoProvider
	case winErrorAccessDenied:
		return ErrLocked
	case winRPCBadStubData:
		return ErrTooLarge
	}
	return nil
}

// classifySecurityTool recognises failures of /usr/bin/security on macOS.
// Its exit status is the low byte of the Security framework's status code:
// 36 is errSecInteractionNotAllowed (locked, no way to prompt), 51
// errSecAuthFailed and 128 errSecUserCanceled (the unlock dialog was
// dismissed). A tool that cannot be started means no Keychain: the keyring
// library runs it by its absolute path, so that is a *fs.PathError from
// fork/exec (an *exec.Error only comes from a search of PATH).
func classifySecurityTool(err error) error {
	var ee *exec.Error
	var pe *fs.PathError
	if errors.As(err, &ee) || errors.As(err, &pe) && pe.Op == "fork/exec" {
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
