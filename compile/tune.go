package compile

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sgcnn/sgcnn/internal/kernel"
)

// This file chooses each conv's route: the greedy merge of small groups
// (by a cost model: groupCost's, or one measured on this machine,
// costmodel.go) and the measurement that picks among grouped, merged and
// dense.

// tileRows is the micro-kernel's tile height (kernel's maxMR): a group of
// nf filters runs ceil(nf/tileRows) tile rows.
const tileRows = 8

// groupCost models the time of one group of nf filters over k = channels
// times kernel taps products per output, in cycles per 48 output columns
// of kernel.GroupPlan: per tile of mr rows and per k-step, the FMAs issue
// two a cycle, but with fewer than 8 independent accumulators they wait on
// the FMA latency of 4 cycles. Groups of up to 6 filters run one tile 4
// vectors wide (4*mr accumulators), larger ones tiles of 8 rows 3 vectors
// wide. Each tile also pays a fixed call and store overhead.
func groupCost(k, nf int) float64 {
	const tileOverhead = 40
	if nf <= 6 {
		return 0.75*float64(k)*max(4, 2*float64(nf)) + 0.75*tileOverhead
	}
	var c float64
	for done := 0; done < nf; done += tileRows {
		mr := min(tileRows, nf-done)
		c += float64(k)*max(4, 1.5*float64(mr)) + tileOverhead
	}
	return c
}

// mergeGroups merges pattern groups greedily, the pair whose merge lowers
// the cost most (by the model cost) first, until no merge lowers it. The
// result is a list of filter sets, filters ascending.
func mergeGroups(lc *layerConv, patterns [][]int, cost func(k, nf int) float64) [][]int {
	type set struct {
		filters []int
		chans   []bool
		nch     int
	}
	sets := make([]*set, len(patterns))
	for i, f := range patterns {
		s := &set{filters: slices.Clone(f), chans: make([]bool, lc.p.C)}
		for _, ch := range lc.channels(f) {
			s.chans[ch] = true
			s.nch++
		}
		sets[i] = s
	}
	union := func(a, b *set) int {
		n := 0
		for ch := range a.chans {
			if a.chans[ch] || b.chans[ch] {
				n++
			}
		}
		return n
	}
	for len(sets) > 1 {
		bi, bj, best := -1, -1, 0.0
		for i := range sets {
			for j := i + 1; j < len(sets); j++ {
				a, b := sets[i], sets[j]
				gain := cost(a.nch*lc.kk, len(a.filters)) + cost(b.nch*lc.kk, len(b.filters)) -
					cost(union(a, b)*lc.kk, len(a.filters)+len(b.filters))
				if gain > best {
					bi, bj, best = i, j, gain
				}
			}
		}
		if bi < 0 {
			break
		}
		a, b := sets[bi], sets[bj]
		a.nch = union(a, b)
		for ch := range a.chans {
			a.chans[ch] = a.chans[ch] || b.chans[ch]
		}
		a.filters = append(a.filters, b.filters...)
		slices.Sort(a.filters)
		sets = slices.Delete(sets, bj, bj+1)
	}
	out := make([][]int, len(sets))
	for i, s := range sets {
		out[i] = s.filters
	}
	slices.SortFunc(out, func(a, b []int) int { return a[0] - b[0] })
	return out
}

// runHint is how the conv being compiled will run, so that measure
// times its candidates in that form: the fused epilogue of GroupPlan runs
// only when the output goes to the next conv's padded layout or adds a
// residual, and the pad only when the input does not arrive padded. Timed
// unfused, small groups looked slower than they run.
type runHint struct {
	residual bool         // the conv adds a residual (its output is unpadded)
	padIn    bool         // its input comes in its padded layout (a handoff)
	next     *kernel.Conv // the stride-1 conv that reads its output padded, or nil
}

// runHint returns the runHint of chain ch's conv reading value src, with
// nextConv as compileChain computes it (handoff's conditions, int8 aside:
// measure times int8 layers on their own route).
func (c *compiler) runHint(ch *chain, src *value, nextConv bool) runHint {
	h := runHint{residual: ch.add != "", padIn: src.from != nil && src.from.q8 == nil}
	if nextConv {
		n := c.only(ch.out)
		out := c.g.Shapes[ch.out]
		if _, q8 := c.opt.Int8[n.Name]; !q8 && len(out) == 3 {
			if p := fastConv(n).Geometry(out[1], out[2]); p.Stride == 1 {
				h.next = &p
			}
		}
	}
	return h
}

// candidate is one way to run a conv: its route and groups.
type candidate struct {
	route  Route
	groups []kernel.Group
}

// measure times each candidate's convolution of one image and returns the
// fastest, recording the best time of each route in info. Each candidate
// runs in alternation with the others and keeps its best time, which is
// robust to other load on the machine.
func (c *compiler) measure(o *convOp, cands []candidate, info *LayerInfo) candidate {
	p := o.p
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, p.C*p.H*p.W)
	for i := range x {
		x[i] = r.Float32()
	}
	y := make([]float32, p.N*p.OutH()*p.OutW())
	ws := new(kernel.Workspace)
	e := &kernel.Epilogue{Bias: o.bias, ReLU: o.relu}
	// The layout the conv writes and reads as it will run (c.hint).
	var next *kernel.GroupPlan
	yn := y
	if h := c.hint; h.residual {
		e.Add = make([]float32, len(y))
		for i := range e.Add {
			e.Add[i] = r.Float32() - 0.5
		}
	} else if h.next != nil && h.next.C == p.N && h.next.H == p.OutH() && h.next.W == p.OutW() {
		next = kernel.NewGroupPlan(*h.next, nil)
		yn = make([]float32, next.PaddedLen())
	}
	// Each candidate runs on the route the layer will take: int8 when
	// Options.Int8 names it.
	plans := make([]func(), len(cands))
	a, q8 := c.opt.Int8[o.name]
	for i, cd := range cands {
		if q8 && a.Scale > 0 {
			pl := kernel.NewInt8Plan(p, cd.groups, a)
			plans[i] = func() { pl.Forward(x, y, e, ws) }
			continue
		}
		pl := kernel.NewGroupPlan(p, cd.groups).PackWeights() // as the layer will run
		xin, padded := x, c.hint.padIn && pl.PaddedLen() > 0
		if padded {
			xin = make([]float32, pl.PaddedLen())
			for j := range xin {
				xin[j] = r.Float32()
			}
		}
		plans[i] = func() { pl.ForwardPadded(xin, yn, e, ws, padded, next) }
	}
	best := make([]float64, len(cands))
	// Repeat count: about 200 microseconds per timing at the dense cost.
	reps := max(1, min(1000, int(200e3/(float64(info.DenseMACs)/50+1))))
	for trial := range 6 {
		for i, plan := range plans {
			t0 := time.Now()
			for range reps {
				plan()
			}
			ns := float64(time.Since(t0).Nanoseconds()) / float64(reps)
			if trial == 0 {
				continue // warm-up
			}
			if trial == 1 || ns < best[i] {
				best[i] = ns
			}
		}
	}
	choice := 0
	for i, cd := range cands {
		t := map[Route]*float64{Grouped: &info.GroupedNs, Merged: &info.MergedNs, MergedFit: &info.MergedNs, Dense: &info.DenseNs}[cd.route]
		if *t == 0 || best[i] < *t {
			*t = best[i]
		}
		if best[i] < best[choice] {
			choice = i
		}
	}
	return cands[choice]
}
