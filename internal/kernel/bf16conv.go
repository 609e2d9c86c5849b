package kernel

import (
	"sync"
	"unsafe"
)

// bf16 convolutions on AMX, or on AVX512_BF16's VDPBF16PS where the CPU
// lacks AMX and VDPBF16PS outruns the FMA (bfBlocks, bfAcc): stride-1
// convolutions whose products are bf16 (operands rounded to nearest even)
// with fp32 sums, for nn's BF16 precision. Each pass lays the image out
// in zero-padded planes (as the direct route does), packs the taps it
// needs into bf16 tiles, runs TDPBF16PS (or VDPBF16PS) over them
// (_asm/bf16.go) and copies the result out:
//
//   - forward: C [N][P] = W [N][K] * B [K][P], K = C*KH*KW taps, P the
//     output pixels in the padded pitch (halo columns computed and
//     dropped), B packed as tap pairs (packPairsBF16 from the tap offsets);
//   - backward data: the same, of dy with the weights flipped and
//     transposed (PrepareBF16BackwardData), pad KH-1-Pad;
//   - backward filter: G [K][N] += X [K][P] * dy^T, X the taps as bf16
//     rows (packRowsBF16), dy^T its bf16 pixel pairs transposed
//     (pairsTBF16); G is the gradient transposed, added to dW once per
//     batch (AddBF16FilterGrad).
//
// K is rounded up to 32 (tap rows past K read a zero row), N to 16 and P
// to 32.

// bfRoute is where the bf16 products run.
type bfRoute int

const (
	bfNone bfRoute = iota // nowhere: nn emulates bf16 with the fp32 kernels
	bfAMX                 // AMX tiles (TDPBF16PS)
	bfVDP                 // AVX512_BF16's VDPBF16PS (vdpGemm)
)

// minVDPRate is the least VDPBF16PS flops, as a multiple of the FMA's,
// for which the bf16 convolutions take VDPBF16PS: below it the rounding
// and packing cost more than the products gain. Measured: 2.0x on the AMD
// EPYC Zen 4 of 2026-12-08 (docs/BENCHMARKS.md), 0.49x on the Intel Xeon
// of docs/BF16.md (which has AMX).
const minVDPRate = 1.25

// bf16State is bf16Probe's result, found once; bfCur is the route the
// passes take (tests switch it between AMX and VDPBF16PS).
var (
	bf16State struct {
		once  sync.Once
		route bfRoute
		why   string
	}
	bfCur bfRoute
)

// bf16Init runs bf16Probe once and sets bfCur to its route.
func bf16Init() {
	bf16State.once.Do(func() {
		bf16State.route, bf16State.why = bf16Probe()
		bfCur = bf16State.route
	})
}

// AMX reports whether the bf16 convolutions run on AMX tiles (the CPU has
// AMX-BF16 and AVX512_BF16, the OS granted the tile state, and the build
// has assembly) and, when not, why.
func AMX() (bool, string) {
	bf16Init()
	if bf16State.route == bfAMX {
		return true, ""
	}
	return false, bf16State.why
}

// BF16Conv reports where the bf16 convolutions of CanConvBF16 run: "AMX"
// (TDPBF16PS tiles), "AVX512_BF16" (VDPBF16PS, chosen where the CPU lacks
// AMX and VDPBF16PS measures faster than the FMA), or "" and why neither.
func BF16Conv() (route, why string) {
	bf16Init()
	switch bf16State.route {
	case bfAMX:
		return "AMX", ""
	case bfVDP:
		return "AVX512_BF16", bf16State.why
	}
	return "", bf16State.why
}

// CanConvBF16 reports whether p's passes run on the bf16 kernels
// (BF16Conv names them): a route, stride 1, a square kernel, and Pad < KH
// (so that backward data is a stride-1 convolution too).
func CanConvBF16(p Conv) bool {
	bf16Init()
	return bf16State.route != bfNone && p.Stride == 1 && p.KH == p.KW && p.Pad < p.KH
}

// bfBlocks is amxBlocks<mt> on the route in use: for nb blocks of 32
// columns, C (16*mt rows) = A times B over K = k taps (A and B hold k
// rounded up to 32, zeros past k). AMX takes K in steps of 32; VDPBF16PS
// in steps of 4, so it skips most of the zeros (ResNet's 16-channel convs:
// 144 taps, 160 for AMX).
func bfBlocks(mt int, a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, k, nb int) {
	if bfCur == bfAMX {
		ks := (k + 31) / 32
		if mt == 2 {
			amxBlocks2(&amxCfg[0], a, lda, b, ldb, c, ldc, ks, nb)
		} else {
			amxBlocks1(&amxCfg[0], a, lda, b, ldb, c, ldc, ks, nb)
		}
		return
	}
	pairs := (k + 3) / 4 * 2
	for blk := range nb {
		for r := 0; r < 16*mt; r += 8 {
			vdpGemm2((*uint16)(unsafe.Add(unsafe.Pointer(a), r*lda)), lda,
				(*uint32)(unsafe.Add(unsafe.Pointer(b), 128*blk)), ldb,
				(*float32)(unsafe.Add(unsafe.Pointer(c), r*ldc+128*blk)), ldc, pairs, 0)
		}
	}
}

// bfAcc is amxAcc<nt> on the route in use: C (32 rows x 16*nt columns) +=
// A times B over ks steps of 32 along K.
func bfAcc(nt int, a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, ks int) {
	if bfCur == bfAMX {
		if nt == 2 {
			amxAcc2(&amxCfg[0], a, lda, b, ldb, c, ldc, ks)
		} else {
			amxAcc1(&amxCfg[0], a, lda, b, ldb, c, ldc, ks)
		}
		return
	}
	gemm := vdpGemm1
	if nt == 2 {
		gemm = vdpGemm2
	}
	for r := 0; r < 32; r += 8 {
		gemm((*uint16)(unsafe.Add(unsafe.Pointer(a), r*lda)), lda, b, ldb,
			(*float32)(unsafe.Add(unsafe.Pointer(c), r*ldc)), ldc, 16*ks, 1)
	}
}

// amxCfg is the tile configuration: palette 1, tiles 0-7 of 16 rows of
// 64 bytes. pairPerm interleaves two rows' 16 bf16 each (VPERMW).
var (
	amxCfg   [64]byte
	pairPerm [32]uint16
)

func init() {
	amxCfg[0] = 1
	for t := range 8 {
		amxCfg[16+2*t] = 64
		amxCfg[48+t] = 16
	}
	for i := range 16 {
		pairPerm[2*i], pairPerm[2*i+1] = uint16(i), uint16(16+i)
	}
}

// bfGeom is the padded layout of a stride-1 convolution.
type bfGeom struct {
	pitch, plane int // padded row and plane, floats
	oh, ow       int // output
	np           int // output pixels in the pitch, rounded up to 32
	k, kp        int // taps C*KH*KW, rounded up to 32
	npad         int // filters, rounded up to 16
	xlen         int // padded planes, slack and the zero row
}

// valid reports whether the forward pass of p can skip the halo: output
// rows of 8 (in pairs) or of whole vectors, whole tiles of pixels, and
// whole tiles of filters (TILESTORED writes y directly).
func (g *bfGeom) valid(p Conv) bool {
	return (g.ow%16 == 0 || (g.ow == 8 && g.oh%2 == 0)) && g.oh*g.ow%32 == 0 && p.N%16 == 0
}

func newBFGeom(p Conv) bfGeom {
	g := bfGeom{pitch: p.W + 2*p.Pad, oh: p.OutH(), ow: p.OutW()}
	g.plane = (p.H + 2*p.Pad) * g.pitch
	g.np = (g.oh*g.pitch + 31) &^ 31
	g.k = p.C * p.KH * p.KW
	g.kp = (g.k + 31) &^ 31
	g.npad = (p.N + 15) &^ 15
	g.xlen = p.C*g.plane + g.np + 64
	return g
}

// bf16Scratch is a Workspace's memory for the bf16 passes.
type bf16Scratch struct {
	xp   []float32 // padded planes
	offs []int32   // tap offsets into xp: one of taps
	taps [2]struct {
		p    Conv
		offs []int32
	} // the last two geometries' offsets (a backward pass alternates two)
	tapsNext int
	pk       []uint32  // forward: tap pairs
	t        []float32 // forward: output in the pitch
	col      []uint16  // filter: taps as bf16 rows
	dyp      []float32 // filter: dy in the pitch
	dyt      []uint32  // filter: dy's pixel pairs, transposed
	idx      [16]int32 // filter: pairsTBF16's scatter offsets
}

// pad lays x out in zero-bordered planes (and zero slack), and fills the
// tap offsets.
func (s *bf16Scratch) pad(p Conv, g *bfGeom, x []float32) {
	xp := grow(&s.xp, g.xlen)
	pd := p.Pad
	for c := range p.C {
		pl := xp[c*g.plane : (c+1)*g.plane]
		clear(pl[:pd*g.pitch+pd])
		// Rows, each followed by its right halo and the next one's left.
		padRows(pl[pd*g.pitch+pd:], x[c*p.H*p.W:(c+1)*p.H*p.W], p.H, p.W, g.pitch)
		clear(pl[(p.H+pd)*g.pitch+pd:])
	}
	clear(xp[p.C*g.plane:])
	for i := range s.taps {
		if s.taps[i].offs != nil && s.taps[i].p == p {
			s.offs = s.taps[i].offs
			return
		}
	}
	e := &s.taps[s.tapsNext]
	s.tapsNext ^= 1
	e.p = p
	offs := grow(&e.offs, g.kp)
	s.offs = offs
	kk := p.KH * p.KW
	for i := range offs {
		if i >= g.k {
			offs[i] = int32(p.C * g.plane) // the zero row
			continue
		}
		c, t := i/kk, i%kk
		offs[i] = int32(c*g.plane + t/p.KW*g.pitch + t%p.KW)
	}
}

// copyRow copies n floats from src to dst; CIFAR's widths as arrays,
// since a call to memmove per 8 to 32 floats costs as much as the copying
// (as direct.unpad).
func copyRow(dst, src []float32, n int) {
	switch n {
	case 32:
		*(*[32]float32)(dst) = *(*[32]float32)(src)
	case 16:
		*(*[16]float32)(dst) = *(*[16]float32)(src)
	case 8:
		*(*[8]float32)(dst) = *(*[8]float32)(src)
	default:
		copy(dst[:n], src[:n])
	}
}

// BF16Weights are a convolution's weights as the AMX passes read them:
// bf16, [N rounded up to 16][C*KH*KW rounded up to 32].
type BF16Weights struct {
	w  []uint16
	tr []float32 // PrepareBF16BackwardData's flipped transpose
}

// PrepareBF16Weights packs w [N][C][KH][KW] for ConvForwardBF16 of p.
func PrepareBF16Weights(p Conv, w []float32, dst *BF16Weights) {
	g := newBFGeom(p)
	b := grow(&dst.w, g.npad*g.kp)
	clear(b)
	for n := range p.N {
		row := b[n*g.kp:]
		for i, v := range w[n*g.k : (n+1)*g.k] {
			row[i] = BF16(v)
		}
	}
}

// backwardGeometry is the stride-1 convolution that backward data of p is.
func backwardGeometry(p Conv) Conv {
	return Conv{C: p.N, H: p.OutH(), W: p.OutW(), N: p.C, KH: p.KH, KW: p.KW, Stride: 1, Pad: p.KH - 1 - p.Pad}
}

// PrepareBF16BackwardData packs w [N][C][KH][KW] for ConvBackwardDataBF16
// of p: flipped and transposed, then as PrepareBF16Weights.
func PrepareBF16BackwardData(p Conv, w []float32, dst *BF16Weights) {
	kk := p.KH * p.KW
	tr := grow(&dst.tr, p.N*p.C*kk)
	flipTranspose(tr, w[:p.N*p.C*kk], p.N, p.C, kk)
	PrepareBF16Weights(backwardGeometry(p), tr, dst)
}

// ConvForwardBF16 is ConvForward with bf16 products on AMX (CanConvBF16(p)
// must hold), w from PrepareBF16Weights.
func ConvForwardBF16(p Conv, x []float32, w *BF16Weights, y []float32, ws *Workspace) {
	g := newBFGeom(p)
	s := &ws.bf
	s.pad(p, &g, x)
	if g.valid(p) {
		// The halo-free layout: the tiles store into y itself.
		np := g.oh * g.ow
		pk := grow(&s.pk, g.kp/2*np)
		if g.ow == 8 {
			packPairsW8(&pk[0], &s.xp[0], &s.offs[0], g.kp/2, g.oh/2, 0, g.pitch, &pairPerm[0])
		} else {
			packPairsW16(&pk[0], &s.xp[0], &s.offs[0], g.kp/2, g.oh, g.ow/16, g.pitch, &pairPerm[0])
		}
		for m := 0; m < p.N; {
			c, a := &y[m*np], &w.w[m*g.kp]
			if p.N-m >= 32 {
				bfBlocks(2, a, g.kp*2, &pk[0], np*4, c, np*4, g.k, np/32)
				m += 32
			} else {
				bfBlocks(1, a, g.kp*2, &pk[0], np*4, c, np*4, g.k, np/32)
				m += 16
			}
		}
		return
	}
	pk := grow(&s.pk, g.kp/2*g.np)
	packPairsBF16(&pk[0], g.np*4, &s.xp[0], &s.offs[0], g.kp/2, g.np/16, &pairPerm[0])
	t := grow(&s.t, g.npad*g.np)
	for m := 0; m < g.npad; {
		c, a := &t[m*g.np], &w.w[m*g.kp]
		if g.npad-m >= 32 {
			bfBlocks(2, a, g.kp*2, &pk[0], g.np*4, c, g.np*4, g.k, g.np/32)
			m += 32
		} else {
			bfBlocks(1, a, g.kp*2, &pk[0], g.np*4, c, g.np*4, g.k, g.np/32)
			m += 16
		}
	}
	for n := range p.N {
		for r := range g.oh {
			copyRow(y[(n*g.oh+r)*g.ow:], t[n*g.np+r*g.pitch:], g.ow)
		}
	}
}

// ConvBackwardDataBF16 is ConvBackwardData with bf16 products on AMX, w
// from PrepareBF16BackwardData.
func ConvBackwardDataBF16(p Conv, dy []float32, w *BF16Weights, dx []float32, ws *Workspace) {
	ConvForwardBF16(backwardGeometry(p), dy, w, dx, ws)
}

// BF16FilterGradLen is the length of ConvBackwardFilterAccBF16's
// accumulator: [C*KH*KW rounded up to 32][N rounded up to 16].
func BF16FilterGradLen(p Conv) int {
	g := newBFGeom(p)
	return g.kp * g.npad
}

// ConvBackwardFilterAccBF16 is ConvBackwardFilterAcc with bf16 products on
// AMX, into g (BF16FilterGradLen(p) floats, zeroed before the first
// image); AddBF16FilterGrad adds it to dw.
func ConvBackwardFilterAccBF16(p Conv, x, dy, g []float32, ws *Workspace) {
	q := newBFGeom(p)
	s := &ws.bf
	s.pad(p, &q, x)
	if q.valid(p) {
		// The halo-free layout: dy is B's source as it is.
		np := q.oh * q.ow
		col := grow(&s.col, q.kp*np)
		if q.ow == 8 {
			packRowsW8(&col[0], &s.xp[0], &s.offs[0], q.kp, q.oh/2, 0, q.pitch)
		} else {
			packRowsW16(&col[0], &s.xp[0], &s.offs[0], q.kp, q.oh, q.ow/16, q.pitch)
		}
		s.filterGemm(q, col, dy, np, g)
		return
	}
	col := grow(&s.col, q.kp*q.np)
	packRowsBF16(&col[0], q.np*2, &s.xp[0], &s.offs[0], q.kp, q.np/32)
	dyp := grow(&s.dyp, q.npad*q.np)
	for n := range q.npad {
		row := dyp[n*q.np : (n+1)*q.np]
		if n >= p.N {
			clear(row)
			continue
		}
		for r := range q.oh {
			o := row[r*q.pitch : (r+1)*q.pitch]
			copyRow(o, dy[(n*q.oh+r)*q.ow:], q.ow)
			for j := q.ow; j < q.pitch; j++ {
				o[j] = 0
			}
		}
		clear(row[q.oh*q.pitch:])
	}
	s.filterGemm(q, col, dyp, q.np, g)
}

// filterGemm is the filter gradient's product: g += col [kp][np] times
// dy [npad][np] transposed (its bf16 pixel pairs, by pairsTBF16).
func (s *bf16Scratch) filterGemm(q bfGeom, col []uint16, dy []float32, np int, g []float32) {
	for i := range s.idx {
		s.idx[i] = int32(i * q.npad)
	}
	dyt := grow(&s.dyt, np/2*q.npad)
	pairsTBF16(&dyt[0], q.npad, &dy[0], np, q.npad, np/32, &s.idx[0])
	for kb := 0; kb < q.kp; kb += 32 {
		for nb := 0; nb < q.npad; {
			a, b, c := &col[kb*np], &dyt[nb], &g[kb*q.npad+nb]
			if q.npad-nb >= 32 {
				bfAcc(2, a, np*2, b, q.npad*4, c, q.npad*4, np/32)
				nb += 32
			} else {
				bfAcc(1, a, np*2, b, q.npad*4, c, q.npad*4, np/32)
				nb += 16
			}
		}
	}
}

// AddBF16FilterGrad adds the accumulator g of ConvBackwardFilterAccBF16 to
// dw[N][C][KH][KW].
func AddBF16FilterGrad(p Conv, g, dw []float32) {
	q := newBFGeom(p)
	for n := range p.N {
		row := dw[n*q.k : (n+1)*q.k]
		for i := range row {
			row[i] += g[i*q.npad+n]
		}
	}
}
