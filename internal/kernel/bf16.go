package kernel

import "math"

// bf16 numerics: the rounding of AVX512_BF16's VCVTNE2PS2BF16 and of
// AMX's bf16 operands, in pure Go. A bf16 product of two rounded values is
// exact in fp32, so a bf16 GEMM with fp32 accumulation equals an fp32 GEMM
// of the rounded operands up to the order of its sums; RoundBF16 is what
// makes the fp32 kernels compute that GEMM (nn's bf16 precision).

// BF16 returns the bf16 bits of x as VCVTNE2PS2BF16 rounds it: to nearest,
// ties to even; denormal inputs become zero of the same sign; NaNs stay
// NaN (quiet); values beyond bf16's range round to infinity.
func BF16(x float32) uint16 {
	u := math.Float32bits(x)
	switch {
	case u&0x7f800000 == 0: // zero or denormal
		return uint16(u>>16) & 0x8000
	case u&0x7fffffff > 0x7f800000: // NaN
		return uint16(u>>16) | 0x40
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

// FromBF16 returns the float32 value of the bf16 bits b.
func FromBF16(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// RoundBF16 writes to dst[i] the float32 value of src[i] rounded to bf16
// (BF16); dst and src may be the same slice, dst must be at least as long.
func RoundBF16(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		u := math.Float32bits(x)
		switch {
		case u&0x7f800000 == 0:
			u &= 0x80000000
		case u&0x7fffffff > 0x7f800000:
			u |= 0x400000
			u &= 0xffff0000
		default:
			u = (u + 0x7fff + (u>>16)&1) & 0xffff0000
		}
		dst[i] = math.Float32frombits(u)
	}
}
