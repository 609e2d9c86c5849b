package kernel

// This file holds the direct ("indirect GEMM") stride-1 convolution. The
// input planes are copied, zero padded, into the Workspace; each output
// row is then computed in the padded row pitch, so that output position q
// of every tap (c, ky, kx) reads the padded plane of c at a fixed offset
// c*plane + ky*wp + kx from q. The micro-kernel takes these offsets as its
// B table, and no im2col matrix is ever built. The wp-wo halo columns of
// each output row are computed and then dropped.

// direct is the geometry of one convolution of h x w planes padded by ph
// rows and pw columns with a kh x kw kernel and stride s. For s > 1 each
// padded plane is split into s*s phase planes (rows and columns of equal
// remainder mod s), so that every tap again reads one plane at a fixed
// offset: a stride-s convolution is s*s stride-1 ones.
type direct struct {
	h, w, ph, pw, kh, kw, s int
	wp                      int // phase plane row pitch (the padded width when s == 1)
	pl                      int // phase plane size
	cs                      int // s*s*pl, the distance between channels
	ho, wo                  int // output size
	pp                      int // output row length in pitch wp, rounded up to vecW
}

func newDirect(h, w, ph, pw, kh, kw, s int) direct {
	d := direct{h: h, w: w, ph: ph, pw: pw, kh: kh, kw: kw, s: s}
	hp, wpad := h+2*ph, w+2*pw
	d.wp = (wpad + s - 1) / s
	d.pl = (hp + s - 1) / s * d.wp
	d.cs = s * s * d.pl
	d.ho = (hp-kh)/s + 1
	d.wo = (wpad-kw)/s + 1
	d.pp = (d.ho*d.wp + vecW - 1) / vecW * vecW
	return d
}

// compact narrows the padded row pitch of a stride-1 geometry from
// w+2*pw to w+pw when that still holds every output column (wo <= w+pw)
// and there is a top halo row (ph >= 1): the right halo of each row is
// then the left halo of the next, since a tap past the row's end reads the
// first pw floats of the next row (zeros), and past the last row's end
// the first of the next plane's top halo row. An 8-wide row then computes
// 9 columns for 8 outputs instead of 10, a 16-wide one 17 instead of 18.
// It is kept only where it saves whole vectors of the padded output (on
// 8x8 planes it does not, and ran 0-4% slower, under load).
// Only GroupPlan uses it (compactPitch): its pad and epilogue clear those
// floats; the direct conv's callers assume the full pitch.
func (d *direct) compact() {
	if d.s != 1 || d.pw < 1 || d.ph < 1 || d.wo > d.w+d.pw {
		return
	}
	wp := d.w + d.pw
	pp := (d.ho*wp + vecW - 1) / vecW * vecW
	if pp >= d.pp {
		return // no vector saved (8x8: 72 columns are 5 vectors, as 80 are)
	}
	d.wp, d.pp = wp, pp
	d.pl = (d.h + 2*d.ph) * d.wp
	d.cs = d.pl
}

// pad copies the ch planes of x into ws.s1 as zero-padded (phase) planes,
// with enough zeros after the last one for the micro-kernel to read a
// whole padded output row at every tap: taps reach at most ch*cs - 1, and
// rows are pp long.
func (d *direct) pad(ws *Workspace, x []float32, ch int) []float32 {
	xp := grow(&ws.s1, ch*d.cs+d.pp)
	clear(xp)
	for c := range ch {
		for y := range d.h {
			src := x[(c*d.h+y)*d.w : (c*d.h+y+1)*d.w]
			py := y + d.ph
			if d.s == 1 {
				copy(xp[c*d.cs+py*d.wp+d.pw:], src)
				continue
			}
			// Phase rx holds the input columns x with (x+pw) % s == rx, in
			// order, from phase column (x0+pw)/s on.
			for rx := range d.s {
				x0 := ((rx-d.pw)%d.s + d.s) % d.s
				if x0 >= d.w {
					continue
				}
				row := xp[c*d.cs+((py%d.s)*d.s+rx)*d.pl+(py/d.s)*d.wp+(x0+d.pw)/d.s:]
				for i, xx := 0, x0; xx < d.w; i, xx = i+1, xx+d.s {
					row[i] = src[xx]
				}
			}
		}
	}
	return xp
}

// offsets returns the B offsets of every tap (ci, ky, kx) in weight order,
// for the padded planes chans, in ws.offs; or, for chans nil (planes
// 0..ch-1), from ws's cache of the last two such tables. The caller must
// not modify the result.
func (d *direct) offsets(ws *Workspace, chans []int, ch int) []int32 {
	if chans != nil {
		return d.fillOffsets(grow(&ws.offs, len(chans)*d.kh*d.kw), chans)
	}
	for i := range ws.taps {
		if e := &ws.taps[i]; e.offs != nil && e.d == *d && e.ch == ch {
			return e.offs
		}
	}
	e := &ws.taps[ws.tapsNext]
	ws.tapsNext = 1 - ws.tapsNext
	e.d, e.ch = *d, ch
	e.offs = d.fillOffsets(grow(&e.offs, ch*d.kh*d.kw), nil)
	return e.offs
}

// fillOffsets writes into offs the offsets of the taps of chans (nil:
// planes 0..len(offs)/(kh*kw)-1) and returns it.
func (d *direct) fillOffsets(offs []int32, chans []int) []int32 {
	kk := d.kh * d.kw
	ch := len(offs) / kk
	for ci := range ch {
		c := ci
		if chans != nil {
			c = chans[ci]
		}
		o := offs[ci*kk : (ci+1)*kk]
		for ky := range d.kh {
			for kx := range d.kw {
				phase := (ky%d.s)*d.s + kx%d.s
				o[ky*d.kw+kx] = int32(c*d.cs + phase*d.pl + (ky/d.s)*d.wp + kx/d.s)
			}
		}
	}
	return offs
}

// run computes t[f][q] = sum_p a[f*k+p] * xp[offs[p]+q] for f < nf and
// q < d.pp, with k = len(offs). The weights a are used in place.
func (d *direct) run(ws *Workspace, nf int, a, xp []float32, offs []int32, t []float32) {
	k := len(offs)
	aoffs := ws.aoffs[:]
	for i := range aoffs {
		aoffs[i] = int32(i * k)
	}
	kern := cur.kern
	if d.pp == planeNV*vecW {
		// An 8x8 plane: one tile column.
		for i0 := 0; i0 < nf; i0 += planeMR {
			kern(min(planeMR, nf-i0), planeNV, k, a[i0*k:], aoffs, xp, offs, t[i0*d.pp:], d.pp, false)
		}
		return
	}
	// Column blocks outside, filter tiles inside: the image rows a block
	// reads stay in L1 while every filter passes over them.
	for j0 := 0; j0 < d.pp; j0 += tileNR {
		nv := min(tileNV, (d.pp-j0)/vecW)
		b := xp[j0:]
		for i0 := 0; i0 < nf; i0 += maxMR {
			mr := min(maxMR, nf-i0)
			kern(mr, nv, k, a[i0*k:], aoffs, b, offs, t[i0*d.pp+j0:], d.pp, false)
		}
	}
}

// unpad copies one output plane from its padded-pitch row t to y,
// dropping the halo columns. The CIFAR widths copy as arrays: a call to
// memmove per 8 to 32 floats cost as much as the copying.
func (d *direct) unpad(y, t []float32) {
	n, ho, wp := d.wo, d.ho, d.wp
	_ = y[ho*n-1]
	_ = t[(ho-1)*wp+n-1]
	switch n {
	case 32:
		for oy := range ho {
			*(*[32]float32)(y[oy*n:]) = *(*[32]float32)(t[oy*wp:])
		}
	case 16:
		for oy := range ho {
			*(*[16]float32)(y[oy*n:]) = *(*[16]float32)(t[oy*wp:])
		}
	case 8:
		for oy := range ho {
			*(*[8]float32)(y[oy*n:]) = *(*[8]float32)(t[oy*wp:])
		}
	default:
		for oy := range ho {
			copy(y[oy*n:(oy+1)*n], t[oy*wp:oy*wp+n])
		}
	}
}

// convForwardDirect is ConvForward.
func convForwardDirect(p Conv, x, w, y []float32, ws *Workspace) {
	d := newDirect(p.H, p.W, p.Pad, p.Pad, p.KH, p.KW, p.Stride)
	xp := d.pad(ws, x, p.C)
	offs := d.offsets(ws, nil, p.C)
	t := grow(&ws.s2, p.N*d.pp)
	d.run(ws, p.N, w, xp, offs, t)
	hw := d.ho * d.wo
	for n := range p.N {
		d.unpad(y[n*hw:(n+1)*hw], t[n*d.pp:])
	}
}

// groupConvForwardDirect is GroupConvForward: the input is padded once,
// and each group's tap table lists only its own channels.
func groupConvForwardDirect(p Conv, groups []Group, x, y []float32, ws *Workspace) {
	d := newDirect(p.H, p.W, p.Pad, p.Pad, p.KH, p.KW, p.Stride)
	xp := d.pad(ws, x, p.C)
	hw := d.ho * d.wo
	for _, g := range groups {
		nf := len(g.Filters)
		if nf == 0 {
			continue
		}
		offs := d.offsets(ws, g.Channels, 0)
		t := grow(&ws.s2, nf*d.pp)
		d.run(ws, nf, g.Weights, xp, offs, t)
		for fi, n := range g.Filters {
			d.unpad(y[n*hw:(n+1)*hw], t[fi*d.pp:])
		}
	}
}

// canBackwardDataDirect reports whether convBackwardDataDirect handles p:
// stride 1 and a pad that leaves a non-negative full-correlation pad.
func canBackwardDataDirect(p Conv) bool {
	return p.Stride == 1 && p.Pad <= p.KH-1 && p.Pad <= p.KW-1
}

// convBackwardDataDirect is ConvBackwardData for stride 1: the full
// correlation of dy with the weights transposed (C x N) and flipped.
func convBackwardDataDirect(p Conv, dy, w, dx []float32, ws *Workspace) {
	kk := p.KH * p.KW
	wt := grow(&ws.s3, p.C*p.N*kk) // [C][N][KH][KW], flipped
	flipTranspose(wt, w, p.N, p.C, kk)
	convBackwardDataDirectT(p, dy, wt, dx, ws)
}

// convBackwardDataDirectT is convBackwardDataDirect given the transposed,
// flipped weights wt.
func convBackwardDataDirectT(p Conv, dy, wt, dx []float32, ws *Workspace) {
	ho, wo := p.OutH(), p.OutW()
	d := newDirect(ho, wo, p.KH-1-p.Pad, p.KW-1-p.Pad, p.KH, p.KW, 1)
	dyp := d.pad(ws, dy, p.N)
	offs := d.offsets(ws, nil, p.N)
	t := grow(&ws.s2, p.C*d.pp)
	d.run(ws, p.C, wt, dyp, offs, t)
	hw := p.H * p.W
	for c := range p.C {
		d.unpad(dx[c*hw:(c+1)*hw], t[c*d.pp:])
	}
}

// flipTranspose sets dst[c][n][kk-1-i] = src[n][c][i]: the weights of the
// backward-data convolution. It is as costly as a fifth of a 64x8x8
// layer's products, so it writes dst in order and reverses 3x3 taps
// unrolled.
func flipTranspose(dst, src []float32, nf, ch, kk int) {
	for c := range ch {
		row := dst[c*nf*kk : (c+1)*nf*kk]
		for n := range nf {
			s := src[(n*ch+c)*kk : (n*ch+c+1)*kk]
			d := row[n*kk : (n+1)*kk]
			if kk == 9 {
				s, d := s[:9:9], d[:9:9]
				d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8] = s[8], s[7], s[6], s[5], s[4], s[3], s[2], s[1], s[0]
				continue
			}
			for i, v := range s {
				d[kk-1-i] = v
			}
		}
	}
}
