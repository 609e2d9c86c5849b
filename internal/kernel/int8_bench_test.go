package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkInt8Plan times Int8Plan.Forward beside the fp32 GroupPlan on
// the three ResNet-20 stage shapes (one image, one thread), the int8 plan
// with its AMX route off and, where the CPU has AMX-INT8, forced on.
func BenchmarkInt8Plan(b *testing.B) {
	for _, p := range []Conv{
		{C: 16, H: 32, W: 32, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 32, H: 16, W: 16, N: 32, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 64, H: 8, W: 8, N: 64, KH: 3, KW: 3, Stride: 1, Pad: 1},
	} {
		r := rand.New(rand.NewPCG(1, 1))
		groups := i8Groups(r, p, false)
		x := randSlice(r, p.C*p.H*p.W)
		y := make([]float32, p.N*p.OutH()*p.OutW())
		e := Epilogue{Bias: randSlice(r, p.N), ReLU: true}
		var ws Workspace
		name := fmt.Sprintf("%dx%dx%d", p.C, p.H, p.W)
		b.Run(name+"/fp32", func(b *testing.B) {
			plan := NewGroupPlan(p, groups)
			b.SetBytes(int64(p.FLOPs()))
			for b.Loop() {
				plan.Forward(x, y, &e, &ws)
			}
		})
		for _, amx := range []int{-1, 1} { // the AMX route off, and forced on (where Int8AMX allows it)
			if ok, _ := Int8AMX(); amx > 0 && !ok {
				continue
			}
			b.Run(fmt.Sprintf("%s/int8-%s-amx=%d", name, Int8Impl(), amx), func(b *testing.B) {
				was := SetInt8AMX(amx)
				plan := NewInt8Plan(p, groups, ActQuantRange(-1, 1))
				SetInt8AMX(was)
				b.SetBytes(int64(p.FLOPs()))
				for b.Loop() {
					plan.Forward(x, y, &e, &ws)
				}
			})
		}
	}
}

// BenchmarkInt8Flat times Int8Plan.Forward on the padded tiles and on the
// flat route (int8_flat.go), one image, one thread: the pruned ResNet
// stage shapes of flatTuneGroups (groups of 1 to 4 filters over 30% of
// the channels, as Conv-70), dense, and single groups of m filters over
// 8 channels; rates per second of wall and of thread CPU time (the
// machine is shared).
func BenchmarkInt8Flat(b *testing.B) {
	type shape struct {
		name   string
		p      Conv
		groups []Group
	}
	var shapes []shape
	for _, w := range i8FlatWidths {
		c := 512 / w
		p := Conv{C: c, H: w, W: w, N: c, KH: 3, KW: 3, Stride: 1, Pad: 1}
		shapes = append(shapes, shape{fmt.Sprintf("pruned%dx%dx%d", c, w, w), p, flatTuneGroups(p, flatGrouped)},
			shape{fmt.Sprintf("dense%dx%dx%d", c, w, w), p, flatTuneGroups(p, flatDense)})
		for m := 1; m <= i8FlatMaxM; m++ {
			q := Conv{C: 8, H: w, W: w, N: m, KH: 3, KW: 3, Stride: 1, Pad: 1}
			shapes = append(shapes, shape{fmt.Sprintf("m%d-8x%dx%d", m, w, w), q, i8Groups(rand.New(rand.NewPCG(1, 1)), q, false)})
		}
	}
	for _, s := range shapes {
		r := rand.New(rand.NewPCG(1, 1))
		p := s.p
		x := randSlice(r, p.C*p.H*p.W)
		y := make([]float32, p.N*p.OutH()*p.OutW())
		e := Epilogue{Bias: randSlice(r, p.N), ReLU: true}
		var ws Workspace
		for _, mode := range []int{-1, 1} {
			route := map[int]string{-1: "padded", 1: "flat"}[mode]
			b.Run(s.name+"/"+route, func(b *testing.B) {
				was := SetInt8Flat(mode)
				plan := NewInt8Plan(p, s.groups, ActQuantRange(0, 1))
				SetInt8Flat(was)
				reportRates(b, p.FLOPs(), 1, func() {
					for b.Loop() {
						plan.Forward(x, y, &e, &ws)
					}
				})
			})
		}
	}
}
