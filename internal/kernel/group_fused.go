package kernel

import (
	"math"
	"math/bits"
)

// This file holds the fused epilogue of GroupPlan (issue 22): when a conv
// writes the next conv's padded layout at its own pitch, the flat
// epilogue (bias, ReLU, halo lanes zeroed; epiFlat) runs inside the row3
// and micro-kernels' store (row3EKernel, microEKernel) instead of as a
// second pass over a tile buffer, so each output is written once and
// never read back. In a pruned network the conv work shrinks but that
// pass does not: the epilogue was 9-11% of the Conv-70 ResNet-56's time.
// Convs that add a residual write the unpadded layout: there the kernels
// run the residual form (qoffs non-nil), which compresses each vector's
// output lanes into their places in the unpadded rows and adds the skip
// tensor there, so that those convs lose the separate pass too. It also holds the switch of the compact padded pitch
// (direct.compact).

// row3EKernel is row3Kernel with the flat epilogue in its store: output
// row i goes to c[coffs[i]:] instead of c[i*ldc:], as
//
//	for j := range 16 * nv * tiles {
//		v := float32(0)
//		if masks[j/16]&(1<<(j%16)) != 0 {
//			v = max(s(i, j)+bias[i], lo) // a NaN stays NaN
//		}
//		c[coffs[i]+j] = v
//	}
//
// with s(i, j) row3Kernel's sum; lo is 0 for ReLU, -Inf without. The
// residual form, with qoffs non-nil (one per vector, from the tile's
// first, as masks), writes only the lanes masks sets, each to its rank
// among them after qoffs, and adds add at the same index:
//
//	if masks[j/16]&(1<<(j%16)) != 0 {
//		q := coffs[i] + int(qoffs[j/16]) + (its rank in masks[j/16])
//		c[q] = max(s(i, j)+bias[i]+add[q], lo)
//	}
type row3EKernel func(m, nv, tiles int, a []float32, lda int, b []float32, rowOffs []int32, c []float32, coffs []int, bias []float32, masks []uint16, lo float32, add []float32, qoffs []int32)

// row3Fused is the row3EKernel in use, or nil (no row3 kernels, or the
// fused epilogue switched off): GroupPlan then runs the row3 or micro
// kernels into a tile buffer and the epilogue after them.
var row3Fused row3EKernel

// row3FusedImpl is the row3EKernel this CPU has (nil: none).
var row3FusedImpl row3EKernel

// microEKernel is microKernel (add false) with the flat epilogue in its
// store, as row3EKernel: output row i goes to c[coffs[i]:], as
// max(s+bias[i], lo) in the lanes masks sets (one uint16 per vector),
// 0 in the others; qoffs non-nil gives the residual form, as row3EKernel.
type microEKernel func(m, nv, k int, a []float32, aoffs []int32, b []float32, boffs []int32, c []float32, coffs []int, bias []float32, masks []uint16, lo float32, add []float32, qoffs []int32)

// microFused and microFusedImpl are the microEKernel in use and the one
// this CPU has, as row3Fused and row3FusedImpl.
var microFused, microFusedImpl microEKernel

// row3EGo is row3EKernel in Go, summing in the micro-kernels' order (up
// to the fused multiply-adds' rounding).
func row3EGo(m, nv, tiles int, a []float32, lda int, b []float32, rowOffs []int32, c []float32, coffs []int, bias []float32, masks []uint16, lo float32, add []float32, qoffs []int32) {
	n := tiles * nv * vecW
	for i := range m {
		for j := range n {
			mk := masks[j/vecW]
			in := mk&(1<<(j%vecW)) != 0
			if !in && qoffs != nil {
				continue
			}
			if !in {
				c[coffs[i]+j] = 0
				continue
			}
			var s float32
			for r, o := range rowOffs {
				for t := range 3 {
					s += a[i*lda+3*r+t] * b[int(o)+t+j]
				}
			}
			if qoffs == nil {
				c[coffs[i]+j] = epiLo(s+bias[i], lo)
				continue
			}
			q := coffs[i] + compressIndex(mk, qoffs[j/vecW], j%vecW)
			c[q] = epiLo(s+bias[i]+add[q], lo)
		}
	}
}

// compressIndex is where the residual form puts lane l of a vector with
// mask mk and offset q: q plus the number of set lanes below l.
func compressIndex(mk uint16, q int32, l int) int {
	return int(q) + bits.OnesCount16(mk&(1<<l-1))
}

// flatOffsets returns the qoffs of the residual form for the flat masks:
// the number of output lanes before each vector.
func flatOffsets(flat []uint16) []int32 {
	q := make([]int32, len(flat))
	n := int32(0)
	for v, mk := range flat {
		q[v] = n
		n += int32(bits.OnesCount16(mk))
	}
	return q
}

// epiLo is max(v, lo) with a NaN v kept.
func epiLo(v, lo float32) float32 {
	if v < lo {
		return lo
	}
	return v
}

// SetFusedEpilogue switches the fused epilogue of GroupPlan on or off
// (where the CPU has its kernels; it is on by default) and returns the
// previous setting, so that benchmarks can time both in one process. It
// must not be called while a GroupPlan runs.
func SetFusedEpilogue(on bool) (was bool) {
	was = row3Fused != nil
	row3Fused, microFused = nil, nil
	if on {
		row3Fused, microFused = row3FusedImpl, microFusedImpl
	}
	return was
}

// fusedResidual makes GroupPlan run residual convs (e.Add, unpadded
// output) through the fused kernels' residual form.
var fusedResidual = true

// SetFusedResidual switches the residual form of the fused epilogue on or
// off (on by default; it runs only while SetFusedEpilogue is on) and
// returns the previous setting, so that benchmarks can time a residual
// conv both ways in one process. It must not be called while a GroupPlan
// runs.
func SetFusedResidual(on bool) (was bool) {
	was, fusedResidual = fusedResidual, on
	return was
}

// reluLo is the lo of row3EKernel for an epilogue with or without ReLU.
func reluLo(relu bool) float32 {
	if relu {
		return 0
	}
	return float32(math.Inf(-1))
}

// fusedArgs returns the fused kernels' coffs (plane offsets n*ycs) and
// bias of filters, in ws: local arrays passed through a function value
// would escape, two allocations per group.
func (ws *Workspace) fusedArgs(filters []int, ycs int, e *Epilogue) ([]int, []float32) {
	if cap(ws.ecoffs) < len(filters) {
		ws.ecoffs, ws.ebias = make([]int, len(filters)), make([]float32, len(filters))
	}
	coffs, bias := ws.ecoffs[:len(filters)], ws.ebias[:len(filters)]
	for i, n := range filters {
		coffs[i] = n * ycs
		bias[i] = 0
		if e.Bias != nil {
			bias[i] = e.Bias[n]
		}
	}
	return coffs, bias
}

// fusedGroup runs the tiles of group pg, whose filters have no
// e.Planes, through row3Fused or microFused into y: the next conv's padded
// layout (plane n at y[n*ycs+y0], the plan's own pitch, flat masks
// g.flat), or, with e.Add, the unpadded layout in the residual form (plane
// n at y[n*ycs], y0 0, ycs ho*wo).
func (g *GroupPlan) fusedGroup(pg *planGroup, xp, y []float32, ycs, y0 int, e *Epilogue, ws *Workspace) {
	d := &g.d
	nf, k := len(pg.filters), len(pg.offs)
	coffs, bias := ws.fusedArgs(pg.filters, ycs, e)
	lo := reluLo(e.ReLU)
	// out returns the kernels' c, masks and qoffs for the tile at j0.
	out := func(j0, nvec int) ([]float32, []uint16, []int32) {
		masks := g.flat[j0/vecW : j0/vecW+nvec]
		if e.Add != nil {
			return y, masks, g.qoffs[j0/vecW : j0/vecW+nvec]
		}
		return y[y0+j0:], masks, nil
	}
	if pg.rows3 == nil { // the micro-kernels, as ForwardPadded runs them
		aoffs := ws.aoffs[:]
		for i := range aoffs {
			aoffs[i] = int32(i * k)
		}
		mrMax := mrFor(pg.nv)
		for j0 := 0; j0 < d.pp; {
			nv := min(pg.nv, (d.pp-j0)/vecW)
			if nv > maxNV && nv < wideNV { // the wide tile's remainder
				nv = maxNV
			}
			c, masks, qoffs := out(j0, nv)
			for i0 := 0; i0 < nf; i0 += mrMax {
				mr := min(mrMax, nf-i0)
				microFused(mr, nv, k, pg.w[i0*k:], aoffs, xp[j0:], pg.offs, c, coffs[i0:], bias[i0:], masks, lo, e.Add, qoffs)
			}
			j0 += nv * vecW
		}
		return
	}
	for j0 := 0; j0 < d.pp; {
		nv := min(pg.nv3, (d.pp-j0)/vecW)
		tiles := (d.pp - j0) / (nv * vecW)
		c, masks, qoffs := out(j0, tiles*nv)
		row3Fused(nf, nv, tiles, pg.w, k, xp[j0:], pg.rows3, c, coffs, bias, masks, lo, e.Add, qoffs)
		j0 += tiles * nv * vecW
	}
}

// compactPitch makes NewGroupPlan use the compact padded pitch
// (direct.compact) for stride-1 convs.
var compactPitch = true

// SetCompactPitch sets whether GroupPlans built from now on compute in
// the compact padded pitch (w+pad instead of w+2*pad; on by default) and
// returns the previous setting, so that benchmarks can build both. Plans
// of either kind chain (ForwardPadded) with each other.
func SetCompactPitch(on bool) (was bool) {
	was, compactPitch = compactPitch, on
	return was
}
