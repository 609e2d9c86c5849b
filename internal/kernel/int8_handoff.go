package kernel

import "unsafe"

// This file holds the int8 handoff: a conv whose output only another int8
// conv reads quantizes it straight into that conv's packed input (its
// zero-padded byte planes, int8_pack.go), so that the output never exists
// in fp32 and the next conv packs nothing.
//
// The handoff needs the two padded pitches to agree (HandOff): output
// position p = oy*wq + ox of this conv's tiles is then byte
// p + Pad*wq + Pad of the next conv's plane, so that a tile's valid lanes
// store with one masked byte store and the invalid ones (the halo
// columns) leave the zero point that fills the planes first.

// PackedLen returns the floats (four bytes each) of q's packed input as
// a conv handing off to q writes it: one byte plane per channel some group
// reads, and one more that takes the outputs q does not read.
func (q *Int8Plan) PackedLen() int { return (len(q.used) + 1) * q.qstride / 4 }

// HandOff makes q write its output into next's packed input (Forward's y
// then holds next.PackedLen() floats) and next read it so (Forward's x),
// when next runs stride 1 on q's output with the same padded pitch; it
// reports whether it did. Call it once, before any Forward.
func (q *Int8Plan) HandOff(next *Int8Plan) bool {
	p := q.p
	if next.s != 1 || next.wq != q.wq || next.p.C != p.N || next.p.H != p.OutH() || next.p.W != p.OutW() {
		return false
	}
	q.next, next.packedIn = next, true
	q.nextQ = [2]float32{1 / next.act.Scale, float32(next.act.Zero)}
	for gi := range q.groups {
		g := &q.groups[gi]
		g.qoff = make([]int32, len(g.filters))
		for fi, n := range g.filters {
			g.qoff[fi] = int32(q.nextOff(n))
		}
	}
	return true
}

// nextOff returns where output channel n's plane starts in the next conv's
// packed input, shifted by the padding: the spare plane for a channel the
// next conv does not read.
func (q *Int8Plan) nextOff(n int) int {
	nx := q.next
	i := nx.bplane[n]
	if i < 0 {
		i = len(nx.used)
	}
	return i*nx.qstride + nx.p.Pad*nx.wq + nx.p.Pad
}

// forwardNext is Forward's second half with q.next set: the output goes
// to out, the next conv's packed input.
func (q *Int8Plan) forwardNext(planes, out []byte, e *Epilogue, ws *Workspace) {
	p := q.p
	ho, wo := p.OutH(), p.OutW()
	fillBytes(out, q.next.act.Zero)
	fp := grow(&ws.s1, ho*wo) // one output plane in fp32, for the unfused stores
	q.walk(planes, e, ws,
		func(g *i8Group, b []byte, offs, qo []int32) { q.forwardQ(g, b, offs, qo, out, e, ws) },
		func(n int, src []float32, sp int) {
			q.store(fp, src, sp, n, e)
			q.quantNext(fp, out, n)
		})
}

// quantNext quantizes output plane n (fp32, OutH x OutW) into the next
// conv's packed input.
func (q *Int8Plan) quantNext(fp []float32, out []byte, n int) {
	ho, wo := q.p.OutH(), q.p.OutW()
	i8Cur.quant(ho, wo, fp, wo, out[q.nextOff(n):], q.next.wq, q.nextQ[0], q.nextQ[1])
}

// forwardQ runs group g's tiles with the epilogue and the next conv's
// quantization fused, storing into out (its quads in b as walk's fused
// gets them).
func (q *Int8Plan) forwardQ(g *i8Group, b []byte, offs, qo []int32, out []byte, e *Epilogue, ws *Workspace) {
	nf := len(g.filters)
	bias := grow(&ws.s3, nf)
	copy(bias, g.bias)
	if e.Bias != nil {
		for fi, n := range g.filters {
			bias[fi] += e.Bias[n]
		}
	}
	if g.flat {
		q.forwardFlatQ(g, b, qo, out, e, bias)
		return
	}
	if g.amx {
		q.forwardAMXQ(g, b, offs, out, e, bias, ws)
		return
	}
	kern, nvec := i8Cur.kernQ, q.pr/16
	for i0, mr := 0, i8RowMR(nf, 0); i0 < nf; i0, mr = i0+mr, i8RowMR(nf, i0+mr) {
		a, qoff, aoff, sc, bi := g.w[i0*g.k4:], g.qoff[i0:], g.yoff[i0:], g.sc[i0:], bias[i0:]
		for _, r := range i8TileRuns(nvec, mr) {
			if r.nt == 0 {
				continue
			}
			kern(mr, r.nv, r.nt, g.k4, a, g.k4, b[64*r.v0:], offs, out[16*r.v0:], qoff, e.Add, aoff, q.vinfo[2*r.v0:], sc, bi, &q.nextQ, e.ReLU)
		}
	}
}

// i8GoQ is the i8KernelQ in Go.
func i8GoQ(mr, nv, nt, k4 int, a []int32, lda int, b []byte, boffs []int32, y []byte, yoff []int32, add []float32, aoff []int32, vinfo []int32, sc, bias []float32, q *[2]float32, relu bool) {
	for t := range nt {
		i8GoQ1(mr, nv, k4, a, lda, b[64*nv*t:], boffs, y[16*nv*t:], yoff, add, aoff, vinfo[2*nv*t:], sc, bias, q, relu)
	}
}

// i8GoQ1 is one tile of i8GoQ.
func i8GoQ1(mr, nv, k4 int, a []int32, lda int, b []byte, boffs []int32, y []byte, yoff []int32, add []float32, aoff []int32, vinfo []int32, sc, bias []float32, q *[2]float32, relu bool) {
	var c [i8MaxMR * 16 * i8MaxNV]float32
	ldc := 16 * nv
	i8Go(mr, nv, k4, a, lda, b, boffs, c[:], ldc, sc, bias)
	for i := range mr {
		for v := range nv {
			d := int(aoff[i]) + int(vinfo[2*v+1])
			for l := range 16 {
				if vinfo[2*v]>>l&1 == 0 {
					continue
				}
				r := epiAddRelu(c[i*ldc+16*v+l], add, d, relu)
				y[int(yoff[i])+16*v+l] = quantByte(r, q[0], q[1])
				d++
			}
		}
	}
}

// floatBytes views a float slice as its bytes.
func floatBytes(f []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(f))), 4*len(f))
}

// InLen returns the floats of one image's input as Forward takes it: the
// fp32 input, or the packed input after HandOff.
func (q *Int8Plan) InLen() int {
	if q.packedIn {
		return q.PackedLen()
	}
	return q.p.C * q.p.H * q.p.W
}

// OutLen returns the floats of one image's output as Forward writes it:
// the fp32 output, or the next conv's packed input after HandOff.
func (q *Int8Plan) OutLen() int {
	if q.next != nil {
		return q.next.PackedLen()
	}
	return q.p.N * q.p.OutH() * q.p.OutW()
}
