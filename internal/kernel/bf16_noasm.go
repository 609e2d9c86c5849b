//go:build noasm || !amd64

package kernel

// Without assembly the bf16 convolutions never run (BF16Conv reports none).

func bf16Probe() (bfRoute, string) { return bfNone, "built without assembly (noasm or not amd64)" }

func hasDPBF16() bool { return false }

func vdpRate() float64 { return 0 }

func vdpGemm1(a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, kp, acc int) {
	panic("kernel: no AVX512_BF16")
}

func vdpGemm2(a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, kp, acc int) {
	panic("kernel: no AVX512_BF16")
}

func amxBlocks1(cfg *byte, a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, ks, nb int) {
	panic("kernel: no AMX")
}

func amxBlocks2(cfg *byte, a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, ks, nb int) {
	panic("kernel: no AMX")
}

func amxAcc1(cfg *byte, a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, ks int) {
	panic("kernel: no AMX")
}

func amxAcc2(cfg *byte, a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, ks int) {
	panic("kernel: no AMX")
}

func packPairsBF16(dst *uint32, ldd int, base *float32, offs *int32, np, n16 int, perm *uint16) {
	panic("kernel: no AVX512_BF16")
}

func packPairsW16(dst *uint32, base *float32, offs *int32, np, rows, n16, pitch int, perm *uint16) {
	panic("kernel: no AVX512_BF16")
}

func packPairsW8(dst *uint32, base *float32, offs *int32, np, rows, n16, pitch int, perm *uint16) {
	panic("kernel: no AVX512_BF16")
}

func packRowsBF16(dst *uint16, ldd int, base *float32, offs *int32, nr, n32 int) {
	panic("kernel: no AVX512_BF16")
}

func packRowsW16(dst *uint16, base *float32, offs *int32, nr, rows, n16, pitch int) {
	panic("kernel: no AVX512_BF16")
}

func packRowsW8(dst *uint16, base *float32, offs *int32, nr, rows, n16, pitch int) {
	panic("kernel: no AVX512_BF16")
}

func pairsTBF16(dst *uint32, ldd int, src *float32, lds int, nr, n32 int, idx *int32) {
	panic("kernel: no AVX512_BF16")
}

func dpbf16Peak(n int) { panic("kernel: no AVX512_BF16") }

func amxPeak(cfg *byte, n int) { panic("kernel: no AMX") }
