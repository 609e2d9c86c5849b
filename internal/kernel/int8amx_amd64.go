//go:build !noasm

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate sh -c "cd _asm && go run . -set int8amx -pkg kernel -out ../int8amx_amd64.s"

// The AMX route's kernels (generated; see _asm/int8amx.go): amxI8Blocks1
// and amxI8Blocks2 are i8AMXImpl.blocks for mt = 1 and 2 (TDPBSUD, the
// tile configuration amxCfg), kernI8Gather, kernI8EpiY and kernI8EpiQ
// its gather, epiY and epiQ.

//go:noescape
func amxI8Wide(cfg *byte, a *int32, lda int, b *uint8, boffs *int32, ldb int, c *int32, ldc int, ks, nb int)

//go:noescape
func amxI8Blocks2(cfg *byte, a *int32, lda int, b *uint8, boffs *int32, ldb int, c *int32, ldc int, ks, nb int)

//go:noescape
func kernI8Gather(k4 int, b *uint8, offs *int32, nv int, dst *uint8, ldd int)

//go:noescape
func kernI8TapQuads(n int, planes *uint8, idx *int32, rows, wq, full, tailW int, dst *uint32, ps int)

//go:noescape
func kernI8EpiY(mr, nv int, c *int32, ldc int, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int)

//go:noescape
func kernI8EpiQ(mr, nv int, c *int32, ldc int, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int)

//go:noescape
func kernI8EpiQF(mr, nv int, c *int32, ldc int, y *uint8, yoff *int32, add *float32, aoff *int32, voff *int32, sc *float32, bias *float32, q *float32, flags int)

// i8AMXAsm is the AMX route's steps on the generated kernels.
var i8AMXAsm = i8AMXImpl{amxGatherAsm, amxTapsAsm, amxBlocksAsm, amxEpiYAsm, amxEpiQAsm, amxEpiQFAsm}

// i8AMXProbe reports whether the CPU has the instructions of the AMX
// route, and asks the OS for the AMX tile state.
func i8AMXProbe() (bool, string) {
	x := cpu.X86
	if !(x.HasAMXTile && x.HasAMXInt8 && i8AsmWanted && x.HasAVX512VBMI) {
		return false, "the CPU lacks AMX-INT8, AVX512_VNNI or AVX512_VBMI"
	}
	if err := amxPermit(); err != nil {
		return false, "the OS refused the AMX tile state: " + err.Error()
	}
	return true, ""
}

// i8AMXFor returns the AMX steps of the generated kernels where the CPU
// runs them, else their pure-Go form.
func i8AMXFor() i8AMXImpl {
	if ok, _ := Int8AMX(); ok {
		return i8AMXAsm
	}
	return i8AMXGo
}

// amxGatherAsm is i8AMXImpl.gather of kernI8Gather; it checks every bound.
func amxGatherAsm(k4 int, b []byte, offs []int32, nv int, dst []byte, ldd int) {
	if k4 < 1 || nv < 1 {
		return
	}
	for _, o := range offs[:k4] {
		_ = b[int(o) : int(o)+64*nv]
	}
	_ = dst[(k4-1)*ldd : (k4-1)*ldd+64*nv]
	kernI8Gather(k4, unsafe.SliceData(b), unsafe.SliceData(offs), nv, unsafe.SliceData(dst), ldd)
}

// amxTapsAsm is i8AMXImpl.taps of kernI8TapQuads; it checks every bound.
func amxTapsAsm(n int, planes []byte, idx []int32, rows, wq, w int, dst []uint32, ps int) {
	if n < 1 || rows < 1 || w < 1 {
		return
	}
	last := w + 2 // the last byte a row's words read
	if w >= 16 {
		last = max(last, 16*(w/16-1)+31) // a whole vector loads 32 bytes
	}
	for _, o := range idx[:n] {
		_ = planes[int(o)+(rows-1)*wq+last]
	}
	_ = dst[(n-1)*ps+rows*w-1]
	kernI8TapQuads(n, unsafe.SliceData(planes), unsafe.SliceData(idx), rows, wq, w/16, w%16, unsafe.SliceData(dst), 4*ps)
}

// amxBlocksAsm is i8AMXImpl.blocks of amxI8Wide (mt = 1, nb even) and
// amxI8Blocks2; it checks every bound.
func amxBlocksAsm(mt int, a []int32, lda int, b []byte, boffs []int32, ldb int, c []int32, ldc int, ks, nb int) {
	if ks < 1 || nb < 1 || mt < 1 || mt > 2 || mt == 1 && nb%2 != 0 || lda < 16*ks || ldc < 32*nb {
		panic("kernel: amxBlocksAsm: bad geometry")
	}
	_ = a[(16*mt-1)*lda+16*ks-1]
	for _, o := range boffs[:ks] {
		_ = b[int(o)+15*ldb+128*nb-1]
	}
	_ = c[(16*mt-1)*ldc+32*nb-1]
	if mt == 1 {
		amxI8Wide(&amxCfg[0], unsafe.SliceData(a), 4*lda, unsafe.SliceData(b), unsafe.SliceData(boffs), ldb, unsafe.SliceData(c), 4*ldc, ks, nb/2)
		return
	}
	amxI8Blocks2(&amxCfg[0], unsafe.SliceData(a), 4*lda, unsafe.SliceData(b), unsafe.SliceData(boffs), ldb, unsafe.SliceData(c), 4*ldc, ks, nb)
}

// i8EpiCheck checks the bounds shared by the epilogues and returns their
// flags.
func i8EpiCheck(mr, nv int, c []int32, ldc int, vinfo []int32, sc, bias []float32, relu bool, add []float32) int {
	if mr < 1 || nv < 1 {
		panic("kernel: int8 AMX epilogue: no rows or vectors")
	}
	_ = c[(mr-1)*ldc+16*nv-1]
	_ = vinfo[2*nv-1]
	_, _ = sc[mr-1], bias[mr-1]
	flags := 0
	if relu {
		flags |= 1
	}
	if add != nil {
		flags |= 2
	}
	return flags
}

// amxEpiYAsm is i8AMXImpl.epiY of kernI8EpiY. It checks the bounds of
// c, vinfo, yoff, sc and bias; the caller guarantees that every output
// vinfo and yoff name is in y (and add).
func amxEpiYAsm(mr, nv int, c []int32, ldc int, y []float32, yoff []int32, add []float32, vinfo []int32, sc, bias []float32, relu bool) {
	flags := i8EpiCheck(mr, nv, c, ldc, vinfo, sc, bias, relu, add)
	_ = yoff[mr-1]
	var ap *float32
	if add != nil {
		ap = unsafe.SliceData(add)
	}
	kernI8EpiY(mr, nv, unsafe.SliceData(c), 4*ldc, unsafe.SliceData(y), unsafe.SliceData(yoff), ap, unsafe.SliceData(vinfo),
		unsafe.SliceData(sc), unsafe.SliceData(bias), flags)
}

// amxEpiQAsm is i8AMXImpl.epiQ of kernI8EpiQ. It checks the bounds of
// c, vinfo, yoff, aoff, sc and bias; the caller guarantees that every
// byte and residual the valid lanes reach is in y and add.
func amxEpiQAsm(mr, nv int, c []int32, ldc int, y []byte, yoff []int32, add []float32, aoff []int32, vinfo []int32, sc, bias []float32, q *[2]float32, relu bool) {
	flags := i8EpiCheck(mr, nv, c, ldc, vinfo, sc, bias, relu, add)
	_, _ = yoff[mr-1], aoff[mr-1]
	var ap *float32
	if add != nil {
		ap = unsafe.SliceData(add)
	}
	kernI8EpiQ(mr, nv, unsafe.SliceData(c), 4*ldc, unsafe.SliceData(y), unsafe.SliceData(yoff), ap, unsafe.SliceData(aoff),
		unsafe.SliceData(vinfo), unsafe.SliceData(sc), unsafe.SliceData(bias), &q[0], flags)
}

// amxEpiQFAsm is i8AMXImpl.epiQF of kernI8EpiQF. It checks the bounds of
// c, voff, yoff, aoff, sc and bias; the caller guarantees that every byte
// and residual reached is in y and add.
func amxEpiQFAsm(mr, nv int, c []int32, ldc int, y []byte, yoff []int32, add []float32, aoff []int32, voff []int32, sc, bias []float32, q *[2]float32, relu bool) {
	flags := i8EpiCheck(mr, nv, c, ldc, voff, sc, bias, relu, add)
	_, _ = yoff[mr-1], aoff[mr-1]
	var ap *float32
	if add != nil {
		ap = unsafe.SliceData(add)
	}
	kernI8EpiQF(mr, nv, unsafe.SliceData(c), 4*ldc, unsafe.SliceData(y), unsafe.SliceData(yoff), ap, unsafe.SliceData(aoff),
		unsafe.SliceData(voff), unsafe.SliceData(sc), unsafe.SliceData(bias), &q[0], flags)
}
