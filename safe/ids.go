package safe

import (
	"crypto/md5"
	"crypto/sha3"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/MixinNetwork/mixin/crypto"
)

// KernelAssetID is the kernel's id of a Mixin asset: SHA3-256 of the asset
// UUID string (the kernel's crypto.Sha256Hash is SHA3-256;
// docs/safe-api.md §3.2). assetID must be a canonical lower-case UUID.
func KernelAssetID(assetID string) crypto.Hash {
	return crypto.Sha256Hash([]byte(assetID))
}

// MembersHash is the members hash of /safe/outputs: hex SHA3-256 of the
// member UUIDs sorted and concatenated (docs/safe-api.md §3.1).
func MembersHash(members ...string) string {
	s := slices.Clone(members)
	slices.Sort(s)
	sum := sha3.Sum256([]byte(strings.Join(s, "")))
	return hex.EncodeToString(sum[:])
}

// UniqueObjectID is a name-based UUID: MD5 of the concatenated strings
// with version nibble 3 and the RFC 4122 variant (docs/safe-api.md §4.2).
func UniqueObjectID(args ...string) string {
	h := md5.New()
	for _, s := range args {
		h.Write([]byte(s))
	}
	b := h.Sum(nil)
	b[6] = (b[6] & 0x0f) | 0x30
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// GhostHint is the hint of the ghost-key request for output index of the
// transaction named requestID: UniqueObjectID(requestID, "OUTPUT", index)
// (docs/safe-api.md §4.2, Decision).
func GhostHint(requestID string, index int) string {
	return UniqueObjectID(requestID, "OUTPUT", strconv.Itoa(index))
}

// SnapshotID is the id the sandbox gives a user's snapshot of a
// transaction: UniqueObjectID(userID, ":", hash) (docs/safe-api.md §3.3).
func SnapshotID(userID string, hash crypto.Hash) string {
	return UniqueObjectID(userID, ":", hash.String())
}
