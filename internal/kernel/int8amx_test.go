package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestInt8AMXSteps checks the generated AMX steps (kernI8Gather,
// amxI8Blocks1/2 with TDPBSUD, kernI8EpiY, kernI8EpiQ) against their Go
// form bit for bit: weights of both signs, activations across 0-255,
// every epilogue variant, odd vector counts and partial lane masks.
func TestInt8AMXSteps(t *testing.T) {
	if ok, why := Int8AMX(); !ok {
		t.Skip("no AMX-INT8: " + why)
	}
	asm := i8AMXFor()
	r := rand.New(rand.NewPCG(21, 22))
	for _, c := range []struct{ mt, ks, nb, k4, nv int }{{1, 1, 2, 5, 1}, {1, 3, 2, 41, 3}, {1, 3, 4, 41, 8}, {2, 2, 4, 32, 8}, {2, 9, 3, 144, 5}} {
		name := fmt.Sprintf("%+v", c)
		// gather
		b := make([]byte, 64*c.nv+4096)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		offs := make([]int32, c.k4)
		for k := range offs {
			offs[k] = int32(4 * r.IntN(1024))
		}
		ldd := 64*c.nv + 128
		g1, g2 := make([]byte, c.k4*ldd), make([]byte, c.k4*ldd)
		amxGatherGo(c.k4, b, offs, c.nv, g1, ldd)
		asm.gather(c.k4, b, offs, c.nv, g2, ldd)
		if !slices.Equal(g1, g2) {
			t.Fatalf("%s: gather differs", name)
		}
		// blocks
		lda, ldb, ldc := 16*c.ks+3, 128*c.nb+64, 32*c.nb+16
		a := make([]int32, 16*c.mt*lda)
		for i := range a {
			a[i] = int32(r.Uint32())
		}
		bb := make([]byte, 16*c.ks*ldb+4096)
		for i := range bb {
			bb[i] = byte(r.IntN(256))
		}
		boffs := make([]int32, c.ks)
		for s := range boffs {
			boffs[s] = int32(r.IntN(4096))
		}
		c1, c2 := make([]int32, 16*c.mt*ldc), make([]int32, 16*c.mt*ldc)
		amxBlocksGo(c.mt, a, lda, bb, boffs, ldb, c1, ldc, c.ks, c.nb)
		asm.blocks(c.mt, a, lda, bb, boffs, ldb, c2, ldc, c.ks, c.nb)
		for i := range 16 * c.mt {
			if !slices.Equal(c1[i*ldc:i*ldc+32*c.nb], c2[i*ldc:i*ldc+32*c.nb]) {
				t.Fatalf("%s: blocks row %d differs: %v vs %v", name, i, c1[i*ldc:i*ldc+8], c2[i*ldc:i*ldc+8])
			}
		}
		// taps
		for _, w := range []int{8, 16, 32} {
			rows, wq, n, ps := 5, w+1, 3, 5*w+7
			pl := make([]byte, 1024)
			for i := range pl {
				pl[i] = byte(r.IntN(256))
			}
			idx := []int32{0, 300, 123}
			t1, t2 := make([]uint32, n*ps), make([]uint32, n*ps)
			amxTapsGo(n, pl, idx, rows, wq, w, t1, ps)
			asm.taps(n, pl, idx, rows, wq, w, t2, ps)
			if !slices.Equal(t1, t2) {
				t.Fatalf("%s: taps w=%d differ", name, w)
			}
		}
		checkAMXEpi(t, name, r, asm, 16*c.mt-3, min(c.nv, 2*c.nb), c2, ldc)
	}
}

// checkAMXEpi checks asm's epilogues against the Go ones on the sums c.
func checkAMXEpi(t *testing.T, name string, r *rand.Rand, asm i8AMXImpl, mr, nv int, c []int32, ldc int) {
	vinfo := make([]int32, 2*nv)
	d := 0
	for v := range nv {
		m := int32(r.IntN(1 << 16))
		if v == 0 {
			m = 0xffff
		}
		cnt := 0
		for l := range 16 {
			cnt += int(m >> l & 1)
		}
		vinfo[2*v], vinfo[2*v+1] = m|((1<<cnt)-1)<<16, int32(d)
		d += cnt
	}
	n := d + 16
	yoff, aoff := make([]int32, mr), make([]int32, mr)
	for i := range mr {
		yoff[i], aoff[i] = int32(i*n), int32((mr-1-i)*n)
	}
	sc, bias := randSlice(r, mr), randSlice(r, mr)
	for i := range sc {
		sc[i] *= 1e-4
	}
	add := randSlice(r, mr*n+16*nv)
	q := [2]float32{40, 100}
	for _, relu := range []bool{false, true} {
		for _, ad := range [][]float32{nil, add} {
			y1, y2 := make([]float32, mr*n), make([]float32, mr*n)
			amxEpiYGo(mr, nv, c, ldc, y1, yoff, ad, vinfo, sc, bias, relu)
			asm.epiY(mr, nv, c, ldc, y2, yoff, ad, vinfo, sc, bias, relu)
			for i := range y1 {
				if math.Float32bits(y1[i]) != math.Float32bits(y2[i]) && math.Abs(float64(y1[i]-y2[i])) > 1e-6*(1+math.Abs(float64(y1[i]))) {
					t.Fatalf("%s relu=%v add=%v: epiY y[%d] = %v, Go %v", name, relu, ad != nil, i, y2[i], y1[i])
				}
			}
			yoffQ := make([]int32, mr)
			for i := range yoffQ {
				yoffQ[i] = int32(i * 16 * nv)
			}
			b1, b2 := make([]byte, mr*16*nv), make([]byte, mr*16*nv)
			amxEpiQGo(mr, nv, c, ldc, b1, yoffQ, ad, aoff, vinfo, sc, bias, &q, relu)
			asm.epiQ(mr, nv, c, ldc, b2, yoffQ, ad, aoff, vinfo, sc, bias, &q, relu)
			checkBytes(t, name+" epiQ", relu, ad != nil, b1, b2)
			voff := make([]int32, 2*nv)
			for v := range voff {
				voff[v] = int32(8 * (v ^ 1)) // the halves swapped
			}
			clear(b1)
			clear(b2)
			amxEpiQFGo(mr, nv, c, ldc, b1, yoffQ, ad, aoff, voff, sc, bias, &q, relu)
			asm.epiQF(mr, nv, c, ldc, b2, yoffQ, ad, aoff, voff, sc, bias, &q, relu)
			checkBytes(t, name+" epiQF", relu, ad != nil, b1, b2)
		}
	}
}

// checkBytes fails unless the quantized outputs b1 (Go) and b2 (asm)
// agree to one level (the Go form need not fuse the multiply-add).
func checkBytes(t *testing.T, name string, relu, add bool, b1, b2 []byte) {
	t.Helper()
	for i := range b1 {
		if d := int(b1[i]) - int(b2[i]); d < -1 || d > 1 {
			t.Fatalf("%s relu=%v add=%v: byte %d = %d, Go %d", name, relu, add, i, b2[i], b1[i])
		}
	}
}

// TestInt8AMXPlan runs every conv of TestInt8Plan, dense and grouped
// (uneven groups, odd K, stride 1 and 2, skipped and planed channels),
// with the AMX route off, forced on and left to the measurement, on each
// int8 implementation, and requires the same output bits: the int32 sums are exact on either route
// and go through the same epilogue. On the Go implementation the AMX
// route runs its pure-Go steps.
func TestInt8AMXPlan(t *testing.T) {
	cases := []Conv{
		{C: 1, H: 1, W: 1, N: 1, KH: 1, KW: 1, Stride: 1},
		{C: 3, H: 4, W: 4, N: 6, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 4, H: 8, W: 8, N: 7, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 5, H: 7, W: 9, N: 13, KH: 3, KW: 3, Stride: 2, Pad: 1},
		{C: 17, H: 16, W: 16, N: 12, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 16, H: 16, W: 16, N: 5, KH: 1, KW: 1, Stride: 2},
		{C: 8, H: 9, W: 5, N: 3, KH: 3, KW: 3, Stride: 2, Pad: 0},
		{C: 6, H: 16, W: 16, N: 10, KH: 3, KW: 3, Stride: 2, Pad: 1},
		{C: 64, H: 8, W: 8, N: 64, KH: 3, KW: 3, Stride: 1, Pad: 1}, // 144 (quad, tap) rows, 2x2 tiles
		{C: 16, H: 32, W: 32, N: 40, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 6, H: 3, W: 32, N: 9, KH: 5, KW: 5, Stride: 1, Pad: 2},
	}
	forEachI8Impl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		for ci, p := range cases {
			for _, grouped := range []bool{false, true} {
				name := fmt.Sprintf("case %d %+v grouped=%v", ci, p, grouped)
				groups := i8Groups(r, p, grouped)
				act := ActQuantRange(-1, 1.5)
				if ci%2 == 0 {
					act = ActQuantRange(0, 2)
				}
				x := randSlice(r, p.C*p.H*p.W)
				hw := p.OutH() * p.OutW()
				e := Epilogue{Bias: randSlice(r, p.N), ReLU: ci%2 == 0}
				if ci%3 != 1 {
					e.Add = randSlice(r, p.N*hw)
				}
				if ci%4 == 3 {
					e.Skip = make([]bool, p.N)
					e.Skip[0] = true
				}
				var y [3][]float32
				for i, mode := range []int{-1, 1, 0} { // off, forced, measured
					was := SetInt8AMX(mode)
					plan := NewInt8Plan(p, groups, act)
					SetInt8AMX(was)
					for _, g := range plan.groups {
						if mode != 0 && g.amx != (mode > 0) || g.amx && g.taps != amxTapsOK(p) {
							t.Fatalf("%s: mode %d: group on AMX %v, tap rows %v", name, mode, g.amx, g.taps)
						}
					}
					y[i] = make([]float32, p.N*hw)
					var ws Workspace
					plan.Forward(x, y[i], &e, &ws)
					plan.Forward(x, y[i], &e, &ws) // stale scratch
				}
				for k := 1; k < 3; k++ {
					for i := range y[0] {
						if math.Float32bits(y[0][i]) != math.Float32bits(y[k][i]) {
							t.Fatalf("%s: y[%d] = %v on AMX (mode %d), %v without", name, i, y[k][i], []int{-1, 1, 0}[k], y[0][i])
						}
					}
				}
			}
		}
	})
}

// TestInt8AMXHandOff chains two convs through HandOff with the AMX route
// forced on and off and requires the same packed bytes and the same
// output bits.
func TestInt8AMXHandOff(t *testing.T) {
	cases := []struct{ p1, p2 Conv }{
		{Conv{C: 5, H: 8, W: 8, N: 7, KH: 3, KW: 3, Stride: 1, Pad: 1}, Conv{C: 7, H: 8, W: 8, N: 6, KH: 3, KW: 3, Stride: 1, Pad: 1}},
		{Conv{C: 16, H: 32, W: 32, N: 20, KH: 3, KW: 3, Stride: 1, Pad: 1}, Conv{C: 20, H: 32, W: 32, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1}},
		{Conv{C: 4, H: 16, W: 16, N: 8, KH: 3, KW: 3, Stride: 2, Pad: 1}, Conv{C: 8, H: 8, W: 8, N: 7, KH: 3, KW: 3, Stride: 1, Pad: 1}},
	}
	forEachI8Impl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for ci, c := range cases {
			for _, grouped := range []bool{false, true} {
				name := fmt.Sprintf("case %d grouped=%v", ci, grouped)
				g1, g2 := i8Groups(r, c.p1, grouped), i8Groups(r, c.p2, grouped)
				hw1 := c.p1.OutH() * c.p1.OutW()
				e1 := Epilogue{Bias: randSlice(r, c.p1.N), ReLU: true}
				if ci%2 == 1 {
					e1.Add = randSlice(r, c.p1.N*hw1)
				}
				e2 := Epilogue{Bias: randSlice(r, c.p2.N)}
				x := randSlice(r, c.p1.C*c.p1.H*c.p1.W)
				var packed [2][]float32
				var y [2][]float32
				for i, mode := range []int{-1, 1} {
					was := SetInt8AMX(mode)
					q1, q2 := NewInt8Plan(c.p1, g1, ActQuantRange(-1, 1)), NewInt8Plan(c.p2, g2, ActQuantRange(0, 3))
					SetInt8AMX(was)
					if !q1.HandOff(q2) {
						t.Fatalf("%s: HandOff refused", name)
					}
					var ws Workspace
					packed[i] = make([]float32, q2.PackedLen())
					y[i] = make([]float32, c.p2.N*c.p2.OutH()*c.p2.OutW())
					q1.Forward(x, packed[i], &e1, &ws)
					q2.Forward(packed[i], y[i], &e2, &ws)
				}
				if !slices.Equal(floatBytes(packed[0]), floatBytes(packed[1])) {
					t.Fatalf("%s: packed input differs on AMX", name)
				}
				for i := range y[0] {
					if math.Float32bits(y[0][i]) != math.Float32bits(y[1][i]) {
						t.Fatalf("%s: y[%d] = %v on AMX, %v without", name, i, y[1][i], y[0][i])
					}
				}
			}
		}
	})
}

// TestInt8AMXNeedsTheCPU checks that, left to the measurement, no group
// runs on AMX where Int8AMX reports it missing (a CPU without AMX-INT8,
// or the OS's refusal), and that the plan still computes.
func TestInt8AMXNeedsTheCPU(t *testing.T) {
	Int8AMX()
	ok, why := i8AMXState.ok, i8AMXState.why
	defer func() { i8AMXState.ok, i8AMXState.why = ok, why }()
	i8AMXState.ok, i8AMXState.why = false, "test: no AMX"
	was := SetInt8AMX(0)
	defer SetInt8AMX(was)
	r := rand.New(rand.NewPCG(3, 4))
	p := Conv{C: 64, H: 8, W: 8, N: 64, KH: 3, KW: 3, Stride: 1, Pad: 1}
	plan := NewInt8Plan(p, i8Groups(r, p, false), ActQuantRange(0, 1))
	for _, g := range plan.groups {
		if g.amx {
			t.Fatal("a group runs on AMX where Int8AMX is false")
		}
	}
	y := make([]float32, p.N*64)
	plan.Forward(randSlice(r, p.C*64), y, &Epilogue{}, new(Workspace))
	if slices.Max(y) == 0 && slices.Min(y) == 0 {
		t.Fatal("no output")
	}
}
