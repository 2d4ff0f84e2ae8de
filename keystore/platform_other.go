//go:build !darwin && !windows && !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keystore

// checkPlatform has nothing to check: the keyring library reports
// keyring.ErrUnsupportedPlatform on this OS.
func checkPlatform() error { return nil }

// classifyPlatform has no platform errors to recognise here.
func classifyPlatform(error) error { return nil }
