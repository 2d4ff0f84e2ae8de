//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package journal

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f without waiting. The lock
// belongs to the open file, so it is released when f is closed, also by a
// crash, and a second Open in the same process is refused like another
// process.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK), errors.Is(err, syscall.EAGAIN):
			return ErrInUse
		default:
			return err
		}
	}
}

// tightenMode makes the file readable and writable by its owner only.
func tightenMode(f *os.File, mode fs.FileMode) error {
	if mode.Perm() == 0o600 {
		return nil
	}
	return f.Chmod(0o600)
}
