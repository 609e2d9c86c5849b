package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// epilogueRef applies e to y in place as Epilogue's doc comment states,
// y holding GroupConvForward's output; listed[n] says whether a group
// wrote channel n (else conv[n] = 0).
func epilogueRef(p Conv, e *Epilogue, listed []bool, y []float32) {
	hw := p.OutH() * p.OutW()
	for n := range p.N {
		if e.Skip != nil && e.Skip[n] {
			continue
		}
		for q := range hw {
			var v float32
			if listed[n] {
				v = y[n*hw+q]
			}
			if e.Planes != nil && e.Planes[n] != nil {
				v += e.Planes[n][q]
			}
			if e.Bias != nil {
				v += e.Bias[n]
			}
			if e.Add != nil {
				v += e.Add[n*hw+q]
			}
			if e.ReLU && v < 0 {
				v = 0
			}
			y[n*hw+q] = v
		}
	}
}

// TestGroupPlan checks GroupPlan.Forward on every conv shape (direct
// stride 1 and phase-plane stride > 1), with small groups (four-vector
// tiles) and large ones, channels no group lists (some skipped), every
// epilogue part, and guard bands around y. One plan runs twice to catch
// state left between calls.
func TestGroupPlan(t *testing.T) {
	for _, compact := range []bool{true, false} {
		t.Run(fmt.Sprintf("compact=%v", compact), func(t *testing.T) {
			defer SetCompactPitch(SetCompactPitch(compact))
			testGroupPlan(t)
		})
	}
}

// testGroupPlan is TestGroupPlan with the pitch as set. The padded input
// buffer starts full of NaNs, as stale planes of channels no group reads
// may be (GroupPlan.pad leaves them): no output may depend on them.
func testGroupPlan(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		ws := new(Workspace)
		for _, p := range convShapes {
			for _, ng := range []int{1, 2, 5} {
				for variant := range 4 {
					name := fmt.Sprintf("%+v groups=%d variant=%d", p, ng, variant)
					gs := randGroups(r, p, ng)
					hw := p.OutH() * p.OutW()
					e, listed := randEpilogue(r, p.N, hw, gs, variant)
					plan := NewGroupPlan(p, gs)
					for range 2 {
						x := randSlice(r, p.C*p.H*p.W)
						ybuf, y := guarded(r, p.N*hw)
						want := append([]float32(nil), y...)
						groupConvForwardRef(p, gs, x, want)
						epilogueRef(p, e, listed, want)
						if n := plan.PaddedLen(); n > 0 {
							ws.s1 = make([]float32, n)
							for i := range ws.s1 {
								ws.s1[i] = float32(math.NaN())
							}
						}
						plan.Forward(x, y, e, ws)
						checkGuard(t, "GroupPlan "+name, ybuf)
						checkClose(t, "GroupPlan "+name, y, want)
					}
				}
			}
		}
	})
}

// TestGroupPlanSingle checks GroupPlan.Forward with one filter per group:
// the wide 1 x 128 tile, then its remainder of 1 to 7 vectors in four- and
// fewer-vector tiles (padded output rows of 5 vectors at 8x8, 7 at 10x9,
// 68 = 8*8+4 at 32x32), with guard bands around y.
func TestGroupPlanSingle(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 22))
		ws := new(Workspace)
		for _, p := range convShapes {
			name := fmt.Sprintf("%+v", p)
			var gs []Group
			listed := make([]bool, p.N)
			for n := range p.N {
				if n%3 == 2 {
					continue // in no group
				}
				g := Group{Filters: []int{n}}
				for c := range p.C {
					if r.IntN(2) == 0 || c == n%p.C {
						g.Channels = append(g.Channels, c)
					}
				}
				g.Weights = randSlice(r, len(g.Channels)*p.KH*p.KW)
				gs = append(gs, g)
				listed[n] = true
			}
			hw := p.OutH() * p.OutW()
			e := &Epilogue{Bias: randSlice(r, p.N), ReLU: true}
			x := randSlice(r, p.C*p.H*p.W)
			ybuf, y := guarded(r, p.N*hw)
			want := append([]float32(nil), y...)
			groupConvForwardRef(p, gs, x, want)
			epilogueRef(p, e, listed, want)
			NewGroupPlan(p, gs).Forward(x, y, e, ws)
			checkGuard(t, "GroupPlan single "+name, ybuf)
			checkClose(t, "GroupPlan single "+name, y, want)
		}
	})
}

// TestBiasActRows checks biasActRows (pure Go and the implementation in
// use) against its doc comment's loop, with source and destination row
// pitches wider than the rows (and a source pitch of 0) and widths around
// the vector length.
func TestBiasActRows(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, impl := range []struct {
		name string
		fn   func(dst, src, add []float32, rows, wo, sp, dp int, b float32, relu bool)
	}{{"go", biasActRowsGo}, {"in use", biasActRows}} {
		for _, wo := range []int{1, 8, 15, 16, 17, 32, 33} {
			for _, rows := range []int{1, 3} {
				for _, withAdd := range []bool{false, true} {
					relu := wo%2 == 1
					sp := wo + 2 + r.IntN(3)
					if rows == 3 && !withAdd {
						sp = 0 // one source row for all
					}
					dp := wo + r.IntN(3)
					src := randSlice(r, rows*sp+wo)
					var add []float32
					if withAdd {
						add = randSlice(r, rows*wo)
					}
					b := float32(r.NormFloat64())
					dbuf, dst := guarded(r, rows*dp)
					want := append([]float32(nil), dst...)
					for i := range rows {
						for j := range wo {
							v := src[i*sp+j] + b
							if add != nil {
								v += add[i*wo+j]
							}
							if relu && v < 0 {
								v = 0
							}
							want[i*dp+j] = v
						}
					}
					name := fmt.Sprintf("%s wo=%d rows=%d add=%v", impl.name, wo, rows, withAdd)
					impl.fn(dst, src, add, rows, wo, sp, dp, b, relu)
					checkGuard(t, "biasActRows "+name, dbuf)
					for i := range want {
						if dst[i] != want[i] {
							t.Errorf("biasActRows %s: dst[%d] = %v, want %v", name, i, dst[i], want[i])
							break
						}
					}
				}
			}
		}
	}
}

// TestGroupPlanChain checks ForwardPadded: plan a writes straight into
// plan b's padded input layout and b reads it without padding; the result
// equals a.Forward then b.Forward. Channels a skips are ones b never reads,
// and the chain runs twice on one buffer, as the compiled executor does.
func TestGroupPlanChain(t *testing.T) {
	for _, fused := range []bool{true, false} {
		for _, compact := range []bool{true, false} {
			t.Run(fmt.Sprintf("fused=%v/compact=%v", fused, compact), func(t *testing.T) {
				defer SetFusedEpilogue(SetFusedEpilogue(fused))
				defer SetCompactPitch(SetCompactPitch(compact))
				testGroupPlanChain(t)
			})
		}
	}
}

// testGroupPlanChain is TestGroupPlanChain with the fused epilogue as set.
func testGroupPlanChain(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 22))
		ws := new(Workspace)
		for _, pa := range convShapes {
			pb := Conv{C: pa.N, H: pa.OutH(), W: pa.OutW(), N: 5, KH: 3, KW: 3, Stride: 1, Pad: 1}
			if pb.H < 1 || pb.W < 1 {
				continue
			}
			for _, ng := range []int{3, max(3, pa.N*2/3)} { // and groups of 1-3 filters (row3)
				chainCase(t, r, ws, pa, pb, ng)
			}
		}
	})
}

// chainCase is one case of testGroupPlanChain: ng groups in pa.
func chainCase(t *testing.T, r *rand.Rand, ws *Workspace, pa, pb Conv, ng int) {
	name := fmt.Sprintf("%+v -> %+v, %d groups", pa, pb, ng)
	ga, gb := randGroups(r, pa, ng), randGroups(r, pb, 2)
	skip := make([]bool, pa.N)
	listed := make([]bool, pa.N)
	for _, g := range ga {
		for _, n := range g.Filters {
			listed[n] = true
		}
	}
	for n := range skip {
		skip[n] = !listed[n] && n%2 == 0
	}
	for i := range gb { // b never reads what a skips
		g := &gb[i]
		var chans []int
		var w []float32
		kk := pb.KH * pb.KW
		for fi := range g.Filters {
			for ci, c := range g.Channels {
				if !skip[c] {
					w = append(w, g.Weights[(fi*len(g.Channels)+ci)*kk:(fi*len(g.Channels)+ci+1)*kk]...)
				}
			}
		}
		for _, c := range g.Channels {
			if !skip[c] {
				chans = append(chans, c)
			}
		}
		g.Channels, g.Weights = chans, w
	}
	ea := &Epilogue{Bias: randSlice(r, pa.N), ReLU: true, Skip: skip, Planes: make([][]float32, pa.N)}
	ea.Planes[0] = randSlice(r, pa.OutH()*pa.OutW())
	eb := &Epilogue{Bias: randSlice(r, pb.N)}
	a, b := NewGroupPlan(pa, ga), NewGroupPlan(pb, gb)
	mid := make([]float32, b.PaddedLen())
	for range 2 {
		x := randSlice(r, pa.C*pa.H*pa.W)
		ya := make([]float32, pa.N*pa.OutH()*pa.OutW())
		want := make([]float32, pb.N*pb.OutH()*pb.OutW())
		a.Forward(x, ya, ea, ws)
		b.Forward(ya, want, eb, ws)
		got := make([]float32, len(want))
		a.ForwardPadded(x, mid, ea, ws, false, b)
		b.ForwardPadded(mid, got, eb, ws, true, nil)
		checkClose(t, "chain "+name, got, want)
	}
}

// TestGroupPlanResidual checks a residual conv (unpadded output, e.Add)
// with the fused epilogue's residual form against the same plan with it
// off (the unfused kernels, then the row epilogue), bit for bit, with
// guard bands around y: every stride-1 shape, groups of 1-3 filters (the
// row3 kernels) and larger ones (the micro-kernels), a single filter per
// group (the wide tile), with and without bias and ReLU, channels no
// group lists (some skipped).
func TestGroupPlanResidual(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(31, 32))
		ws := new(Workspace)
		for _, p := range convShapes {
			if p.Stride != 1 {
				continue
			}
			for _, ng := range []int{1, 3, max(3, p.N*2/3), p.N} {
				for variant := range 4 {
					residCase(t, r, ws, p, ng, variant)
				}
			}
		}
	})
}

// residCase is one TestGroupPlanResidual case.
func residCase(t *testing.T, r *rand.Rand, ws *Workspace, p Conv, ng, variant int) {
	name := fmt.Sprintf("%+v groups=%d variant=%d", p, ng, variant)
	gs := randGroups(r, p, ng)
	hw := p.OutH() * p.OutW()
	e := &Epilogue{ReLU: variant&1 == 1, Add: randSlice(r, p.N*hw), Skip: make([]bool, p.N)}
	if variant >= 2 {
		e.Bias = randSlice(r, p.N)
	}
	listed := make([]bool, p.N)
	for _, g := range gs {
		for _, n := range g.Filters {
			listed[n] = true
		}
	}
	for n := range p.N {
		e.Skip[n] = !listed[n] && n%2 == 1
	}
	plan := NewGroupPlan(p, gs)
	x := randSlice(r, p.C*p.H*p.W)
	var ys [2][]float32
	for i, fused := range []bool{false, true} {
		was := SetFusedEpilogue(fused)
		ybuf, y := guarded(r, p.N*hw)
		copy(y, ys[0]) // the skipped channels alike
		plan.Forward(x, y, e, ws)
		SetFusedEpilogue(was)
		checkGuard(t, "residual GroupPlan "+name, ybuf)
		ys[i] = y
	}
	for q := range ys[0] {
		if math.Float32bits(ys[0][q]) != math.Float32bits(ys[1][q]) {
			t.Fatalf("%s: y[%d]: fused %v, unfused %v", name, q, ys[1][q], ys[0][q])
		}
	}
}

// randEpilogue returns a random epilogue for n channels of hw outputs:
// variant bit 0 sets ReLU; from 1 a bias, from 2 a residual add and a
// folded plane on every other channel, and at 3 Skip on the odd channels
// no group of gs computes. listed marks the channels some group computes.
func randEpilogue(r *rand.Rand, n, hw int, gs []Group, variant int) (e *Epilogue, listed []bool) {
	listed = make([]bool, n)
	for _, g := range gs {
		for _, f := range g.Filters {
			listed[f] = true
		}
	}
	e = &Epilogue{ReLU: variant&1 == 1}
	if variant >= 1 {
		e.Bias = randSlice(r, n)
	}
	if variant >= 2 {
		e.Add = randSlice(r, n*hw)
		e.Planes = make([][]float32, n)
		for c := 0; c < n; c += 2 {
			e.Planes[c] = randSlice(r, hw)
		}
	}
	if variant == 3 {
		e.Skip = make([]bool, n)
		for c := range n {
			e.Skip[c] = !listed[c] && c%2 == 1
		}
	}
	return e, listed
}
