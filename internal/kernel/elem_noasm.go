//go:build noasm || !amd64

package kernel

// Stand-ins for the generated elementwise kernels: a pure-Go build never
// sets impl.vec, so these are never called.

func reluAVX(x []float32)                           { panic("kernel: no vector kernels") }
func reluMaskAVX(y, dy []float32)                   { panic("kernel: no vector kernels") }
func addToAVX(dst, src []float32)                   { panic("kernel: no vector kernels") }
func affineAVX(x, y []float32, a, b float32)        { panic("kernel: no vector kernels") }
func affine2AVX(x, y, z []float32, a, b, c float32) { panic("kernel: no vector kernels") }
func sumSqAVX(x []float32, out *[16]float64)        { panic("kernel: no vector kernels") }
func sumDotAVX(x, y []float32, out *[16]float64)    { panic("kernel: no vector kernels") }
