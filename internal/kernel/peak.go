package kernel

// FMAPeakLoop runs n iterations of the FMA calibration loop (24
// independent 16-lane fused multiply-adds, no memory operands) on the
// calling goroutine and returns the floating-point operations it did:
// 768*n with the AVX-512 kernels, 0 in a pure-Go build, which has no such
// loop. Timing it gives the core's FP32 FMA peak, the ceiling that conv
// rates are set against (bench/issue22).
func FMAPeakLoop(n int) float64 {
	if !asmWanted || n <= 0 {
		return 0
	}
	fmaPeak(n)
	return 768 * float64(n)
}

// DPBF16PeakLoop is FMAPeakLoop with AVX512_BF16's VDPBF16PS (24
// independent chains of 16 lanes, each two bf16 products): 1536 flops per
// iteration, 0 where the CPU lacks AVX512_BF16 or the build assembly (no
// such loop is run there).
func DPBF16PeakLoop(n int) float64 {
	if !asmWanted || !hasDPBF16() || n <= 0 {
		return 0
	}
	dpbf16Peak(n)
	return 1536 * float64(n)
}

// AMXPeakLoop runs n iterations of four independent AMX TDPBF16PS (16 x
// 16 x 32 bf16 tile products) and returns their flops, 65536 per
// iteration, or 0 where AMX() is false. With FMAPeakLoop and
// DPBF16PeakLoop it gives the ceilings of fp32 and bf16 kernels
// (docs/BF16.md).
func AMXPeakLoop(n int) float64 {
	if ok, _ := AMX(); !ok || n <= 0 {
		return 0
	}
	amxPeak(&amxCfg[0], n)
	return 4 * 16 * 16 * 32 * 2 * float64(n)
}
