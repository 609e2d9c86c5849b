//go:build !noasm

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// epiRowsAVX512 is biasActRowsGo on rows rows of wo floats, relu being 0
// or 1, with 512-bit vectors and a masked tail; add may be nil.
//
//go:noescape
func epiRowsAVX512(dst, src, add *float32, rows, wo, sp int, b float32, relu int32)

// biasActRowsAVX512 adapts epiRowsAVX512 to biasActRows's signature.
func biasActRowsAVX512(dst, src, add []float32, rows, wo, sp int, b float32, relu bool) {
	if rows == 0 || wo == 0 {
		return
	}
	// Bounds the assembly relies on.
	_ = dst[rows*wo-1]
	_ = src[(rows-1)*sp+wo-1]
	var ap *float32
	if add != nil {
		_ = add[rows*wo-1]
		ap = unsafe.SliceData(add)
	}
	r := int32(0)
	if relu {
		r = 1
	}
	epiRowsAVX512(unsafe.SliceData(dst), unsafe.SliceData(src), ap, rows, wo, sp, b, r)
}

// biasActAVX512 is BiasAct as one row.
func biasActAVX512(y, add []float32, b float32, relu bool) {
	biasActRowsAVX512(y, y, add, 1, len(y), len(y), b, relu)
}

func init() {
	if cpu.X86.HasAVX512F {
		biasAct = biasActAVX512
		biasActRows = biasActRowsAVX512
	}
}
