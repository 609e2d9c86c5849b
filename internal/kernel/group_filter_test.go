package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestGroupFilterGrad checks GroupFilterGradAcc against the dense filter
// gradient of the reference loops, read at each group's connections, on
// every conv shape with random groups (filters in no group, groups with no
// channels or no filters, shuffled channel lists), accumulating two images
// onto a random start.
func TestGroupFilterGrad(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 22))
		ws := new(Workspace)
		for _, p := range convShapes {
			name := fmt.Sprintf("%+v", p)
			gs := randGroups(r, p, 1+r.IntN(5))
			kk := p.KH * p.KW
			n := GroupFilterGradLen(p, gs)
			buf, acc := guarded(r, n)
			want := append([]float32(nil), acc...)
			dense := make([]float32, p.N*p.C*kk)
			for range 2 {
				x, dy := randSlice(r, p.C*p.H*p.W), randSlice(r, p.N*p.OutH()*p.OutW())
				convBackwardFilterRef(p, x, dy, dense)
				GroupFilterGradAcc(p, gs, x, dy, acc, ws)
			}
			off := 0
			for _, g := range gs {
				for _, f := range g.Filters {
					for _, ch := range g.Channels {
						for t := range kk {
							want[off] += dense[(f*p.C+ch)*kk+t]
							off++
						}
					}
				}
			}
			checkGuard(t, "GroupFilterGradAcc "+name, buf)
			checkClose(t, "GroupFilterGradAcc "+name, acc, want)
		}
	})
}
