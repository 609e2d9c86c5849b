//go:build !noasm

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate sh -c "cd _asm && go run . -set deint -pkg kernel -out ../deint_amd64.s"

// deintAVX512 is deinterleaveRowsGo with 512-bit vectors; idx holds the
// even then the odd lane indices 0..31.
//
//go:noescape
func deintAVX512(even, odd, src *float32, idx *int32, rows, w, sp, dp int)

// deintIdx are deintAVX512's permutation indices.
var deintIdx = func() (v [32]int32) {
	for i := range 16 {
		v[i], v[16+i] = int32(2*i), int32(2*i+1)
	}
	return v
}()

// deinterleaveRowsAVX512 adapts deintAVX512 to deinterleaveRows.
func deinterleaveRowsAVX512(even, odd, src []float32, rows, w, sp, dp int) {
	if rows == 0 || w < 2 {
		deinterleaveRowsGo(even, odd, src, rows, w, sp, dp)
		return
	}
	// Bounds the assembly relies on.
	_ = even[(rows-1)*dp+(w+1)/2-1]
	_ = odd[(rows-1)*dp+w/2-1]
	_ = src[(rows-1)*sp+w-1]
	deintAVX512(unsafe.SliceData(even), unsafe.SliceData(odd), unsafe.SliceData(src), &deintIdx[0], rows, w, sp, dp)
}

func init() {
	if cpu.X86.HasAVX512F {
		deinterleaveRows = deinterleaveRowsAVX512
	}
}
