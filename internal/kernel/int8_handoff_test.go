package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestInt8HandOff chains two int8 convs through HandOff (the first
// quantizing its output straight into the second's packed input) and
// checks the second's output against the same two plans run apart (fp32
// in between, which TestInt8Plan checks against the oracle): the values
// quantized are the same fp32 values, so the outputs agree to rounding.
// The first conv's epilogue has every term (a skipped channel the second
// does not read, a bias plane, a residual, a channel no group computes),
// so that both its fused and its fp32 stores hand off; pitches that do
// not line up are refused. Every case runs with the flat route
// (int8_flat.go) forced off and on.
func TestInt8HandOff(t *testing.T) {
	for _, mode := range []int{-1, 1} {
		t.Run(fmt.Sprintf("flat=%d", mode), func(t *testing.T) {
			was := SetInt8Flat(mode)
			defer SetInt8Flat(was)
			testInt8HandOff(t)
		})
	}
}

// testInt8HandOff is TestInt8HandOff in the flat route's current mode.
func testInt8HandOff(t *testing.T) {
	cases := []struct{ p1, p2 Conv }{
		{Conv{C: 5, H: 8, W: 8, N: 7, KH: 3, KW: 3, Stride: 1, Pad: 1}, Conv{C: 7, H: 8, W: 8, N: 6, KH: 3, KW: 3, Stride: 1, Pad: 1}},
		{Conv{C: 6, H: 9, W: 11, N: 13, KH: 3, KW: 3, Stride: 1, Pad: 1}, Conv{C: 13, H: 9, W: 11, N: 4, KH: 3, KW: 3, Stride: 1, Pad: 1}},
		{Conv{C: 8, H: 16, W: 16, N: 12, KH: 3, KW: 3, Stride: 1, Pad: 1}, Conv{C: 12, H: 16, W: 16, N: 9, KH: 3, KW: 3, Stride: 1, Pad: 1}},
		{Conv{C: 6, H: 32, W: 32, N: 5, KH: 3, KW: 3, Stride: 1, Pad: 1}, Conv{C: 5, H: 32, W: 32, N: 3, KH: 3, KW: 3, Stride: 1, Pad: 1}},
		{Conv{C: 3, H: 6, W: 20, N: 16, KH: 5, KW: 5, Stride: 1, Pad: 2}, Conv{C: 16, H: 6, W: 20, N: 5, KH: 5, KW: 5, Stride: 1, Pad: 2}},
		// Stride 2 into stride 1: the phase plane's pitch (16+2)/2 is the
		// next conv's W+Pad.
		{Conv{C: 4, H: 16, W: 16, N: 8, KH: 3, KW: 3, Stride: 2, Pad: 1}, Conv{C: 8, H: 8, W: 8, N: 7, KH: 3, KW: 3, Stride: 1, Pad: 1}},
	}
	refused := []struct{ p1, p2 Conv }{
		{Conv{C: 4, H: 16, W: 16, N: 8, KH: 3, KW: 3, Stride: 2, Pad: 1}, Conv{C: 8, H: 8, W: 8, N: 4, KH: 1, KW: 1, Stride: 1}},
		{Conv{C: 4, H: 16, W: 16, N: 8, KH: 3, KW: 3, Stride: 1, Pad: 1}, Conv{C: 8, H: 16, W: 16, N: 4, KH: 3, KW: 3, Stride: 2, Pad: 1}},
		{Conv{C: 4, H: 16, W: 16, N: 8, KH: 3, KW: 3, Stride: 1, Pad: 1}, Conv{C: 8, H: 16, W: 16, N: 4, KH: 1, KW: 1, Stride: 1}},
	}
	forEachI8Impl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, c := range refused {
			g1, g2 := i8Groups(r, c.p1, true), i8Groups(r, c.p2, true)
			q1, q2 := NewInt8Plan(c.p1, g1, ActQuantRange(-1, 1)), NewInt8Plan(c.p2, g2, ActQuantRange(0, 2))
			if q1.HandOff(q2) {
				t.Errorf("%+v -> %+v: handed off across unequal pitches", c.p1, c.p2)
			}
		}
		for ci, c := range cases {
			for _, grouped := range []bool{false, true} {
				name := fmt.Sprintf("case %d grouped=%v", ci, grouped)
				hw1, hw2 := c.p1.OutH()*c.p1.OutW(), c.p2.OutH()*c.p2.OutW()
				e1 := Epilogue{Bias: randSlice(r, c.p1.N), ReLU: true, Planes: make([][]float32, c.p1.N), Skip: make([]bool, c.p1.N)}
				e1.Skip[2] = true
				e1.Planes[c.p1.N-2] = randSlice(r, hw1)
				if ci%2 == 1 {
					e1.Add = randSlice(r, c.p1.N*hw1)
				}
				e2 := Epilogue{Bias: randSlice(r, c.p2.N), ReLU: ci%2 == 0}
				g1 := i8Groups(r, c.p1, grouped) // the last filter is in no group when grouped
				g2 := withoutChannel(r, i8Groups(r, c.p2, grouped), 2, c.p2.KH*c.p2.KW)
				act1, act2 := ActQuantRange(-1.5, 1.5), ActQuantRange(0, 3)
				if ci == 0 {
					act1 = ActQuantRange(0, 1.5) // zero point 0: the 8x8 flat route hands off
				}
				x := randSlice(r, c.p1.C*c.p1.H*c.p1.W)
				var ws Workspace

				mid, want := make([]float32, c.p1.N*hw1), make([]float32, c.p2.N*hw2)
				NewInt8Plan(c.p1, g1, act1).Forward(x, mid, &e1, &ws)
				NewInt8Plan(c.p2, g2, act2).Forward(mid, want, &e2, &ws)

				q1, q2 := NewInt8Plan(c.p1, g1, act1), NewInt8Plan(c.p2, g2, act2)
				if !q1.HandOff(q2) {
					t.Fatalf("%s: HandOff refused", name)
				}
				buf, packed := guarded(r, q2.PackedLen())
				for i := range packed {
					packed[i] = float32(math.NaN()) // stale values: every byte read must be written
				}
				got := make([]float32, c.p2.N*hw2)
				q1.Forward(x, packed, &e1, &ws)
				checkGuard(t, name, buf)
				q2.Forward(packed, got, &e2, &ws)
				for i, v := range got {
					if math.Abs(float64(v-want[i])) > 1e-5*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("%s: y[%d] = %v through the handoff, %v through fp32", name, i, v, want[i])
					}
				}
			}
		}
	})
}

// withoutChannel drops channel ch from every group (the channel a
// skipped output of the previous conv would be), with fresh weights.
func withoutChannel(r *rand.Rand, gs []Group, ch, kk int) []Group {
	out := make([]Group, 0, len(gs))
	for _, g := range gs {
		chans := slices.DeleteFunc(slices.Clone(g.Channels), func(c int) bool { return c == ch })
		if len(chans) == 0 {
			continue
		}
		out = append(out, Group{Filters: g.Filters, Channels: chans, Weights: randSlice(r, len(g.Filters)*len(chans)*kk)})
	}
	return out
}
