package nn

import (
	"slices"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/internal/maskgroup"
)

// This file runs a pruned Conv2d's forward pass, its weight gradient and,
// at stride 1, its backward-data pass over the mask's kept connections
// only, instead of dense products with zero weights: the forward pass as a
// diverse group convolution (kernel.GroupPlan) whose groups are the
// filters with one kept-input pattern, the weight gradient over the same
// groups (kernel.GroupFilterGradAcc), and backward data as the group
// convolution of the transposed mask, whose groups are the input channels
// with one reading-filter pattern.

// sparseMaxKept is the largest kept fraction of a conv's connections for
// which the grouped passes run; denser masks run dense. Tests set it to a
// negative value to force the dense path.
var sparseMaxKept = 0.5

// groupedFilterMinOut is the fewest output positions per plane for which
// the weight gradient runs grouped: its inner products end in one
// horizontal sum per tile, which short rows (8x8 planes) do not amortise.
var groupedFilterMinOut = 256

// sparsePlan is a Conv2d's grouped forward and backward-data plans for one
// mask and input geometry. The groups' weight slices are refilled from the
// layer's weights before every pass; the plans keep them.
type sparsePlan struct {
	p    kernel.Conv
	mask []float32 // the mask the plans were built for (a copy)
	fwd  *kernel.GroupPlan
	fwdG []kernel.Group
	bwd  *kernel.GroupPlan // nil: backward data runs dense (stride > 1)
	bwdG []kernel.Group
}

// sparse returns the layer's grouped plans for geometry p, building them
// when the mask or the geometry changed, or nil when the layer should run
// dense.
func (c *Conv2d) sparse(p kernel.Conv) *sparsePlan {
	m := c.W.Mask
	if m == nil {
		return nil
	}
	if s := c.sp; s != nil && s.p == p && slices.Equal(s.mask, m) {
		return s
	}
	c.sp = nil
	kept := 0
	for _, v := range m {
		if v != 0 {
			kept++
		}
	}
	if float64(kept) > sparseMaxKept*float64(len(m)) {
		return nil
	}
	kk := c.K * c.K
	s := &sparsePlan{p: p, mask: slices.Clone(m)}
	s.fwdG = maskGroups(m, c.Out, c.In, kk)
	s.fwd = kernel.NewGroupPlan(p, s.fwdG)
	if p.Stride == 1 && p.Pad <= c.K-1 {
		// dx = the full correlation of dy with the flipped, transposed
		// weights: a conv from N channels to C over the transposed mask.
		mt := make([]float32, len(m))
		for n := range c.Out {
			for ch := range c.In {
				mt[ch*c.Out+n] = m[n*c.In+ch]
			}
		}
		s.bwdG = maskGroups(mt, c.In, c.Out, kk)
		oh, ow := p.OutH(), p.OutW()
		pt := kernel.Conv{C: c.Out, H: oh, W: ow, N: c.In, KH: c.K, KW: c.K, Stride: 1, Pad: c.K - 1 - p.Pad}
		s.bwd = kernel.NewGroupPlan(pt, s.bwdG)
	}
	c.sp = s
	return s
}

// maskGroups returns the groups of the diverse group convolution an
// n x c mask describes: the rows with one kept pattern, each reading the
// columns it keeps, with room for their weights (kk per connection).
func maskGroups(m []float32, n, c, kk int) []kernel.Group {
	patterns, _ := maskgroup.Of(m, n, c)
	gs := make([]kernel.Group, 0, len(patterns))
	for _, rows := range patterns {
		var cols []int
		for j := range c {
			if m[rows[0]*c+j] != 0 {
				cols = append(cols, j)
			}
		}
		gs = append(gs, kernel.Group{Filters: rows, Channels: cols, Weights: make([]float32, len(rows)*len(cols)*kk)})
	}
	return gs
}

// loadForward copies the layer's weights into the forward groups.
func (s *sparsePlan) loadForward(w []float32, in, kk int) {
	for _, g := range s.fwdG {
		nc := len(g.Channels)
		for fi, n := range g.Filters {
			for ci, ch := range g.Channels {
				copy(g.Weights[(fi*nc+ci)*kk:(fi*nc+ci+1)*kk], w[(n*in+ch)*kk:])
			}
		}
	}
}

// loadBackward copies the layer's weights, flipped, into the
// backward-data groups: group weights [channel][filter][tap reversed].
func (s *sparsePlan) loadBackward(w []float32, in, kk int) {
	for _, g := range s.bwdG {
		nf := len(g.Channels) // the group's inputs are the layer's filters
		for ci, ch := range g.Filters {
			for fi, n := range g.Channels {
				dst := g.Weights[(ci*nf+fi)*kk : (ci*nf+fi+1)*kk]
				src := w[(n*in+ch)*kk : (n*in+ch+1)*kk]
				for t, v := range src {
					dst[kk-1-t] = v
				}
			}
		}
	}
}

// addGrad adds the accumulator of kernel.GroupFilterGradAcc over the
// forward groups to the layer's weight gradient g ([Out][In][K][K]).
func (s *sparsePlan) addGrad(acc, g []float32, in, kk int) {
	off := 0
	for _, gr := range s.fwdG {
		for _, n := range gr.Filters {
			for _, ch := range gr.Channels {
				dst := g[(n*in+ch)*kk : (n*in+ch+1)*kk]
				for t, v := range acc[off : off+kk] {
					dst[t] += v
				}
				off += kk
			}
		}
	}
}
