package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestPadFlat checks padFlat (the assembly where the CPU has it) against
// its definition on random masks, with src exactly as long as the masks'
// count (an expand-load must read nothing past it).
func TestPadFlat(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 11))
	for _, nvec := range []int{1, 2, 5, 17, 72} {
		masks := make([]uint16, nvec)
		set := 0
		for v := range masks {
			masks[v] = uint16(r.Uint32())
			if v%3 == 0 {
				masks[v] = 0xffff
			}
			if v%7 == 5 {
				masks[v] = 0
			}
			for l := range vecW {
				if masks[v]&(1<<l) != 0 {
					set++
				}
			}
		}
		src := randSlice(r, set)
		for name, f := range map[string]func(dst, src []float32, masks []uint16, set int){"go": padFlatGo, "in use": padFlat} {
			checkPadFlat(t, fmt.Sprintf("%s, nvec %d", name, nvec), f, masks, src, set)
		}
	}
}

// checkPadFlat runs f and compares its output with padFlat's definition.
func checkPadFlat(t *testing.T, name string, f func(dst, src []float32, masks []uint16, set int), masks []uint16, src []float32, set int) {
	got := make([]float32, len(masks)*vecW)
	for i := range got {
		got[i] = float32(math.NaN())
	}
	f(got, src, masks, set)
	i := 0
	for q := range got {
		want := float32(0)
		if masks[q/vecW]&(1<<(q%vecW)) != 0 {
			want = src[i]
			i++
		}
		if got[q] != want {
			t.Fatalf("%s: dst[%d] = %v, want %v", name, q, got[q], want)
		}
	}
}

// TestGroupPlanFlatPad checks GroupPlan.pad's flat form against its
// row-wise form, starting from a buffer of NaNs: every plane some group
// reads, with the floats after it that the taps reach, and the tail must
// match; and Forward's outputs must match bit for bit.
func TestGroupPlanFlatPad(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 12))
	for _, p := range []Conv{
		{C: 16, H: 32, W: 32, N: 4, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 8, H: 16, W: 16, N: 3, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 9, H: 8, W: 8, N: 5, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 3, H: 7, W: 11, N: 2, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 4, H: 12, W: 12, N: 2, KH: 5, KW: 5, Stride: 1, Pad: 2},
	} {
		for _, tc := range []struct{ compact, all bool }{{true, true}, {true, false}, {false, true}, {false, false}} {
			compact := tc.compact
			t.Run(fmt.Sprintf("%dx%dx%d/k%d/compact=%v/all=%v", p.C, p.H, p.W, p.KH, compact, tc.all), func(t *testing.T) {
				defer SetCompactPitch(SetCompactPitch(compact))
				kk := p.KH * p.KW
				// Without all, channel 1 is read by no group: its plane is
				// not padded (plane by plane); with it, the last group reads
				// every channel (one pass over the whole buffer).
				var gs []Group
				for n := range p.N {
					chans := []int{0}
					for c := 2; c < p.C; c++ {
						if r.IntN(2) == 0 {
							chans = append(chans, c)
						}
					}
					if tc.all && n == p.N-1 {
						chans = chans[:0]
						for c := range p.C {
							chans = append(chans, c)
						}
					}
					gs = append(gs, Group{Filters: []int{n}, Channels: chans, Weights: randSlice(r, len(chans)*kk)})
				}
				plan := NewGroupPlan(p, gs)
				if !plan.flatPad() {
					t.Skip("no flat masks for this geometry")
				}
				if all := len(plan.used) == p.C; all != tc.all {
					t.Fatalf("%d of %d channels read, want all %v", len(plan.used), p.C, tc.all)
				}
				x := randSlice(r, p.C*p.H*p.W)
				var bufs [2][]float32
				var ys [2][]float32
				for i, on := range []bool{true, false} {
					flatPadOn = on
					ws := new(Workspace)
					xp := grow(&ws.s1, plan.PaddedLen())
					for j := range xp {
						xp[j] = float32(math.NaN())
					}
					bufs[i] = append([]float32(nil), plan.pad(ws, x)...)
					ys[i] = make([]float32, p.N*p.OutH()*p.OutW())
					plan.Forward(x, ys[i], &Epilogue{Bias: randSlice(rand.New(rand.NewPCG(1, 1)), p.N), ReLU: true}, ws)
				}
				flatPadOn = true
				d := &plan.d
				check := func(lo, hi int) {
					for j := lo; j < hi; j++ {
						if math.Float32bits(bufs[0][j]) != math.Float32bits(bufs[1][j]) {
							t.Fatalf("padded[%d] = %v flat, %v row-wise", j, bufs[0][j], bufs[1][j])
						}
					}
				}
				for _, c := range plan.used {
					check(c*d.cs, c*d.cs+d.cs+d.pw)
				}
				check(p.C*d.cs, len(bufs[0]))
				for j := range ys[0] {
					if math.Float32bits(ys[0][j]) != math.Float32bits(ys[1][j]) {
						t.Fatalf("y[%d] = %v with the flat pad, %v without", j, ys[0][j], ys[1][j])
					}
				}
			})
		}
	}
}

// BenchmarkGroupPlanPad times GroupPlan.pad on the three CIFAR ResNet
// stage shapes, every channel read, with the flat pad and row by row.
func BenchmarkGroupPlanPad(b *testing.B) {
	for _, c := range []struct{ C, H int }{{16, 32}, {32, 16}, {64, 8}} {
		p := Conv{C: c.C, H: c.H, W: c.H, N: c.C, KH: 3, KW: 3, Stride: 1, Pad: 1}
		r := rand.New(rand.NewPCG(5, 5))
		var gs []Group
		for n := range p.N {
			gs = append(gs, Group{Filters: []int{n}, Channels: []int{n}, Weights: randSlice(r, 9)})
		}
		plan := NewGroupPlan(p, gs)
		x := randSlice(r, p.C*p.H*p.W)
		for _, on := range []bool{true, false} {
			b.Run(fmt.Sprintf("%dx%dx%d/flat=%v", c.C, c.H, c.H, on), func(b *testing.B) {
				defer func(was bool) { flatPadOn = was }(flatPadOn)
				flatPadOn = on
				ws := new(Workspace)
				for b.Loop() {
					plan.pad(ws, x)
				}
				b.ReportMetric(float64(4*len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}
