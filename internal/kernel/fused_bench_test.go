package kernel

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkFusedEpilogue times GroupPlan.ForwardPadded writing the next
// conv's padded layout with the epilogue fused into the kernels' store against the same plan with it off (a tile buffer, then epiFlat or
// the row epilogue), side by side: 9 alternating rounds of about 2 ms
// each on a locked thread, reporting the medians of GFLOP per CPU second
// of the thread and of wall time, and the median per-round ratio of CPU
// times (unfused / fused: above 1 when fusing wins). Shapes: the ResNet
// stages, dense (nf=0: the micro-kernels) and in groups of nf filters over
// 30% of the channels, as in a Conv-70 layer (1-3: the row3 kernels, 8:
// the micro-kernels); each also as a residual conv (/resid: the unpadded
// output plus a skip tensor, ReLU; the kernels' residual form against the
// row epilogue). Run it once per setting: -bench FusedEpilogue -benchtime 1x.
func BenchmarkFusedEpilogue(b *testing.B) {
	if row3FusedImpl == nil || cur.row3 == nil {
		b.Skip("no fused row3 kernels in this build")
	}
	for _, p := range []Conv{
		{C: 16, H: 32, W: 32, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 32, H: 16, W: 16, N: 32, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 64, H: 8, W: 8, N: 64, KH: 3, KW: 3, Stride: 1, Pad: 1},
	} {
		for _, nf := range []int{0, 1, 2, 3, 8} {
			r := rand.New(rand.NewPCG(5, 5))
			kc, flops, f := p.C, p.FLOPs(), p.N
			if nf > 0 {
				kc, f = max(1, p.C*3/10), nf
				flops = flops * float64(kc) / float64(p.C)
			}
			var gs []Group
			for n0 := 0; n0 < p.N; n0 += f {
				g := Group{Channels: r.Perm(p.C)[:kc]}
				for i := range min(f, p.N-n0) {
					g.Filters = append(g.Filters, n0+i)
				}
				g.Weights = randSlice(r, len(g.Filters)*kc*9)
				gs = append(gs, g)
			}
			plan := NewGroupPlan(p, gs)
			x := randSlice(r, plan.PaddedLen())
			y := make([]float32, plan.PaddedLen())
			e := &Epilogue{Bias: randSlice(r, p.N), ReLU: true}
			hw := p.OutH() * p.OutW()
			er := &Epilogue{Bias: e.Bias, ReLU: true, Add: randSlice(r, p.N*hw)}
			yr := make([]float32, p.N*hw)
			for _, resid := range []bool{false, true} {
				run := func(ws *Workspace) { plan.ForwardPadded(x, y, e, ws, true, plan) }
				name := fmt.Sprintf("%dx%dx%d/nf=%d", p.C, p.H, p.W, nf)
				if resid {
					run = func(ws *Workspace) { plan.ForwardPadded(x, yr, er, ws, true, nil) }
					name += "/resid"
				}
				benchFused(b, name, flops, run)
			}
		}
	}
}

// benchFused is one BenchmarkFusedEpilogue case.
func benchFused(b *testing.B, name string, flops float64, runWS func(*Workspace)) {
	b.Run(name, func(b *testing.B) {
		ws := new(Workspace)
		run := func() { runWS(ws) }
		fused, unfused, ratios := sideBySide(run, func(on bool) { SetFusedEpilogue(on) })
		defer SetFusedEpilogue(true)
		b.ReportMetric(flops/fused[0]/1e9, "fused-GFLOP/cpu-s")
		b.ReportMetric(flops/unfused[0]/1e9, "unfused-GFLOP/cpu-s")
		b.ReportMetric(flops/fused[1]/1e9, "fused-GFLOP/s")
		b.ReportMetric(flops/unfused[1]/1e9, "unfused-GFLOP/s")
		b.ReportMetric(ratios, "unfused/fused-cpu")
	})
}

// sideBySide times run with set(true) and set(false) in 9 alternating
// rounds on a locked thread and returns, per setting, the median seconds
// per run of thread CPU time and of wall time, and the median per-round
// ratio of CPU times, off / on.
func sideBySide(run func(), set func(on bool)) (on, off [2]float64, ratio float64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	id := int32(unix.CLOCK_THREAD_CPUTIME_ID)
	reps := 1
	for t0 := time.Now(); time.Since(t0) < 2*time.Millisecond; reps++ {
		run()
	}
	const rounds = 9
	var cpu, wall [2][]float64
	var ratios []float64
	for range rounds {
		var c [2]float64
		for s := range 2 {
			set(s == 0)
			run()
			c0, t0 := cpuClock(id), time.Now()
			for range reps {
				run()
			}
			c[s] = (cpuClock(id) - c0) / float64(reps)
			cpu[s] = append(cpu[s], c[s])
			wall[s] = append(wall[s], time.Since(t0).Seconds()/float64(reps))
		}
		ratios = append(ratios, c[1]/c[0])
	}
	med := func(v []float64) float64 { v = slices.Clone(v); slices.Sort(v); return v[len(v)/2] }
	return [2]float64{med(cpu[0]), med(wall[0])}, [2]float64{med(cpu[1]), med(wall[1])}, med(ratios)
}

// BenchmarkCompactPitch times GroupPlans built with the compact padded
// pitch (w+pad; direct.compact) against ones built with the full pitch
// (w+2*pad), side by side as BenchmarkFusedEpilogue does, each writing its
// own next layout (a chain) with the fused epilogue: the ResNet stage
// shapes, dense (nf=0) and in groups of nf filters over 30% of the
// channels. "full/compact-cpu" above 1: the compact pitch wins.
func BenchmarkCompactPitch(b *testing.B) {
	for _, p := range []Conv{
		{C: 16, H: 32, W: 32, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 32, H: 16, W: 16, N: 32, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 64, H: 8, W: 8, N: 64, KH: 3, KW: 3, Stride: 1, Pad: 1},
	} {
		for _, nf := range []int{0, 1, 2, 3, 8} {
			r := rand.New(rand.NewPCG(5, 5))
			kc, flops, f := p.C, p.FLOPs(), p.N
			if nf > 0 {
				kc, f = max(1, p.C*3/10), nf
				flops = flops * float64(kc) / float64(p.C)
			}
			var gs []Group
			for n0 := 0; n0 < p.N; n0 += f {
				g := Group{Channels: r.Perm(p.C)[:kc]}
				for i := range min(f, p.N-n0) {
					g.Filters = append(g.Filters, n0+i)
				}
				g.Weights = randSlice(r, len(g.Filters)*kc*9)
				gs = append(gs, g)
			}
			var plans [2]*GroupPlan
			var xs, ys [2][]float32
			for i, compact := range []bool{true, false} {
				was := SetCompactPitch(compact)
				plans[i] = NewGroupPlan(p, gs)
				SetCompactPitch(was)
				xs[i] = make([]float32, plans[i].PaddedLen())
				x := randSlice(r, p.C*p.H*p.W)
				copy(xs[i], plans[i].pad(new(Workspace), x))
				ys[i] = make([]float32, plans[i].PaddedLen())
			}
			e := &Epilogue{Bias: randSlice(r, p.N), ReLU: true}
			b.Run(fmt.Sprintf("%dx%dx%d/nf=%d", p.C, p.H, p.W, nf), func(b *testing.B) {
				ws := new(Workspace)
				i := 0
				run := func() { plans[i].ForwardPadded(xs[i], ys[i], e, ws, true, plans[i]) }
				on, off, ratio := sideBySide(run, func(compact bool) {
					i = 1
					if compact {
						i = 0
					}
				})
				b.ReportMetric(flops/on[0]/1e9, "compact-GFLOP/cpu-s")
				b.ReportMetric(flops/off[0]/1e9, "full-GFLOP/cpu-s")
				b.ReportMetric(ratio, "full/compact-cpu")
			})
		}
	}
}
