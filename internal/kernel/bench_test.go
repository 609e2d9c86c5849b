package kernel

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// Benchmarks report GFLOP/s for each implementation beside the naive
// reference loops. Peak on the reference machine (MEASURED.md) is about
// 175 GFLOP/s per core with 512-bit FMAs.

var benchConvs = []struct {
	name string
	p    Conv
}{
	{"16x32x32", Conv{C: 16, H: 32, W: 32, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1}},
	{"32x16x16", Conv{C: 32, H: 16, W: 16, N: 32, KH: 3, KW: 3, Stride: 1, Pad: 1}},
	{"64x8x8", Conv{C: 64, H: 8, W: 8, N: 64, KH: 3, KW: 3, Stride: 1, Pad: 1}},
	{"16to32s2", Conv{C: 16, H: 32, W: 32, N: 32, KH: 3, KW: 3, Stride: 2, Pad: 1}},
	{"lenet5x5", Conv{C: 6, H: 12, W: 12, N: 16, KH: 5, KW: 5, Stride: 1, Pad: 0}},
}

// benchImpls runs f per implementation, and with the naive loops as
// "naive" when naive is not nil.
func benchImpls(b *testing.B, flops float64, f func(b *testing.B, ws *Workspace), naive func()) {
	benchImplsN(b, flops, 1, f, naive)
}

// benchImplsN is benchImpls for f running threads goroutines.
func benchImplsN(b *testing.B, flops float64, threads int, f func(b *testing.B, ws *Workspace), naive func()) {
	saved := cur
	defer func() { cur = saved }()
	for _, im := range impls {
		cur = im
		b.Run(im.name, func(b *testing.B) {
			ws := new(Workspace)
			reportRates(b, flops, threads, func() { f(b, ws) })
		})
	}
	if naive != nil {
		b.Run("naive", func(b *testing.B) {
			reportRates(b, flops, 1, func() {
				for b.Loop() {
					naive()
				}
			})
		})
	}
}

func BenchmarkConv(b *testing.B) {
	for _, c := range benchConvs {
		p := c.p
		r := rand.New(rand.NewPCG(1, 1))
		x := randSlice(r, p.C*p.H*p.W)
		w := randSlice(r, p.N*p.C*p.KH*p.KW)
		y := randSlice(r, p.N*p.OutH()*p.OutW())
		dw := make([]float32, len(w))
		b.Run("fwd/"+c.name, func(b *testing.B) {
			benchImpls(b, p.FLOPs(), func(b *testing.B, ws *Workspace) {
				for b.Loop() {
					ConvForward(p, x, w, y, ws)
				}
			}, func() { convForwardRef(p, x, w, y) })
		})
		b.Run("bwdData/"+c.name, func(b *testing.B) {
			benchImpls(b, p.FLOPs(), func(b *testing.B, ws *Workspace) {
				for b.Loop() {
					ConvBackwardData(p, y, w, x, ws)
				}
			}, func() { convBackwardDataRef(p, y, w, x) })
		})
		g := make([]float32, FilterGradLen(p))
		b.Run("bwdFilterAcc/"+c.name, func(b *testing.B) {
			benchImpls(b, p.FLOPs(), func(b *testing.B, ws *Workspace) {
				for b.Loop() {
					ConvBackwardFilterAcc(p, x, y, g, ws)
				}
			}, nil)
		})
		b.Run("bwdFilter/"+c.name, func(b *testing.B) {
			benchImpls(b, p.FLOPs(), func(b *testing.B, ws *Workspace) {
				for b.Loop() {
					ConvBackwardFilter(p, x, y, dw, ws)
				}
			}, func() { convBackwardFilterRef(p, x, y, dw) })
		})
	}
}

// BenchmarkGroupConv is ResNet-20's 16->16 3x3 conv as 4 groups of 4
// filters, each reading half of the channels.
func BenchmarkGroupConv(b *testing.B) {
	p := Conv{C: 16, H: 32, W: 32, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1}
	r := rand.New(rand.NewPCG(2, 2))
	gs := make([]Group, 4)
	for i := range gs {
		for f := range 4 {
			gs[i].Filters = append(gs[i].Filters, i*4+f)
		}
		gs[i].Channels = r.Perm(16)[:8]
		gs[i].Weights = randSlice(r, 4*8*9)
	}
	x := randSlice(r, p.C*p.H*p.W)
	y := make([]float32, p.N*p.OutH()*p.OutW())
	benchImpls(b, p.FLOPs()/2, func(b *testing.B, ws *Workspace) {
		for b.Loop() {
			GroupConvForward(p, gs, x, y, ws)
		}
	}, func() { groupConvForwardRef(p, gs, x, y) })
}

// BenchmarkGroupPlanSingle is ResNet-20's 16->16 3x3 conv and ResNet-56's
// 64->64 8x8 one pruned to single-filter groups (GroupPlan, the wide tile),
// each filter reading half of the channels.
func BenchmarkGroupPlanSingle(b *testing.B) {
	for _, p := range []Conv{
		{C: 16, H: 32, W: 32, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 64, H: 8, W: 8, N: 64, KH: 3, KW: 3, Stride: 1, Pad: 1},
	} {
		r := rand.New(rand.NewPCG(5, 5))
		gs := make([]Group, p.N)
		for n := range gs {
			gs[n] = Group{Filters: []int{n}, Channels: r.Perm(p.C)[:p.C/2], Weights: randSlice(r, p.C/2*9)}
		}
		x := randSlice(r, p.C*p.H*p.W)
		y := make([]float32, p.N*p.OutH()*p.OutW())
		plan := NewGroupPlan(p, gs)
		e := &Epilogue{ReLU: true}
		b.Run(fmt.Sprintf("%dx%dx%d", p.C, p.H, p.W), func(b *testing.B) {
			benchImpls(b, p.FLOPs()/2, func(b *testing.B, ws *Workspace) {
				for b.Loop() {
					plan.Forward(x, y, e, ws)
				}
			}, nil)
		})
	}
}

// BenchmarkConv2Threads runs the forward conv on 2 goroutines, each on
// its own image and Workspace, as callers do (peak about 350 GFLOP/s).
func BenchmarkConv2Threads(b *testing.B) {
	for _, c := range benchConvs[:3] {
		p := c.p
		b.Run(c.name, func(b *testing.B) {
			benchImplsN(b, 2*p.FLOPs(), 2, func(b *testing.B, _ *Workspace) {
				r := rand.New(rand.NewPCG(3, 3))
				w := randSlice(r, p.N*p.C*p.KH*p.KW)
				start := make(chan struct{})
				var wg sync.WaitGroup
				b.ResetTimer()
				for range 2 {
					x := randSlice(r, p.C*p.H*p.W)
					y := make([]float32, p.N*p.OutH()*p.OutW())
					wg.Go(func() {
						ws := new(Workspace)
						<-start
						for range b.N {
							ConvForward(p, x, w, y, ws)
						}
					})
				}
				close(start)
				wg.Wait()
			}, nil)
		})
	}
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range []struct{ m, n, k int }{
		{16, 1024, 144}, {64, 64, 576}, {64, 1024, 64}, {256, 256, 256}, {16, 144, 1024},
	} {
		r := rand.New(rand.NewPCG(4, 4))
		a := randSlice(r, s.m*s.k)
		bb := randSlice(r, s.k*s.n)
		c := randSlice(r, s.m*s.n)
		flops := 2 * float64(s.m*s.n*s.k)
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
			benchImpls(b, flops, func(b *testing.B, ws *Workspace) {
				for b.Loop() {
					sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n, ws)
				}
			}, func() { sgemmRef(false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n) })
		})
	}
}

// BenchmarkGroupPlanShapes times GroupPlan on the three CIFAR ResNet stage
// shapes with groups of nf filters, each group reading 30% of the
// channels (the useful FLOPs are reported), and unpruned (dense): the
// efficiency of each tile shape against the dense layer's.
func BenchmarkGroupPlanShapes(b *testing.B) {
	for _, p := range []Conv{
		{C: 16, H: 32, W: 32, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 32, H: 16, W: 16, N: 32, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 64, H: 8, W: 8, N: 64, KH: 3, KW: 3, Stride: 1, Pad: 1},
	} {
		for _, nf := range []int{0, 1, 2, 4, 8} {
			r := rand.New(rand.NewPCG(5, 5))
			var gs []Group
			flops := p.FLOPs()
			if nf == 0 {
				gs = []Group{{Channels: r.Perm(p.C), Weights: randSlice(r, p.N*p.C*9)}}
				for n := range p.N {
					gs[0].Filters = append(gs[0].Filters, n)
				}
				gs[0].Channels = gs[0].Channels[:0]
				for c := range p.C {
					gs[0].Channels = append(gs[0].Channels, c)
				}
			} else {
				kc := max(1, p.C*3/10)
				flops = flops * float64(kc) / float64(p.C)
				for n0 := 0; n0 < p.N; n0 += nf {
					g := Group{Channels: r.Perm(p.C)[:kc], Weights: randSlice(r, nf*kc*9)}
					for f := range nf {
						g.Filters = append(g.Filters, n0+f)
					}
					gs = append(gs, g)
				}
			}
			x := randSlice(r, p.C*p.H*p.W)
			y := make([]float32, p.N*p.OutH()*p.OutW())
			plan := NewGroupPlan(p, gs)
			e := &Epilogue{ReLU: true}
			ws0 := new(Workspace)
			xp := append([]float32(nil), plan.pad(ws0, x)...)
			b.Run(fmt.Sprintf("%dx%dx%d/nf=%d", p.C, p.H, p.W, nf), func(b *testing.B) {
				benchImpls(b, flops, func(b *testing.B, ws *Workspace) {
					for b.Loop() {
						plan.ForwardPadded(xp, y, e, ws, true, nil)
					}
				}, nil)
			})
		}
	}
}

// BenchmarkGroupPlanChained is BenchmarkGroupPlanShapes's dense and
// groups of 1-3 filters writing the next conv's padded layout (as the
// compiled network chains convs), with the epilogue fused into the row3
// kernels ("fused"), with the flat epilogue (epiFlat) after them ("flat";
// 16-column rows at most, else as "rows"), and with the row epilogue
// ("rows").
func BenchmarkGroupPlanChained(b *testing.B) {
	for _, p := range []Conv{
		{C: 16, H: 32, W: 32, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 32, H: 16, W: 16, N: 32, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 64, H: 8, W: 8, N: 64, KH: 3, KW: 3, Stride: 1, Pad: 1},
	} {
		for _, nf := range []int{0, 1, 2, 3} {
			r := rand.New(rand.NewPCG(5, 5))
			kc, flops := p.C, p.FLOPs()
			if nf > 0 {
				kc = max(1, p.C*3/10)
				flops = flops * float64(kc) / float64(p.C)
			}
			var gs []Group
			for n0 := 0; n0 < p.N; {
				f := p.N
				if nf > 0 {
					f = min(nf, p.N-n0)
				}
				g := Group{Channels: r.Perm(p.C)[:kc], Weights: randSlice(r, f*kc*9)}
				for i := range f {
					g.Filters = append(g.Filters, n0+i)
				}
				gs = append(gs, g)
				n0 += f
			}
			plan := NewGroupPlan(p, gs)
			rows := NewGroupPlan(p, gs)
			rows.flat = nil
			x := randSlice(r, plan.PaddedLen())
			y := make([]float32, plan.PaddedLen())
			e := &Epilogue{Bias: randSlice(r, p.N), ReLU: true}
			for _, v := range []struct {
				name  string
				pl    *GroupPlan
				fused bool
			}{{"fused", plan, true}, {"flat", plan, false}, {"rows", rows, false}} {
				if v.fused && row3FusedImpl == nil {
					continue
				}
				b.Run(fmt.Sprintf("%dx%dx%d/nf=%d/%s", p.C, p.H, p.W, nf, v.name), func(b *testing.B) {
					was := SetFusedEpilogue(v.fused)
					defer SetFusedEpilogue(was)
					reportRates(b, flops, 1, func() {
						ws := new(Workspace)
						for b.Loop() {
							v.pl.ForwardPadded(x, y, e, ws, true, v.pl)
						}
					})
				})
			}
		}
	}
}
