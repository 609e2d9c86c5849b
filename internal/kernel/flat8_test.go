package kernel

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// forEachFlat8 runs f once per flat8Kernel (the pure-Go one, and the
// assembly where the CPU has it) with the flat route forced on, so that
// both pass the same tests.
func forEachFlat8(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := flat8Kern
	defer func() { flat8Kern = saved }()
	defer SetFlat8(SetFlat8(1))
	if asmWanted && flat8Impl == nil {
		t.Fatal("CPU has AVX-512 but no flat8 kernel is registered")
	}
	kerns := []struct {
		name string
		k    flat8Kernel
	}{{"go", flat8Go}}
	if flat8Impl != nil {
		kerns = append(kerns, struct {
			name string
			k    flat8Kernel
		}{"avx512", flat8Impl})
	}
	for _, k := range kerns {
		flat8Kern = k.k
		t.Run(k.name, f)
	}
}

// TestFlat8Kernel checks each flat8Kernel for every block size against
// convForwardRef (zero padding), with planes scattered in a buffer whose
// other floats are large (a lane reading past its plane's edge shows),
// 0 to 17 channels, with and without add and ReLU, and guard bands
// around the output.
func TestFlat8Kernel(t *testing.T) {
	forEachFlat8(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(81, 82))
		for m := 1; m <= flat8MaxM; m++ {
			for _, nc := range []int{0, 1, 3, 17} {
				for variant := range 4 {
					flat8KernelCase(t, r, m, nc, variant&1 == 1, variant&2 == 2)
				}
			}
		}
	})
}

func flat8KernelCase(t *testing.T, r *rand.Rand, m, nc int, relu, add bool) {
	name := fmt.Sprintf("m=%d nc=%d relu=%v add=%v", m, nc, relu, add)
	// Planes at random places of a buffer of 2*nc+1 planes, the rest 1e6.
	x := make([]float32, (2*nc+1)*64)
	for i := range x {
		x[i] = 1e6
	}
	slots := r.Perm(2*nc + 1)
	if nc >= 2 { // the first and the last plane of x: the in-plane loop body
		i := slices.Index(slots, 0)
		slots[0], slots[i] = slots[i], slots[0]
		j := slices.Index(slots, 2*nc)
		slots[nc-1], slots[j] = slots[j], slots[nc-1]
	}
	choffs := make([]int32, nc)
	img := randSlice(r, nc*64) // the planes in order, for the reference
	for ci := range nc {
		choffs[ci] = int32(slots[ci] * 64)
		copy(x[choffs[ci]:], img[ci*64:(ci+1)*64])
	}
	p := Conv{C: nc, H: 8, W: 8, N: m, KH: 3, KW: 3, Stride: 1, Pad: 1}
	wt := randSlice(r, m*nc*9) // [m][nc][9]
	w := make([]float32, len(wt))
	for i := range m {
		for ci := range nc {
			for k := range 9 {
				w[(ci*9+k)*m+i] = wt[(i*nc+ci)*9+k]
			}
		}
	}
	want := make([]float32, m*64)
	if nc > 0 {
		convForwardRef(p, img, wt, want)
	}
	// Output planes at a pitch of 80, with guards between them.
	ybuf, y := guarded(r, m*80)
	coffs := make([]int, m)
	bias := randSlice(r, m)
	var addv []float32
	if add {
		addv = randSlice(r, m*80)
	}
	for i := range m {
		coffs[i] = i*80 + 8
		for q := range 64 {
			v := want[i*64+q] + bias[i]
			if add {
				v += addv[coffs[i]+q]
			}
			if relu && v < 0 {
				v = 0
			}
			want[i*64+q] = v
		}
	}
	orig := append([]float32(nil), y...)
	flat8Kern(m, nc, w, choffs, x, y, coffs, bias, reluLo(relu), addv)
	checkGuard(t, "flat8 "+name, ybuf)
	got := make([]float32, m*64)
	for i := range m {
		copy(got[i*64:], y[coffs[i]:coffs[i]+64])
		for _, q := range []int{i * 80, i*80 + 72} { // the gaps
			for j := q; j < q+8; j++ {
				if y[j] != orig[j] {
					t.Fatalf("flat8 %s: y[%d] written between planes", name, j)
				}
			}
		}
	}
	checkClose(t, "flat8 "+name, got, want)
}

// flat8Shapes are the convs of the flat route's plan tests: 1 to 64
// channels and filters (blocks of 1 to 6 filters).
var flat8Shapes = []Conv{
	{C: 1, H: 8, W: 8, N: 1, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 3, H: 8, W: 8, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 16, H: 8, W: 8, N: 7, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 64, H: 8, W: 8, N: 64, KH: 3, KW: 3, Stride: 1, Pad: 1},
}

// TestGroupPlanFlat8 checks GroupPlan on the flat route against
// groupConvForwardRef and the epilogue's reference: dense groups and
// random ones (channels in any order, some groups without channels or
// filters, channels no group lists, some skipped), every epilogue part,
// guard bands around y, two runs of one plan.
func TestGroupPlanFlat8(t *testing.T) {
	forEachFlat8(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(83, 84))
		ws := new(Workspace)
		for _, p := range flat8Shapes {
			for _, ng := range []int{0, 1, 3} { // 0: one dense group
				for variant := range 4 {
					flat8PlanCase(t, r, ws, p, ng, variant)
				}
			}
		}
	})
}

// denseGroup is one group of every filter over every channel.
func denseGroup(r *rand.Rand, p Conv) Group {
	g := Group{Weights: randSlice(r, p.N*p.C*p.KH*p.KW)}
	for n := range p.N {
		g.Filters = append(g.Filters, n)
	}
	for c := range p.C {
		g.Channels = append(g.Channels, c)
	}
	return g
}

func flat8Groups(r *rand.Rand, p Conv, ng int) []Group {
	if ng == 0 {
		return []Group{denseGroup(r, p)}
	}
	return randGroups(r, p, ng)
}

func flat8PlanCase(t *testing.T, r *rand.Rand, ws *Workspace, p Conv, ng, variant int) {
	name := fmt.Sprintf("%+v groups=%d variant=%d", p, ng, variant)
	gs := flat8Groups(r, p, ng)
	listed := make([]bool, p.N)
	for _, g := range gs {
		for _, n := range g.Filters {
			listed[n] = true
		}
	}
	hw := 64
	e := &Epilogue{ReLU: variant&1 == 1}
	if variant >= 1 {
		e.Bias = randSlice(r, p.N)
	}
	if variant >= 2 {
		e.Add = randSlice(r, p.N*hw)
		e.Planes = make([][]float32, p.N)
		for n := 0; n < p.N; n += 2 {
			e.Planes[n] = randSlice(r, hw)
		}
	}
	if variant == 3 {
		e.Skip = make([]bool, p.N)
		for n := range p.N {
			e.Skip[n] = !listed[n] && n%2 == 1
		}
	}
	plan := NewGroupPlan(p, gs)
	if plan.f8 == nil {
		t.Fatalf("%s: not on the flat route", name)
	}
	if n := plan.PaddedLen(); n < p.C*hw {
		t.Fatalf("%s: PaddedLen %d, want at least %d", name, n, p.C*hw)
	}
	for range 2 {
		x := randSlice(r, p.C*p.H*p.W)
		ybuf, y := guarded(r, p.N*hw)
		want := append([]float32(nil), y...)
		groupConvForwardRef(p, gs, x, want)
		epilogueRef(p, e, listed, want)
		plan.Forward(x, y, e, ws)
		checkGuard(t, "flat GroupPlan "+name, ybuf)
		checkClose(t, "flat GroupPlan "+name, y, want)
	}
}

// TestGroupPlanFlat8Chain checks ForwardPadded into and out of the flat
// layout: flat -> flat, padded pitch -> flat (the stride-2 conv before a
// stage of 8x8 planes, and a pitch-10 plan of the same shape), flat ->
// padded pitch, each against Forward then Forward; and the halves of a
// plan made by Regroup, which take its input layout.
func TestGroupPlanFlat8Chain(t *testing.T) {
	forEachFlat8(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(85, 86))
		ws := new(Workspace)
		p8 := Conv{C: 16, H: 8, W: 8, N: 13, KH: 3, KW: 3, Stride: 1, Pad: 1}
		pb := Conv{C: 13, H: 8, W: 8, N: 9, KH: 3, KW: 3, Stride: 1, Pad: 1}
		ps2 := Conv{C: 5, H: 16, W: 16, N: 16, KH: 3, KW: 3, Stride: 2, Pad: 1}
		flat := func(p Conv, gs []Group) *GroupPlan { return NewGroupPlan(p, gs) }
		padded := func(p Conv, gs []Group) *GroupPlan {
			defer SetFlat8(SetFlat8(-1))
			return NewGroupPlan(p, gs)
		}
		for _, c := range []struct {
			name   string
			pa, pb Conv
			a, b   func(Conv, []Group) *GroupPlan
		}{
			{"flat->flat", p8, pb, flat, flat},
			{"stride2->flat", ps2, Conv{C: 16, H: 8, W: 8, N: 9, KH: 3, KW: 3, Stride: 1, Pad: 1}, flat, flat},
			{"padded->flat", p8, pb, padded, flat},
			{"flat->padded", p8, pb, flat, padded},
		} {
			for _, ng := range []int{0, 3} {
				ga, gb := flat8Groups(r, c.pa, ng), flat8Groups(r, c.pb, 0)
				a, b := c.a(c.pa, ga), c.b(c.pb, gb)
				ea := &Epilogue{Bias: randSlice(r, c.pa.N), ReLU: true, Planes: make([][]float32, c.pa.N)}
				ea.Planes[1] = randSlice(r, c.pa.OutH()*c.pa.OutW())
				eb := &Epilogue{Bias: randSlice(r, c.pb.N)}
				mid := make([]float32, b.PaddedLen())
				for range 2 {
					x := randSlice(r, c.pa.C*c.pa.H*c.pa.W)
					ya := make([]float32, c.pa.N*64)
					want := make([]float32, c.pb.N*64)
					a.Forward(x, ya, ea, ws)
					b.Forward(ya, want, eb, ws)
					got := make([]float32, len(want))
					a.ForwardPadded(x, mid, ea, ws, false, b)
					b.ForwardPadded(mid, got, eb, ws, true, nil)
					checkClose(t, fmt.Sprintf("%s groups=%d", c.name, ng), got, want)
				}
			}
		}
		// Halves: each computes its groups and skips the other's filters.
		plan := NewGroupPlan(p8, flat8Groups(r, p8, 0))
		g := flat8Groups(r, p8, 0)[0]
		h := 6
		k := p8.C * 9
		halves := [2]*GroupPlan{
			plan.Regroup([]Group{{Filters: g.Filters[:h], Channels: g.Channels, Weights: g.Weights[:h*k]}}),
			plan.Regroup([]Group{{Filters: g.Filters[h:], Channels: g.Channels, Weights: g.Weights[h*k:]}}),
		}
		whole := NewGroupPlan(p8, []Group{g})
		x := randSlice(r, p8.C*64)
		want := make([]float32, p8.N*64)
		whole.Forward(x, want, &Epilogue{ReLU: true}, ws)
		got := make([]float32, len(want))
		for i, hp := range halves {
			if hp.f8 == nil {
				t.Fatal("Regroup of a flat plan is not flat")
			}
			skip := make([]bool, p8.N)
			for n := range skip {
				skip[n] = (n < h) != (i == 0)
			}
			hp.ForwardPadded(x, got, &Epilogue{ReLU: true, Skip: skip}, ws, true, nil)
		}
		checkClose(t, "halves", got, want)
	})
}

// TestFlat8Route checks the route choice: only 3x3, stride-1, pad-1
// convs of 8x8 planes whose groups read every channel take the flat
// route on their own (SetFlat8(0)), and Regroup keeps a plan's layout.
func TestFlat8Route(t *testing.T) {
	r := rand.New(rand.NewPCG(87, 88))
	p := Conv{C: 8, H: 8, W: 8, N: 8, KH: 3, KW: 3, Stride: 1, Pad: 1}
	dense := []Group{denseGroup(r, p)}
	part := []Group{{Filters: []int{0}, Channels: []int{1, 2}, Weights: randSlice(r, 18)}}
	for _, c := range []struct {
		p    Conv
		gs   []Group
		mode int
		want bool
	}{
		{p, dense, 1, flat8Kern != nil},
		{p, dense, -1, false},
		{p, part, 0, false},
		{Conv{C: 8, H: 8, W: 8, N: 8, KH: 3, KW: 3, Stride: 1, Pad: 0}, dense, 1, false},
		{Conv{C: 8, H: 16, W: 16, N: 8, KH: 3, KW: 3, Stride: 1, Pad: 1}, dense, 1, false},
	} {
		was := SetFlat8(c.mode)
		pl := NewGroupPlan(c.p, c.gs)
		SetFlat8(was)
		if got := pl.f8 != nil; got != c.want {
			t.Errorf("%+v mode %d: flat %v, want %v", c.p, c.mode, got, c.want)
		}
		if rg := pl.Regroup(part); (rg.f8 != nil) != (pl.f8 != nil) {
			t.Errorf("%+v mode %d: Regroup changed the layout", c.p, c.mode)
		}
	}
}
