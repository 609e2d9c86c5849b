package kernel

import "math"

// This file builds Int8Plan (int8.go): the byte planes' geometry, the
// groups' quads and tap offsets, and their weights quantized per filter.

// NewInt8Plan quantizes groups' weights (as GroupConvForward takes them)
// per output channel and prepares the int8 convolution p of inputs
// quantized by act.
func NewInt8Plan(p Conv, groups []Group, act ActQuant) *Int8Plan {
	q := newInt8Plan(p, groups, act)
	q.setFlat()
	q.setAMX()
	q.share()
	return q
}

// newInt8Plan is NewInt8Plan with every group on the padded tiles.
func newInt8Plan(p Conv, groups []Group, act ActQuant) *Int8Plan {
	if act.Scale <= 0 || p.Stride < 1 {
		panic("kernel: NewInt8Plan: bad scale or stride")
	}
	s := p.Stride
	hp, wp := p.H+2*p.Pad, p.W+2*p.Pad
	q := &Int8Plan{p: p, act: act, s: s, hq: (hp + s - 1) / s, wq: (wp + s - 1) / s,
		covered: make([]bool, p.N), zero: make([]float32, p.OutW()), bplane: make([]int, p.C)}
	if s == 1 && p.KW == 2*p.Pad+1 && p.Pad > 0 {
		// A row's right padding is the next row's left padding: the taps
		// past a row's end read the zeros before the next row's first
		// value, so the pitch drops Pad columns (fewer dropped outputs)
		// and one more row takes the last row's overhang.
		q.wq, q.hq = p.W+p.Pad, hp+1
	}
	q.plen = q.hq * q.wq
	q.qstride = (s*s*q.plen + 15) &^ 15
	q.pr = (p.OutH()*q.wq + 15) / 16 * 16
	q.vinfo = make([]int32, 2*q.pr/16)
	for v := range q.pr / 16 {
		var k, cnt int32
		first := int32(-1)
		for l := range 16 {
			pos := 16*v + l
			if oy, ox := pos/q.wq, pos%q.wq; oy < p.OutH() && ox < p.OutW() {
				k |= 1 << l
				cnt++
				if first < 0 {
					first = int32(oy*p.OutW() + ox)
				}
			}
		}
		q.vinfo[2*v] = k | ((1<<cnt)-1)<<16
		q.vinfo[2*v+1] = max(first, 0)
	}
	read := make([]bool, p.C)
	for _, g := range groups {
		if len(g.Filters) > 0 {
			for _, ch := range g.Channels {
				read[ch] = true
			}
		}
	}
	for ch, r := range read {
		q.bplane[ch] = -1
		if r {
			q.bplane[ch] = len(q.used)
			q.used = append(q.used, ch)
		}
	}
	kk := p.KH * p.KW
	maxOff := 0 // words
	for ky := range p.KH {
		for kx := range p.KW {
			maxOff = max(maxOff, ((ky%s)*s+kx%s)*q.plen+(ky/s)*q.wq+kx/s)
		}
	}
	q.reach = maxOff + q.pr
	orders := i8QuadOrders(p.C, groups)
	for gi, g := range groups {
		if len(g.Filters) == 0 || len(g.Channels) == 0 {
			continue
		}
		nq := len(orders[gi]) / 4
		ig := i8Group{filters: g.Filters, k4: nq * kk, quads: make([]int32, 4*nq), qo: make([]int32, nq),
			sc: make([]float32, len(g.Filters)), bias: make([]float32, len(g.Filters))}
		pos := make(map[int]int, len(g.Channels)) // channel -> its first byte in the quads
		for i, ch := range orders[gi] {
			ig.quads[i] = int32(q.bplane[ch] * q.qstride)
			if _, ok := pos[ch]; !ok {
				pos[ch] = i
			}
		}
		for k := range ig.qo {
			ig.qo[k] = int32(k * q.flatQS())
		}
		q.gwords = max(q.gwords, max(nq*q.qstride, (nq-1)*q.qstride+maxOff+q.pr)+16)
		ig.w = make([]int32, len(g.Filters)*ig.k4)
		ig.offs = make([]int32, ig.k4)
		ig.yoff = make([]int32, len(g.Filters))
		for fi, n := range g.Filters {
			ig.yoff[fi] = int32(n * p.OutH() * p.OutW())
		}
		for i := range nq {
			for ky := range p.KH {
				for kx := range p.KW {
					phase := (ky%s)*s + kx%s
					ig.offs[i*kk+ky*p.KW+kx] = int32(4 * (i*q.qstride + phase*q.plen + (ky/s)*q.wq + kx/s))
				}
			}
		}
		slot := make([]int, len(g.Channels)) // channel ci at byte slot[ci] of the group's quads
		for ci, ch := range g.Channels {
			slot[ci] = pos[ch]
		}
		for fi, n := range g.Filters {
			q.covered[n] = true
			ig.sc[fi], ig.bias[fi] = quantFilter(g.Weights[fi*len(g.Channels)*kk:(fi+1)*len(g.Channels)*kk], slot, kk, ig.w[fi*ig.k4:(fi+1)*ig.k4], act)
		}
		q.groups = append(q.groups, ig)
	}
	return q
}

// quantFilter packs one filter's weights w [c][kk] as int8 into dst
// [quads][kk], channel ci at byte slot[ci] (quad slot/4, byte slot%4),
// and returns its dequantization scale and zero-point term.
func quantFilter(w []float32, slot []int, kk int, dst []int32, act ActQuant) (sc, bias float32) {
	sw := FilterScale(w)
	var sum int64
	for ci, sl := range slot {
		for t := range kk {
			qv := int32(math.RoundToEven(float64(w[ci*kk+t] / sw)))
			qv = min(max(qv, -127), 127)
			sum += int64(qv)
			dst[(sl/4)*kk+t] |= int32(uint32(uint8(int8(qv))) << (8 * (sl % 4)))
		}
	}
	sc = act.Scale * sw
	return sc, -sc * float32(act.Zero) * float32(sum)
}

// FilterScale returns the symmetric int8 scale of one filter's weights w
// (after the BatchNorm fold): max|w|/127, or 1 for a filter of zeros. Its
// weights are quantized to round-half-even(w/scale) in [-127, 127].
func FilterScale(w []float32) float32 {
	var m float32
	for _, v := range w {
		m = max(m, float32(math.Abs(float64(v))))
	}
	if m == 0 {
		return 1
	}
	return m / 127
}

// QuantBias returns bias b on the int32 grid of an int8 conv's sums, whose
// step is scale (the input scale times the filter's, as Int8Plan
// dequantizes with): round-half-even(b/scale), saturated to int32. It is
// the bias of ONNX's QLinearConv and of a QDQ model's int32 bias, so that
// the int8 route adds float32(QuantBias(b, scale))*scale, as ONNX Runtime
// does, rather than b.
func QuantBias(b, scale float32) int32 {
	r := math.RoundToEven(float64(b) / float64(scale))
	return int32(min(max(r, math.MinInt32), math.MaxInt32))
}
