//go:build !noasm

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate sh -c "cd _asm && go run . -set epilogue -pkg kernel -out ../epilogue_amd64.s"

// epiRowsAVX512 is biasActRowsGo (flags 0 or 1: relu) or padRowsGo
// (flags 2|4, b 0, add nil) on rows rows of wo floats, with 512-bit vectors
// and masked tails; add may be nil. dp is the dst row pitch.
//
//go:noescape
func epiRowsAVX512(dst, src, add *float32, rows, wo, sp, dp int, b float32, flags int32)

// epiFlatAVX512 is epiFlatGo on nvec vectors (relu 0 or 1).
//
//go:noescape
func epiFlatAVX512(dst, src *float32, masks *uint16, nvec int, b float32, relu int32)

// epiFlatAsm adapts epiFlatAVX512 to epiFlat's signature.
func epiFlatAsm(dst, src []float32, masks []uint16, b float32, relu bool) {
	n := len(masks)
	if n == 0 {
		return
	}
	// Bounds the assembly relies on.
	_ = dst[n*vecW-1]
	_ = src[n*vecW-1]
	r := int32(0)
	if relu {
		r = 1
	}
	epiFlatAVX512(unsafe.SliceData(dst), unsafe.SliceData(src), unsafe.SliceData(masks), n, b, r)
}

// biasActRowsAVX512 adapts epiRowsAVX512 to biasActRows's signature.
func biasActRowsAVX512(dst, src, add []float32, rows, wo, sp, dp int, b float32, relu bool) {
	if rows == 0 || wo == 0 {
		return
	}
	// Bounds the assembly relies on.
	_ = dst[(rows-1)*dp+wo-1]
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
	epiRowsAVX512(unsafe.SliceData(dst), unsafe.SliceData(src), ap, rows, wo, sp, dp, b, r)
}

// padRowsAVX512 is padRows with epiRowsAVX512 in copy mode.
func padRowsAVX512(dst, src []float32, rows, w, dp int) {
	if rows == 0 || w == 0 || dp-w > vecW {
		padRowsGo(dst, src, rows, w, dp)
		return
	}
	// Bounds the assembly relies on.
	_ = dst[(rows-1)*dp+dp-1]
	_ = src[rows*w-1]
	flags := int32(2)
	if dp > w {
		flags |= 4
	}
	epiRowsAVX512(unsafe.SliceData(dst), unsafe.SliceData(src), nil, rows, w, w, dp, 0, flags)
}

// biasActAVX512 is BiasAct as one row.
func biasActAVX512(y, add []float32, b float32, relu bool) {
	biasActRowsAVX512(y, y, add, 1, len(y), len(y), len(y), b, relu)
}

func init() {
	if cpu.X86.HasAVX512F {
		biasAct = biasActAVX512
		biasActRows = biasActRowsAVX512
		padRows = padRowsAVX512
		epiFlat = epiFlatAsm
	}
}
