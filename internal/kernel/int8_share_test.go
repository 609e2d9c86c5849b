package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// shareGroups returns groups of 1 to 6 filters over a common core of
// channels and a few more of their own (so that they share quads), the
// last filter in none.
func shareGroups(r *rand.Rand, p Conv) []Group {
	kk := p.KH * p.KW
	core := r.Perm(p.C)[:p.C/2]
	var gs []Group
	perm := r.Perm(p.N)
	for i := 0; i < len(perm)-1; {
		nf := min(1+r.IntN(6), len(perm)-1-i)
		chans := slices.Clone(core[:len(core)-r.IntN(3)])
		for ch := range p.C {
			if !slices.Contains(chans, ch) && r.IntN(4) == 0 {
				chans = append(chans, ch)
			}
		}
		r.Shuffle(len(chans), func(a, b int) { chans[a], chans[b] = chans[b], chans[a] })
		gs = append(gs, Group{Filters: perm[i : i+nf], Channels: chans, Weights: randSlice(r, nf*len(chans)*kk)})
		i += nf
	}
	return gs
}

// TestInt8Share checks the shared quads (int8_share.go): on groups that
// overlap, the plan lays out fewer quads than the groups read; its
// output matches the oracle, and equals bit for bit that of the same
// plan on the groups' own quads (ownQuads), also with a group that
// cannot share (a skipped filter), with the flat route off and on (8x8:
// the compact planes), fp32 stores and handoffs.
func TestInt8Share(t *testing.T) {
	cases := []Conv{
		{C: 24, H: 8, W: 8, N: 20, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 20, H: 16, W: 16, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 18, H: 32, W: 32, N: 9, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 13, H: 9, W: 7, N: 14, KH: 3, KW: 3, Stride: 2, Pad: 1},
	}
	for _, mode := range []int{-1, 1} {
		t.Run(fmt.Sprintf("flat=%d", mode), func(t *testing.T) {
			was := SetInt8Flat(mode)
			defer SetInt8Flat(was)
			forEachI8Impl(t, func(t *testing.T) {
				r := rand.New(rand.NewPCG(3, 4))
				for ci, p := range cases {
					name := fmt.Sprintf("case %d %+v", ci, p)
					groups := shareGroups(r, p)
					act := ActQuantRange(0, 2) // zero point 0: the 8x8 flat route takes it
					q := NewInt8Plan(p, groups, act)
					own := 0
					for _, g := range q.groups {
						own += len(g.quads) / 4
					}
					if laid := (len(q.sets[0].idx) + len(q.sets[1].idx)) / 4; laid >= own {
						t.Fatalf("%s: %d quads laid out for the groups' %d", name, laid, own)
					}
					x := randSlice(r, p.C*p.H*p.W)
					for i := range x {
						x[i] = act.Scale * (float32(r.IntN(256)) + 0.6*(r.Float32()-0.5))
					}
					hw := p.OutH() * p.OutW()
					e := Epilogue{Bias: randSlice(r, p.N), Add: randSlice(r, p.N*hw), ReLU: ci%2 == 0}
					var ws Workspace
					y, yOwn := make([]float32, p.N*hw), make([]float32, p.N*hw)
					q.Forward(x, y, &e, &ws)
					qOwn := ownQuads(p, groups, act)
					qOwn.Forward(x, yOwn, &e, &ws)
					if !slices.Equal(y, yOwn) {
						t.Fatalf("%s: shared quads' output differs from the groups' own", name)
					}
					// A skipped filter: its group on its own quads, the others shared.
					eMix := e
					eMix.Skip = make([]bool, p.N)
					eMix.Skip[groups[0].Filters[0]] = true
					q.Forward(x, y, &eMix, &ws)
					qOwn.Forward(x, yOwn, &eMix, &ws)
					if !slices.Equal(y, yOwn) {
						t.Fatalf("%s: with a skipped filter, shared quads' output differs from the groups' own", name)
					}
					q.Forward(x, y, &e, &ws)
					ref := i8ConvRef(p, groups, act, x)
					for i, v := range ref {
						want := v + float64(e.Bias[i/hw]) + float64(e.Add[i])
						if e.ReLU {
							want = max(want, 0)
						}
						if math.Abs(float64(y[i])-want) > 1e-4*(1+math.Abs(want)) {
							t.Fatalf("%s: y[%d] = %v, want %v", name, i, y[i], want)
						}
					}
					if p.Stride != 1 {
						continue
					}
					// The same conv handing off to one like it.
					p2 := p
					p2.C = p.N
					g2, act2 := shareGroups(r, p2), ActQuantRange(0, 3)
					q1, q2 := NewInt8Plan(p, groups, act), NewInt8Plan(p2, g2, act2)
					q1Own, q2Own := ownQuads(p, groups, act), ownQuads(p2, g2, act2)
					if !q1.HandOff(q2) || !q1Own.HandOff(q2Own) {
						t.Fatalf("%s: no handoff", name)
					}
					b, bOwn := make([]float32, q1.OutLen()), make([]float32, q1.OutLen())
					q1.Forward(x, b, &e, &ws)
					q1Own.Forward(x, bOwn, &e, &ws)
					if !slices.Equal(floatBytes(b), floatBytes(bOwn)) { // bytes: some are NaNs as floats
						t.Fatalf("%s: shared quads' handoff differs from the groups' own", name)
					}
					e2 := Epilogue{Bias: randSlice(r, p2.N), ReLU: true}
					y2, y2Own := make([]float32, p2.N*hw), make([]float32, p2.N*hw)
					q2.Forward(b, y2, &e2, &ws)
					q2Own.Forward(b, y2Own, &e2, &ws)
					if !slices.Equal(y2, y2Own) {
						t.Fatalf("%s: shared quads' output after the handoff differs from the groups' own", name)
					}
				}
			})
		})
	}
}

// ownQuads is NewInt8Plan without the shared quads: every group
// interleaves its own (walk's other path), in the same order.
func ownQuads(p Conv, groups []Group, act ActQuant) *Int8Plan {
	q := newInt8Plan(p, groups, act)
	q.setFlat()
	return q
}
