//go:build ignore

// bcryptprimitives.go writes a minimal x86-64 Windows DLL named
// bcryptprimitives.dll whose only export, ProcessPrng, forwards to
// advapi32.SystemFunction036 (RtlGenRandom). The Go runtime loads
// bcryptprimitives.dll at start-up and stops ("bcryptprimitives.dll not
// found") when it is missing, as it is in Wine before 9.0 (Debian 12 ships
// Wine 8.0); .ci/wine-keystore.sh puts this file into a Wine prefix that
// lacks it.
//
// Usage: go run .ci/bcryptprimitives.go OUT.dll
//
// ProcessPrng(PBYTE, SIZE_T) returns BOOL; RtlGenRandom(PVOID, ULONG)
// returns BOOLEAN. Both take the buffer in RCX and the length in RDX, so a
// forward is enough for the lengths the runtime asks for (far below 4 GiB);
// the runtime tests only the low byte of the result. The DLL has no code, no
// entry point and no relocations: one read-only section holds the export
// directory, and the forward is the string the export's address points to.
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
)

const (
	fileAlign    = 0x200
	sectionAlign = 0x1000
	sectionRVA   = 0x1000
	imageBase    = 0x180000000

	dllName    = "bcryptprimitives.dll"
	exportName = "ProcessPrng"
	forwardTo  = "advapi32.SystemFunction036"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run .ci/bcryptprimitives.go OUT.dll")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], build(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bcryptprimitives:", err)
		os.Exit(1)
	}
}

// build returns the bytes of the DLL.
func build() []byte {
	edata := exportSection()
	rawSize := align(len(edata), fileAlign)

	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }

	// DOS header: "MZ", and at 0x3c the offset of the PE header.
	dos := make([]byte, 0x40)
	copy(dos, "MZ")
	binary.LittleEndian.PutUint32(dos[0x3c:], 0x40)
	b.Write(dos)

	b.WriteString("PE\x00\x00")
	// COFF file header.
	le(uint16(0x8664)) // Machine: x86-64
	le(uint16(1))      // NumberOfSections
	le(uint32(0))      // TimeDateStamp
	le(uint32(0))      // PointerToSymbolTable
	le(uint32(0))      // NumberOfSymbols
	le(uint16(240))    // SizeOfOptionalHeader (PE32+)
	le(uint16(0x2022)) // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE | DLL

	// PE32+ optional header.
	le(uint16(0x20b))                                        // Magic
	le(uint8(14))                                            // MajorLinkerVersion
	le(uint8(0))                                             // MinorLinkerVersion
	le(uint32(0))                                            // SizeOfCode
	le(uint32(rawSize))                                      // SizeOfInitializedData
	le(uint32(0))                                            // SizeOfUninitializedData
	le(uint32(0))                                            // AddressOfEntryPoint: none
	le(uint32(sectionRVA))                                   // BaseOfCode
	le(uint64(imageBase))                                    // ImageBase
	le(uint32(sectionAlign))                                 // SectionAlignment
	le(uint32(fileAlign))                                    // FileAlignment
	le(uint16(6))                                            // MajorOperatingSystemVersion
	le(uint16(0))                                            // MinorOperatingSystemVersion
	le(uint16(0))                                            // MajorImageVersion
	le(uint16(0))                                            // MinorImageVersion
	le(uint16(6))                                            // MajorSubsystemVersion
	le(uint16(0))                                            // MinorSubsystemVersion
	le(uint32(0))                                            // Win32VersionValue
	le(uint32(sectionRVA + align(len(edata), sectionAlign))) // SizeOfImage
	le(uint32(fileAlign))                                    // SizeOfHeaders
	le(uint32(0))                                            // CheckSum
	le(uint16(3))                                            // Subsystem: console
	le(uint16(0x0100))                                       // DllCharacteristics: NX_COMPAT
	le(uint64(0x100000))                                     // SizeOfStackReserve
	le(uint64(0x1000))                                       // SizeOfStackCommit
	le(uint64(0x100000))                                     // SizeOfHeapReserve
	le(uint64(0x1000))                                       // SizeOfHeapCommit
	le(uint32(0))                                            // LoaderFlags
	le(uint32(16))                                           // NumberOfRvaAndSizes
	// Data directories: only the export table.
	le(uint32(sectionRVA))
	le(uint32(len(edata)))
	for i := 1; i < 16; i++ {
		le(uint64(0))
	}

	// The one section header.
	name := [8]byte{}
	copy(name[:], ".edata")
	b.Write(name[:])
	le(uint32(len(edata))) // VirtualSize
	le(uint32(sectionRVA)) // VirtualAddress
	le(uint32(rawSize))    // SizeOfRawData
	le(uint32(fileAlign))  // PointerToRawData
	le(uint32(0))          // PointerToRelocations
	le(uint32(0))          // PointerToLinenumbers
	le(uint16(0))          // NumberOfRelocations
	le(uint16(0))          // NumberOfLinenumbers
	le(uint32(0x40000040)) // INITIALIZED_DATA | MEM_READ

	b.Write(make([]byte, fileAlign-b.Len()))
	b.Write(edata)
	b.Write(make([]byte, rawSize-len(edata)))
	return b.Bytes()
}

// exportSection returns the export directory, its three tables and its
// strings, laid out from sectionRVA.
func exportSection() []byte {
	const (
		dirSize    = 40
		eatOff     = dirSize      // export address table: 1 entry
		namesOff   = eatOff + 4   // name pointer table: 1 entry
		ordinalOff = namesOff + 4 // ordinal table: 1 entry
		stringsOff = ordinalOff + 2
	)
	dllNameOff := stringsOff
	exportNameOff := dllNameOff + len(dllName) + 1
	forwardOff := exportNameOff + len(exportName) + 1
	size := forwardOff + len(forwardTo) + 1

	s := make([]byte, size)
	put32 := func(off, v int) { binary.LittleEndian.PutUint32(s[off:], uint32(v)) }
	// IMAGE_EXPORT_DIRECTORY
	put32(12, sectionRVA+dllNameOff) // Name
	put32(16, 1)                     // Base (first ordinal)
	put32(20, 1)                     // NumberOfFunctions
	put32(24, 1)                     // NumberOfNames
	put32(28, sectionRVA+eatOff)     // AddressOfFunctions
	put32(32, sectionRVA+namesOff)   // AddressOfNames
	put32(36, sectionRVA+ordinalOff) // AddressOfNameOrdinals
	// An address inside the export directory's range is a forward.
	put32(eatOff, sectionRVA+forwardOff)
	put32(namesOff, sectionRVA+exportNameOff)
	binary.LittleEndian.PutUint16(s[ordinalOff:], 0)
	copy(s[dllNameOff:], dllName)
	copy(s[exportNameOff:], exportName)
	copy(s[forwardOff:], forwardTo)
	return s
}

func align(n, a int) int { return (n + a - 1) / a * a }
