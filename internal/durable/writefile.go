package durable

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DirSyncError says that WriteFile put the new file in place but could not
// sync its directory: the new content stands and is in use; only its
// directory entry may not be durable yet.
type DirSyncError struct {
	Dir string
	Err error
}

func (e *DirSyncError) Error() string { return "syncing the folder " + e.Dir + ": " + e.Err.Error() }
func (e *DirSyncError) Unwrap() error { return e.Err }

// WriteFile replaces the file at path with data, whole or not at all: a new
// file of a random name in the same directory, created exclusively (O_EXCL,
// mode 0600, so nothing planted there is followed or reused), written,
// synced and closed, then renamed over path (a rename replaces a link at
// path, never writes through it), and the directory synced. Any error but
// a *DirSyncError means that nothing was changed and the temporary file is
// gone.
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := SyncDir(dir); err != nil {
		return &DirSyncError{Dir: dir, Err: err}
	}
	return nil
}

// OpenRegular opens path for reading only if it is a regular file: a link
// or anything else there is refused, and a file swapped between the check
// and the open is noticed.
func OpenRegular(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (a link?); move it away", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if got, err := f.Stat(); err != nil || !os.SameFile(fi, got) {
		f.Close()
		return nil, fmt.Errorf("%s changed while it was opened", path)
	}
	return f, nil
}

// TooLargeError is a file longer than its reader accepts.
type TooLargeError struct{ Max int64 }

func (e *TooLargeError) Error() string { return fmt.Sprintf("more than %d bytes", e.Max) }

// ReadRegular reads the whole of a regular file (OpenRegular) of at most
// max bytes; a longer one is a *TooLargeError, read no further.
func ReadRegular(path string, max int64) ([]byte, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &TooLargeError{Max: max}
	}
	return data, nil
}
