package kernel

// This file holds GroupPlan's split of one image's conv by output
// position, for running it on several threads (package compile, batch 1):
// ForwardPaddedRange computes the output vectors [v0, v1) of the padded
// pitch, all channels, so that each thread's part reads (mostly) the rows
// its part of the previous conv wrote, in its own core's cache. Split by
// groups instead (each thread all positions of some channels), each
// thread reads the whole input, half of it from the other core's cache:
// a pruned ResNet conv then took 11-14 us on two threads against 14 on
// one, and 7-8 when both caches already held the input (Intel Xeon, 2
// vCPUs).

// Ranged reports whether ForwardPaddedRange can compute this plan with
// these arguments (as ForwardPadded takes them) by output vector ranges,
// and returns the number of output vectors per channel (0 when it
// cannot): stride 1, and the output either in next's padded layout
// (pitches equal) or, with e.Add, the unpadded layout through the fused
// kernels' residual form (no group with e.Planes there). Plans on the
// flat route (Flat), or writing for one, are not ranged.
func (g *GroupPlan) Ranged(y []float32, e *Epilogue, next *GroupPlan) int {
	d := &g.d
	if d.s != 1 || g.flat == nil || g.f8 != nil {
		return 0
	}
	if next != nil {
		if next.f8 != nil {
			return 0
		}
		nd := &next.d
		ycs, y0 := nd.cs, nd.ph*nd.wp+nd.pw
		if e.Add != nil || nd.s != 1 || next.p.C != g.p.N || next.p.H != d.ho || next.p.W != d.wo ||
			nd.wp != d.wp || len(y) < (g.p.N-1)*ycs+y0+d.pp {
			return 0
		}
		return d.pp / vecW
	}
	hw := d.ho * d.wo
	if e.Add == nil || cur.row3 == nil || !fusedResidual || len(y) < g.p.N*hw || len(e.Add) < g.p.N*hw {
		return 0
	}
	for gi := range g.groups {
		pg := &g.groups[gi]
		if hasPlanes(e, pg.filters) || pg.rows3 != nil && row3Fused == nil || pg.rows3 == nil && microFused == nil {
			return 0
		}
	}
	return d.pp / vecW
}

// ForwardPaddedRange is ForwardPadded restricted to the output vectors
// [v0, v1) of each channel's padded pitch, for a plan and arguments that
// Ranged accepts: the parts of a partition of [0, Ranged(...)) write
// disjoint outputs and together all of them, bit for bit as
// ForwardPadded. The part with v0 == 0 also writes the channels no group
// computes. Without xPadded the part pads, into ws, only the input rows
// its taps read. Parts may run at the same time with different ws.
func (g *GroupPlan) ForwardPaddedRange(x, y []float32, e *Epilogue, ws *Workspace, xPadded bool, next *GroupPlan, v0, v1 int) {
	d := &g.d
	lo, hi := v0*vecW, v1*vecW
	if v0 < 0 || v1 > d.pp/vecW || v0 > v1 {
		panic("kernel: GroupPlan.ForwardPaddedRange: vector range out of the plane")
	}
	hw := d.ho * d.wo
	ycs, y0 := hw, 0
	if next != nil {
		nd := &next.d
		ycs, y0 = nd.cs, nd.ph*nd.wp+nd.pw
	}
	xp := x
	if !xPadded {
		xp = g.padRange(ws, x, lo, hi)
	}
	fuse := cur.row3 != nil
	for gi := range g.groups {
		pg := &g.groups[gi]
		if fuse && (pg.rows3 != nil && row3Fused != nil || pg.rows3 == nil && microFused != nil) && !hasPlanes(e, pg.filters) {
			g.fusedRange(pg, xp, y, ycs, y0, e, ws, lo, hi)
			continue
		}
		// Only with next (Ranged): the tile buffer, then the flat epilogue.
		t := grow(&ws.s2, len(pg.filters)*d.pp)
		g.tilesRange(pg, xp, t, ws, lo, hi)
		for fi, n := range pg.filters {
			tn := t[fi*d.pp:]
			if e.Planes != nil && e.Planes[n] != nil {
				addPlaneRange(tn, e.Planes[n], d.wp, d.wo, d.ho, lo, hi)
			}
			var b float32
			if e.Bias != nil {
				b = e.Bias[n]
			}
			epiFlat(y[n*ycs+y0+lo:], tn[lo:hi], g.flat[v0:v1], b, e.ReLU)
		}
	}
	if v0 != 0 {
		return
	}
	ydp := d.wo
	if next != nil {
		ydp = d.wp
	}
	g.storeUncovered(y, ycs, y0, ydp, e)
}

// fusedRange is fusedGroup over the output positions [lo, hi).
func (g *GroupPlan) fusedRange(pg *planGroup, xp, y []float32, ycs, y0 int, e *Epilogue, ws *Workspace, lo, hi int) {
	nf, k := len(pg.filters), len(pg.offs)
	coffs, bias := ws.fusedArgs(pg.filters, ycs, e)
	relu := reluLo(e.ReLU)
	out := func(j0, nvec int) ([]float32, []uint16, []int32) {
		masks := g.flat[j0/vecW : j0/vecW+nvec]
		if e.Add != nil {
			return y, masks, g.qoffs[j0/vecW : j0/vecW+nvec]
		}
		return y[y0+j0:], masks, nil
	}
	if pg.rows3 == nil {
		aoffs := ws.aoffs[:]
		for i := range aoffs {
			aoffs[i] = int32(i * k)
		}
		mrMax := mrFor(pg.nv)
		for j0 := lo; j0 < hi; {
			nv := min(pg.nv, (hi-j0)/vecW)
			if nv > maxNV && nv < wideNV {
				nv = maxNV
			}
			c, masks, qoffs := out(j0, nv)
			for i0 := 0; i0 < nf; i0 += mrMax {
				mr := min(mrMax, nf-i0)
				microFused(mr, nv, k, pg.w[i0*k:], aoffs, xp[j0:], pg.offs, c, coffs[i0:], bias[i0:], masks, relu, e.Add, qoffs)
			}
			j0 += nv * vecW
		}
		return
	}
	for j0 := lo; j0 < hi; {
		nv := min(pg.nv3, (hi-j0)/vecW)
		tiles := (hi - j0) / (nv * vecW)
		c, masks, qoffs := out(j0, tiles*nv)
		row3Fused(nf, nv, tiles, pg.w, k, xp[j0:], pg.rows3, c, coffs, bias, masks, relu, e.Add, qoffs)
		j0 += tiles * nv * vecW
	}
}

// tilesRange runs group pg's kernels over the output positions [lo, hi)
// into the tile buffer t (rows of d.pp), as ForwardPadded's loop.
func (g *GroupPlan) tilesRange(pg *planGroup, xp, t []float32, ws *Workspace, lo, hi int) {
	d := &g.d
	nf, k := len(pg.filters), len(pg.offs)
	aoffs := ws.aoffs[:]
	for i := range aoffs {
		aoffs[i] = int32(i * k)
	}
	mrMax := mrFor(pg.nv)
	for j0 := lo; j0 < hi; {
		nv := min(pg.nv, (hi-j0)/vecW)
		if nv > maxNV && nv < wideNV {
			nv = maxNV
		}
		b := xp[j0:]
		if pg.rows3 != nil && cur.row3 != nil {
			nv = min(pg.nv3, (hi-j0)/vecW)
			tiles := (hi - j0) / (nv * vecW)
			cur.row3(nf, nv, tiles, pg.w, k, b, pg.rows3, t[j0:], d.pp)
			j0 += tiles * nv * vecW
			continue
		}
		for i0 := 0; i0 < nf; i0 += mrMax {
			mr := min(mrMax, nf-i0)
			cur.kern(mr, nv, k, pg.w[i0*k:], aoffs, b, pg.offs, t[i0*d.pp+j0:], d.pp, false)
		}
		j0 += nv * vecW
	}
}

// addPlaneRange adds plane pl (rows of wo) to the outputs of tile row t
// (pitch wp) at positions [lo, hi).
func addPlaneRange(t, pl []float32, wp, wo, ho, lo, hi int) {
	for oy := lo / wp; oy < ho && oy*wp < hi; oy++ {
		a, b := max(oy*wp, lo), min(oy*wp+wo, hi)
		for q := a; q < b; q++ {
			t[q] += pl[oy*wo+q-oy*wp]
		}
	}
}

// padRange is pad for the taps of the output positions [lo, hi): it
// writes into ws.s1, for each channel some group reads, the padded plane
// positions those taps reach, and zeroes the pw floats after each plane,
// which the bottom right tap of a compact pitch reads. The rest of ws.s1
// is left stale: the kernels' reads past a tile reach only output lanes
// that are dropped.
func (g *GroupPlan) padRange(ws *Workspace, x []float32, lo, hi int) []float32 {
	d := &g.d
	xp := grow(&ws.s1, g.p.C*d.cs+d.pp)
	p0 := lo
	p1 := min(d.cs, hi+(d.kh-1)*d.wp+d.kw-1)
	first := d.ph*d.wp + d.pw
	for _, c := range g.used {
		base := c * d.cs
		pl := xp[base : base+d.cs]
		clear(pl[p0:p1])
		// Input row r lies at [first+r*wp, first+r*wp+w).
		r0 := max(0, (p0-first)/d.wp)
		for r := r0; r < d.h; r++ {
			s := first + r*d.wp
			if s >= p1 {
				break
			}
			a, b := max(s, p0), min(s+d.w, p1)
			if a < b {
				copy(pl[a:b], x[c*d.h*d.w+r*d.w+a-s:])
			}
		}
		if p1 == d.cs {
			clear(xp[base+d.cs : base+d.cs+d.pw])
		}
	}
	if hi == d.pp {
		clear(xp[g.p.C*d.cs:])
	}
	return xp
}
