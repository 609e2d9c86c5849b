package kernel

import "unsafe"

// This file holds the input side of Int8Plan: the byte planes every
// channel that some group reads is quantized into, once per image, and
// the interleaving of a group's own channels into quads of 32-bit words
// (see int8.go's file comment).

// pack quantizes the channels q.used of image x into zero-padded byte
// planes, q.qstride bytes apart (s*s phase planes of q.plen bytes each),
// and returns them: the planes filled with the zero point in one pass,
// then each channel's rows quantized into place (stride 2: its even and
// odd rows in one call each, which splits their even and odd columns as
// it quantizes; at odd widths the columns are split in fp32 first, each
// parity's even and odd rows then in one call each).
func (q *Int8Plan) pack(x []float32, ws *Workspace) []byte {
	p := q.p
	hw := p.H * p.W
	s := q.s
	n := len(q.used) * q.qstride
	words := grow(&ws.i8b, n/4+(hw+3)/4)
	all := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), 4*len(words))
	planes, tmp := all[:n], all[n:]
	fillBytes(planes, q.act.Zero)
	inv, zp := 1/q.act.Scale, float32(q.act.Zero)
	we := (p.W + 1) / 2
	var cols []float32 // stride 2, odd widths: a channel's even columns, then its odd ones (pitch we)
	if s == 2 && p.W%2 != 0 {
		cols = grow(&ws.s1, 2*p.H*we)
	}
	for i, ch := range q.used {
		pl := planes[i*q.qstride : (i+1)*q.qstride]
		src := x[ch*hw : (ch+1)*hw]
		switch s {
		case 1:
			i8Cur.quant(p.H, p.W, src, p.W, pl[p.Pad*q.wq+p.Pad:], q.wq, inv, zp)
		case 2:
			if p.W%2 == 0 { // both column phases p.W/2 wide: quantized and split in one pass per row parity
				for ry := range min(2, p.H) { // input rows ry, ry+2, ...
					yy := ry + p.Pad
					o0 := ((yy%2)*2+p.Pad%2)*q.plen + (yy/2)*q.wq + p.Pad/2 // even columns: padded column Pad
					o1 := ((yy%2)*2+(p.Pad+1)%2)*q.plen + (yy/2)*q.wq + (p.Pad+1)/2
					i8Cur.deint((p.H-ry+1)/2, p.W/2, src[ry*p.W:], 2*p.W, pl[o0:], pl[o1:], q.wq, inv, zp)
				}
				continue
			}
			deinterleaveRows(cols, cols[p.H*we:], src, p.H, p.W, p.W, we)
			for par, w := range [2]int{we, p.W / 2} { // column parity
				xx := par + p.Pad             // padded column of the first such input column
				for ry := range min(2, p.H) { // input rows ry, ry+2, ...
					yy := ry + p.Pad
					o := ((yy%2)*2+xx%2)*q.plen + (yy/2)*q.wq + xx/2
					i8Cur.quant((p.H-ry+1)/2, w, cols[(par*p.H+ry)*we:], 2*we, pl[o:], q.wq, inv, zp)
				}
			}
		default:
			i8Cur.quant(1, hw, src, hw, tmp, hw, inv, zp)
			q.scatter(pl, tmp)
		}
	}
	return planes
}

// scatter writes one quantized channel tmp (H x W) into its s*s phase
// planes pl, one byte at a time.
func (q *Int8Plan) scatter(pl, tmp []byte) {
	p, s := q.p, q.s
	for y := range p.H {
		yy := y + p.Pad
		row := tmp[y*p.W : (y+1)*p.W]
		for px := range s { // padded columns xx = px, px+s, ...: phase (yy%s, px)
			dst := pl[((yy%s)*s+px)*q.plen+(yy/s)*q.wq:]
			x0 := (px - p.Pad%s + s) % s // first xi with (xi+Pad)%s == px
			j := (x0 + p.Pad) / s
			for xi := x0; xi < p.W; xi += s {
				dst[j] = row[xi]
				j++
			}
		}
	}
}

// fillBytes sets every byte of b to v.
func fillBytes(b []byte, v byte) {
	if v == 0 {
		clear(b)
		return
	}
	if len(b) == 0 {
		return
	}
	b[0] = v
	for k := 1; k < len(b); k *= 2 {
		copy(b[k:], b[:k])
	}
}

// interleave writes group g's quads from the byte planes into words, one
// quad every q.qstride words. The slack beyond them is left as it is: it
// reaches only the dropped output columns. With flat (the group runs on
// the flat route) an 8x8 conv's quads go to the flat kernels' compact
// planes instead.
func (q *Int8Plan) interleave(g *i8Group, planes []byte, words []uint32, flat bool) {
	if flat && q.p.W == 8 {
		i8Cur.flat.inter(planes, g.quads, words)
		return
	}
	i8Cur.inter(q.qstride, planes, g.quads, words)
}
