package journal

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// The content hash of an intent: what a transfer moves, hashed so that an
// edit of an intent's fields is found (ReasonContentHash).

// contentHashTag starts the canonical encoding of an intent's content.
const contentHashTag = "mixdesk-intent-v1:"

// appendContent appends the canonical encoding hashed by ContentHash.
func appendContent(b []byte, assetID, recipientID, amount, memo, trace string) []byte {
	b = append(b, contentHashTag...)
	for _, f := range [...]string{assetID, recipientID, amount, memo, trace} {
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, ':')
		b = append(b, f...)
		b = append(b, ',')
	}
	return b
}

// ContentHash returns the lowercase hex SHA-256 of the canonical encoding of
// what a transfer moves: the tag "mixdesk-intent-v1:" followed by asset id,
// recipient id, amount, memo and trace id in that order, each written as its
// length in bytes (decimal), a colon, its bytes and a comma. The length
// prefixes make the encoding unambiguous whatever the memo holds. Two intents
// with the same hash ask the server for the same transfer (MIXIN-API.md §4:
// same trace, asset, opponent, amount and memo).
func ContentHash(assetID, recipientID, amount, memo, trace string) string {
	var buf [512]byte
	sum := sha256.Sum256(appendContent(buf[:0], assetID, recipientID, amount, memo, trace))
	return hex.EncodeToString(sum[:])
}

// hexEqual reports whether h (64 hex digits, lowercase) spells sum.
func hexEqual(h string, sum *[32]byte) bool {
	if len(h) != 64 {
		return false
	}
	for k, c := range sum {
		if h[2*k] != hexDigits[c>>4] || h[2*k+1] != hexDigits[c&0xf] {
			return false
		}
	}
	return true
}
