package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkInt8Plan times Int8Plan.Forward beside the fp32 GroupPlan on
// the three ResNet-20 stage shapes (one image, one thread).
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
		b.Run(name+"/int8-"+Int8Impl(), func(b *testing.B) {
			plan := NewInt8Plan(p, groups, ActQuantRange(-1, 1))
			b.SetBytes(int64(p.FLOPs()))
			for b.Loop() {
				plan.Forward(x, y, &e, &ws)
			}
		})
	}
}
