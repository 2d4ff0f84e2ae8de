package mixaddress

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"filippo.io/edwards25519"
	"github.com/MixinNetwork/mixin/common"
)

// The kernel's own vector: github.com/MixinNetwork/mixin v0.18.26,
// common/address_test.go (TestAddress).
const (
	kernelVec      = "XIN8AJMgQUD11jZYN9ggbQDqkmozrha3zPEZxEkKxVFBufZpEVMtrR6PjtmgtNAH6jrg8dTUQFb9waqqw9euU7Ea8AC6DEu8"
	kernelVecSpend = "36bb0e309e7e9a82f1527df2c6b0e48181589097fe90c1282c558207ea27ce66"
	kernelVecView  = "af8f69545b784e71de5e0a0261cb107aea99e9d7fe0df35537899cd9f05ea644"
)

// testKernel is the kernel address of a seed made of i, by the kernel
// library.
func testKernel(i byte) Kernel {
	a := common.NewAddressFromSeed(slices.Repeat([]byte{i}, 64))
	return Kernel{Spend: a.PublicSpendKey, View: a.PublicViewKey}
}

// offCurve is 32 bytes that encode no point of the curve.
func offCurve() []byte {
	for i := range 256 {
		b := make([]byte, 32)
		b[0] = byte(i)
		if _, err := new(edwards25519.Point).SetBytes(b); err != nil {
			return b
		}
	}
	panic("no invalid point found")
}

func TestKernelVector(t *testing.T) {
	k, err := ParseKernel(kernelVec)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(k.Spend[:]) != kernelVecSpend || hex.EncodeToString(k.View[:]) != kernelVecView {
		t.Fatalf("keys %x %x", k.Spend, k.View)
	}
	if k.String() != kernelVec {
		t.Fatal(k.String())
	}
	// The kernel test's mistyped form: the last character changed.
	wantErr(t, "mistyped", errOf(ParseKernel(kernelVec[:95]+"7")), "XIN address: checksum does not match (mistyped or cut short?)")
}

// TestKernelAgreesWithKernelLibrary compares both directions with the
// kernel's own common.Address.
func TestKernelAgreesWithKernelLibrary(t *testing.T) {
	for i := range 50 {
		k := testKernel(byte(i))
		a := common.NewAddressFromSeed(slices.Repeat([]byte{byte(i)}, 64))
		if k.String() != a.String() {
			t.Fatalf("seed %d: %s, kernel %s", i, k, a)
		}
		back, err := ParseKernel(a.String())
		if err != nil || back != k {
			t.Fatalf("seed %d: %v", i, err)
		}
	}
	for _, s := range sdkKernelMembers {
		a, err := common.NewAddressFromString(s)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParseKernel(s)
		if err != nil || k.Spend != [32]byte(a.PublicSpendKey) || k.View != [32]byte(a.PublicViewKey) {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestParseKernelRefuses(t *testing.T) {
	k := testKernel(7)
	// The identity point (1, 0…) keeps 65 bytes of keys within 93 digits.
	identity := edwards25519.NewIdentityPoint().Bytes()
	long := seal(KernelPrefix, slices.Concat(identity, k.View[:], []byte{1}))
	for _, c := range []struct{ in, want string }{
		{"", "XIN address: empty"},
		{"XIN", "XIN address: nothing after XIN"},
		{vec1of1, "XIN address: must start with XIN"},
		{"XIN" + strings.Repeat("z", kernelDigits+1), "XIN address: too long (97 characters; at most 96)"},
		{kernelVec[:60], "XIN address: too short (42 bytes; at least 68)"},
		{kernelVec[:50] + "l" + kernelVec[51:], "XIN address: character 'l' at position 51 is not base58"},
		{long, "XIN address: 65 bytes of keys; a kernel address holds 64"},
		{seal(KernelPrefix, slices.Concat(offCurve(), k.View[:])), "XIN address: the public spend key is not a point of the curve"},
		{seal(KernelPrefix, slices.Concat(k.Spend[:], offCurve())), "XIN address: the public view key is not a point of the curve"},
	} {
		wantErr(t, c.in, errOf(ParseKernel(c.in)), c.want)
	}
}
