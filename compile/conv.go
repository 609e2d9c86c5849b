package compile

import (
	"fmt"
	"slices"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/internal/maskgroup"
	"github.com/sgcnn/sgcnn/nn"
)

// convOp is a compiled conv with its folded BatchNorm, ReLU and, at the
// end of a residual body, the residual add.
type convOp struct {
	name   string
	p      kernel.Conv
	groups []kernel.Group
	plan   *kernel.GroupPlan
	// splits: with one image on several threads, the conv is split over
	// them (it has at least minSplitMACs), by output positions
	// (kernel.GroupPlan.Ranged) or, where the plan cannot run so, by
	// groups: parts, with partSkip what each leaves to the others.
	splits   bool
	parts    []*kernel.GroupPlan
	partSkip [][]bool
	q8       *kernel.Int8Plan  // non-nil: the int8 route (Options.Int8) runs instead of plan
	padIn    bool              // the input arrives in plan's padded layout
	next     *kernel.GroupPlan // non-nil: write the output in next's padded layout
	bias     []float32         // [N], BN and conv bias folded
	planes   [][]float32       // [N] nil or OutH*OutW: folded constant inputs; nil when none has one
	relu     bool
	residual bool   // the step's second input is added before the activation
	skip     []bool // channels never written (constants the next conv folds)
	// consts are the constant output channels left unwritten, with their
	// value after the activation, for the next conv to fold.
	consts map[int]float32
	info   *LayerInfo
}

// layerConv holds a conv's folded parameters while it is being compiled.
type layerConv struct {
	p      kernel.Conv
	kk, hw int
	w      []float32 // [N][C][kk] folded, masked
	keep   [][]bool  // [N][C] connections run
	bias   []float64
	planes [][]float64
}

// conv compiles l (node name) followed by bn (or nil) and relu; consts
// are constant input channels (value after the previous activation) that
// the previous conv did not write; nextConv says whether l's output feeds
// only a conv.
func (c *compiler) conv(name string, l *nn.Conv2d, bn *nn.BatchNorm2d, relu bool, in []int, consts map[int]float32, nextConv bool) (*convOp, []int, error) {
	if len(in) != 3 || in[0] != l.In {
		return nil, nil, fmt.Errorf("compile: layer %s: input %v, want %d channels", name, in, l.In)
	}
	p := l.Geometry(in[1], in[2])
	if p.H+2*p.Pad < p.KH || p.W+2*p.Pad < p.KW {
		return nil, nil, fmt.Errorf("compile: layer %s: input %dx%d is smaller than the %dx%d kernel", name, p.H, p.W, p.KH, p.KW)
	}
	if bn != nil && bn.C != l.Out {
		return nil, nil, fmt.Errorf("compile: layer %s: %d filters but BatchNorm %s has %d channels", name, l.Out, bn.Name(), bn.C)
	}
	lc := foldConv(l, bn, p, c.opt.IgnoreMasks)
	info := &LayerInfo{Name: name, DenseMACs: int64(p.N * p.C * lc.kk * lc.hw)}
	info.Folded = lc.foldConsts(consts)

	o := &convOp{name: name, p: p, relu: relu, info: info,
		bias: make([]float32, p.N), planes: make([][]float32, p.N)}
	patterns, dead := lc.patterns()
	info.Patterns, info.Dead = len(patterns), len(dead)
	for n := range p.N {
		pl := lc.planes[n]
		if pl != nil && uniform(pl) {
			lc.bias[n] += pl[0]
			pl = nil
		}
		o.bias[n] = float32(lc.bias[n])
		if a, ok := c.opt.Int8[name]; ok && a.Scale > 0 {
			o.bias[n] = int8Bias(o.bias[n], a.Scale, lc.w[n*p.C*lc.kk:(n+1)*p.C*lc.kk])
		}
		if pl != nil {
			o.planes[n] = make([]float32, len(pl))
			for q, v := range pl {
				o.planes[n][q] = float32(v)
			}
		}
	}
	if nextConv {
		for _, n := range dead {
			if o.planes[n] != nil {
				continue
			}
			if o.skip == nil {
				o.skip = make([]bool, p.N)
				o.consts = map[int]float32{}
			}
			v := o.bias[n]
			if relu {
				v = max(v, 0)
			}
			o.skip[n], o.consts[n] = true, v
			info.Skipped++
		}
	}
	if !slices.ContainsFunc(o.planes, func(pl []float32) bool { return pl != nil }) {
		o.planes = nil // no plane: the kernels skip looking for one per group
	}

	route := c.opt.Route
	if r, ok := c.opt.Plan[name]; ok {
		route = r
	}
	cands := []candidate{{Grouped, lc.groups(patterns)}}
	if len(patterns) <= 1 {
		route = Grouped // one pattern: all routes are the same
	} else {
		merged := mergeGroups(lc, patterns, groupCost)
		cost := measuredCost(p)
		if _, ok := c.opt.Int8[name]; ok {
			cost = measuredCostInt8(p) // the route runs in int8: merge by the int8 kernels' costs
		}
		fit := mergeGroups(lc, patterns, cost)
		cands = append(cands, candidate{Merged, lc.groups(merged)}, candidate{MergedFit, lc.groups(fit)},
			candidate{Dense, lc.groups([][]int{slices.Concat(patterns...)})})
		if slices.EqualFunc(fit, merged, slices.Equal) && route == Auto {
			cands = slices.Delete(cands, 2, 3) // measure the same groups once
		}
	}
	if route == Auto {
		best := c.measure(o, cands, info)
		route, o.groups = best.route, best.groups
	} else {
		for _, cd := range cands {
			if cd.route == route {
				o.groups = cd.groups
			}
		}
		if o.groups == nil {
			return nil, nil, fmt.Errorf("compile: layer %s: unknown route %v", name, route)
		}
	}
	o.plan = kernel.NewGroupPlan(p, o.groups).PackWeights() // the groups' weights stay as they are
	o.split(lc.kk * lc.hw)
	if a, ok := c.opt.Int8[name]; ok {
		if a.Scale <= 0 {
			return nil, nil, fmt.Errorf("compile: layer %s: int8 input scale %v, want > 0", name, a.Scale)
		}
		o.q8 = kernel.NewInt8Plan(p, o.groups, a)
		o.parts, o.splits = nil, false // the int8 route runs one image per thread
		info.Int8 = true
	}
	if (l.Mask() == nil || c.opt.IgnoreMasks) && len(patterns) <= 1 {
		route = Dense
	}
	info.Route, info.Groups = route, len(o.groups)
	for _, g := range o.groups {
		info.MACs += int64(len(g.Filters) * len(g.Channels) * lc.kk * lc.hw)
	}
	c.layers = append(c.layers, info)
	return o, []int{p.N, p.OutH(), p.OutW()}, nil
}

// minSplitMACs is the fewest multiply-adds per image for which a conv of
// a lone image is split across two threads: below it, the fork and join
// (about a microsecond) and the second padding copy outweigh the gain.
const minSplitMACs = 100_000

// minRangeVecs is the fewest output vectors per thread for which a conv
// of a lone image is split by output positions rather than by groups:
// below it the parts are uneven (an 8x8 plane is 5 vectors) and each
// group's tiles too narrow. Measured on the Intel Xeon of 2026-12-07,
// ResNet-56 Conv-70 at batch 1, back to back on 2 threads (quiet):
// splitting the 8x8 stage by groups instead of positions took the split
// from 1.00x to 1.19x of one thread.
const minRangeVecs = 8

// split marks a conv of at least minSplitMACs for splitting one image
// over threads and prepares its split by groups, for where the split by
// output positions does not apply (kernel.GroupPlan.Ranged, minRangeVecs):
// two parts, the groups divided by products, groups of more than 4
// filters cut in two (tiles stay full), smaller ones whole. Part 0 also
// fills the channels no group computes.
func (o *convOp) split(macsPerWeight int) {
	var total int
	for _, g := range o.groups {
		total += len(g.Filters) * len(g.Channels) * macsPerWeight
	}
	if total < minSplitMACs {
		return
	}
	o.splits = true
	var halves [2][]kernel.Group
	var load [2]int
	for _, g := range o.groups {
		nf, k := len(g.Filters), len(g.Weights)/max(1, len(g.Filters))
		if nf > 4 {
			h := nf / 2
			halves[0] = append(halves[0], kernel.Group{Filters: g.Filters[:h], Channels: g.Channels, Weights: g.Weights[:h*k]})
			halves[1] = append(halves[1], kernel.Group{Filters: g.Filters[h:], Channels: g.Channels, Weights: g.Weights[h*k:]})
			load[0] += h * k
			load[1] += (nf - h) * k
			continue
		}
		i := 0
		if load[1] < load[0] {
			i = 1
		}
		halves[i] = append(halves[i], g)
		load[i] += nf * k
	}
	var owner [2][]bool
	for i := range 2 {
		owner[i] = make([]bool, o.p.N)
		for _, g := range halves[i] {
			for _, n := range g.Filters {
				owner[i][n] = true
			}
		}
	}
	o.parts, o.partSkip = make([]*kernel.GroupPlan, 2), make([][]bool, 2)
	for i := range 2 {
		o.parts[i] = o.plan.Regroup(halves[i]) // o.plan's input layout
		o.partSkip[i] = make([]bool, o.p.N)
		for n := range o.p.N {
			skipped := o.skip != nil && o.skip[n]
			uncovered := !owner[0][n] && !owner[1][n]
			o.partSkip[i][n] = skipped || owner[1-i][n] || (uncovered && i == 1)
		}
	}
}

// int8Bias returns the bias b of a filter w (its folded weights, masked
// ones zero) on the int8 route of input scale sx: b rounded to the grid of
// the filter's int32 sums (kernel.QuantBias), as a QDQ model's int32 bias
// holds it (export/onnx), so that sgcnn int8 and ONNX Runtime add the same
// bias.
func int8Bias(b, sx float32, w []float32) float32 {
	sc := sx * kernel.FilterScale(w)
	return float32(kernel.QuantBias(b, sc)) * sc
}

// foldConv returns l's masked weights and bias with bn folded in.
func foldConv(l *nn.Conv2d, bn *nn.BatchNorm2d, p kernel.Conv, ignoreMasks bool) *layerConv {
	kk := p.KH * p.KW
	lc := &layerConv{p: p, kk: kk, hw: p.OutH() * p.OutW(),
		w: make([]float32, p.N*p.C*kk), keep: make([][]bool, p.N),
		bias: make([]float64, p.N), planes: make([][]float64, p.N)}
	mask := l.Mask()
	if ignoreMasks {
		mask = nil
	}
	src := l.W.Value.Data
	for n := range p.N {
		s, t := 1.0, 0.0
		if bn != nil {
			s, t = bnScaleShift(bn, n)
		}
		if l.B != nil {
			lc.bias[n] = float64(l.B.Value.Data[n])*s + t
		} else {
			lc.bias[n] = t
		}
		lc.keep[n] = make([]bool, p.C)
		for ch := range p.C {
			if mask != nil && mask[n*p.C+ch] == 0 {
				continue
			}
			lc.keep[n][ch] = true
			i := (n*p.C + ch) * kk
			for k := range kk {
				lc.w[i+k] = float32(float64(src[i+k]) * s)
			}
		}
	}
	return lc
}

// foldConsts removes the constant input channels consts from every
// filter's connections and adds their exact contribution, border included,
// to the filters' bias planes. It returns the number of channels folded
// that some filter read.
func (lc *layerConv) foldConsts(consts map[int]float32) int {
	p := lc.p
	oh, ow := p.OutH(), p.OutW()
	folded := 0
	for ch, v := range consts {
		read := false
		for n := range p.N {
			if !lc.keep[n][ch] {
				continue
			}
			read = true
			lc.keep[n][ch] = false
			if v == 0 {
				continue
			}
			if lc.planes[n] == nil {
				lc.planes[n] = make([]float64, oh*ow)
			}
			pl := lc.planes[n]
			w := lc.w[(n*p.C+ch)*lc.kk:]
			for oy := range oh {
				for ox := range ow {
					var s float64
					for ky := range p.KH {
						iy := oy*p.Stride - p.Pad + ky
						if iy < 0 || iy >= p.H {
							continue
						}
						for kx := range p.KW {
							if ix := ox*p.Stride - p.Pad + kx; ix >= 0 && ix < p.W {
								s += float64(w[ky*p.KW+kx])
							}
						}
					}
					pl[oy*ow+ox] += float64(v) * s
				}
			}
		}
		if read {
			folded++
		}
	}
	return folded
}

// uniform reports whether all values of pl are equal.
func uniform(pl []float64) bool {
	for _, v := range pl {
		if v != pl[0] {
			return false
		}
	}
	return true
}

// patterns partitions the live filters by their kept-input row: groups in
// order of their lowest filter, filters ascending; dead filters apart.
func (lc *layerConv) patterns() (groups [][]int, dead []int) {
	mask := make([]float32, len(lc.keep)*lc.p.C)
	for n, row := range lc.keep {
		for ch, k := range row {
			if k {
				mask[n*lc.p.C+ch] = 1
			}
		}
	}
	return maskgroup.Of(mask, len(lc.keep), lc.p.C)
}

// channels returns the union, ascending, of the kept inputs of filters.
func (lc *layerConv) channels(filters []int) []int {
	var chans []int
	for ch := range lc.p.C {
		for _, n := range filters {
			if lc.keep[n][ch] {
				chans = append(chans, ch)
				break
			}
		}
	}
	return chans
}

// groups builds kernel groups, each running its filters over the union of
// their kept inputs (weights outside a filter's own row are zero).
func (lc *layerConv) groups(sets [][]int) []kernel.Group {
	gs := make([]kernel.Group, 0, len(sets))
	for _, filters := range sets {
		chans := lc.channels(filters)
		w := make([]float32, len(filters)*len(chans)*lc.kk)
		for fi, n := range filters {
			for ci, ch := range chans {
				if lc.keep[n][ch] {
					copy(w[(fi*len(chans)+ci)*lc.kk:(fi*len(chans)+ci+1)*lc.kk], lc.w[(n*lc.p.C+ch)*lc.kk:])
				}
			}
		}
		gs = append(gs, kernel.Group{Filters: slices.Clone(filters), Channels: chans, Weights: w})
	}
	return gs
}

// run computes the conv of m images, adding its second input (when
// residual) before the activation.
func (o *convOp) run(w *worker, xs, ys [][]float32, m int) {
	x, y := xs[0], ys[0]
	var add []float32
	if o.residual {
		add = xs[1]
	}
	in := o.p.C * o.p.H * o.p.W
	if o.padIn {
		in = o.plan.PaddedLen()
	}
	out := o.p.N * o.p.OutH() * o.p.OutW()
	if o.next != nil {
		out = o.next.PaddedLen()
	}
	e := kernel.Epilogue{Bias: o.bias, Planes: o.planes, ReLU: o.relu, Skip: o.skip}
	if o.q8 != nil { // never padIn or next; an int8 handoff changes the sizes (kernel.Int8Plan.HandOff)
		in, on := o.q8.InLen(), o.q8.OutLen()
		for i := range m {
			if add != nil {
				e.Add = add[i*out : (i+1)*out]
			}
			o.q8.Forward(x[i*in:(i+1)*in], y[i*on:(i+1)*on], &e, &w.ws)
		}
		return
	}
	if w.split && m == 1 && o.splits {
		// One image, several threads: each takes a part of the output
		// positions (all channels), or, where the plan cannot run by
		// positions, a part of the groups.
		if add != nil {
			e.Add = add[:out]
		}
		w.job = splitJob{o: o, w: w, x: x[:in], y: y[:out], e: e, parts: len(o.parts)}
		threads := w.team.Helpers() + 1
		if nv := o.plan.Ranged(y[:out], &e, o.next); nv >= minRangeVecs*threads {
			w.job.nv, w.job.parts = nv, threads
		}
		parts := w.job.parts
		w.team.Run(&w.job, parts)
		w.job = splitJob{}
		return
	}
	for i := range m {
		if add != nil {
			e.Add = add[i*out : (i+1)*out]
		}
		o.plan.ForwardPadded(x[i*in:(i+1)*in], y[i*out:(i+1)*out], &e, &w.ws, o.padIn, o.next)
	}
}

// splitJob is one image's conv split into parts (a parallel.Job): with
// nv > 0, parts ranges of the nv output vectors, else o.parts.
type splitJob struct {
	o         *convOp
	w         *worker
	x, y      []float32
	e         kernel.Epilogue
	nv, parts int
}

// cut returns the first output vector of range part i: i*nv/parts,
// rounded to a multiple of rangeAlign vectors (the kernels' widest tiles)
// so that each part's tiles are as full as the whole plane's.
func (j *splitJob) cut(i int) int {
	v := i * j.nv / j.parts
	if i == 0 || i == j.parts {
		return v
	}
	return min(j.nv, (v+rangeAlign/2)/rangeAlign*rangeAlign)
}

// rangeAlign is the multiple of output vectors at which parts are cut.
const rangeAlign = 8

// Part runs part i on goroutine g of the worker's team.
func (j *splitJob) Part(g, i int) {
	ws := &j.w.ws
	if g > 0 {
		ws = &j.w.hws[g-1]
	}
	o := j.o
	if j.nv > 0 {
		o.plan.ForwardPaddedRange(j.x, j.y, &j.e, ws, o.padIn, o.next, j.cut(i), j.cut(i+1))
		return
	}
	e := j.e
	e.Skip = o.partSkip[i]
	o.parts[i].ForwardPadded(j.x, j.y, &e, ws, o.padIn, o.next)
}
