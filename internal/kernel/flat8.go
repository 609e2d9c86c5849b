package kernel

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// This file holds the flat route of GroupPlan for 3x3, stride-1, pad-1
// convolutions of square planes 8, 16 or 32 floats wide (the stages of a
// CIFAR ResNet). In the padded pitch (direct.go) an 8x8 plane computes 80
// lanes for 64 outputs, so a fifth of the FMAs work on halo columns (a
// 16x16 one 17 per 16, a 32x32 one 33 per 32), and the epilogue stores
// into the next conv's padded layout with masks and gaps. Here the plan's
// input layout is the unpadded image itself: each channel's plane is
// w*w floats, and the kernels (flatKernel) load each tap's shifted plane
// with FMAs masked to skip the lanes whose row or column falls off the
// plane, so that every lane is an output and each output vector is
// stored whole, once. The input needs no padding copy (a residual conv's
// unpadded output is already this layout), and a conv whose next conv
// takes the flat layout writes its planes contiguously.
//
// Filters run in blocks of up to flat8MaxM (4*m accumulators: a tile of
// 64 outputs; up to 256 for blocks of one or two filters on planes of 16
// and 32, flatTile), each block over all of its group's channels, split
// by the kernels' measured rates (flat_blocks.go); the kernels of up to 4
// filters load each input row once per column shift and use it for the
// three output rows it feeds (on 32x32 planes, for 3 or 4 filters, in
// tiles of four half rows, as on 16x16 planes). They read the group's
// weights where they are: a plan keeps its groups' slices, which may
// change after it is built (package nn refills them before every pass).
// A caller whose weights stay fixed (package compile) may have a plan
// pack them (GroupPlan.PackWeights: the groups of more than flat8MaxM
// filters on 8x8 planes, channel-major, flatPackLDA). Whether the route
// beats the padded pitch is measured once per process and width
// (tuneFlat).

// flat8MaxM is the most filters of one flatKernel call.
const flat8MaxM = 6

// flatKernel computes m (1 <= m <= flat8MaxM) output planes of w x w
// (w = 8, 16 or 32) from nc input planes of w x w, plane ci at
// x[choffs[ci]:], weights wt [m][nc][9] with rows lda >= 9*nc floats apart
// (tap t = 3*(dy+1) + dx+1), or, where lda is flatPackLDA, [nc][m][9]
// (channel-major: flatWeightAt; on 8x8 planes only, but in the pure-Go
// kernels), zero outside the plane:
//
//	for i := range m {
//		for q := range w * w {
//			s := sum over ci, t of wt[flatWeightAt(i, ci, m, lda)+t] * plane ci at (q/w+dy, q%w+dx)
//			v := s + bias[i]
//			if add != nil {
//				v += add[coffs[i]+q]
//			}
//			c[coffs[i]+q] = max(v, lo) // a NaN v stays NaN
//		}
//	}
type flatKernel func(w, m, nc int, wt []float32, lda int, choffs []int32, x, c []float32, coffs []int, bias []float32, lo float32, add []float32)

var (
	// flat8Impl is the flatKernel of this CPU's assembly, or nil.
	flat8Impl flatKernel
	// flat8Kern is the flatKernel GroupPlans run (flat8Impl, or flatGo
	// where tests set it).
	flat8Kern flatKernel
	// flat8Mode forces the route on (1) or off (-1) for plans built from
	// now on; 0 leaves it to tuneFlat (SetFlat8).
	flat8Mode int
)

// flatPackLDA is the lda that tells a flatKernel its weights are
// channel-major, [nc][m][9]: the layout GroupPlan.PackWeights packs the
// blocks of the groups of more than flat8MaxM filters on 8x8 planes in.
// Such a plan
// reads each weight once per image (for the plane's four vectors; the
// dense 64x8x8 conv's 147 KiB stream from L2), and a block's weights in
// its group's layout are m rows 36*nc bytes apart, read 36 bytes a
// channel: m streams. Packed, they are one, and the dense 64x8x8 conv ran
// 5% faster (docs/BENCHMARKS.md); the small groups of pruned convs did
// not gain and are not packed. Rows of 9 floats (nc = 1, where the two
// layouts agree) are the only other weights with this lda.
const flatPackLDA = 9

// flatWeightAt is the index in a flatKernel's wt of filter i's weights of
// channel ci (nine taps) in a block of m filters with rows lda apart.
func flatWeightAt(i, ci, m, lda int) int {
	if lda == flatPackLDA {
		return (ci*m + i) * 9
	}
	return i*lda + ci*9
}

// flatChannelMajor reports whether a flatKernel's weights of m filters and
// nc channels with rows lda apart are channel-major and differ from the
// rows layout (both filters and channels more than one).
func flatChannelMajor(m, nc, lda int) bool {
	return lda == flatPackLDA && m > 1 && nc > 1
}

// flatWeightsLen is the floats a flatKernel reads of wt.
func flatWeightsLen(m, nc, lda int) int {
	if nc == 0 {
		return 0
	}
	if lda == flatPackLDA {
		return nc * m * 9
	}
	return (m-1)*lda + nc*9
}

// flatTapOrder is the order in which the flat kernels sum a channel's
// taps into an output (column shift outer, row shift inner), the same for
// every block size so that results do not depend on the blocking.
var flatTapOrder = [9]int{0, 3, 6, 1, 4, 7, 2, 5, 8}

// flatGo is the pure-Go flatKernel.
func flatGo(w, m, nc int, wt []float32, lda int, choffs []int32, x, c []float32, coffs []int, bias []float32, lo float32, add []float32) {
	flatGoOrder(&flatTapOrder, w, m, nc, wt, lda, choffs, x, c, coffs, bias, lo, add)
}

// flatGoOrder is flatGo summing each channel's taps in the given order.
func flatGoOrder(order *[9]int, w, m, nc int, wt []float32, lda int, choffs []int32, x, c []float32, coffs []int, bias []float32, lo float32, add []float32) {
	hw := w * w
	s := make([]float32, m*hw)
	for ci, o := range choffs[:nc] {
		pl := x[o : int(o)+hw]
		for _, t := range order {
			dy, dx := t/3-1, t%3-1
			for i := range m {
				wv := wt[flatWeightAt(i, ci, m, lda)+t]
				si := s[i*hw : (i+1)*hw]
				for y := max(0, -dy); y < min(w, w-dy); y++ {
					for xx := max(0, -dx); xx < min(w, w-dx); xx++ {
						si[y*w+xx] += wv * pl[(y+dy)*w+xx+dx]
					}
				}
			}
		}
	}
	for i := range m {
		o := coffs[i]
		for q := range hw {
			v := s[i*hw+q] + bias[i]
			if add != nil {
				v += add[o+q]
			}
			c[o+q] = epiLo(v, lo)
		}
	}
}

// flat8Plan is the flat route of a GroupPlan: its groups in blocks;
// packed, PackWeights ran.
type flat8Plan struct {
	groups []flat8Group
	packed bool
}

// flat8Group is one group of a flat plan: its channels' plane offsets and
// its filters in blocks.
type flat8Group struct {
	choffs []int32
	blocks []flat8Block
	one    bool // a group of one filter on 16x16 or 32x32 planes: flatOneKern's
}

// flat8Block is up to flat8MaxM filters of a group and their weights:
// their rows of the group's weights ([filter][channel][tap], lda 9*nc,
// not copied), or, for a group of more than flat8MaxM filters on 8x8
// planes, a channel-major copy (lda flatPackLDA, GroupPlan.PackWeights).
type flat8Block struct {
	filters []int
	w       []float32
	lda     int
}

// flatWidths are the plane widths of the flat route.
var flatWidths = [...]int{8, 16, 32}

// flatIndex is the index of p's width in flatWidths when p is a conv the
// flat route computes (3x3, stride 1, pad 1, on square planes of one of
// those widths), else -1.
func flatIndex(p Conv) int {
	if p.H != p.W || p.KH != 3 || p.KW != 3 || p.Stride != 1 || p.Pad != 1 {
		return -1
	}
	for i, w := range flatWidths {
		if p.W == w {
			return i
		}
	}
	return -1
}

// flat8Wanted reports whether NewGroupPlan gives p and groups the flat
// route: p fits, the kernels exist, and the route is on (SetFlat8) or was
// measured faster than the padded pitch on this machine (tuneFlat) for
// convs like this one: dense (every group reads all p.C channels) or
// grouped (the small groups of a pruned conv, which on the padded pitch
// run the row3 kernels tuned for them).
func flat8Wanted(p Conv, groups []Group) bool {
	wi := flatIndex(p)
	if wi < 0 || flat8Kern == nil || flat8Mode < 0 {
		return false
	}
	if flat8Mode > 0 {
		return true
	}
	kind := flatDense
	for _, g := range groups {
		if len(g.Filters) > 0 && len(g.Channels) != p.C {
			kind = flatGrouped
		}
	}
	tuneFlat(wi)
	t := &flatTimes[wi][kind]
	return t[1] < t[0]
}

// SetFlat8 forces the flat route of 8x8, 16x16 and 32x32 planes on (1) or off (-1) for the
// GroupPlans built from now on, or leaves it to the measurement (0, the
// default), and returns the previous setting, so that tests and
// benchmarks can build both. On, it runs every group a plan is built
// with, whatever channels they read. It must not be called while a
// GroupPlan is being built.
func SetFlat8(mode int) (was int) {
	was, flat8Mode = flat8Mode, mode
	return was
}

// initFlat8 makes g, newly made for groups, a plan of the flat route.
func (g *GroupPlan) initFlat8(groups []Group) *GroupPlan {
	g.d = flatDirect(g.p.W)
	g.f8 = &flat8Plan{groups: newFlat8(groups, g.p.H*g.p.W, flatIndex(g.p))}
	for _, gr := range groups {
		for _, n := range gr.Filters {
			g.covered[n] = true
		}
	}
	return g
}

// Flat reports whether g takes its input in the flat layout of its conv
// (the image itself: no halos) rather than the padded one. Buffers that
// hold one layout must not be reused for the other, whose halos must stay
// zero.
func (g *GroupPlan) Flat() bool { return g.f8 != nil }

// Regroup returns a plan of the same convolution over other groups that
// reads and writes the same layouts as g (padded pitch or flat), so that
// plans of parts of g's groups (run on separate threads) take g's input
// and a producer's hand-off to g; packed (PackWeights) where g is.
func (g *GroupPlan) Regroup(groups []Group) *GroupPlan {
	pl := newGroupPlan(g.p, groups, g.f8 != nil || g.s2 != nil)
	if g.f8 != nil && g.f8.packed {
		pl.PackWeights()
	}
	return pl
}

// newFlat8 splits groups into blocks for the flat route of planes of hw
// floats, as flatBlockSizes(wi) splits them.
func newFlat8(groups []Group, hw, wi int) []flat8Group {
	var out []flat8Group
	for _, gr := range groups {
		nf, nc := len(gr.Filters), len(gr.Channels)
		if nf == 0 {
			continue
		}
		fg := flat8Group{choffs: make([]int32, nc), one: nf == 1 && wi >= 0 && flatWidths[wi] >= 16}
		for ci, c := range gr.Channels {
			fg.choffs[ci] = int32(c * hw)
		}
		i0 := 0
		for _, m := range flatBlockSizes(wi, nf) {
			blk := flat8Block{filters: gr.Filters[i0 : i0+m], w: gr.Weights[i0*nc*9 : (i0+m)*nc*9], lda: nc * 9}
			fg.blocks = append(fg.blocks, blk)
			i0 += m
		}
		out = append(out, fg)
	}
	return out
}

// PackWeights makes g read a copy of its groups' weights in the layout its
// kernels run fastest on, and returns g: on the flat route of 8x8 planes,
// the blocks of groups of more than 6 filters channel-major (flatPackLDA;
// the dense 64x8x8 conv ran 2.5-5% faster). Elsewhere it does nothing.
// After it, g (and the plans Regroup makes of it) no longer sees changes
// to those groups' weights: callers that refill weights between passes
// (package nn's sparse layers) must not call it. It must not run while g
// runs.
func (g *GroupPlan) PackWeights() *GroupPlan {
	if g.f8 == nil || g.p.W != 8 || g.f8.packed {
		return g
	}
	g.f8.packed = true
	for gi := range g.f8.groups {
		fg := &g.f8.groups[gi]
		nc, nf := len(fg.choffs), 0
		for _, b := range fg.blocks {
			nf += len(b.filters)
		}
		if nf <= flat8MaxM || nc < 2 {
			continue
		}
		for bi := range fg.blocks {
			b := &fg.blocks[bi]
			if m := len(b.filters); m > 1 {
				b.w, b.lda = packFlat(b.w, m, nc), flatPackLDA
			}
		}
	}
	return g
}

// packFlat returns a copy of the weights w of m filters, [m][nc][9], in
// the channel-major layout [nc][m][9] (flatPackLDA).
func packFlat(w []float32, m, nc int) []float32 {
	out := make([]float32, 0, m*nc*9)
	for ci := range nc {
		for i := range m {
			out = append(out, w[(i*nc+ci)*9:][:9]...)
		}
	}
	return out
}

// flatDirect is the geometry of the flat layout of w x w planes, which
// the direct fields that other plans read of it (ForwardPadded's next,
// PaddedLen) describe: no halo, pitch w, planes of w*w floats, and a tail
// of one plane.
func flatDirect(w int) direct {
	return direct{h: w, w: w, kh: 3, kw: 3, s: 1, wp: w, pl: w * w, cs: w * w, ho: w, wo: w, pp: w * w}
}

// forwardFlat8 is ForwardPadded on the flat route: x is the unpadded
// image whether padded or not.
func (g *GroupPlan) forwardFlat8(x, y []float32, e *Epilogue, ws *Workspace, next *GroupPlan) {
	w := g.p.W
	x = x[:g.p.C*w*w] // the kernels keep the loads of its first and last planes inside them
	g.forwardBlocks(g.f8, flat8Kern, flatOneKern, x, y, e, ws, next)
}

// forwardBlocks runs the blocks of plan with kern (those of its groups
// of one filter on 16x16 and 32x32 planes with one, where not nil) on x (the layout
// kern reads) into y, in next's layout when next is not nil, else unpadded,
// through e; the output planes are g.p.OutW() wide and high.
func (g *GroupPlan) forwardBlocks(plan *flat8Plan, kern, one flatKernel, x, y []float32, e *Epilogue, ws *Workspace, next *GroupPlan) {
	w := g.p.OutW()
	hw := w * w
	ycs, y0, ydp := hw, 0, w
	if next != nil {
		if e.Add != nil || next.d.s != 1 || next.p.C != g.p.N || next.p.H != w || next.p.W != w {
			panic("kernel: GroupPlan.ForwardPadded: next does not take this plan's output")
		}
		nd := &next.d
		ycs, y0, ydp = nd.cs, nd.ph*nd.wp+nd.pw, nd.wp
	}
	if len(y) < (g.p.N-1)*ycs+y0+(ydp*(w-1)+w) {
		panic("kernel: GroupPlan.ForwardPadded: y too short")
	}
	// Rows at pitch w are contiguous planes: the kernels store them.
	whole := ydp == w
	lo := reluLo(e.ReLU)
	for gi := range plan.groups {
		fg := &plan.groups[gi]
		kern := kern
		if fg.one && one != nil {
			kern = one
		}
		for bi := range fg.blocks {
			blk := &fg.blocks[bi]
			m, nc := len(blk.filters), len(fg.choffs)
			if whole {
				coffs, bias := ws.fusedArgs(blk.filters, ycs, e)
				for i := range coffs {
					coffs[i] += y0
				}
				if !hasPlanes(e, blk.filters) {
					kern(w, m, nc, blk.w, blk.lda, fg.choffs, x, y, coffs, bias, lo, e.Add)
					continue
				}
				// Folded constant channels' planes: added, and the ReLU
				// applied, in a vector pass after the kernel's store
				// (a tile and the row epilogue took 5% of a pruned
				// ResNet-56).
				kern(w, m, nc, blk.w, blk.lda, fg.choffs, x, y, coffs, bias, reluLo(false), e.Add)
				for i, n := range blk.filters {
					yn := y[coffs[i]:][:hw]
					if e.Planes[n] != nil {
						AddTo(yn, e.Planes[n][:hw])
					}
					if e.ReLU {
						Relu(yn)
					}
				}
				continue
			}
			// Into a tile, then the row epilogue (another pitch).
			t := grow(&ws.s2, m*hw)
			coffs, bias := ws.fusedArgs(blk.filters, hw, &Epilogue{})
			for i := range coffs {
				coffs[i] = i * hw
			}
			kern(w, m, nc, blk.w, blk.lda, fg.choffs, x, t, coffs, bias, reluLo(false), nil)
			for i, n := range blk.filters {
				tn := t[i*hw : (i+1)*hw]
				if e.Planes != nil && e.Planes[n] != nil {
					for q, v := range e.Planes[n][:hw] {
						tn[q] += v
					}
				}
				g.store(y[n*ycs+y0:], tn, w, ydp, n, e)
			}
		}
	}
	for n := range g.p.N {
		if g.covered[n] || (e.Skip != nil && e.Skip[n]) {
			continue
		}
		src, sp := g.zero, 0
		if e.Planes != nil && e.Planes[n] != nil {
			src, sp = e.Planes[n], w
		}
		g.store(y[n*ycs+y0:], src, sp, ydp, n, e)
	}
}

// The kinds of conv tuneFlat times.
const (
	flatDense   = 0 // one group of every filter over every channel
	flatGrouped = 1 // groups of 1 to 4 filters, each over 30% of the channels
)

var (
	flatTuned [len(flatWidths)]sync.Once
	// flatTimes[i][kind] are the best times of the conv of tuneFlat(i) of
	// that kind on the padded pitch and on the flat route.
	flatTimes [len(flatWidths)][2][2]time.Duration
)

// flatTuneShape is the conv tuneFlat(i) times: a ResNet stage's, as many
// channels as filters (64, 32, 16 for planes of 8, 16, 32).
func flatTuneShape(i int) Conv {
	w := flatWidths[i]
	c := 512 / w
	return Conv{C: c, H: w, W: w, N: c, KH: 3, KW: 3, Stride: 1, Pad: 1}
}

// flatTuneGroups returns the groups of tuneFlat's conv p of kind: one
// dense group, or groups of 1, 2, 3, 4, 1, 2, ... filters, each over its
// own 30% of the channels (as a Conv-70 layer of a pruned ResNet).
func flatTuneGroups(p Conv, kind int) []Group {
	r := rand.New(rand.NewPCG(uint64(p.W), 70))
	var gs []Group
	for n0, size := 0, 1; n0 < p.N; n0, size = n0+size, size%4+1 {
		g := Group{}
		for n := n0; n < min(p.N, n0+size); n++ {
			g.Filters = append(g.Filters, n)
		}
		g.Channels = r.Perm(p.C)[:max(1, p.C*3/10)]
		if kind == flatDense {
			g.Filters, g.Channels = nil, nil
			for n := range p.N {
				g.Filters = append(g.Filters, n)
			}
			for c := range p.C {
				g.Channels = append(g.Channels, c)
			}
			n0 = p.N
		}
		g.Weights = make([]float32, len(g.Filters)*len(g.Channels)*9)
		for i := range g.Weights {
			g.Weights[i] = float32(i%13-6) * 0.01
		}
		gs = append(gs, g)
	}
	return gs
}

// tuneFlat sets flatTimes[i] once per process from a short measurement
// (a few milliseconds): for each kind, flatTuneShape(i) in
// flatTuneGroups' groups with bias and ReLU, writing its own input layout
// as the compiled network chains its convs, on the padded pitch and on
// the flat route in alternation; the fastest of 7 rounds of each counts,
// which other load on the machine can only slow.
func tuneFlat(wi int) {
	flatTuned[wi].Do(func() {
		p := flatTuneShape(wi)
		e := &Epilogue{Bias: make([]float32, p.N), ReLU: true}
		ws := new(Workspace)
		for kind := range 2 {
			gs := flatTuneGroups(p, kind)
			var runs [2]func()
			for i, flat := range []bool{false, true} {
				pl := newGroupPlan(p, gs, flat)
				x := make([]float32, pl.PaddedLen())
				y := make([]float32, pl.PaddedLen())
				for j := range x {
					x[j] = float32(j%7) * 0.1
				}
				pl.ForwardPadded(x, y, e, ws, false, pl) // x in the plan's layout
				copy(x, y)
				runs[i] = func() {
					for range 4 {
						pl.ForwardPadded(x, y, e, ws, true, pl)
					}
				}
			}
			fastestOf(runs, &flatTimes[wi][kind])
		}
	})
}

// flatTuning describes tuneFlat's measurements for Tuning ("" where none
// ran).
func flatTuning() string {
	var s []string
	for i, tk := range flatTimes {
		if tk[0][0] == 0 {
			continue
		}
		p := flatTuneShape(i)
		for kind, t := range tk {
			r := func(d time.Duration) float64 { return 4 * p.FLOPs() / d.Seconds() / 1e9 }
			route := "padded pitch"
			if t[1] < t[0] {
				route = "flat"
			}
			what := "dense"
			if kind == flatGrouped {
				what, r = "grouped", func(d time.Duration) float64 { return float64(t[0]) / float64(d) }
				s = append(s, fmt.Sprintf("%s %dx%dx%d: %s (flat / padded pitch time %.2f)", what, p.C, p.H, p.W, route, 1/r(t[1])))
				continue
			}
			s = append(s, fmt.Sprintf("%s %dx%dx%d: %s (padded pitch %.0f GFLOP/s, flat %.0f)", what, p.C, p.H, p.W, route, r(t[0]), r(t[1])))
		}
	}
	return strings.Join(s, "; ")
}
