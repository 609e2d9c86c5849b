package nn_test

// Conv2d and Linear at sizes where the optimised kernels take their fast
// paths, checked against obviously correct float64 loops written here.

import (
	"fmt"
	"math"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
	"github.com/sgcnn/sgcnn/tensor"
)

// refConv computes conv forward, input and weight gradients of one batch
// in float64 by direct loops, with the sum of |terms| of each result for
// the error bound.
func refConv(c *nn.Conv2d, x, dy *tensor.Tensor) (y, ya, dx, dxa, dw, dwa []float64) {
	b, h, w := x.Shape[0], x.Shape[2], x.Shape[3]
	oh, ow := dy.Shape[2], dy.Shape[3]
	k, s, p := c.K, c.Stride, c.Pad
	y, ya = make([]float64, dy.Len()), make([]float64, dy.Len())
	dx, dxa = make([]float64, x.Len()), make([]float64, x.Len())
	dw, dwa = make([]float64, c.W.Value.Len()), make([]float64, c.W.Value.Len())
	W := c.W.Value.Data
	for i := range b {
		for n := range c.Out {
			for oy := range oh {
				for ox := range ow {
					yi := ((i*c.Out+n)*oh+oy)*ow + ox
					if c.B != nil {
						y[yi] = float64(c.B.Value.Data[n])
						ya[yi] = math.Abs(y[yi])
					}
					g := float64(dy.Data[yi])
					for ch := range c.In {
						for ky := range k {
							iy := oy*s - p + ky
							if iy < 0 || iy >= h {
								continue
							}
							for kx := range k {
								ix := ox*s - p + kx
								if ix < 0 || ix >= w {
									continue
								}
								xi := ((i*c.In+ch)*h+iy)*w + ix
								wi := ((n*c.In+ch)*k+ky)*k + kx
								wv, xv := float64(W[wi]), float64(x.Data[xi])
								y[yi] += wv * xv
								ya[yi] += math.Abs(wv * xv)
								dx[xi] += wv * g
								dxa[xi] += math.Abs(wv * g)
								dw[wi] += xv * g
								dwa[wi] += math.Abs(xv * g)
							}
						}
					}
				}
			}
		}
	}
	return
}

// checkRef fails when |got - want| > 1e-5 * (sum of |terms|) + 1e-30 for
// any element: float32 accumulation of n terms errs by at most about
// n * 6e-8 times that sum, and in practice by far less (measured: 2.4e-7).
func checkRef(t *testing.T, what string, got []float32, want, abs []float64) {
	t.Helper()
	bad, worst, werr := 0, 0, 0.0
	for i, w := range want {
		e := math.Abs(float64(got[i]) - w)
		if !(e <= 1e-5*abs[i]+1e-30) {
			bad++
		}
		if r := e / (abs[i] + 1e-30); r > werr || math.IsNaN(e) {
			worst, werr = i, r
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values off; worst [%d] got %g want %g (error / sum|terms| = %.3g)",
			what, bad, len(want), worst, got[worst], want[worst], werr)
	}
}

func TestConvAgainstDirectLoops(t *testing.T) {
	// keep: percent of connections the mask keeps (0: no mask); at 50 or
	// less the grouped passes run (conv_sparse.go), with a dead filter and
	// an unread input channel.
	cases := []struct {
		in, out, hw, k, s, p int
		bias                 bool
		keep                 int
	}{
		{16, 32, 12, 3, 1, 1, true, 0},
		{16, 32, 13, 3, 2, 1, false, 0},
		{32, 24, 9, 1, 1, 0, false, 0},
		{24, 16, 8, 1, 2, 0, true, 0},
		{8, 20, 11, 5, 1, 2, true, 0},
		{3, 64, 16, 3, 1, 1, false, 0},
		{32, 32, 8, 3, 1, 1, false, 67},
		{32, 32, 8, 3, 1, 1, false, 30},
		{16, 16, 32, 3, 1, 1, true, 30},
		{16, 32, 13, 3, 2, 1, true, 30},
		{8, 20, 11, 5, 1, 2, true, 40},
		{24, 16, 8, 1, 1, 0, false, 20},
		{12, 10, 7, 3, 1, 0, false, 30},
	}
	defer func(v int) { *nn.GroupedFilterMinOut = v }(*nn.GroupedFilterMinOut)
	for _, c := range cases {
		for _, minOut := range []int{0, 1 << 30} { // weight gradient grouped, dense
			if minOut > 0 && (c.keep == 0 || c.keep > 50) {
				continue // no grouped passes: one run is enough
			}
			*nn.GroupedFilterMinOut = minOut
			name := fmt.Sprintf("%dx%dx%d_to_%d_k%d_s%d_p%d_keep%d_minout%d", c.in, c.hw, c.hw, c.out, c.k, c.s, c.p, c.keep, minOut)
			t.Run(name, func(t *testing.T) {
				forThreads(t, func(t *testing.T) {
					r := rng(11)
					conv := nn.NewConv2d("conv", c.in, c.out, c.k, c.s, c.p, c.bias, r)
					if c.keep > 0 {
						m := make([]float32, c.in*c.out)
						for i := range m {
							if r.IntN(100) < c.keep {
								m[i] = 1
							}
						}
						if c.keep <= 50 {
							for ch := range c.in {
								m[1*c.in+ch] = 0 // filter 1 dead
							}
							for n := range c.out {
								m[n*c.in+2] = 0 // channel 2 unread
							}
						}
						if err := conv.SetMask(m); err != nil {
							t.Fatal(err)
						}
					}
					x := nntest.Randn(r, 1, 3, c.in, c.hw, c.hw)
					ctx := nn.NewCtx(true)
					y, err := conv.Forward(ctx, x)
					if err != nil {
						t.Fatal(err)
					}
					dy := nntest.Randn(r, 1, y.Shape...)
					ry, rya, rdx, rdxa, rdw, rdwa := refConv(conv, x, dy)
					checkRef(t, "y", y.Data, ry, rya)
					if got, want := nn.RunsGrouped(conv), c.keep > 0 && c.keep <= 50; got != want {
						t.Errorf("grouped passes: %v, want %v", got, want)
					}
					dx, err := conv.Backward(ctx, dy)
					if err != nil {
						t.Fatal(err)
					}
					checkRef(t, "dx", dx.Data, rdx, rdxa)
					if c.keep > 0 {
						for i := range rdw {
							if conv.W.Mask[i/(c.k*c.k)] == 0 {
								rdw[i], rdwa[i] = 0, 0
							}
						}
					}
					checkRef(t, "dW", conv.W.Grad.Data, rdw, rdwa)
				})
			})
		}
	}
}

func TestLinearAgainstDirectLoops(t *testing.T) {
	for _, c := range []struct{ b, in, out int }{{9, 64, 100}, {33, 130, 17}, {1, 512, 10}} {
		t.Run(fmt.Sprintf("%dx%d_to_%d", c.b, c.in, c.out), func(t *testing.T) {
			r := rng(12)
			fc := nn.NewLinear("fc", c.in, c.out, true, r)
			x := nntest.Randn(r, 1, c.b, c.in)
			ctx := nn.NewCtx(true)
			y, err := fc.Forward(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			dy := nntest.Randn(r, 1, c.b, c.out)
			ry, rya := make([]float64, y.Len()), make([]float64, y.Len())
			rdx, rdxa := make([]float64, x.Len()), make([]float64, x.Len())
			rdw, rdwa := make([]float64, fc.W.Value.Len()), make([]float64, fc.W.Value.Len())
			for i := range c.b {
				for o := range c.out {
					bv := float64(fc.B.Value.Data[o])
					ry[i*c.out+o], rya[i*c.out+o] = bv, math.Abs(bv)
					g := float64(dy.Data[i*c.out+o])
					for j := range c.in {
						wv, xv := float64(fc.W.Value.Data[o*c.in+j]), float64(x.Data[i*c.in+j])
						ry[i*c.out+o] += wv * xv
						rya[i*c.out+o] += math.Abs(wv * xv)
						rdx[i*c.in+j] += wv * g
						rdxa[i*c.in+j] += math.Abs(wv * g)
						rdw[o*c.in+j] += xv * g
						rdwa[o*c.in+j] += math.Abs(xv * g)
					}
				}
			}
			checkRef(t, "y", y.Data, ry, rya)
			dx, err := fc.Backward(ctx, dy)
			if err != nil {
				t.Fatal(err)
			}
			checkRef(t, "dx", dx.Data, rdx, rdxa)
			checkRef(t, "dW", fc.W.Grad.Data, rdw, rdwa)
		})
	}
}
