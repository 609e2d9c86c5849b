package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGroupPlanRange checks ForwardPaddedRange against ForwardPadded bit
// for bit: every stride-1 shape, written into a next plan's padded layout
// (with a folded plane, which takes the unfused tile path, and skipped
// channels no group lists) and, with e.Add, in the residual form; input
// padded or not; the output vectors cut into 1 to 4 parts at random
// points, each part on its own workspace whose stale padding buffer is
// filled with NaN, run in a shuffled order; fused and unfused epilogue,
// compact and full pitch, every kernel implementation.
func TestGroupPlanRange(t *testing.T) {
	for _, fused := range []bool{true, false} {
		for _, compact := range []bool{true, false} {
			t.Run(fmt.Sprintf("fused=%v/compact=%v", fused, compact), func(t *testing.T) {
				defer SetFusedEpilogue(SetFusedEpilogue(fused))
				defer SetCompactPitch(SetCompactPitch(compact))
				forEachImpl(t, func(t *testing.T) {
					r := rand.New(rand.NewPCG(41, 42))
					ranged := 0
					for _, p := range convShapes {
						if p.Stride != 1 {
							continue
						}
						for _, ng := range []int{1, 3, max(3, p.N*2/3), p.N} {
							for _, resid := range []bool{false, true} {
								ranged += rangeCase(t, r, p, ng, resid)
							}
						}
					}
					t.Logf("%d ranged cases", ranged)
					if ranged == 0 {
						t.Fatal("no case ran in ranges")
					}
				})
			})
		}
	}
}

// rangeCase is one TestGroupPlanRange case; it returns 1 if the plan ran
// in ranges, 0 if Ranged refused it.
func rangeCase(t *testing.T, r *rand.Rand, p Conv, ng int, resid bool) int {
	name := fmt.Sprintf("%+v groups=%d resid=%v", p, ng, resid)
	gs := randGroups(r, p, ng)
	oh, ow := p.OutH(), p.OutW()
	hw := oh * ow
	listed := make([]bool, p.N)
	for _, g := range gs {
		for _, n := range g.Filters {
			listed[n] = true
		}
	}
	e := &Epilogue{Bias: randSlice(r, p.N), ReLU: true, Skip: make([]bool, p.N)}
	for n := range p.N {
		e.Skip[n] = !listed[n] && n%2 == 1
	}
	plan := NewGroupPlan(p, gs)
	var next *GroupPlan
	ylen := p.N * hw
	if resid {
		e.Add = randSlice(r, p.N*hw)
	} else {
		e.Planes = make([][]float32, p.N)
		e.Planes[r.IntN(p.N)] = randSlice(r, hw)
		next = NewGroupPlan(Conv{C: p.N, H: oh, W: ow, N: 3, KH: 3, KW: 3, Stride: 1, Pad: 1}, randGroups(r, Conv{C: p.N, H: oh, W: ow, N: 3, KH: 3, KW: 3, Stride: 1, Pad: 1}, 1))
		ylen = next.PaddedLen()
	}
	x := randSlice(r, p.C*p.H*p.W)
	ws := new(Workspace)
	xp := make([]float32, plan.PaddedLen())
	copy(xp, plan.pad(ws, x))
	want := make([]float32, ylen)
	for _, padded := range []bool{false, true} {
		in := x
		if padded {
			in = xp
		}
		plan.ForwardPadded(in, want, e, ws, padded, next)
		nv := plan.Ranged(want, e, next)
		if nv == 0 {
			return 0
		}
		for parts := 1; parts <= 4; parts++ {
			cuts := []int{0, nv}
			for range parts - 1 {
				cuts = append(cuts, r.IntN(nv+1))
			}
			sortInts(cuts)
			got := make([]float32, ylen)
			for i := range got {
				if !resid {
					got[i] = want[i] // the caller's halos and skipped planes
				} else if e.Skip[i/hw] {
					got[i] = want[i]
				} else {
					got[i] = float32(math.NaN())
				}
			}
			if !resid { // the outputs ForwardPaddedRange must write
				for n := range p.N {
					if !e.Skip[n] {
						clearInterior(got, next, n)
					}
				}
			}
			for _, i := range r.Perm(len(cuts) - 1) {
				pw := new(Workspace)
				s1 := grow(&pw.s1, p.C*plan.d.cs+plan.d.pp)
				for q := range s1 {
					s1[q] = float32(math.NaN())
				}
				plan.ForwardPaddedRange(in, got, e, pw, padded, next, cuts[i], cuts[i+1])
			}
			for q := range want {
				if math.Float32bits(got[q]) != math.Float32bits(want[q]) {
					t.Fatalf("%s padded=%v cuts %v: y[%d] = %v, ForwardPadded %v", name, padded, cuts, q, got[q], want[q])
				}
			}
		}
	}
	return 1
}

// clearInterior sets the interior of channel n of next's padded layout
// to NaN.
func clearInterior(y []float32, next *GroupPlan, n int) {
	d := &next.d
	for row := range d.h {
		s := n*d.cs + (d.ph+row)*d.wp + d.pw
		for q := s; q < s+d.w; q++ {
			y[q] = float32(math.NaN())
		}
	}
}

// sortInts sorts s ascending (insertion sort: a few elements).
func sortInts(s []int) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
