package kernel

// This file holds GroupPlan, the diverse group convolution of
// GroupConvForward prepared once for repeated inference calls (package
// compile): each group's tap table is built ahead of time, groups of at
// most mrFor(4) filters run tiles four vectors wide (with two or fewer
// rows, three-vector tiles have too few accumulators to hide the FMA
// latency), single-filter groups the wide 1 x 128 tile (8 accumulators;
// a 1 x 64 tile ran at half the FMA peak), and the per-channel epilogue (bias, residual add, ReLU) is
// applied while each output row leaves the padded pitch, so the output is
// written once. groupConvForwardRef followed by the epilogue's loop is the
// oracle (group_plan_test.go).

// Epilogue is the per-output-channel work GroupPlan.Forward fuses into its
// store:
//
//	y[n][q] = act(conv[n][q] + Bias[n] + Planes[n][q] + Add[n][q])
//
// where conv[n] is 0 for a channel that no group lists. A nil Bias, Planes,
// Planes[n] or Add adds nothing; act is max(., 0) when ReLU is set, else
// the identity. Channels marked in Skip are left untouched.
type Epilogue struct {
	Bias   []float32   // [N], or nil
	Planes [][]float32 // [N] planes of OutH*OutW (nil entries allowed), or nil
	Add    []float32   // [N][OutH][OutW], or nil
	ReLU   bool
	Skip   []bool // [N], or nil
}

// GroupPlan is a prepared diverse group convolution.
type GroupPlan struct {
	p       Conv
	d       direct
	groups  []planGroup
	covered []bool    // [N]: channels some group computes
	used    []int     // input channels some group reads, ascending
	zero    []float32 // one output row of zeros
	// flat, for stride 1 with a padded pitch of at least 8: per output
	// vector of the padded pitch, the lanes that are outputs (column below
	// wo, before the last row's end). Writing the next conv's padded
	// layout, whose pitch is the same, the epilogue then runs over whole
	// vectors, zeroing the halo lanes: fused into the kernels' store
	// (row3Fused, microFused) at every width, or, for groups with e.Planes
	// and rows of at most one vector, as a pass of its own (epiFlat) instead of row by row
	// with a masked tail and gap per row: 5 vectors instead of 16 masked
	// ones for an 8x8 plane, 7% faster for one-filter groups there
	// (BenchmarkGroupPlanChained, under load); on 32-wide rows the pass
	// was no faster.
	flat []uint16
	// qoffs, with flat: per vector, the outputs before it (flatOffsets),
	// where the residual form of the fused kernels writes its lanes.
	qoffs []int32
	// padAll, where the flat pad applies (flatPad), are its masks over
	// the whole padded input (padMasks), for a pad that reads every plane.
	padAll []uint16
	// f8 is the flat route of 8x8 planes (flat8.go), or nil.
	f8 *flat8Plan
	// s2 is the flat route of stride 2 (flats2.go), or nil.
	s2 *flat8Plan
}

type planGroup struct {
	filters []int
	w       []float32 // [len(filters)][k]
	offs    []int32   // [k] tap offsets into the padded input
	nv      int       // vectors per tile row
	// rows3 are the offsets of the first tap of each kernel row when the
	// group has at most row3MaxM filters and its taps come in rows of three
	// consecutive offsets (a stride-1 3-wide kernel): its tiles then run
	// impl.row3 (loads reused for three taps) where there is one.
	rows3 []int32
	nv3   int // vectors per row3 tile
}

// planWideRows is the most filters a group may have to run four-vector
// tiles (mrFor(4)).
const planWideRows = maxAcc / 4

// NewGroupPlan prepares groups (as GroupConvForward takes them; nil
// Channels means no channels) for the convolution p. The plan keeps the
// groups' slices (until PackWeights) and reads their weights as they are
// at each run.
func NewGroupPlan(p Conv, groups []Group) *GroupPlan {
	return newGroupPlan(p, groups, flat8Wanted(p, groups) || flatS2Wanted(p, groups))
}

// newGroupPlan is NewGroupPlan on the flat route (flat8.go, or flats2.go
// for stride 2) when flat is set.
func newGroupPlan(p Conv, groups []Group, flat bool) *GroupPlan {
	g := &GroupPlan{p: p, d: newDirect(p.H, p.W, p.Pad, p.Pad, p.KH, p.KW, p.Stride), covered: make([]bool, p.N),
		zero: make([]float32, p.OutW())}
	switch {
	case flat && p.Stride == 2:
		return g.initFlatS2(groups)
	case flat:
		return g.initFlat8(groups)
	}
	if compactPitch {
		g.d.compact()
	}
	tuneRow3()
	ws := new(Workspace)
	for _, gr := range groups {
		if len(gr.Filters) == 0 {
			continue
		}
		chans := gr.Channels
		if chans == nil {
			chans = []int{}
		}
		pg := planGroup{filters: gr.Filters, w: gr.Weights, nv: tileNV}
		pg.offs = append([]int32(nil), g.d.offsets(ws, chans, 0)...)
		if len(gr.Filters) <= planWideRows {
			pg.nv = maxNV
		}
		if len(gr.Filters) == 1 {
			pg.nv = wideNV
		}
		if len(gr.Filters) <= row3MaxM {
			pg.rows3 = rowsOf3(pg.offs, p.C*g.d.cs)
			pg.nv3 = row3Width(len(gr.Filters))
		}
		for _, n := range gr.Filters {
			g.covered[n] = true
		}
		g.groups = append(g.groups, pg)
	}
	if g.d.s == 1 && g.d.wp >= 8 {
		d := &g.d
		g.flat = make([]uint16, d.pp/vecW)
		for q := range d.ho * d.wp {
			if q%d.wp < d.wo {
				g.flat[q/vecW] |= 1 << (q % vecW)
			}
		}
		g.qoffs = flatOffsets(g.flat)
		if d.ho == d.h && d.wo == d.w {
			g.padAll = g.padMasks()
		}
	}
	read := make([]bool, p.C)
	for _, gr := range groups {
		if len(gr.Filters) > 0 {
			for _, c := range gr.Channels {
				read[c] = true
			}
		}
	}
	for c, r := range read {
		if r {
			g.used = append(g.used, c)
		}
	}
	return g
}

// rowsOf3 returns the first offset of each run of three in offs when offs
// is made of runs o, o+1, o+2 and every o is below planes-16 (planes: the
// floats of the padded input's channel planes, which the output row tail
// follows), so that a row3Kernel, which reads 16 floats beyond its tile,
// stays inside the padded input; else nil.
func rowsOf3(offs []int32, planes int) []int32 {
	if len(offs) == 0 || len(offs)%3 != 0 {
		return nil
	}
	rows := make([]int32, len(offs)/3)
	for r := range rows {
		o := offs[3*r]
		if offs[3*r+1] != o+1 || offs[3*r+2] != o+2 || int(o)+vecW >= planes {
			return nil
		}
		rows[r] = o
	}
	return rows
}

// pad is direct.pad for stride 1 that copies only the channels some group
// reads and clears only their halos (and the tail the last row's taps
// run into), not the whole buffer: the other planes hold stale values
// that reach only the halo columns, which are dropped.
func (g *GroupPlan) pad(ws *Workspace, x []float32) []float32 {
	d := &g.d
	if d.s == 2 {
		return g.pad2(ws, x)
	}
	if d.s != 1 {
		return d.pad(ws, x, g.p.C)
	}
	if g.flatPad() {
		n := g.p.C*d.cs + d.pp
		xp := grow(&ws.s1, max(n, len(g.padAll)*vecW))
		g.padFlatPlanes(xp, x)
		if len(g.used) < g.p.C {
			clear(xp[g.p.C*d.cs : n])
		}
		return xp[:n]
	}
	xp := grow(&ws.s1, g.p.C*d.cs+d.pp)
	for _, c := range g.used {
		base := c * d.cs
		first := base + d.ph*d.wp + d.pw // the first input value's place
		clear(xp[base:first])
		// Rows and the halo after each (right, then the next row's left).
		padRows(xp[first:], x[c*d.h*d.w:(c+1)*d.h*d.w], d.h, d.w, d.wp)
		clear(xp[first+d.h*d.wp : base+d.cs])
		// The bottom right taps of a compact pitch read the first pw
		// floats of the next plane, which may be one no group reads.
		clear(xp[base+d.cs : base+d.cs+d.pw])
	}
	clear(xp[g.p.C*d.cs:])
	return xp
}

// pad2 is direct.pad for stride 2 (four phase planes per channel) on the
// channels some group reads, with one pass over each input row per phase
// and no index arithmetic in the inner loop: direct.pad's general loop
// took 4 times as long as a stride-1 copy of the same input, as much as
// the pruned conv after it.
func (g *GroupPlan) pad2(ws *Workspace, x []float32) []float32 {
	d := &g.d
	xp := grow(&ws.s1, g.p.C*d.cs+d.pp)
	for _, c := range g.used {
		clear(xp[c*d.cs : (c+1)*d.cs])
		// Input row y goes to phase row (y+ph)%2, row (y+ph)/2; input
		// column x to phase column (x+pw)%2, column (x+pw)/2: the even
		// columns to phase pw%2 from column pw/2, the odd ones to phase
		// (pw+1)%2 from column (pw+1)/2. One call per row parity.
		for ry := range 2 {
			y0 := (ry + d.ph) % 2 // first input row with (y0+ph) % 2 == ry
			if y0 >= d.h {
				continue
			}
			rows := (d.h - y0 + 1) / 2
			base := c*d.cs + ry*2*d.pl + (y0+d.ph)/2*d.wp
			even := xp[base+(d.pw%2)*d.pl+d.pw/2:]
			odd := xp[base+((d.pw+1)%2)*d.pl+(d.pw+1)/2:]
			deinterleaveRows(even, odd, x[(c*d.h+y0)*d.w:], rows, d.w, 2*d.w, d.wp)
		}
	}
	clear(xp[g.p.C*d.cs:])
	return xp
}

// Forward computes the convolution of one image x with the epilogue e
// into y (all of y's channels but those e.Skip marks).
func (g *GroupPlan) Forward(x, y []float32, e *Epilogue, ws *Workspace) {
	g.ForwardPadded(x, y, e, ws, false, nil)
}

// PaddedLen returns the length of one image in the zero-padded layout a
// stride-1 plan computes on (0 for other strides): C planes of
// (H+2*Pad) x (W+2*Pad), then a tail of zeros the last taps run into.
func (g *GroupPlan) PaddedLen() int {
	if g.d.s != 1 {
		return 0
	}
	return g.p.C*g.d.cs + g.d.pp
}

// ForwardPadded is Forward with the padding moved out of the loop over
// layers: with xPadded, x is already in the plan's padded layout
// (PaddedLen; halos and tail zero), as a previous plan wrote it; with next
// non-nil, y is written in next's padded layout, interiors only, for next
// to read with xPadded (the caller keeps y's halos and tail zero, and e.Add
// must be nil). next must be stride 1 and take this plan's output shape.
func (g *GroupPlan) ForwardPadded(x, y []float32, e *Epilogue, ws *Workspace, xPadded bool, next *GroupPlan) {
	if g.f8 != nil { // the input layout is the image's
		g.forwardFlat8(x, y, e, ws, next)
		return
	}
	if g.s2 != nil {
		g.forwardFlatS2(x, y, e, ws, next)
		return
	}
	d := &g.d
	hw := d.ho * d.wo
	// Output plane n starts at y[n*ycs+y0], rows at pitch ydp.
	ycs, y0, ydp := hw, 0, d.wo
	if next != nil {
		if e.Add != nil || next.d.s != 1 || next.p.C != g.p.N || next.p.H != d.ho || next.p.W != d.wo {
			panic("kernel: GroupPlan.ForwardPadded: next does not take this plan's output")
		}
		nd := &next.d
		ycs, y0, ydp = nd.cs, nd.ph*nd.wp+nd.pw, nd.wp
	}
	xp := x
	if !xPadded {
		xp = g.pad(ws, x)
	}
	// The flat epilogue writes whole vectors from y0 on: up to 16-wp floats
	// past a channel's plane, into the next one's top halo (zeros) or the
	// tail; the pitches must agree.
	flatOK := next != nil && g.flat != nil && ydp == d.wp && len(y) >= (g.p.N-1)*ycs+y0+d.pp
	flat := flatOK && d.wo <= vecW
	fuse := flatOK && cur.row3 != nil // the assembly kernels
	// A residual conv (unpadded output plus e.Add) runs the kernels'
	// residual form, which writes exactly the outputs.
	if next == nil && e.Add != nil && g.flat != nil && cur.row3 != nil && fusedResidual {
		fuse = len(y) >= g.p.N*hw && len(e.Add) >= g.p.N*hw
	}
	kern := cur.kern
	for gi := range g.groups {
		pg := &g.groups[gi]
		if fuse && (pg.rows3 != nil && row3Fused != nil || pg.rows3 == nil && microFused != nil) && !hasPlanes(e, pg.filters) {
			g.fusedGroup(pg, xp, y, ycs, y0, e, ws)
			continue
		}
		nf, k := len(pg.filters), len(pg.offs)
		t := grow(&ws.s2, nf*d.pp)
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
			b := xp[j0:]
			if pg.rows3 != nil && cur.row3 != nil {
				nv = min(pg.nv3, (d.pp-j0)/vecW)
				tiles := (d.pp - j0) / (nv * vecW) // whole tiles in one call
				cur.row3(nf, nv, tiles, pg.w, k, b, pg.rows3, t[j0:], d.pp)
				j0 += tiles * nv * vecW
				continue
			}
			for i0 := 0; i0 < nf; i0 += mrMax {
				mr := min(mrMax, nf-i0)
				kern(mr, nv, k, pg.w[i0*k:], aoffs, b, pg.offs, t[i0*d.pp+j0:], d.pp, false)
			}
			j0 += nv * vecW
		}
		for fi, n := range pg.filters {
			tn := t[fi*d.pp:]
			if e.Planes != nil && e.Planes[n] != nil {
				pl := e.Planes[n]
				for oy := range d.ho {
					row := tn[oy*d.wp : oy*d.wp+d.wo]
					for j, v := range pl[oy*d.wo : (oy+1)*d.wo] {
						row[j] += v
					}
				}
			}
			if flat {
				var b float32
				if e.Bias != nil {
					b = e.Bias[n]
				}
				epiFlat(y[n*ycs+y0:], tn, g.flat, b, e.ReLU)
				continue
			}
			g.store(y[n*ycs+y0:], tn, d.wp, ydp, n, e)
		}
	}
	g.storeUncovered(y, ycs, y0, ydp, e)
}

// storeUncovered writes the channels no group computes (and e does not
// skip): each channel's folded plane, or zero, through the epilogue, at
// y[n*ycs+y0:] with pitch ydp.
func (g *GroupPlan) storeUncovered(y []float32, ycs, y0, ydp int, e *Epilogue) {
	for n := range g.p.N {
		if g.covered[n] || (e.Skip != nil && e.Skip[n]) {
			continue
		}
		src, sp := g.zero, 0
		if e.Planes != nil && e.Planes[n] != nil {
			src, sp = e.Planes[n], g.d.wo
		}
		g.store(y[n*ycs+y0:], src, sp, ydp, n, e)
	}
}

// hasPlanes reports whether e adds a plane to one of filters.
func hasPlanes(e *Epilogue, filters []int) bool {
	if e.Planes == nil {
		return false
	}
	for _, n := range filters {
		if e.Planes[n] != nil {
			return true
		}
	}
	return false
}

// store writes output plane n from src (row pitch sp) to dst (row pitch
// dp) through the epilogue.
func (g *GroupPlan) store(dst, src []float32, sp, dp, n int, e *Epilogue) {
	d := &g.d
	var b float32
	if e.Bias != nil {
		b = e.Bias[n]
	}
	var add []float32
	if e.Add != nil {
		hw := d.ho * d.wo
		add = e.Add[n*hw : (n+1)*hw]
	}
	biasActRows(dst, src, add, d.ho, d.wo, sp, dp, b, e.ReLU)
}
