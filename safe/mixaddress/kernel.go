package mixaddress

import (
	"strings"

	"filippo.io/edwards25519"
)

// KernelPrefix starts every kernel main-net address (the kernel's
// common.MainAddressPrefix).
const KernelPrefix = "XIN"

// kernelDigits bounds the base58 text of a kernel address:
// ceil((64 + 4) * log(256) / log(58)) digits.
const kernelDigits = 93

// Kernel is a kernel main-net address: the public spend and view keys of
// a kernel account. Its text is "XIN…".
type Kernel struct {
	Spend [32]byte
	View  [32]byte
}

// ParseKernel reads a XIN kernel address; spaces around it are ignored.
// Both keys must be points of the curve, as the kernel requires.
func ParseKernel(s string) (Kernel, error) {
	p, err := open(FieldKernel, KernelPrefix, strings.TrimSpace(s), kernelDigits, kernelSize)
	if err != nil {
		return Kernel{}, err
	}
	if len(p) != kernelSize {
		return Kernel{}, fieldErr(FieldKernel, "%d bytes of keys; a kernel address holds %d", len(p), kernelSize)
	}
	k := Kernel{Spend: [32]byte(p[:32]), View: [32]byte(p[32:])}
	if reason := k.check(); reason != "" {
		return Kernel{}, fieldErr(FieldKernel, "%s", reason)
	}
	return k, nil
}

// String is the XIN text of the address.
func (k Kernel) String() string {
	p := make([]byte, 0, kernelSize+checksumSize)
	p = append(p, k.Spend[:]...)
	p = append(p, k.View[:]...)
	return seal(KernelPrefix, p)
}

// check says what is wrong with the keys, or "".
func (k Kernel) check() string {
	if _, err := new(edwards25519.Point).SetBytes(k.Spend[:]); err != nil {
		return "the public spend key is not a point of the curve"
	}
	if _, err := new(edwards25519.Point).SetBytes(k.View[:]); err != nil {
		return "the public view key is not a point of the curve"
	}
	return ""
}
