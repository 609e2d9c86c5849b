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
