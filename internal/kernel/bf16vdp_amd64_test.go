//go:build !noasm

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestVDPGemm checks vdpGemm1 and vdpGemm2, the VDPBF16PS products of the
// bf16 convolutions, against float64 sums of the same bf16 operands: 8
// rows x 16*nv columns, several K (none too), padded row strides, C
// overwritten and accumulated. The products of two bf16 values are exact,
// so the kernel differs from the reference only by its fp32 sums'
// rounding.
func TestVDPGemm(t *testing.T) {
	if !asmWanted || !hasDPBF16() {
		t.Skip("no AVX512_BF16")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, nv := range []int{1, 2} {
		for _, kp := range []int{0, 2, 16, 34} {
			for _, acc := range []int{0, 1} {
				t.Run(fmt.Sprintf("nv%d-kp%d-acc%d", nv, kp, acc), func(t *testing.T) {
					cols := 16 * nv
					lda := 2*kp + 6  // bf16 per A row
					ldb := cols + 16 // pairs per B row
					ldc := cols + 5  // floats per C row
					a := make([]uint16, 8*lda)
					b := make([]uint32, max(kp, 1)*ldb)
					c := make([]float32, 8*ldc)
					for i := range a {
						a[i] = BF16(float32(r.NormFloat64()))
					}
					for i := range b {
						b[i] = uint32(BF16(float32(r.NormFloat64()))) | uint32(BF16(float32(r.NormFloat64())))<<16
					}
					for i := range c {
						c[i] = float32(r.NormFloat64())
					}
					c0 := append([]float32(nil), c...)
					gemm := vdpGemm1
					if nv == 2 {
						gemm = vdpGemm2
					}
					gemm(&a[0], 2*lda, &b[0], 4*ldb, &c[0], 4*ldc, kp, acc)
					for i := range 8 {
						for j := range ldc {
							got := float64(c[i*ldc+j])
							if j >= cols {
								if got != float64(c0[i*ldc+j]) {
									t.Fatalf("C[%d][%d] past the block changed", i, j)
								}
								continue
							}
							var want, mag float64
							if acc != 0 {
								want, mag = float64(c0[i*ldc+j]), math.Abs(float64(c0[i*ldc+j]))
							}
							for k := range kp {
								pr := b[k*ldb+j]
								for h := range 2 {
									x := float64(FromBF16(a[i*lda+2*k+h])) * float64(FromBF16(uint16(pr>>(16*h))))
									want += x
									mag += math.Abs(x)
								}
							}
							if math.Abs(got-want) > 1e-5*mag+1e-30 {
								t.Fatalf("C[%d][%d] = %g, want %g (|products| %g)", i, j, got, want, mag)
							}
						}
					}
				})
			}
		}
	}
}
