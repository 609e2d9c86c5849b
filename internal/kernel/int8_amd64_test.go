//go:build !noasm

package kernel

import (
	"math/rand/v2"
	"testing"
)

// TestInt8InterWiden runs the interleavers' checks on the widening kernels
// (kernInterQuads and kernInterQuads8, the ones CPUs without AVX512_VBMI
// take) where the CPU would take the permuting ones.
func TestInt8InterWiden(t *testing.T) {
	if !i8AsmWanted {
		t.Skip("no AVX512_VNNI")
	}
	saved, savedV := i8Cur, i8InterVBMI
	defer func() { i8Cur, i8InterVBMI = saved, savedV }()
	SetInt8Impl("avx512vnni")
	for _, vbmi := range []bool{false, i8InterVBMI} {
		i8InterVBMI = vbmi
		checkInterQuads(t, rand.New(rand.NewPCG(11, 12)))
		checkInter8(t, rand.New(rand.NewPCG(13, 14)))
	}
}
