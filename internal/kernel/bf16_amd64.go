//go:build !noasm

package kernel

import "golang.org/x/sys/cpu"

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

// amxProbe reports whether the CPU has the instructions of the bf16
// kernels, and asks the OS for the AMX tile state.
func amxProbe() (bool, string) {
	x := cpu.X86
	if !(x.HasAMXTile && x.HasAMXBF16 && x.HasAVX512BF16 && x.HasAVX512BW) {
		return false, "the CPU lacks AMX-BF16 or AVX512_BF16"
	}
	if err := amxPermit(); err != nil {
		return false, "the OS refused the AMX tile state: " + err.Error()
	}
	return true, ""
}
