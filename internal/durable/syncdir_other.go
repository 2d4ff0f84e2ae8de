//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package durable

// SyncDir does nothing here: on Windows, NTFS makes a new directory entry
// durable with its own metadata journal; elsewhere there is no portable way
// to sync a directory.
func SyncDir(string) error { return nil }
