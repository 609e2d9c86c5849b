package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// elemSizes straddle the vector (16) and unrolled-loop (64) edges.
var elemSizes = []int{0, 1, 15, 16, 17, 63, 64, 65, 80, 127, 1024, 1031}

// TestElementwise checks every elementwise loop against its definition,
// per implementation, with guard bands around every output.
func TestElementwise(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 9))
		nan := float32(math.NaN())
		for _, n := range elemSizes {
			xb, x := guarded(r, n)
			_, y := guarded(r, n)
			if n > 5 {
				x[3], y[5] = nan, nan // NaNs survive ReLU and keep their gradient
				x[4] = 0
			}
			x0 := append([]float32(nil), x...)

			Relu(x)
			checkGuard(t, "Relu", xb)
			for i, v := range x0 {
				want := v
				if v < 0 {
					want = 0
				}
				if !same(x[i], want) {
					t.Fatalf("Relu n=%d: [%d] = %v, want %v", n, i, x[i], want)
				}
			}

			db, dy := guarded(r, n)
			dy0 := append([]float32(nil), dy...)
			ReluMask(x0, dy)
			checkGuard(t, "ReluMask", db)
			for i, v := range x0 {
				want := dy0[i]
				if v <= 0 {
					want = 0
				}
				if !same(dy[i], want) {
					t.Fatalf("ReluMask n=%d: [%d] = %v, want %v (y %v)", n, i, dy[i], want, v)
				}
			}

			copy(x, x0)
			if n > 5 {
				x[3], y[5] = 1, 2 // no NaN for the arithmetic below
			}
			zb, z := guarded(r, n)
			copy(z, x)
			AddTo(z, y)
			checkGuard(t, "AddTo", zb)
			want := make([]float32, n)
			for i := range want {
				want[i] = x[i] + y[i]
			}
			checkClose(t, "AddTo", z, want)

			Affine(x, z, 1.5, -0.25)
			checkGuard(t, "Affine", zb)
			for i := range want {
				want[i] = 1.5*x[i] - 0.25
			}
			checkClose(t, "Affine", z, want)

			Affine2(x, y, z, 0.5, -2, 3)
			checkGuard(t, "Affine2", zb)
			for i := range want {
				want[i] = 0.5*x[i] - 2*y[i] + 3
			}
			checkClose(t, "Affine2", z, want)

			var ws, wss, wsxy float64
			for i := range x {
				ws += float64(x[i])
				wss += float64(x[i]) * float64(x[i])
				wsxy += float64(x[i]) * float64(y[i])
			}
			s, ss := SumSq(x)
			s2, sxy := SumDot(x, y)
			for _, c := range [][3]float64{{s, ws, 0}, {ss, wss, 1}, {s2, ws, 2}, {sxy, wsxy, 3}} {
				if math.Abs(c[0]-c[1]) > 1e-9*(1+math.Abs(c[1])) {
					t.Fatalf("sum %v n=%d: %v, want %v", c[2], n, c[0], c[1])
				}
			}
		}
	})
}

// same reports a == b, or both NaN.
func same(a, b float32) bool { return a == b || (a != a && b != b) }

// BenchmarkElementwise times the layers' elementwise loops on one
// ResNet stage-1 image (16 x 32 x 32), in L2.
func BenchmarkElementwise(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	const n = 16 * 32 * 32
	x, y, z := randSlice(r, n), randSlice(r, n), randSlice(r, n)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"Relu", func() { Relu(z) }},
		{"ReluMask", func() { ReluMask(x, z) }},
		{"AddTo", func() { AddTo(z, y) }},
		{"Affine2", func() { Affine2(x, y, z, 0.5, 2, 1) }},
		{"SumSq", func() { SumSq(x) }},
		{"SumDot", func() { SumDot(x, y) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			benchImpls(b, n, func(b *testing.B, _ *Workspace) {
				for b.Loop() {
					c.f()
				}
			}, nil)
		})
	}
}

// TestSubsample checks Subsample against the definition for strides 1 to
// 3 and odd and even planes, with the AVX-512 deinterleave (where the CPU
// has it) and the Go one.
func TestSubsample(t *testing.T) {
	saved := deinterleaveRows
	defer func() { deinterleaveRows = saved }()
	r := rand.New(rand.NewPCG(5, 6))
	var ws Workspace
	for _, impl := range []func(even, odd, src []float32, rows, w, sp, dp int){saved, deinterleaveRowsGo} {
		deinterleaveRows = impl
		for _, s := range []int{1, 2, 3} {
			for _, hw := range [][2]int{{32, 32}, {16, 16}, {7, 9}, {1, 1}, {2, 33}} {
				h, w := hw[0], hw[1]
				src := randSlice(r, h*w)
				oh, ow := (h+s-1)/s, (w+s-1)/s
				dst := make([]float32, oh*ow+3)
				for i := range dst {
					dst[i] = -7
				}
				Subsample(dst, src, h, w, s, &ws)
				for oy := range oh {
					for ox := range ow {
						if got, want := dst[oy*ow+ox], src[oy*s*w+ox*s]; got != want {
							t.Fatalf("s=%d %dx%d: dst[%d][%d] = %v, want %v", s, h, w, oy, ox, got, want)
						}
					}
				}
				for _, v := range dst[oh*ow:] {
					if v != -7 {
						t.Fatalf("s=%d %dx%d: wrote past the plane", s, h, w)
					}
				}
			}
		}
	}
}
