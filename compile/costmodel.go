package compile

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sgcnn/sgcnn/internal/kernel"
)

// This file measures the group cost model of the merged-fit route on the
// machine at hand: how long a group of nf filters takes per tap and per
// call, for each conv geometry. The fixed models of tune.go were fitted
// on one CPU (groupCost's FMA and latency counts; the Zen 4 refit before
// this one); on an Intel core whose one-filter tiles run at a different
// fraction of the dense rate they merge too much or too little.

// costNF is the most filters per group timed; larger groups cost their
// whole tiles of costNF filters plus the remainder.
const costNF = 8

// groupTimes is the measured cost of one geometry: the time of a group of
// nf filters over k taps is slope[nf]*k + fixed[nf] nanoseconds.
type groupTimes struct {
	slope, fixed [costNF + 1]float64
}

// cost is the modelled time in nanoseconds of a group of nf filters over
// k taps (channels times kernel taps).
func (g *groupTimes) cost(k, nf int) float64 {
	var c float64
	for ; nf > costNF; nf -= costNF {
		c += g.slope[costNF]*float64(k) + g.fixed[costNF]
	}
	return c + g.slope[nf]*float64(k) + g.fixed[nf]
}

var (
	costMu    sync.Mutex
	costCache = map[costKey]*groupTimes{}
)

// costKey is a geometry (N = 0) and whether its groups run in int8.
type costKey struct {
	p    kernel.Conv
	int8 bool
}

// measuredCost returns the group cost model of p's geometry (its filter
// count aside) measured on this machine, timing it on the first call for
// the geometry in this process (a few milliseconds).
func measuredCost(p kernel.Conv) func(k, nf int) float64 { return measuredCostOf(p, false) }

// measuredCostInt8 is measuredCost on the int8 route (kernel.Int8Plan,
// packing and interleaving included): its groups cost per call and in
// steps of four channels (a quad), so the taps k count whole quads.
func measuredCostInt8(p kernel.Conv) func(k, nf int) float64 {
	cost, kk := measuredCostOf(p, true), p.KH*p.KW
	return func(k, nf int) float64 {
		quads := (k/kk + 3) / 4
		return cost(4*quads*kk, nf)
	}
}

func measuredCostOf(p kernel.Conv, int8 bool) func(k, nf int) float64 {
	p.N = 0
	costMu.Lock()
	defer costMu.Unlock()
	g, ok := costCache[costKey{p, int8}]
	if !ok {
		g = timeGroups(p, int8)
		costCache[costKey{p, int8}] = g
	}
	return g.cost
}

// timeGroups times, for nf = 1 to costNF, one group of nf filters reading
// few (C/8) and many (C/2) of p's channels, in GroupPlan's padded-input
// form with the epilogue's bias and ReLU (fused into the kernels, writing
// a next conv's padded layout, for stride 1; with int8, an Int8Plan on the
// fp32 input), and fits slope and intercept per nf. The candidates
// alternate, and each keeps its fastest of 5 rounds, which other load on
// the machine can only slow.
func timeGroups(p kernel.Conv, int8 bool) *groupTimes {
	r := rand.New(rand.NewPCG(7, 7))
	kk := p.KH * p.KW
	k1 := max(1, p.C/8)
	k2 := max(k1+1, p.C/2)
	if k2 > p.C {
		k2 = p.C
	}
	type cand struct {
		nf, ch, reps int
		run          func()
		best         time.Duration
	}
	var cands []*cand
	ws := new(kernel.Workspace)
	for nf := 1; nf <= costNF; nf++ {
		for _, ch := range []int{k1, k2} {
			q := p
			q.N = nf
			g := kernel.Group{Weights: make([]float32, nf*ch*kk)}
			for i := range g.Weights {
				g.Weights[i] = r.Float32() - 0.5
			}
			for f := range nf {
				g.Filters = append(g.Filters, f)
			}
			g.Channels = r.Perm(p.C)[:ch]
			if int8 {
				pl := kernel.NewInt8Plan(q, []kernel.Group{g}, kernel.ActQuantRange(0, 1))
				x := make([]float32, p.C*p.H*p.W)
				for i := range x {
					x[i] = r.Float32()
				}
				y := make([]float32, nf*q.OutH()*q.OutW())
				e := &kernel.Epilogue{Bias: make([]float32, nf), ReLU: true}
				reps := max(1, min(200, int(20e3/(2*float64(nf*ch*kk*q.OutH()*q.OutW())/150+1)))) // at 150 GOP/s
				cands = append(cands, &cand{nf: nf, ch: ch, reps: reps, run: func() { pl.Forward(x, y, e, ws) }})
				continue
			}
			plan := kernel.NewGroupPlan(q, []kernel.Group{g})
			n := plan.PaddedLen()
			if n == 0 { // strided: Forward pads
				n = p.C * p.H * p.W
			}
			x := make([]float32, n)
			for i := range x {
				x[i] = r.Float32()
			}
			y := make([]float32, nf*q.OutH()*q.OutW())
			e := &kernel.Epilogue{Bias: make([]float32, nf), ReLU: true}
			padded := plan.PaddedLen() > 0
			// Written in a following 3x3 conv's padded layout, as a
			// stride-1 conv mostly runs (the fused epilogue), when there
			// is one of this size.
			var next *kernel.GroupPlan
			if nx := kernel.NewGroupPlan(kernel.Conv{C: nf, H: q.OutH(), W: q.OutW(), N: 1, KH: 3, KW: 3, Stride: 1, Pad: 1}, nil); padded && nx.PaddedLen() > 0 {
				next, y = nx, make([]float32, nx.PaddedLen())
			}
			// About 20 microseconds per timing at 50 GFLOP/s.
			flops := 2 * float64(nf*ch*kk*q.OutH()*q.OutW())
			reps := max(1, min(200, int(20e3/(flops/50+1))))
			cands = append(cands, &cand{nf: nf, ch: ch, reps: reps, run: func() { plan.ForwardPadded(x, y, e, ws, padded, next) }})
		}
	}
	for round := range 6 {
		for _, c := range cands {
			t0 := time.Now()
			for range c.reps {
				c.run()
			}
			d := time.Since(t0) / time.Duration(c.reps)
			if round > 0 && (c.best == 0 || d < c.best) {
				c.best = d
			}
		}
	}
	g := &groupTimes{}
	for i := 0; i < len(cands); i += 2 {
		a, b := cands[i], cands[i+1]
		nf := a.nf
		ka, kb := float64(a.ch*kk), float64(b.ch*kk)
		ta, tb := float64(a.best), float64(b.best)
		slope := max(0, (tb-ta)/max(1, kb-ka))
		g.slope[nf] = slope
		g.fixed[nf] = max(0, ta-slope*ka)
	}
	return g
}
