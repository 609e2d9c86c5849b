//go:build !noasm

package kernel

import (
	"fmt"
	"time"

	"golang.org/x/sys/cpu"
)

//go:generate sh -c "cd _asm && go run . -set bf16 -pkg kernel -out ../bf16_amd64.s"

// The bf16 kernels (generated; see _asm/bf16.go).

//go:noescape
func amxBlocks1(cfg *byte, a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, ks, nb int)

//go:noescape
func amxBlocks2(cfg *byte, a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, ks, nb int)

//go:noescape
func amxAcc1(cfg *byte, a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, ks int)

//go:noescape
func amxAcc2(cfg *byte, a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, ks int)

//go:noescape
func vdpGemm1(a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, kp, acc int)

//go:noescape
func vdpGemm2(a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, kp, acc int)

//go:noescape
func packPairsBF16(dst *uint32, ldd int, base *float32, offs *int32, np, n16 int, perm *uint16)

//go:noescape
func packPairsW16(dst *uint32, base *float32, offs *int32, np, rows, n16, pitch int, perm *uint16)

//go:noescape
func packPairsW8(dst *uint32, base *float32, offs *int32, np, rows, n16, pitch int, perm *uint16)

//go:noescape
func packRowsBF16(dst *uint16, ldd int, base *float32, offs *int32, nr, n32 int)

//go:noescape
func packRowsW16(dst *uint16, base *float32, offs *int32, nr, rows, n16, pitch int)

//go:noescape
func packRowsW8(dst *uint16, base *float32, offs *int32, nr, rows, n16, pitch int)

//go:noescape
func pairsTBF16(dst *uint32, ldd int, src *float32, lds int, nr, n32 int, idx *int32)

// dpbf16Peak and amxPeak are calibration loops (BF16PeakLoops).
func dpbf16Peak(n int)

//go:noescape
func amxPeak(cfg *byte, n int)

// bf16Probe reports the route of the bf16 products on this CPU: AMX
// where the CPU has it and the OS grants the tile state; else VDPBF16PS
// where the CPU has AVX512_BF16 and it measures at least minVDPRate times
// the FMA's flops (vdpRate); else none, and why.
func bf16Probe() (bfRoute, string) {
	x := cpu.X86
	if !(x.HasAVX512BF16 && x.HasAVX512BW) {
		return bfNone, "the CPU lacks AVX512_BF16"
	}
	amxWhy := "the CPU lacks AMX-BF16"
	if x.HasAMXTile && x.HasAMXBF16 {
		err := amxPermit()
		if err == nil {
			return bfAMX, ""
		}
		amxWhy = "the OS refused the AMX tile state: " + err.Error()
	}
	if r := vdpRate(); r < minVDPRate {
		return bfNone, fmt.Sprintf("%s, and VDPBF16PS does %.2fx the FMA's flops here (below %.2fx)", amxWhy, r, minVDPRate)
	}
	return bfVDP, amxWhy
}

// vdpRate measures VDPBF16PS's flops against the FMA's on this core: the
// best of five runs of each calibration loop (about 0.1 ms each).
func vdpRate() float64 {
	const n = 20000
	best := func(f func(int)) time.Duration {
		b := time.Duration(1 << 62)
		for range 5 {
			t0 := time.Now()
			f(n)
			b = min(b, time.Since(t0))
		}
		return b
	}
	tf, td := best(fmaPeak), best(dpbf16Peak)
	return 2 * tf.Seconds() / td.Seconds() // 1536 flops an iteration against 768
}

// hasDPBF16 reports whether dpbf16Peak runs here.
func hasDPBF16() bool { return cpu.X86.HasAVX512BF16 }
