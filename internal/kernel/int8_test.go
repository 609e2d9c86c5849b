package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// forEachI8Impl runs f once per int8 implementation usable here; it fails
// when the CPU has AVX512_VNNI but the assembly is not registered.
func forEachI8Impl(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := i8Cur
	defer func() { i8Cur = saved }()
	if i8AsmWanted && len(i8Impls) < 2 {
		t.Fatal("CPU has AVX512_VNNI but no int8 assembly is registered")
	}
	for _, im := range i8Impls {
		i8Cur = im
		t.Run(im.name, f)
	}
}

// TestInt8QuantInter checks the quantizer on row widths around the
// 16-value vector (whole vectors and a masked tail in asm) and the
// 64-value block, with row pitches wider than the rows and rows that
// follow each other (blocks of rows in asm), against math.Round, and the interleaver
// against byte arithmetic; both with guard bands.
func TestInt8QuantInter(t *testing.T) {
	forEachI8Impl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		const g = 7
		type shape struct{ w, rows, xp int }
		var shapes []shape
		for _, w := range []int{1, 8, 15, 16, 17, 31, 32, 33, 64, 100, 130, 200} {
			shapes = append(shapes, shape{w, 3, w + 5})
		}
		for _, rows := range []int{1, 2, 3, 4, 5, 7, 9} { // rows that follow each other: blocks of 2 or 4 rows and the rest
			shapes = append(shapes, shape{16, rows, 16}, shape{32, rows, 32}, shape{8, rows, 8})
		}
		for _, sh := range shapes {
			w, rows, xp := sh.w, sh.rows, sh.xp
			dp := w + 9
			x := randSlice(r, rows*xp)
			for i := range x {
				x[i] *= 3 // beyond the range: both clamps
			}
			buf := make([]byte, rows*dp+2*g)
			for i := range buf {
				buf[i] = 0xa5
			}
			inv, zp := float32(60), float32(100)
			i8Cur.quant(rows, w, x, xp, buf[g:], dp, inv, zp)
			for i, b := range buf {
				in := i >= g && (i-g)%dp < w && (i-g)/dp < rows
				if !in && b != 0xa5 {
					t.Fatalf("quant w=%d: byte %d outside the rows written", w, i-g)
				}
			}
			for row := range rows {
				for p := range w {
					v := float64(x[row*xp+p])*float64(inv) + float64(zp)
					want := min(max(math.Round(v), 0), 255)
					got := float64(buf[g+row*dp+p])
					if got != want && (math.Abs(v-math.Floor(v)-0.5) > 1e-3 || math.Abs(got-want) > 1) {
						t.Fatalf("quant w=%d row %d p=%d: %v -> %v, want %v", w, row, p, x[row*xp+p], got, want)
					}
				}
			}
		}
		checkQuantDeint(t, r)
		checkInterQuads(t, r)
	})
}

// checkQuantDeint checks i8Cur.deint against quantByte on pair counts
// around the 16-pair vector (whole vectors and masked tails of up to 15
// pairs, which load one or two vectors), with guard bands around both
// outputs.
func checkQuantDeint(t *testing.T, r *rand.Rand) {
	t.Helper()
	const g = 7
	for _, n := range []int{1, 5, 8, 9, 15, 16, 17, 24, 32, 40} {
		rows, xp, dp := 3, 2*n+3, n+5
		x := randSlice(r, rows*xp)
		for i := range x {
			x[i] *= 3
		}
		inv, zp := float32(60), float32(100)
		var bufs [2][]byte
		for k := range bufs {
			bufs[k] = make([]byte, rows*dp+2*g)
			for i := range bufs[k] {
				bufs[k][i] = 0xa5
			}
		}
		i8Cur.deint(rows, n, x, xp, bufs[0][g:], bufs[1][g:], dp, inv, zp)
		for k, buf := range bufs {
			for i, b := range buf {
				if i < g || (i-g)%dp >= n || (i-g)/dp >= rows {
					if b != 0xa5 {
						t.Fatalf("deint n=%d: output %d byte %d outside the rows written", n, k, i-g)
					}
					continue
				}
				row, p := (i-g)/dp, (i-g)%dp
				if want := quantByte(x[row*xp+2*p+k], inv, zp); b != want {
					t.Fatalf("deint n=%d row %d p=%d output %d: %d, want %d", n, row, p, k, b, want)
				}
			}
		}
	}
}

// checkInterQuads checks i8Cur.inter against byte arithmetic, on whole
// 64-word blocks and 16-word tails, with guard bands.
func checkInterQuads(t *testing.T, r *rand.Rand) {
	t.Helper()
	const g = 7
	for _, c := range [][2]int{{1, 48}, {3, 48}, {1, 16}, {2, 64}, {3, 80}, {2, 192}, {3, 240}} {
		nq, n := c[0], c[1] // n: whole 64-word blocks and 16-word tails (kernInterQuadsVBMI)
		planes := make([]byte, 5*n+11)
		for i := range planes {
			planes[i] = byte(r.IntN(256))
		}
		idx := make([]int32, 4*nq)
		for i := range idx {
			idx[i] = int32(r.IntN(len(planes) - n + 1))
		}
		words := make([]uint32, nq*n+2*g)
		for i := range words {
			words[i] = 0xdeadbeef
		}
		i8Cur.inter(n, planes, idx, words[g:g+nq*n])
		for i, w := range words {
			if i < g || i >= g+nq*n {
				if w != 0xdeadbeef {
					t.Fatalf("inter nq=%d n=%d: guard written at %d", nq, n, i-g)
				}
				continue
			}
			qd, p := (i-g)/n, (i-g)%n
			for j := range 4 {
				if got, want := byte(w>>(8*j)), planes[int(idx[4*qd+j])+p]; got != want {
					t.Fatalf("inter nq=%d n=%d quad %d p=%d byte %d: %d, want %d", nq, n, qd, p, j, got, want)
				}
			}
		}
	}
}

// TestInt8Kernel runs every tile size against the loop in i8Kernel's
// comment, with guard bands around each output row.
func TestInt8Kernel(t *testing.T) {
	forEachI8Impl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for mr := 1; mr <= i8MaxMR; mr++ {
			for nv := 1; nv <= i8NV(mr); nv++ {
				for _, k4 := range []int{1, 2, 9, 37} {
					lda, ldc := k4+3, 16*nv+2*guard+5
					a := make([]int32, mr*lda)
					for i := range a {
						a[i] = int32(r.Uint32())
					}
					b := make([]byte, 4096)
					for i := range b {
						b[i] = byte(r.Uint32())
					}
					boffs := make([]int32, k4)
					for i := range boffs {
						boffs[i] = int32(r.IntN(len(b) - 64*nv))
					}
					sc, bias := randSlice(r, mr), randSlice(r, mr)
					buf := make([]float32, mr*ldc+2*guard)
					for i := range buf {
						buf[i] = guardVal
					}
					c := buf[guard:]
					i8Cur.kern(mr, nv, k4, a, lda, b, boffs, c, ldc, sc, bias)
					name := fmt.Sprintf("%dx%d k4=%d", mr, nv, k4)
					for i := range mr {
						for p := range ldc {
							got := c[i*ldc+p]
							if p >= 16*nv {
								if i*ldc+p < len(c)-guard && math.Float32bits(got) != math.Float32bits(guardVal) {
									t.Fatalf("%s: wrote row %d col %d", name, i, p)
								}
								continue
							}
							var s int64
							for k := range k4 {
								for j := range 4 {
									s += int64(int8(a[i*lda+k]>>(8*j))) * int64(b[int(boffs[k])+4*p+j])
								}
							}
							want := float64(s)*float64(sc[i]) + float64(bias[i])
							if math.Abs(float64(got)-want) > 1e-6*(math.Abs(float64(s))*math.Abs(float64(sc[i]))+1) {
								t.Fatalf("%s: c[%d][%d] = %v, want %v", name, i, p, got, want)
							}
						}
					}
					checkGuard(t, name, buf)
				}
			}
		}
	})
}

// i8ConvRef is the naive oracle of Int8Plan.Forward before the epilogue:
// x and each filter quantized as the file comment of int8.go says, the
// products summed in int64 and dequantized in float64.
func i8ConvRef(p Conv, groups []Group, act ActQuant, x []float32) []float64 {
	oh, ow := p.OutH(), p.OutW()
	kk := p.KH * p.KW
	y := make([]float64, p.N*oh*ow)
	qx := func(v float32) int64 {
		return int64(min(max(math.RoundToEven(float64(v/act.Scale)+float64(act.Zero)), 0), 255)) - int64(act.Zero)
	}
	for _, g := range groups {
		c := len(g.Channels)
		for fi, n := range g.Filters {
			w := g.Weights[fi*c*kk : (fi+1)*c*kk]
			var m float32
			for _, v := range w {
				m = max(m, float32(math.Abs(float64(v))))
			}
			sw := m / 127
			if m == 0 {
				sw = 1
			}
			for oy := range oh {
				for ox := range ow {
					var s int64
					for ci, ch := range g.Channels {
						for ky := range p.KH {
							for kx := range p.KW {
								iy, ix := oy*p.Stride-p.Pad+ky, ox*p.Stride-p.Pad+kx
								if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
									continue
								}
								qw := int64(math.RoundToEven(float64(w[(ci*p.KH+ky)*p.KW+kx] / sw)))
								s += qw * qx(x[(ch*p.H+iy)*p.W+ix])
							}
						}
					}
					y[(n*oh+oy)*ow+ox] = float64(s) * float64(act.Scale) * float64(sw)
				}
			}
		}
	}
	return y
}

// TestInt8Plan runs Int8Plan.Forward, dense and grouped, on shapes around
// the tile edges (filters around 6, output positions around 16 and 64,
// channels around the quad, strides 1 and 2), with every epilogue term
// (groups with a skipped or planed channel store through the fp32
// epilogue, the others fuse it into the kernels), against i8ConvRef and (loosely) the fp32 convolution.
func TestInt8Plan(t *testing.T) {
	cases := []Conv{
		{C: 1, H: 1, W: 1, N: 1, KH: 1, KW: 1, Stride: 1},         // one position, 1-filter tile
		{C: 3, H: 4, W: 4, N: 6, KH: 3, KW: 3, Stride: 1, Pad: 1}, // 36 positions: 2 vectors + 1, one full 6-row tile
		{C: 4, H: 8, W: 8, N: 7, KH: 3, KW: 3, Stride: 1, Pad: 1}, // 80 positions: 4+1 vectors; 6+1 filters
		{C: 5, H: 7, W: 9, N: 13, KH: 3, KW: 3, Stride: 2, Pad: 1},
		{C: 17, H: 16, W: 16, N: 12, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 16, H: 16, W: 16, N: 5, KH: 1, KW: 1, Stride: 2},
		{C: 8, H: 9, W: 5, N: 3, KH: 3, KW: 3, Stride: 2, Pad: 0},
		{C: 6, H: 16, W: 16, N: 10, KH: 3, KW: 3, Stride: 2, Pad: 1}, // even widths: quantized and split in one pass
		{C: 5, H: 7, W: 34, N: 4, KH: 3, KW: 3, Stride: 2, Pad: 1},   // 17 pairs a row: a vector and a masked pair
		{C: 6, H: 3, W: 32, N: 9, KH: 5, KW: 5, Stride: 1, Pad: 2},   // rows quantized in place (W = 2 vectors)
		{C: 4, H: 2, W: 16, N: 2, KH: 1, KW: 1, Stride: 1},           // in place, no halo
	}
	forEachI8Impl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for ci, p := range cases {
			for _, grouped := range []bool{false, true} {
				name := fmt.Sprintf("case %d %+v grouped=%v", ci, p, grouped)
				groups := i8Groups(r, p, grouped)
				act := ActQuantRange(-1, 1.5)
				_, x := guarded(r, p.C*p.H*p.W)
				for i := range x { // on the grid, away from rounding ties
					x[i] = act.Scale * (float32(r.IntN(256)-int(act.Zero)) + 0.6*(r.Float32()-0.5))
				}
				oh, ow := p.OutH(), p.OutW()
				hw := oh * ow
				e := Epilogue{Bias: randSlice(r, p.N), Add: randSlice(r, p.N*hw), ReLU: ci%2 == 0,
					Planes: make([][]float32, p.N), Skip: make([]bool, p.N)}
				e.Planes[p.N-1] = randSlice(r, hw)
				e.Skip[0] = p.N > 2
				if ci%3 == 1 { // no residual, and (ci = 1, 7, 10) no skipped or planed channel: every group fused
					e.Add = nil
					if ci != 4 {
						e.Planes, e.Skip = nil, nil
					}
				}
				ybuf, y := guarded(r, p.N*hw)
				for i := range y {
					y[i] = -7
				}
				var ws Workspace
				plan := NewInt8Plan(p, groups, act)
				plan.Forward(x, y, &e, &ws)
				checkGuard(t, name, ybuf)
				ref := i8ConvRef(p, groups, act, x)
				yf := make([]float32, p.N*hw)
				groupConvForwardRef(p, groups, x, yf)
				var errQ, norm float64
				for n := range p.N {
					for q := range hw {
						i := n*hw + q
						if e.Skip != nil && e.Skip[n] {
							if y[i] != -7 {
								t.Fatalf("%s: skipped channel %d written", name, n)
							}
							continue
						}
						v := ref[i] + float64(e.Bias[n])
						if e.Add != nil {
							v += float64(e.Add[i])
						}
						if e.Planes != nil && e.Planes[n] != nil {
							v += float64(e.Planes[n][q])
						}
						if e.ReLU {
							v = max(v, 0)
						}
						if math.Abs(float64(y[i])-v) > 1e-4*(1+math.Abs(v)) {
							t.Fatalf("%s: y[%d][%d] = %v, want %v", name, n, q, y[i], v)
						}
						errQ += (ref[i] - float64(yf[i])) * (ref[i] - float64(yf[i]))
						norm += float64(yf[i]) * float64(yf[i])
					}
				}
				if errQ > 1e-3*norm+1e-6 { // 8-bit weights and inputs: about 0.5% RMS
					t.Fatalf("%s: int8 relative squared error %.2g against fp32", name, errQ/norm)
				}
			}
		}
	})
}

// i8Groups returns one dense group, or groups of random filters over
// random channel subsets (some filters in none).
func i8Groups(r *rand.Rand, p Conv, grouped bool) []Group {
	kk := p.KH * p.KW
	if !grouped {
		g := Group{Filters: make([]int, p.N), Channels: make([]int, p.C), Weights: randSlice(r, p.N*p.C*kk)}
		for i := range g.Filters {
			g.Filters[i] = i
		}
		for i := range g.Channels {
			g.Channels[i] = i
		}
		return []Group{g}
	}
	var gs []Group
	perm := r.Perm(p.N)
	for i := 0; i < len(perm)-1; { // the last filter is in no group
		nf := min(1+r.IntN(7), len(perm)-1-i)
		var chans []int
		for ch := range p.C {
			if r.IntN(2) == 0 {
				chans = append(chans, ch)
			}
		}
		if len(chans) == 0 {
			chans = []int{r.IntN(p.C)}
		}
		gs = append(gs, Group{Filters: perm[i : i+nf], Channels: chans, Weights: randSlice(r, nf*len(chans)*kk)})
		i += nf
	}
	return gs
}

// TestQuantBias checks the int32 bias grid: ties to even, both signs, and
// saturation; and FilterScale's rule (max|w|/127, 1 for zeros).
func TestQuantBias(t *testing.T) {
	for _, c := range []struct {
		b, scale float32
		want     int32
	}{
		{0.25, 0.1, 2}, {0.25, 0.5, 0}, {0.75, 0.5, 2}, {-0.75, 0.5, -2}, {-0.26, 0.1, -3},
		{1e30, 1e-10, math.MaxInt32}, {-1e30, 1e-10, math.MinInt32},
	} {
		if got := QuantBias(c.b, c.scale); got != c.want {
			t.Errorf("QuantBias(%v, %v) = %d, want %d", c.b, c.scale, got, c.want)
		}
	}
	if s := FilterScale([]float32{0.5, -1.27, 0}); s != float32(1.27)/127 {
		t.Errorf("FilterScale: %v, want 1.27/127", s)
	}
	if s := FilterScale(make([]float32, 9)); s != 1 {
		t.Errorf("FilterScale of zeros: %v, want 1", s)
	}
}
