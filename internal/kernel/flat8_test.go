package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// forEachFlat8 runs f once per flatKernel (the pure-Go one, and the
// assembly where the CPU has it) with the flat route forced on, so that
// both pass the same tests.
func forEachFlat8(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved, savedS2, savedOne := flat8Kern, flatS2Kern, flatOneKern
	defer func() { flat8Kern, flatS2Kern, flatOneKern = saved, savedS2, savedOne }()
	defer SetFlat8(SetFlat8(1))
	if asmWanted && flat8Impl == nil {
		t.Fatal("CPU has AVX-512 but no flat8 kernel is registered")
	}
	if asmWanted && flatOneImpl == nil {
		t.Fatal("CPU has AVX-512 but no flatOne kernel is registered")
	}
	kerns := []struct {
		name      string
		k, k2, k1 flatKernel
	}{{"go", flatGo, flatS2Go, flatOneGo}}
	if flat8Impl != nil {
		kerns = append(kerns, struct {
			name      string
			k, k2, k1 flatKernel
		}{"avx512", flat8Impl, flatS2Impl, flatOneImpl})
	}
	for _, k := range kerns {
		flat8Kern, flatS2Kern, flatOneKern = k.k, k.k2, k.k1
		t.Run(k.name, f)
	}
}

// TestFlat8Kernel checks each flatKernel for every plane width and block
// size against convForwardRef (zero padding), with planes scattered in a
// buffer whose other floats are large (a lane reading past its plane's
// edge shows), the first and last planes of the buffer among them (the
// kernels' in-plane loop body), 0 to 17 channels, with and without add
// and ReLU, and guard bands around the output.
func TestFlat8Kernel(t *testing.T) {
	forEachFlat8(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(81, 82))
		for _, w := range flatWidths {
			for m := 1; m <= flat8MaxM; m++ {
				for _, nc := range []int{0, 1, 3, 17} {
					for variant := range 4 {
						flat8KernelCase(t, r, flat8Kern, w, m, nc, variant&1 == 1, variant&2 == 2)
						if w >= 16 && m == 1 {
							flat8KernelCase(t, r, flatOneKern, w, m, nc, variant&1 == 1, variant&2 == 2)
						}
					}
				}
			}
		}
	})
}

func flat8KernelCase(t *testing.T, r *rand.Rand, kern flatKernel, w, m, nc int, relu, add bool) {
	name := fmt.Sprintf("w=%d m=%d nc=%d relu=%v add=%v", w, m, nc, relu, add)
	hw := w * w
	// Planes at random places of a buffer of 2*nc+1 planes, the rest 1e6.
	x := make([]float32, (2*nc+1)*hw)
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
	img := randSlice(r, nc*hw) // the planes in order, for the reference
	for ci := range nc {
		choffs[ci] = int32(slots[ci] * hw)
		copy(x[choffs[ci]:], img[ci*hw:(ci+1)*hw])
	}
	p := Conv{C: nc, H: w, W: w, N: m, KH: 3, KW: 3, Stride: 1, Pad: 1}
	lda := nc*9 + 5               // rows of the weights apart, as a group's
	wp := randSlice(r, m*lda)     // [m][lda]
	wt := make([]float32, m*nc*9) // [m][nc][9], for the reference
	for i := range m {
		copy(wt[i*nc*9:(i+1)*nc*9], wp[i*lda:])
	}
	want := make([]float32, m*hw)
	if nc > 0 {
		convForwardRef(p, img, wt, want)
	}
	// Output planes at a pitch of hw+16, with guards between them.
	pitch := hw + 16
	ybuf, y := guarded(r, m*pitch)
	coffs := make([]int, m)
	bias := randSlice(r, m)
	var addv []float32
	if add {
		addv = randSlice(r, m*pitch)
	}
	for i := range m {
		coffs[i] = i*pitch + 8
		for q := range hw {
			v := want[i*hw+q] + bias[i]
			if add {
				v += addv[coffs[i]+q]
			}
			if relu && v < 0 {
				v = 0
			}
			want[i*hw+q] = v
		}
	}
	orig := append([]float32(nil), y...)
	kern(w, m, nc, wp, lda, choffs, x, y, coffs, bias, reluLo(relu), addv)
	checkGuard(t, "flat "+name, ybuf)
	got := make([]float32, m*hw)
	for i := range m {
		copy(got[i*hw:], y[coffs[i]:coffs[i]+hw])
		for _, q := range []int{i * pitch, i*pitch + 8 + hw} { // the gaps
			for j := q; j < q+8; j++ {
				if y[j] != orig[j] {
					t.Fatalf("flat %s: y[%d] written between planes", name, j)
				}
			}
		}
	}
	checkClose(t, "flat "+name, got, want)
	// The same weights channel-major (flatPackLDA, which the assembly
	// kernels take on 8x8 planes): the same bits.
	if nc > 1 && (w == 8 || m == 1) {
		y2 := make([]float32, len(y))
		kern(w, m, nc, packFlat(wt, m, nc), flatPackLDA, choffs, x, y2, coffs, bias, reluLo(relu), addv)
		for i := range m {
			for q := coffs[i]; q < coffs[i]+hw; q++ {
				if math.Float32bits(y2[q]) != math.Float32bits(y[q]) {
					t.Fatalf("flat %s: channel-major weights: y[%d] = %v, rows %v", name, q, y2[q], y[q])
				}
			}
		}
	}
}

// flat8Shapes are the convs of the flat routes' plan tests: every width,
// 1 to 64 channels and filters (blocks of 1 to 6 filters), strides 1 and 2.
var flat8Shapes = []Conv{
	{C: 1, H: 8, W: 8, N: 1, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 3, H: 8, W: 8, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 16, H: 8, W: 8, N: 7, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 64, H: 8, W: 8, N: 64, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 5, H: 16, W: 16, N: 13, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 32, H: 16, W: 16, N: 32, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 3, H: 32, W: 32, N: 7, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 16, H: 32, W: 32, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
	// Stride 2 (flats2.go).
	{C: 1, H: 16, W: 16, N: 1, KH: 3, KW: 3, Stride: 2, Pad: 1},
	{C: 32, H: 16, W: 16, N: 64, KH: 3, KW: 3, Stride: 2, Pad: 1},
	{C: 7, H: 16, W: 16, N: 11, KH: 3, KW: 3, Stride: 2, Pad: 1},
	{C: 16, H: 32, W: 32, N: 32, KH: 3, KW: 3, Stride: 2, Pad: 1},
	{C: 3, H: 32, W: 32, N: 5, KH: 3, KW: 3, Stride: 2, Pad: 1},
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
	hw := p.OutH() * p.OutW()
	e, listed := randEpilogue(r, p.N, hw, gs, variant)
	halve := func() {
		for _, g := range gs {
			for i := range g.Weights {
				g.Weights[i] *= 0.5
			}
		}
	}
	plan := NewGroupPlan(p, gs)
	if plan.f8 == nil && plan.s2 == nil {
		t.Fatalf("%s: not on the flat route", name)
	}
	// The plan keeps the groups' weights, which may change after it is
	// built; a packed plan (PackWeights) copies them when packed.
	halve()
	packed := NewGroupPlan(p, gs).PackWeights()
	if n := plan.PaddedLen(); p.Stride == 1 && n < p.C*hw {
		t.Fatalf("%s: PaddedLen %d, want at least %d", name, n, p.C*hw)
	}
	for range 2 {
		x := randSlice(r, p.C*p.H*p.W)
		ybuf, y := guarded(r, p.N*hw)
		want := append([]float32(nil), y...)
		y2 := append([]float32(nil), y...) // for the packed plan
		groupConvForwardRef(p, gs, x, want)
		epilogueRef(p, e, listed, want)
		plan.Forward(x, y, e, ws)
		checkGuard(t, "flat GroupPlan "+name, ybuf)
		checkClose(t, "flat GroupPlan "+name, y, want)
		packed.Forward(x, y2, e, ws)
		for i := range y {
			if math.Float32bits(y2[i]) != math.Float32bits(y[i]) {
				t.Fatalf("%s: packed plan: y[%d] = %v, unpacked %v", name, i, y2[i], y[i])
			}
		}
	}
}

// TestGroupPlanFlat8Chain checks ForwardPadded into and out of the flat
// layout, on 8x8 and 16x16 planes: flat -> flat, padded pitch -> flat (the
// stride-2 conv before a stage, and a padded-pitch plan of the same
// shape), flat -> padded pitch, each against Forward then Forward; and the
// halves of a plan made by Regroup, which take its input layout.
func TestGroupPlanFlat8Chain(t *testing.T) {
	forEachFlat8(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(85, 86))
		ws := new(Workspace)
		for _, w := range []int{8, 16} {
			flatChainCases(t, r, ws, w)
		}
	})
}

// flatChainCases is TestGroupPlanFlat8Chain on w x w planes.
func flatChainCases(t *testing.T, r *rand.Rand, ws *Workspace, w int) {
	hw := w * w
	pa := Conv{C: 16, H: w, W: w, N: 13, KH: 3, KW: 3, Stride: 1, Pad: 1}
	pb := Conv{C: 13, H: w, W: w, N: 9, KH: 3, KW: 3, Stride: 1, Pad: 1}
	ps2 := Conv{C: 5, H: 2 * w, W: 2 * w, N: 16, KH: 3, KW: 3, Stride: 2, Pad: 1}
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
		{"flat->flat", pa, pb, flat, flat},
		{"stride2->flat", ps2, Conv{C: 16, H: w, W: w, N: 9, KH: 3, KW: 3, Stride: 1, Pad: 1}, flat, flat},
		{"padded->flat", pa, pb, padded, flat},
		{"flat->padded", pa, pb, flat, padded},
	} {
		for _, ng := range []int{0, 3} {
			name := fmt.Sprintf("w=%d %s groups=%d", w, c.name, ng)
			ga, gb := flat8Groups(r, c.pa, ng), flat8Groups(r, c.pb, 0)
			a, b := c.a(c.pa, ga), c.b(c.pb, gb)
			ea := &Epilogue{Bias: randSlice(r, c.pa.N), ReLU: true, Planes: make([][]float32, c.pa.N)}
			ea.Planes[1] = randSlice(r, hw)
			eb := &Epilogue{Bias: randSlice(r, c.pb.N)}
			mid := make([]float32, b.PaddedLen())
			for range 2 {
				x := randSlice(r, c.pa.C*c.pa.H*c.pa.W)
				ya := make([]float32, c.pa.N*hw)
				want := make([]float32, c.pb.N*hw)
				a.Forward(x, ya, ea, ws)
				b.Forward(ya, want, eb, ws)
				got := make([]float32, len(want))
				a.ForwardPadded(x, mid, ea, ws, false, b)
				b.ForwardPadded(mid, got, eb, ws, true, nil)
				checkClose(t, name, got, want)
			}
		}
	}
	// Halves: each computes its groups and skips the other's filters.
	plan := NewGroupPlan(pa, flat8Groups(r, pa, 0))
	g := flat8Groups(r, pa, 0)[0]
	h := 6
	k := pa.C * 9
	halves := [2]*GroupPlan{
		plan.Regroup([]Group{{Filters: g.Filters[:h], Channels: g.Channels, Weights: g.Weights[:h*k]}}),
		plan.Regroup([]Group{{Filters: g.Filters[h:], Channels: g.Channels, Weights: g.Weights[h*k:]}}),
	}
	whole := NewGroupPlan(pa, []Group{g})
	x := randSlice(r, pa.C*hw)
	want := make([]float32, pa.N*hw)
	whole.Forward(x, want, &Epilogue{ReLU: true}, ws)
	got := make([]float32, len(want))
	for i, hp := range halves {
		if hp.f8 == nil {
			t.Fatal("Regroup of a flat plan is not flat")
		}
		skip := make([]bool, pa.N)
		for n := range skip {
			skip[n] = (n < h) != (i == 0)
		}
		hp.ForwardPadded(x, got, &Epilogue{ReLU: true, Skip: skip}, ws, true, nil)
	}
	checkClose(t, fmt.Sprintf("w=%d halves", w), got, want)
}

// TestFlat8Route checks the route choice: only 3x3, stride-1, pad-1
// convs of square planes 8, 16 or 32 wide take the flat route, those
// whose groups read a part of the channels only where tuneFlat measured
// it faster for such groups (SetFlat8(0)), and Regroup keeps a plan's
// layout.
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
		{Conv{C: 8, H: 16, W: 16, N: 8, KH: 3, KW: 3, Stride: 1, Pad: 1}, dense, 1, flat8Kern != nil},
		{Conv{C: 8, H: 32, W: 32, N: 8, KH: 3, KW: 3, Stride: 1, Pad: 1}, dense, 1, flat8Kern != nil},
		{Conv{C: 8, H: 16, W: 8, N: 8, KH: 3, KW: 3, Stride: 1, Pad: 1}, dense, 1, false},
		{Conv{C: 8, H: 12, W: 12, N: 8, KH: 3, KW: 3, Stride: 1, Pad: 1}, dense, 1, false},
	} {
		was := SetFlat8(c.mode)
		pl := NewGroupPlan(c.p, c.gs)
		SetFlat8(was)
		want := c.want
		if c.mode == 0 && flat8Kern != nil { // as measured for the kind
			tk := flatTimes[flatIndex(c.p)][flatGrouped]
			want = tk[1] < tk[0]
		}
		if got := pl.f8 != nil; got != want {
			t.Errorf("%+v mode %d: flat %v, want %v", c.p, c.mode, got, want)
		}
		if rg := pl.Regroup(part); (rg.f8 != nil) != (pl.f8 != nil) {
			t.Errorf("%+v mode %d: Regroup changed the layout", c.p, c.mode)
		}
	}
}

// TestFlatBlockSizes checks flatBlockSizes: without measured times, and
// for up to flat8MaxM filters, the even split into the fewest blocks;
// with times, blocks of 1 to flat8MaxM that sum to nf at the least total
// time (against an exhaustive search) unless the even split is within
// flatSplitGain of it, avoiding a slow size.
func TestFlatBlockSizes(t *testing.T) {
	for nf := 1; nf <= 70; nf++ {
		s := flatBlockSizes(-1, nf)
		if len(s) != (nf+flat8MaxM-1)/flat8MaxM || slices.Max(s)-slices.Min(s) > 1 || sum(s) != nf {
			t.Fatalf("nf=%d: even split %v", nf, s)
		}
	}
	tuneFlatBlocks(0) // its one measurement, before the times are replaced
	saved := flatBlockTimes[0]
	defer func() { flatBlockTimes[0] = saved }()
	for _, times := range [][flat8MaxM + 1]time.Duration{
		{0, 30, 40, 45, 40, 70, 60}, // 5 slow, 4 and 6 equal per filter
		{0, 10, 30, 45, 80, 100, 120},
		{0, 50, 60, 60, 90, 95, 110},
	} {
		flatBlockTimes[0] = times
		var least func(n int) time.Duration
		least = func(n int) time.Duration {
			best := time.Duration(-1)
			for m := 1; m <= min(n, flat8MaxM); m++ {
				if d := times[m] + least(n-m); best < 0 || d < best {
					best = d
				}
			}
			return max(best, 0)
		}
		for nf := 1; nf <= 24; nf++ {
			s := flatBlockSizes(0, nf)
			if nf <= flat8MaxM {
				if len(s) != 1 || s[0] != nf {
					t.Fatalf("times %v nf=%d: split %v, want one block", times, nf, s)
				}
				continue
			}
			var got time.Duration
			for _, m := range s {
				if m < 1 || m > flat8MaxM {
					t.Fatalf("times %v nf=%d: block of %d", times, nf, m)
				}
				got += times[m]
			}
			even := flatBlockSizes(-1, nf)
			var et time.Duration
			for _, m := range even {
				et += times[m]
			}
			// The least time, or the even split's where that is within
			// flatSplitGain of it.
			want := least(nf)
			if float64(want) > flatSplitGain*float64(et) {
				want = et
				if !slices.Equal(s, even) {
					t.Fatalf("times %v nf=%d: split %v, want the even split %v", times, nf, s, even)
				}
			}
			if sum(s) != nf || got != want {
				t.Fatalf("times %v nf=%d: split %v takes %v, sum %d; want %v (least %v)", times, nf, s, got, sum(s), want, least(nf))
			}
			if times[5] == 70 && nf%2 == 0 && slices.Contains(s, 5) {
				t.Fatalf("nf=%d: split %v has the slow block of 5", nf, s)
			}
		}
	}
}

func sum(s []int) int {
	n := 0
	for _, v := range s {
		n += v
	}
	return n
}

// TestFlatSplitsAgree checks that a dense flat plan gives the same bits
// whatever the split of its filters into blocks (each kernel sums an
// output's taps in flatTapOrder): the even split against splits into
// blocks of 4 and of 3 (the row-reuse kernels, on 32x32 planes the
// column-half ones), on every plane width, with both kernels.
func TestFlatSplitsAgree(t *testing.T) {
	forEachFlat8(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(87, 88))
		ws := new(Workspace)
		for wi, w := range flatWidths {
			tuneFlatBlocks(wi)
			saved := flatBlockTimes[wi]
			p := Conv{C: 7, H: w, W: w, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1}
			gs := []Group{denseGroup(r, p)}
			e := &Epilogue{Bias: randSlice(r, p.N), ReLU: true}
			x := randSlice(r, p.C*w*w)
			var want []float32
			for i, times := range [][flat8MaxM + 1]time.Duration{
				{}, // not measured: the even split
				{0, 100, 100, 100, 1, 100, 100},
				{0, 100, 100, 1, 100, 100, 100},
			} {
				flatBlockTimes[wi] = times
				plan := NewGroupPlan(p, gs)
				flatBlockTimes[wi] = saved
				y := make([]float32, p.N*w*w)
				plan.Forward(x, y, e, ws)
				if i == 0 {
					want = y
					continue
				}
				for j := range y {
					if math.Float32bits(y[j]) != math.Float32bits(want[j]) {
						t.Fatalf("w=%d split %d: y[%d] = %v, even split %v", w, i, j, y[j], want[j])
					}
				}
			}
		}
	})
}

// TestFlatPack checks which blocks GroupPlan.PackWeights packs
// channel-major: those of groups of more than flat8MaxM filters on 8x8
// planes only, each a copy of its filters' weights at flatWeightAt, also in
// the plans Regroup makes of a packed plan; the others keep the group's
// rows.
func TestFlatPack(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	group := func(nf, nc int) Group {
		g := Group{Weights: randSlice(r, nf*nc*9)}
		for n := range nf {
			g.Filters = append(g.Filters, n)
		}
		for c := range nc {
			g.Channels = append(g.Channels, c)
		}
		return g
	}
	for _, c := range []struct {
		wi, nf, nc int
		packed     bool
	}{{0, 13, 3, true}, {0, 64, 64, true}, {0, 6, 5, false}, {0, 1, 5, false}, {1, 13, 3, false}, {2, 32, 16, false}} {
		g := group(c.nf, c.nc)
		w := flatWidths[c.wi]
		p := Conv{C: c.nc, H: w, W: w, N: c.nf, KH: 3, KW: 3, Stride: 1, Pad: 1}
		pl := newGroupPlan(p, []Group{g}, true)
		if pl.f8.groups[0].blocks[0].lda != c.nc*9 {
			t.Fatalf("%+v: packed before PackWeights", c)
		}
		pl = pl.PackWeights()
		if c.nf > 1 {
			pl = pl.Regroup([]Group{g})
		}
		fg := pl.f8.groups[0]
		i0 := 0
		for _, b := range fg.blocks {
			m := len(b.filters)
			if got := b.lda == flatPackLDA && m > 1; got != c.packed {
				t.Fatalf("%+v: block of %d filters packed = %v, want %v", c, m, got, c.packed)
			}
			if !c.packed && &b.w[0] != &g.Weights[i0*c.nc*9] {
				t.Fatalf("%+v: an unpacked block does not read the group's weights", c)
			}
			for i := range m {
				for ci := range c.nc {
					for tp := range 9 {
						if b.w[flatWeightAt(i, ci, m, b.lda)+tp] != g.Weights[((i0+i)*c.nc+ci)*9+tp] {
							t.Fatalf("%+v: block at filter %d: weight (%d, %d, %d) differs", c, i0, i, ci, tp)
						}
					}
				}
			}
			i0 += m
		}
		if i0 != c.nf {
			t.Fatalf("%+v: blocks hold %d filters", c, i0)
		}
	}
}
