//go:build !noasm

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// padFlatAVX512 is padFlatGo on nvec vectors whose masks set set lanes in
// all (generated with the epilogue set, epilogue_amd64.s).
//
//go:noescape
func padFlatAVX512(dst, src *float32, masks *uint16, nvec, set int)

// padFlatAsm adapts padFlatAVX512 to padFlat's signature.
func padFlatAsm(dst, src []float32, masks []uint16, set int) {
	n := len(masks)
	if n == 0 {
		return
	}
	// Bounds the assembly relies on: dst whole vectors, src the set values
	// the masks take (it loads no further).
	_ = dst[n*vecW-1]
	if set > 0 {
		_ = src[set-1]
	}
	padFlatAVX512(unsafe.SliceData(dst), unsafe.SliceData(src), unsafe.SliceData(masks), n, set)
}

func init() {
	if cpu.X86.HasAVX512F && cpu.X86.HasPOPCNT {
		padFlat = padFlatAsm
	}
}
