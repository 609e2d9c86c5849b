//go:build !noasm

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// epiAVX512 is biasActGo on n floats at y (and add, when non-nil), relu
// being 0 or 1, with 512-bit vectors and a masked tail.
//
//go:noescape
func epiAVX512(y, add *float32, n int, b float32, relu int32)

// biasActAVX512 adapts epiAVX512 to biasAct's signature.
func biasActAVX512(y, add []float32, b float32, relu bool) {
	if len(y) == 0 {
		return
	}
	var ap *float32
	if add != nil {
		ap = unsafe.SliceData(add)
	}
	r := int32(0)
	if relu {
		r = 1
	}
	epiAVX512(unsafe.SliceData(y), ap, len(y), b, r)
}

func init() {
	if cpu.X86.HasAVX512F {
		biasAct = biasActAVX512
	}
}
