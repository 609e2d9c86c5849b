package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestInt8FlatKernel runs every flat kernel (width, filters), one tile and
// all of a plane's, quads 1 to 5, with and without the residual and the
// ReLU, fp32 and handoff stores, against the loop in i8FlatKernelY's
// comment (int64 sums, float64 epilogue), with guard bands: the fp32
// outputs' rows are contiguous, the handoff's leave the byte after each
// row (the next plane's halo) alone.
func TestInt8FlatKernel(t *testing.T) {
	forEachI8Impl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, w := range i8FlatWidths {
			wq := w + 1
			for m := 1; m <= i8FlatMaxM; m++ {
				R := i8FlatRows(w, m)
				for _, nt := range []int{1, w / R} {
					for _, nq := range []int{1, 2, 5} {
						for variant := range 4 {
							relu, withAdd := variant&1 != 0, variant&2 != 0
							name := fmt.Sprintf("w=%d m=%d nt=%d nq=%d relu=%v add=%v", w, m, nt, nq, relu, withAdd)
							rows := nt * R
							lda := 9*nq + 2
							a := make([]int32, m*lda)
							for i := range a {
								a[i] = int32(r.Uint32())
							}
							qs := max(4*((rows+2)*wq+5), 4*i8Flat8QS)
							b := make([]byte, nq*qs)
							qo := make([]int32, nq) // the quads out of order, as a plan's shared quads are
							for k, pk := range r.Perm(nq) {
								qo[k] = int32(pk * qs)
							}
							for i := range b {
								b[i] = byte(r.Uint32())
							}
							n := rows * w
							sc, bias := randSlice(r, m), randSlice(r, m)
							for i := range sc {
								sc[i] *= 1e-4
							}
							ref := make([]float64, m*n)
							for i := range m {
								for q := range n {
									ry, ox := q/w, q%w
									var s int64
									for k := range nq {
										for tp := range 9 {
											ky, kx := tp/3, tp%3
											wv := a[i*lda+9*k+tp]
											o := i8FlatWord(w, int(qo[k]), ry+ky-1, ox+kx-1)
											if o < 0 {
												continue // off an 8x8 plane's edge
											}
											for j := range 4 {
												s += int64(int8(wv>>(8*j))) * int64(b[o+j])
											}
										}
									}
									ref[i*n+q] = float64(s)*float64(sc[i]) + float64(bias[i])
								}
							}
							var add []float32
							if withAdd {
								add = randSlice(r, m*(n+3)+2)
							}
							epi := func(i, q int, off int) float64 {
								v := ref[i*n+q]
								if add != nil {
									v += float64(add[off+q])
								}
								if relu {
									v = max(v, 0)
								}
								return v
							}
							// fp32 stores, filter i at i*(n+3)+1
							yoff := make([]int32, m)
							for i := range yoff {
								yoff[i] = int32(i*(n+3) + 1)
							}
							buf, y := guarded(r, m*(n+3)+2)
							i8Cur.flat.y(w, m, nt, nq, a, lda, b, qo, y, yoff, add, sc, bias, relu)
							checkGuard(t, name, buf)
							for i := range m {
								for q := range n {
									want := epi(i, q, int(yoff[i]))
									got := y[int(yoff[i])+q]
									if math.Abs(float64(got)-want) > 1e-5*(1+math.Abs(want)) {
										t.Fatalf("%s: filter %d output %d = %v, want %v", name, i, q, got, want)
									}
								}
							}
							// handoff bytes, filter i at i*(rows*wq+5)+2
							aoff := make([]int32, m)
							for i := range yoff {
								yoff[i] = int32(i*(rows*wq+5) + 2)
								aoff[i] = int32(i * n)
							}
							if add != nil {
								add = add[:m*n]
							}
							yb := make([]byte, m*(rows*wq+5)+4)
							for i := range yb {
								yb[i] = 0xa5
							}
							qq := [2]float32{20, 3}
							i8Cur.flat.q(w, m, nt, nq, a, lda, b, qo, yb, yoff, add, aoff, sc, bias, &qq, relu)
							written := make([]bool, len(yb))
							for i := range m {
								for q := range n {
									o := int(yoff[i]) + q/w*wq + q%w
									written[o] = true
									v := epi(i, q, int(aoff[i]))*float64(qq[0]) + float64(qq[1])
									want := min(max(math.RoundToEven(v), 0), 255)
									got := float64(yb[o])
									if got != want && (math.Abs(v-math.Floor(v)-0.5) > 1e-3 || math.Abs(got-want) > 1) {
										t.Fatalf("%s: handoff filter %d output %d = %v, want %v (%v)", name, i, q, got, want, v)
									}
								}
							}
							for o, wr := range written {
								if !wr && yb[o] != 0xa5 {
									t.Fatalf("%s: handoff wrote byte %d outside the outputs", name, o)
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestInt8Inter8 checks the interleaver of the 8x8 flat kernels' compact
// planes against byte arithmetic; the slack words stay as they were.
func TestInt8Inter8(t *testing.T) {
	forEachI8Impl(t, func(t *testing.T) { checkInter8(t, rand.New(rand.NewPCG(15, 16))) })
}

// checkInter8 checks i8Cur.flat.inter against byte arithmetic, with the
// slack words as guards.
func checkInter8(t *testing.T, r *rand.Rand) {
	t.Helper()
	for _, nq := range []int{1, 2, 5} {
		planes := make([]byte, 6*112+3)
		for i := range planes {
			planes[i] = byte(r.IntN(256))
		}
		idx := make([]int32, 4*nq)
		for i := range idx {
			idx[i] = int32(r.IntN(len(planes) - 90))
		}
		dst := make([]uint32, nq*i8Flat8QS)
		for i := range dst {
			dst[i] = 0xdeadbeef
		}
		i8Cur.flat.inter(planes, idx, dst)
		for i, w := range dst {
			k, o := i/i8Flat8QS, i%i8Flat8QS
			if o < 1 || o > 80 {
				if w != 0xdeadbeef {
					t.Fatalf("nq=%d: slack word %d written", nq, i)
				}
				continue
			}
			pr, c := (o-1)/8, (o-1)%8
			for j := range 4 {
				if got, want := byte(w>>(8*j)), planes[int(idx[4*k+j])+9*pr+1+c]; got != want {
					t.Fatalf("nq=%d quad %d row %d col %d byte %d: %d, want %d", nq, k, pr, c, j, got, want)
				}
			}
		}
	}
}

// TestInt8FlatPlan runs Int8Plan.Forward with the flat route forced on
// (and off, the same checks) on 16x16 and 32x32 convs: dense groups and
// groups of 1 to 7 filters over scattered channels, channel counts that
// are and are not multiples of four, zero points 0 and not, the residual
// and the ReLU on and off, a bias plane (whose group keeps the padded
// tiles), against i8ConvRef.
func TestInt8FlatPlan(t *testing.T) {
	cases := []Conv{
		{C: 6, H: 8, W: 8, N: 7, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 16, H: 8, W: 8, N: 4, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 3, H: 16, W: 16, N: 5, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 8, H: 16, W: 16, N: 9, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 13, H: 32, W: 32, N: 6, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 16, H: 32, W: 32, N: 11, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 1, H: 16, W: 16, N: 4, KH: 3, KW: 3, Stride: 1, Pad: 1},
	}
	for _, mode := range []int{1, -1} {
		t.Run(fmt.Sprintf("flat=%d", mode), func(t *testing.T) {
			was := SetInt8Flat(mode)
			defer SetInt8Flat(was)
			forEachI8Impl(t, func(t *testing.T) {
				r := rand.New(rand.NewPCG(13, 14))
				for ci, p := range cases {
					for variant := range 8 {
						grouped, relu, withAdd := variant&1 != 0, variant&2 != 0, variant&4 != 0
						name := fmt.Sprintf("case %d %dx%dx%d->%d grouped=%v relu=%v add=%v", ci, p.C, p.H, p.W, p.N, grouped, relu, withAdd)
						groups := i8Groups(r, p, grouped)
						act := ActQuantRange(0, 2)
						if variant%3 == 1 {
							act = ActQuantRange(-1, 1.5)
						}
						x := make([]float32, p.C*p.H*p.W)
						for i := range x { // on the grid, away from rounding ties
							x[i] = act.Scale * (float32(r.IntN(256)-int(act.Zero)) + 0.6*(r.Float32()-0.5))
						}
						hw := p.H * p.W
						e := Epilogue{Bias: randSlice(r, p.N), ReLU: relu}
						if withAdd {
							e.Add = randSlice(r, p.N*hw)
						}
						if variant == 5 { // a bias plane: that filter's group stores through the padded tiles
							e.Planes = make([][]float32, p.N)
							e.Planes[groups[0].Filters[0]] = randSlice(r, hw)
						}
						ybuf, y := guarded(r, p.N*hw)
						plan := NewInt8Plan(p, groups, act)
						for _, g := range plan.groups {
							if g.flat != (mode > 0 && (p.W != 8 || act.Zero == 0)) {
								t.Fatalf("%s: group flat = %v in mode %d", name, g.flat, mode)
							}
						}
						var ws Workspace
						plan.Forward(x, y, &e, &ws)
						checkGuard(t, name, ybuf)
						ref := i8ConvRef(p, groups, act, x)
						covered := make([]bool, p.N)
						for _, g := range groups {
							for _, n := range g.Filters {
								covered[n] = true
							}
						}
						for n := range p.N {
							for q := range hw {
								i := n*hw + q
								v := float64(e.Bias[n])
								if covered[n] {
									v += ref[i]
								}
								if e.Add != nil {
									v += float64(e.Add[i])
								}
								if e.Planes != nil && e.Planes[n] != nil {
									v += float64(e.Planes[n][q])
								}
								if relu {
									v = max(v, 0)
								}
								if math.Abs(float64(y[i])-v) > 1e-4*(1+math.Abs(v)) {
									t.Fatalf("%s: y[%d][%d] = %v, want %v", name, n, q, y[i], v)
								}
							}
						}
					}
				}
			})
		})
	}
}
