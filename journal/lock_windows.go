//go:build windows

package journal

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive lock on f without waiting. It locks one byte
// far beyond any journal's end, so that reading the file is not blocked; the
// lock is released when f is closed.
func lockFile(f *os.File) error {
	ol := new(windows.Overlapped)
	ol.OffsetHigh = 0x7fffffff
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return ErrInUse
	}
	return err
}

// tightenMode does nothing: Windows file permissions are ACLs, which the
// user profile directory already restricts.
func tightenMode(*os.File, fs.FileMode) error { return nil }
