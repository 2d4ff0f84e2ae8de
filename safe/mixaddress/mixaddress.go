// Package mixaddress builds and reads the addresses a Safe payment can go
// to besides a plain user id: MIX addresses (a threshold of members, all
// Mixin user ids or all kernel addresses) and XIN kernel main-net
// addresses.
//
// A MIX address is "MIX" followed by the Bitcoin base58 of
//
//	version (1 byte, 2) ‖ threshold (1 byte) ‖ member count (1 byte) ‖
//	members ‖ checksum (4 bytes)
//
// where each member is the 16 bytes of a user id or the public spend key
// and public view key of a kernel address (64 bytes), in the order given,
// and the checksum is the first four bytes of SHA3-256("MIX" ‖ everything
// before it). A XIN address is "XIN" followed by the base58 of spend key ‖
// view key ‖ the first four bytes of SHA3-256("XIN" ‖ spend key ‖ view
// key).
//
// Sources: the official Go SDK, MixinNetwork/bot-api-go-client mix.go
// (NewUUIDMixAddress, NewMainnetMixAddress, NewMixAddressFromString) at
// 5af6507b9ae87eab86a5652238afbb448ca74e5f, unchanged at 51615596d4; the
// kernel, github.com/MixinNetwork/mixin v0.18.26 common/address.go (XIN)
// and util/base58 (the base58 used here); the mixin.one pay page,
// MixinNetwork/mixin.one src/utils/address.js (a4cdd7cebc), and Mixin
// Messenger iOS, MixinNetwork/ios-app
// Mixin/UserInterface/Controllers/Wallet/Payment/MIXAddress.swift
// (2c62c53f6d), which refuse a threshold above the member count (iOS for
// user members only).
//
// The rules are a payer's, stricter than the SDK's decoder: a threshold
// of 1 to the number of members (the SDK also decodes a threshold above
// it, which no set of members can meet by signing: Messenger's
// storage-fee receiver, 64 of 1 kernel address, is such an address), at
// most 64 members, no member twice, no nil user id, kernel keys that are
// points of the curve. The string keeps the members in the order given,
// so one group has as many strings as orders of its members; Equal
// compares groups.
package mixaddress

import (
	"crypto/sha3"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/MixinNetwork/mixin/util/base58"
	"github.com/google/uuid"

	"mixdesk/mixin"
)

const (
	// Prefix starts every MIX address.
	Prefix = "MIX"
	// Version is the only MIX address version there is.
	Version = 2
	// MaxMembers is the most members a MIX address holds (the SDK's
	// decoder; the kernel's threshold script also stops at 64).
	MaxMembers = 64
)

// Field names of the *mixin.FieldError this package returns.
const (
	FieldAddress = "MIX address"
	FieldKernel  = "XIN address"
)

// Kind says what the members of an address are.
type Kind int

const (
	// UserMembers are Mixin user ids (users and bots on Safe).
	UserMembers Kind = iota + 1
	// KernelMembers are kernel main-net addresses (XIN…).
	KernelMembers
)

const (
	headerSize   = 3 // version, threshold, member count
	userSize     = 16
	kernelSize   = 64
	checksumSize = 4
	// maxDigits bounds the base58 text of the largest address, 64 kernel
	// members: ceil((3 + 64*64 + 4) * log(256) / log(58)) digits.
	maxDigits = 5604
)

// Address is a checked MIX address: Threshold of its members must sign to
// spend what is paid to it. The zero Address is no address.
type Address struct {
	threshold int
	users     []uuid.UUID
	kernels   []Kernel
}

// New builds the address of threshold of members, in the order given.
// Members are all user ids (any case; they are kept lower-case) or all
// XIN kernel addresses.
func New(threshold int, members ...string) (Address, error) {
	if err := checkCount(threshold, len(members)); err != nil {
		return Address{}, err
	}
	a := Address{threshold: threshold}
	for i, m := range members {
		m = strings.TrimSpace(m)
		kernel := strings.HasPrefix(m, KernelPrefix)
		if i > 0 && kernel != (len(a.kernels) > 0) {
			return Address{}, memberErr(i, "is %s but member 1 is %s; all members must be of one kind",
				kindName(kernel), kindName(!kernel))
		}
		if kernel {
			k, err := ParseKernel(m)
			if err != nil {
				return Address{}, addrErr("member %d: %v", i+1, err)
			}
			a.kernels = append(a.kernels, k)
			continue
		}
		id, err := mixin.ParseUUID("member "+strconv.Itoa(i+1), m)
		if err != nil {
			return Address{}, addrErr("%v", err)
		}
		a.users = append(a.users, uuid.MustParse(id))
	}
	if err := a.check(); err != nil {
		return Address{}, err
	}
	return a, nil
}

func kindName(kernel bool) string {
	if kernel {
		return "a XIN kernel address"
	}
	return "a user id"
}

// Parse reads a MIX address; spaces around it are ignored.
func Parse(s string) (Address, error) {
	p, err := open(FieldAddress, Prefix, strings.TrimSpace(s), maxDigits, headerSize+userSize)
	if err != nil {
		return Address{}, err
	}
	if p[0] != Version {
		return Address{}, addrErr("version %d; only version %d exists", p[0], Version)
	}
	threshold, n, members := int(p[1]), int(p[2]), p[headerSize:]
	if err := checkCount(threshold, n); err != nil {
		return Address{}, err
	}
	a := Address{threshold: threshold}
	switch len(members) {
	case n * userSize:
		for m := range slices.Chunk(members, userSize) {
			a.users = append(a.users, uuid.UUID(m))
		}
	case n * kernelSize:
		for m := range slices.Chunk(members, kernelSize) {
			a.kernels = append(a.kernels, Kernel{Spend: [32]byte(m[:32]), View: [32]byte(m[32:])})
		}
	default:
		return Address{}, addrErr("%d bytes of members hold neither %s (%d bytes each) nor %s (%d bytes each)",
			len(members), plural(n, "user id"), userSize, plural(n, "kernel address"), kernelSize)
	}
	if err := a.check(); err != nil {
		return Address{}, err
	}
	return a, nil
}

// checkCount checks the member count and the threshold.
func checkCount(threshold, n int) error {
	switch {
	case n == 0:
		return addrErr("no members")
	case n > MaxMembers:
		return addrErr("%d members; at most %d", n, MaxMembers)
	case threshold < 1:
		return addrErr("threshold %d; must be 1 to %d (the number of members)", threshold, n)
	case threshold > n:
		return addrErr("threshold %d of %s: no set of members could ever spend what is paid to it", threshold, plural(n, "member"))
	}
	return nil
}

// check refuses nil user ids, kernel keys off the curve and repeated
// members.
func (a Address) check() error {
	seen := make(map[string]int)
	repeated := func(i int, key string) error {
		if j, ok := seen[key]; ok {
			return memberErr(i, "repeats member %d", j+1)
		}
		seen[key] = i
		return nil
	}
	for i, u := range a.users {
		if u == uuid.Nil {
			return memberErr(i, "is the nil UUID, which is nobody")
		}
		if err := repeated(i, string(u[:])); err != nil {
			return err
		}
	}
	for i, k := range a.kernels {
		if reason := k.check(); reason != "" {
			return addrErr("member %d: %s", i+1, reason)
		}
		if err := repeated(i, string(k.Spend[:])+string(k.View[:])); err != nil {
			return err
		}
	}
	return nil
}

// String is the address text; "" for the zero Address.
func (a Address) String() string {
	if a.threshold == 0 {
		return ""
	}
	n, size := len(a.users), userSize
	if a.Kind() == KernelMembers {
		n, size = len(a.kernels), kernelSize
	}
	p := make([]byte, 0, headerSize+n*size+checksumSize)
	p = append(p, Version, byte(a.threshold), byte(n))
	for _, u := range a.users {
		p = append(p, u[:]...)
	}
	for _, k := range a.kernels {
		p = append(p, k.Spend[:]...)
		p = append(p, k.View[:]...)
	}
	return seal(Prefix, p)
}

// Threshold is how many members must sign to spend.
func (a Address) Threshold() int { return a.threshold }

// Kind is what the members are; 0 for the zero Address.
func (a Address) Kind() Kind {
	switch {
	case len(a.users) > 0:
		return UserMembers
	case len(a.kernels) > 0:
		return KernelMembers
	}
	return 0
}

// Members are the members in the address's order: lower-case user ids or
// XIN kernel addresses.
func (a Address) Members() []string {
	out := make([]string, 0, len(a.users)+len(a.kernels))
	for _, u := range a.users {
		out = append(out, u.String())
	}
	for _, k := range a.kernels {
		out = append(out, k.String())
	}
	return out
}

// Equal says whether a and b are the same group: the same threshold and
// the same members, in any order.
func (a Address) Equal(b Address) bool {
	if a.threshold != b.threshold || a.Kind() != b.Kind() {
		return false
	}
	am, bm := a.Members(), b.Members()
	slices.Sort(am)
	slices.Sort(bm)
	return slices.Equal(am, bm)
}

// alphabet is Bitcoin's base58 alphabet, the kernel's util/base58.
const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// seal is prefix followed by the base58 of payload and its checksum.
func seal(prefix string, payload []byte) string {
	sum := checksum(prefix, payload)
	return prefix + base58.Encode(append(payload, sum[:]...))
}

func checksum(prefix string, payload []byte) [checksumSize]byte {
	h := sha3.New256()
	h.Write([]byte(prefix))
	h.Write(payload)
	return [checksumSize]byte(h.Sum(nil))
}

// open checks that s is prefix followed by the base58 of at least
// minPayload bytes and their checksum, and returns those bytes.
func open(field, prefix, s string, maxDigits, minPayload int) ([]byte, error) {
	if s == "" {
		return nil, fieldErr(field, "empty")
	}
	if !strings.HasPrefix(s, prefix) {
		return nil, fieldErr(field, "must start with %s", prefix)
	}
	digits := s[len(prefix):]
	if digits == "" {
		return nil, fieldErr(field, "nothing after %s", prefix)
	}
	if len(digits) > maxDigits {
		return nil, fieldErr(field, "too long (%d characters; at most %d)", len(s), len(prefix)+maxDigits)
	}
	for i, r := range digits {
		if r >= utf8.RuneSelf || !strings.ContainsRune(alphabet, r) {
			return nil, fieldErr(field, "character %s at position %d is not base58",
				strconv.QuoteRuneToASCII(r), utf8.RuneCountInString(s[:len(prefix)+i])+1)
		}
	}
	data := base58.Decode(digits)
	if len(data) < minPayload+checksumSize {
		return nil, fieldErr(field, "too short (%d bytes; at least %d)", len(data), minPayload+checksumSize)
	}
	payload := data[:len(data)-checksumSize]
	if checksum(prefix, payload) != [checksumSize]byte(data[len(payload):]) {
		return nil, fieldErr(field, "checksum does not match (mistyped or cut short?)")
	}
	return payload, nil
}

func fieldErr(field, format string, a ...any) error {
	return &mixin.FieldError{Field: field, Reason: fmt.Sprintf(format, a...)}
}

// plural is n and the noun, in the plural unless n is 1.
func plural(n int, noun string) string {
	switch {
	case n == 1:
	case strings.HasSuffix(noun, "s"):
		noun += "es"
	default:
		noun += "s"
	}
	return strconv.Itoa(n) + " " + noun
}

func addrErr(format string, a ...any) error { return fieldErr(FieldAddress, format, a...) }

func memberErr(i int, format string, a ...any) error {
	return addrErr("member %d %s", i+1, fmt.Sprintf(format, a...))
}
