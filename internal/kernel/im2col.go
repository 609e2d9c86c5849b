package kernel

// This file holds the im2col routes, used for the shapes the direct
// convolution does not cover (stride > 1) and for the filter gradient:
// per image, the receptive fields become the columns of a
// [C*KH*KW][OutH*OutW] matrix in the Workspace, and a GEMM does the rest.

// im2col writes cols[(ci*KH+ky)*KW+kx][oy*OutW+ox] = x[c][iy][ix] (zero
// outside the image) for the channels chans (nil: all of 0..p.C-1).
func im2col(p Conv, x []float32, chans []int, cols []float32) {
	oh, ow := p.OutH(), p.OutW()
	ch := p.C
	if chans != nil {
		ch = len(chans)
	}
	for ci := range ch {
		c := ci
		if chans != nil {
			c = chans[ci]
		}
		plane := x[c*p.H*p.W : (c+1)*p.H*p.W]
		for ky := range p.KH {
			for kx := range p.KW {
				row := cols[((ci*p.KH+ky)*p.KW+kx)*oh*ow:]
				lo, hi := validRange(ow, p.Stride, p.Pad, kx, p.W)
				for oy := range oh {
					dst := row[oy*ow : (oy+1)*ow]
					iy := oy*p.Stride - p.Pad + ky
					if iy < 0 || iy >= p.H || lo >= hi {
						clear(dst)
						continue
					}
					clear(dst[:lo])
					clear(dst[hi:])
					src := plane[iy*p.W:]
					if p.Stride == 1 {
						copy(dst[lo:hi], src[lo-p.Pad+kx:])
						continue
					}
					for ox := lo; ox < hi; ox++ {
						dst[ox] = src[ox*p.Stride-p.Pad+kx]
					}
				}
			}
		}
	}
}

// col2im adds cols (laid out as im2col's) into dx.
func col2im(p Conv, cols, dx []float32) {
	oh, ow := p.OutH(), p.OutW()
	for c := range p.C {
		plane := dx[c*p.H*p.W : (c+1)*p.H*p.W]
		for ky := range p.KH {
			for kx := range p.KW {
				row := cols[((c*p.KH+ky)*p.KW+kx)*oh*ow:]
				lo, hi := validRange(ow, p.Stride, p.Pad, kx, p.W)
				for oy := range oh {
					iy := oy*p.Stride - p.Pad + ky
					if iy < 0 || iy >= p.H {
						continue
					}
					src := row[oy*ow : (oy+1)*ow]
					dst := plane[iy*p.W:]
					for ox := lo; ox < hi; ox++ {
						dst[ox*p.Stride-p.Pad+kx] += src[ox]
					}
				}
			}
		}
	}
}

// validRange returns the output columns [lo, hi) whose input column
// ox*stride - pad + kx lies in [0, w).
func validRange(ow, stride, pad, kx, w int) (lo, hi int) {
	// ix >= 0  <=>  ox >= ceil((pad-kx)/stride)
	if pad > kx {
		lo = (pad - kx + stride - 1) / stride
	}
	// ix < w  <=>  ox*stride <= w-1+pad-kx
	if r := w - 1 + pad - kx; r < 0 {
		hi = 0
	} else {
		hi = min(ow, r/stride+1)
	}
	lo = min(lo, ow)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// convForwardIm2col is ConvForward via im2col and one GEMM.
func convForwardIm2col(p Conv, x, w, y []float32, ws *Workspace) {
	k, hw := p.C*p.KH*p.KW, p.OutH()*p.OutW()
	cols := grow(&ws.s1, k*hw)
	im2col(p, x, nil, cols)
	sgemm(false, false, p.N, hw, k, 1, w, k, cols, hw, 0, y, hw, ws)
}

// convBackwardDataGemm is ConvBackwardData as cols = W^T dy, then col2im.
func convBackwardDataGemm(p Conv, dy, w, dx []float32, ws *Workspace) {
	k, hw := p.C*p.KH*p.KW, p.OutH()*p.OutW()
	cols := grow(&ws.s1, k*hw)
	sgemm(true, false, k, hw, p.N, 1, w, k, dy, hw, 0, cols, hw, ws)
	clear(dx[:p.C*p.H*p.W])
	col2im(p, cols, dx)
}

// convBackwardFilterGemm is ConvBackwardFilter as dw += dy im2col(x)^T.
func convBackwardFilterGemm(p Conv, x, dy, dw []float32, ws *Workspace) {
	k, hw := p.C*p.KH*p.KW, p.OutH()*p.OutW()
	cols := grow(&ws.s1, k*hw)
	im2col(p, x, nil, cols)
	sgemm(false, true, p.N, k, hw, 1, dy, hw, cols, hw, 1, dw, k, ws)
}

// groupConvForwardIm2col is GroupConvForward via a per-group im2col of
// the group's channels and a GEMM into scratch rows.
func groupConvForwardIm2col(p Conv, groups []Group, x, y []float32, ws *Workspace) {
	hw := p.OutH() * p.OutW()
	kk := p.KH * p.KW
	for _, g := range groups {
		nf := len(g.Filters)
		if nf == 0 {
			continue
		}
		chans := g.Channels
		if chans == nil {
			chans = []int{} // no channels, not all of them
		}
		k := len(chans) * kk
		cols := grow(&ws.s1, k*hw)
		im2col(p, x, chans, cols)
		t := grow(&ws.s2, nf*hw)
		sgemm(false, false, nf, hw, k, 1, g.Weights, k, cols, hw, 0, t, hw, ws)
		for fi, n := range g.Filters {
			copy(y[n*hw:(n+1)*hw], t[fi*hw:(fi+1)*hw])
		}
	}
}
