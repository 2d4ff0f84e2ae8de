//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package journal

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
)

// lockFile refuses: without a file lock two consoles could write the same
// journal, and the journal would rather not open than risk that.
func lockFile(*os.File) error {
	return errors.New("file locking is not supported on " + runtime.GOOS)
}

func tightenMode(f *os.File, mode fs.FileMode) error {
	if mode.Perm() == 0o600 {
		return nil
	}
	return f.Chmod(0o600)
}
