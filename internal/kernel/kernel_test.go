package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// forEachImpl runs f once per micro-kernel implementation usable here. It
// fails when the CPU could run the assembly but it is not in the list, so
// the fast path is never skipped silently.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := cur
	defer func() { cur = saved }()
	if asmWanted {
		found := false
		for _, im := range impls {
			found = found || im.name != "go"
		}
		if !found {
			t.Fatal("CPU has AVX-512 but no assembly implementation is registered")
		}
	}
	for _, im := range impls {
		cur = im
		t.Run(im.name, f)
	}
}

const guard = 13 // floats of guard band on each side of an output

var guardVal = float32(math.Float32frombits(0x7fc0beef)) // a NaN with a tag

// guarded returns a slice of n random floats (or sentinel fill when
// fill != nil) inside guard bands; the caller checks them with checkGuard.
func guarded(r *rand.Rand, n int) (buf, s []float32) {
	buf = make([]float32, n+2*guard)
	for i := range buf {
		buf[i] = guardVal
	}
	s = buf[guard : guard+n : guard+n]
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return buf, s
}

func checkGuard(t *testing.T, name string, buf []float32) {
	t.Helper()
	n := len(buf) - 2*guard
	for i := range guard {
		for _, j := range []int{i, guard + n + i} {
			if math.Float32bits(buf[j]) != math.Float32bits(guardVal) {
				t.Fatalf("%s: guard band written at %d (len %d): %v", name, j-guard, n, buf[j])
			}
		}
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	_, s := guarded(r, n)
	return s
}

// checkClose compares got with want, relative to the largest |want|.
func checkClose(t *testing.T, name string, got, want []float32) {
	t.Helper()
	var scale float64 = 1
	for _, w := range want {
		scale = max(scale, math.Abs(float64(w)))
	}
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if !(d <= 1e-5*scale) {
			t.Fatalf("%s: [%d] = %v, want %v (scale %v)", name, i, got[i], want[i], scale)
		}
	}
}

// gemmSizes straddle the micro-tile (8 x 48, vectors of 16) and block
// (256 x 1536) edges.
var gemmSizes = []int{1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 47, 48, 49, 63, 65, 70}

func TestSgemm(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, m := range gemmSizes {
			for _, n := range gemmSizes {
				for _, k := range []int{1, 5, 17, 70} {
					for tr := range 4 {
						tA, tB := tr&1 != 0, tr&2 != 0
						beta := float32(tr % 2)
						testSgemm(t, r, tA, tB, m, n, k, 1, beta, 0)
					}
				}
			}
		}
	})
}

// TestSgemmBlocks hits more than one K block (kc = 256) and N block
// (nc = 1536), a general alpha and beta, and strided operands.
func TestSgemmBlocks(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, c := range []struct{ m, n, k, pad int }{
			{9, 1600, 300, 3}, {20, 100, 513, 0}, {70, 1537, 257, 5}, {1, 49, 600, 1},
		} {
			for tr := range 4 {
				testSgemm(t, r, tr&1 != 0, tr&2 != 0, c.m, c.n, c.k, 0.5, 1.5, c.pad)
				testSgemm(t, r, tr&1 != 0, tr&2 != 0, c.m, c.n, c.k, -2, 0, c.pad)
			}
		}
	})
}

func testSgemm(t *testing.T, r *rand.Rand, tA, tB bool, m, n, k int, alpha, beta float32, pad int) {
	t.Helper()
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	lda, ldb, ldc := ac+pad, bc+pad, n+pad
	a := randSlice(r, ar*lda)
	b := randSlice(r, br*ldb)
	cbuf, c := guarded(r, m*ldc)
	if beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN()) // must not propagate
		}
	}
	want := append([]float32(nil), c...)
	sgemmRef(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
	Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	name := fmt.Sprintf("Sgemm(%v,%v,m=%d,n=%d,k=%d,alpha=%v,beta=%v,pad=%d)", tA, tB, m, n, k, alpha, beta, pad)
	checkGuard(t, name, cbuf)
	for i := range m {
		checkClose(t, name, c[i*ldc:i*ldc+n], want[i*ldc:i*ldc+n])
		for j := n; j < ldc; j++ { // the gap between rows is not ours
			if math.Float32bits(c[i*ldc+j]) != math.Float32bits(want[i*ldc+j]) {
				t.Fatalf("%s: wrote C[%d][%d] past n", name, i, j)
			}
		}
	}
}

// convShapes cover 1x1, 3x3 and 5x5 kernels, strides 1 and 2, pads 0..2,
// odd sizes, and channel counts around the 8-row tile; the ResNet and
// LeNet shapes are included.
var convShapes = []Conv{
	{C: 3, H: 8, W: 8, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 16, H: 10, W: 9, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 5, H: 7, W: 11, N: 9, KH: 3, KW: 3, Stride: 1, Pad: 0},
	{C: 16, H: 9, W: 9, N: 32, KH: 3, KW: 3, Stride: 2, Pad: 1},
	{C: 4, H: 8, W: 8, N: 7, KH: 1, KW: 1, Stride: 2, Pad: 0},
	{C: 13, H: 6, W: 5, N: 17, KH: 1, KW: 1, Stride: 1, Pad: 0},
	{C: 1, H: 28, W: 28, N: 6, KH: 5, KW: 5, Stride: 1, Pad: 0},
	{C: 6, H: 12, W: 12, N: 16, KH: 5, KW: 5, Stride: 1, Pad: 0},
	{C: 2, H: 9, W: 7, N: 3, KH: 5, KW: 5, Stride: 1, Pad: 2},
	{C: 3, H: 11, W: 10, N: 5, KH: 5, KW: 3, Stride: 2, Pad: 2},
	{C: 2, H: 5, W: 5, N: 3, KH: 3, KW: 3, Stride: 1, Pad: 3},
	{C: 8, H: 4, W: 4, N: 1, KH: 3, KW: 3, Stride: 3, Pad: 1},
	{C: 64, H: 8, W: 8, N: 64, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 16, H: 32, W: 32, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 3, H: 64, W: 62, N: 10, KH: 3, KW: 3, Stride: 2, Pad: 1}, // inner-product filter gradient, edge tiles
}

func TestConv(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		ws := new(Workspace) // shared: stale scratch must not leak into results
		for _, p := range convShapes {
			name := fmt.Sprintf("%+v", p)
			xn, yn, wn := p.C*p.H*p.W, p.N*p.OutH()*p.OutW(), p.N*p.C*p.KH*p.KW
			x, w, dy := randSlice(r, xn), randSlice(r, wn), randSlice(r, yn)

			ybuf, y := guarded(r, yn)
			want := make([]float32, yn)
			convForwardRef(p, x, w, want)
			ConvForward(p, x, w, y, ws)
			checkGuard(t, "ConvForward "+name, ybuf)
			checkClose(t, "ConvForward "+name, y, want)

			dxbuf, dx := guarded(r, xn)
			want = make([]float32, xn)
			convBackwardDataRef(p, dy, w, want)
			ConvBackwardData(p, dy, w, dx, ws)
			checkGuard(t, "ConvBackwardData "+name, dxbuf)
			checkClose(t, "ConvBackwardData "+name, dx, want)

			wtbuf, wt := guarded(r, wn)
			PrepareBackwardData(p, w, wt)
			checkGuard(t, "PrepareBackwardData "+name, wtbuf)
			dxbuf, dx = guarded(r, xn)
			ConvBackwardDataPrepared(p, dy, wt, dx, ws)
			checkGuard(t, "ConvBackwardDataPrepared "+name, dxbuf)
			checkClose(t, "ConvBackwardDataPrepared "+name, dx, want)

			dwbuf, dw := guarded(r, wn)
			want = append([]float32(nil), dw...)
			convBackwardFilterRef(p, x, dy, want)
			ConvBackwardFilter(p, x, dy, dw, ws)
			checkGuard(t, "ConvBackwardFilter "+name, dwbuf)
			checkClose(t, "ConvBackwardFilter "+name, dw, want)

			// Two images through the batch accumulator.
			x2, dy2 := randSlice(r, xn), randSlice(r, yn)
			want = make([]float32, wn)
			convBackwardFilterRef(p, x, dy, want)
			convBackwardFilterRef(p, x2, dy2, want)
			g := make([]float32, FilterGradLen(p))
			ConvBackwardFilterAcc(p, x, dy, g, ws)
			ConvBackwardFilterAcc(p, x2, dy2, g, ws)
			dwbuf, dw = guarded(r, wn)
			clear(dw)
			AddFilterGrad(p, g, dw)
			checkGuard(t, "AddFilterGrad "+name, dwbuf)
			checkClose(t, "ConvBackwardFilterAcc "+name, dw, want)
		}
	})
}

// randGroups makes ng groups over p: filters drawn without replacement
// (some groups get none), channels with overlaps between groups (some get
// none, some all).
func randGroups(r *rand.Rand, p Conv, ng int) []Group {
	perm := r.Perm(p.N)
	gs := make([]Group, ng)
	for _, f := range perm {
		if r.IntN(5) == 0 {
			continue // filter in no group: y keeps its value
		}
		g := &gs[r.IntN(ng)]
		g.Filters = append(g.Filters, f)
	}
	for i := range gs {
		g := &gs[i]
		switch i % 4 {
		case 0:
			// no channels
		case 1:
			for c := range p.C {
				g.Channels = append(g.Channels, c)
			}
		default:
			for c := range p.C {
				if r.IntN(2) == 0 {
					g.Channels = append(g.Channels, c)
				}
			}
			r.Shuffle(len(g.Channels), func(a, b int) { g.Channels[a], g.Channels[b] = g.Channels[b], g.Channels[a] })
		}
		g.Weights = randSlice(r, len(g.Filters)*len(g.Channels)*p.KH*p.KW)
	}
	return gs
}

func TestGroupConvForward(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		ws := new(Workspace)
		for _, p := range convShapes {
			for _, ng := range []int{1, 3, 5} {
				name := fmt.Sprintf("%+v groups=%d", p, ng)
				gs := randGroups(r, p, ng)
				x := randSlice(r, p.C*p.H*p.W)
				ybuf, y := guarded(r, p.N*p.OutH()*p.OutW())
				want := append([]float32(nil), y...)
				groupConvForwardRef(p, gs, x, want)
				GroupConvForward(p, gs, x, y, ws)
				checkGuard(t, "GroupConvForward "+name, ybuf)
				checkClose(t, "GroupConvForward "+name, y, want)
			}
		}
	})
}

// TestMicroKernel checks every tile shape of every implementation against
// the loop in microKernel's doc comment, with scattered A rows and B rows,
// both store modes, k = 0, and guard bands around C's rows. nv = wideNV
// is the wide one-row tile, nv = planeNV the 8x8 plane's.
func TestMicroKernel(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, nv := range []int{1, 2, 3, 4, planeNV, wideNV} {
			for m := 1; m <= mrFor(nv); m++ {
				for _, k := range []int{0, 1, 2, 7, 33} {
					for _, add := range []bool{false, true} {
						name := fmt.Sprintf("m=%d nv=%d k=%d add=%v", m, nv, k, add)
						a := randSlice(r, 3*maxMR*k+5)
						aoffs := make([]int32, m)
						for i := range aoffs {
							aoffs[i] = int32(r.IntN(len(a) - k + 1))
						}
						b := randSlice(r, 500)
						boffs := make([]int32, k)
						for p := range boffs {
							boffs[p] = int32(r.IntN(len(b) - nv*vecW + 1))
						}
						ldc := nv*vecW + 2*guard
						cbuf, c := guarded(r, m*ldc)
						for i := range m - 1 { // guard the gap between rows too
							for j := nv * vecW; j < ldc; j++ {
								c[i*ldc+j] = guardVal
							}
						}
						want := append([]float32(nil), c...)
						for i := range m {
							for j := range nv * vecW {
								var s float32
								for p := range k {
									s += a[int(aoffs[i])+p] * b[int(boffs[p])+j]
								}
								if add {
									want[i*ldc+j] += s
								} else {
									want[i*ldc+j] = s
								}
							}
						}
						cur.kern(m, nv, k, a, aoffs, b, boffs, c, ldc, add)
						checkGuard(t, name, cbuf)
						for i := range m {
							checkClose(t, name, c[i*ldc:i*ldc+nv*vecW], want[i*ldc:i*ldc+nv*vecW])
							for j := nv * vecW; j < ldc && i < m-1; j++ {
								if math.Float32bits(c[i*ldc+j]) != math.Float32bits(guardVal) {
									t.Fatalf("%s: wrote past row %d", name, i)
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestIm2colRoutes checks the im2col + GEMM routes, which the entry
// points no longer take but which stay as the general fallback, and the
// direct backward data route is checked by TestConv.
func TestIm2colRoutes(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		ws := new(Workspace)
		for _, p := range convShapes {
			name := fmt.Sprintf("%+v", p)
			xn, yn, wn := p.C*p.H*p.W, p.N*p.OutH()*p.OutW(), p.N*p.C*p.KH*p.KW
			x, w, dy := randSlice(r, xn), randSlice(r, wn), randSlice(r, yn)
			y, want := make([]float32, yn), make([]float32, yn)
			convForwardRef(p, x, w, want)
			convForwardIm2col(p, x, w, y, ws)
			checkClose(t, "convForwardIm2col "+name, y, want)

			dw := randSlice(r, wn)
			want = append([]float32(nil), dw...)
			convBackwardFilterRef(p, x, dy, want)
			convBackwardFilterGemm(p, x, dy, dw, ws)
			checkClose(t, "convBackwardFilterGemm "+name, dw, want)

			dx := make([]float32, xn)
			want = make([]float32, xn)
			convBackwardDataRef(p, dy, w, want)
			convBackwardDataGemm(p, dy, w, dx, ws)
			checkClose(t, "convBackwardDataGemm "+name, dx, want)

			gs := randGroups(r, p, 3)
			y = randSlice(r, yn)
			want = append([]float32(nil), y...)
			groupConvForwardRef(p, gs, x, want)
			groupConvForwardIm2col(p, gs, x, y, ws)
			checkClose(t, "groupConvForwardIm2col "+name, y, want)
		}
	})
}
