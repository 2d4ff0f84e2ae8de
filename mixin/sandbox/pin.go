package sandbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"time"

	"mixdesk/mixin"
)

const (
	// pinLockTries wrong PINs within pinLockWindow lock the PIN calls.
	pinLockTries  = 5
	pinLockWindow = 24 * time.Hour
	// pinClockSkew is how far the time inside an encrypted PIN may be off.
	pinClockSkew = 10 * time.Minute
	// encryptedPINLen is IV ‖ one AES-CBC encryption of a padded 6-digit PIN.
	encryptedPINLen = 16 + 32
	// pinPlainLen is 6 digits ‖ uint64 time ‖ uint64 iterator.
	pinPlainLen = 6 + 8 + 8
)

// openedPIN is the content of an encrypted PIN.
type openedPIN struct {
	digits   [6]byte
	unix     uint64 // seconds
	iterator uint64
}

// checkPINLocked verifies an encrypted PIN for the caller (MIXIN-API.md §3)
// and, when it is right, advances the session's iterator. In order: a locked
// PIN is 429; a PIN that does not open is 20118; a time more than 10 minutes
// off, an iterator not above the last one and wrong digits are 20119, and
// each counts towards the lock as a wrong try (a held request that arrives
// after a newer one costs a try, as on the real service).
func (s *Server) checkPINLocked(c *call, encrypted string) *mixin.Error {
	now := s.now()
	u := c.user
	if s.pinLockedLocked(u, now) {
		return errTooManyRequests("PIN locked after too many wrong tries")
	}
	p, reason := openPIN(c.sess.pinKey, encrypted)
	if reason != "" {
		return errPINFormat(reason)
	}
	defer clear(p.digits[:])
	if off := int64(p.unix) - now.Unix(); p.unix > 1<<62 || off > int64(pinClockSkew/time.Second) || -off > int64(pinClockSkew/time.Second) {
		u.pinFailures = append(u.pinFailures, now)
		return errPINIncorrect("time in the PIN is off")
	}
	if p.iterator <= c.sess.lastIterator {
		u.pinFailures = append(u.pinFailures, now)
		return errPINIncorrect("iterator not above the last one")
	}
	if u.pin == "" || subtle.ConstantTimeCompare(p.digits[:], []byte(u.pin)) != 1 {
		u.pinFailures = append(u.pinFailures, now)
		return errPINIncorrect("")
	}
	c.sess.lastIterator = p.iterator
	return nil
}

// PINFailures is the number of wrong PIN tries of the user within the lock
// window (wrong digits, stale iterators and times), as they count towards
// the lock.
func (s *Server) PINFailures(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		return 0
	}
	s.pinLockedLocked(u, s.now())
	return len(u.pinFailures)
}

// pinLockedLocked prunes u's failures older than the window and reports
// whether enough remain to lock the PIN.
func (s *Server) pinLockedLocked(u *user, now time.Time) bool {
	cutoff := now.Add(-pinLockWindow)
	kept := u.pinFailures[:0]
	for _, t := range u.pinFailures {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	clear(u.pinFailures[len(kept):])
	u.pinFailures = kept
	return len(kept) >= pinLockTries
}

// openPIN decodes (standard or URL base64, padded or not) and decrypts an
// encrypted PIN. On failure it returns a reason that never quotes the input.
func openPIN(key []byte, encrypted string) (openedPIN, string) {
	var p openedPIN
	if isPlainPIN(encrypted) {
		return p, "plaintext PIN; encrypt it"
	}
	ct, ok := decodeAnyBase64(encrypted)
	if !ok {
		return p, "not base64"
	}
	if len(ct) != encryptedPINLen {
		return p, "wrong length"
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return p, "session has no PIN key"
	}
	plain := make([]byte, len(ct)-aes.BlockSize)
	defer clear(plain)
	cipher.NewCBCDecrypter(block, ct[:aes.BlockSize]).CryptBlocks(plain, ct[aes.BlockSize:])
	if !validPadding(plain, pinPlainLen) {
		return p, "does not decrypt with this session's key"
	}
	for _, d := range plain[:6] {
		if d < '0' || d > '9' {
			return p, "not six digits"
		}
	}
	copy(p.digits[:], plain[:6])
	p.unix = binary.LittleEndian.Uint64(plain[6:14])
	p.iterator = binary.LittleEndian.Uint64(plain[14:22])
	return p, ""
}

// validPadding reports whether b is n bytes of content PKCS#7-padded.
func validPadding(b []byte, n int) bool {
	pad := len(b) - n
	if pad < 1 || pad > aes.BlockSize {
		return false
	}
	for _, v := range b[n:] {
		if int(v) != pad {
			return false
		}
	}
	return true
}

func isPlainPIN(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decodeAnyBase64 accepts either alphabet, padded or not.
func decodeAnyBase64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}
