package kernel

// This file holds the flat pad of GroupPlan (issue 22): a stride-1 conv
// whose output has its input's size ("same" padding, as every 3x3 conv of
// a CIFAR ResNet but the strided ones) finds its input's interior at the
// places its flat masks (GroupPlan.flat) mark in its own padded layout,
// y0 = ph*wp+pw floats into each plane. Its pad then writes each plane as
// whole vectors, each the next values of the input under the vector's
// mask and zeros in the halo lanes (VEXPANDPS), instead of row by row
// with a masked tail and a gap: the row-wise pad ran at 7-16 GB/s and was
// 7% of the Conv-70 ResNet-56's time (the pruned network pads as many
// channels as the dense one, so a pass like this costs the FLOPs ratio).

// padFlat writes len(masks) vectors to dst: vector v holds, in the lanes
// masks[v] sets, the next values of src in order, and zeros elsewhere:
//
//	i := 0
//	for v, mk := range masks {
//		for l := range 16 {
//			dst[16*v+l] = 0
//			if mk&(1<<l) != 0 {
//				dst[16*v+l] = src[i]
//				i++
//			}
//		}
//	}
//
// set must be the number of lanes masks sets (the assembly checks src
// against it), and src holds at least that many values.
var padFlat = padFlatGo

// padFlatGo is padFlat in Go.
func padFlatGo(dst, src []float32, masks []uint16, _ int) {
	dst = dst[:len(masks)*vecW]
	i := 0
	for v, mk := range masks {
		d := dst[v*vecW : (v+1)*vecW]
		for l := range d {
			d[l] = 0
			if mk&(1<<l) != 0 {
				d[l] = src[i]
				i++
			}
		}
	}
}

// flatPad reports whether pad may run padFlat: a stride-1 plan with flat
// masks whose output rows are its input rows (same size), so that the
// input's interior sits where the masks mark outputs, y0 floats into each
// plane.
func (g *GroupPlan) flatPad() bool {
	d := &g.d
	return flatPadOn && d.s == 1 && g.flat != nil && d.ho == d.h && d.wo == d.w
}

// padFlatPlanes is pad by padFlat into xp (of at least len(g.padAll)
// vectors). When every channel is read, it is one pass over the whole
// layout, tail included. Else, for each channel some group reads: the top
// halo cleared, the interior rows with their halos as whole vectors from
// y0 on, and the floats after them up to pw into the next plane (the
// compact pitch's bottom right taps read those) cleared; the vectors run
// up to 16 floats past a plane's end, into the next plane's top halo,
// which they zero, and channels run in ascending order, so a later plane
// overwrites that part itself.
func (g *GroupPlan) padFlatPlanes(xp, x []float32) {
	d := &g.d
	if len(g.used) == g.p.C {
		// Every plane: one pass over the whole buffer, tail included, under
		// masks of the whole layout (padMasks), so that no plane costs a
		// call: row by row or plane by plane, 64 8x8 planes took 12 cycles
		// a vector, mostly in the calls.
		padFlat(xp[:len(g.padAll)*vecW], x[:g.p.C*d.h*d.w], g.padAll, g.p.C*d.h*d.w)
		return
	}
	y0 := d.ph*d.wp + d.pw
	hw := d.h * d.w
	for _, c := range g.used {
		base := c * d.cs
		clear(xp[base : base+y0])
		padFlat(xp[base+y0:base+y0+d.pp], x[c*hw:(c+1)*hw], g.flat, hw)
		if end := base + d.cs + d.pw; base+y0+d.pp < end {
			clear(xp[base+y0+d.pp : end])
		}
	}
}

// padMasks returns the masks of padFlat over a whole padded input of g
// (PaddedLen floats, a whole number of vectors): the lanes of each
// plane's interior, where its flat masks mark outputs from y0 on.
func (g *GroupPlan) padMasks() []uint16 {
	d := &g.d
	n := g.p.C*d.cs + d.pp
	m := make([]uint16, (n+vecW-1)/vecW)
	y0 := d.ph*d.wp + d.pw
	for c := range g.p.C {
		for v, mk := range g.flat {
			for l := range vecW {
				if mk&(1<<l) != 0 {
					q := c*d.cs + y0 + v*vecW + l
					m[q/vecW] |= 1 << (q % vecW)
				}
			}
		}
	}
	return m
}

// flatPadOn switches padFlatPlanes on (tests and benchmarks time both).
var flatPadOn = true
