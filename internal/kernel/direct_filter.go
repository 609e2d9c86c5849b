package kernel

// This file holds the filter gradient of a convolution, computed
// like the forward pass without an im2col matrix. Transposed, the gradient
// is dw^T[k][n] = sum_q xp[offs[k]+q] * dyT[q][n] over the positions q of
// the padded-pitch output: each tap k reads its shifted padded plane as a
// row of A (the micro-kernel's aoffs), and B is dy transposed to [q][n]
// with zeros in the halo columns, so the halo adds nothing.

// filterGradLen is FilterGradLen: dw^T as [k][np], np = N rounded up to
// whole vectors.
func filterGradLen(p Conv) int {
	return p.C * p.KH * p.KW * ((p.N + vecW - 1) / vecW * vecW)
}

// convBackwardFilterDirect is ConvBackwardFilter.
func convBackwardFilterDirect(p Conv, x, dy, dw []float32, ws *Workspace) {
	g := grow(&ws.s3, filterGradLen(p))
	clear(g)
	convBackwardFilterAcc(p, x, dy, g, ws)
	addFilterGrad(p, g, dw)
}

// addFilterGrad is AddFilterGrad.
func addFilterGrad(p Conv, g, dw []float32) {
	k := p.C * p.KH * p.KW
	np := (p.N + vecW - 1) / vecW * vecW
	_ = g[k*np-1]
	for n := range p.N {
		dst := dw[n*k : (n+1)*k]
		for i := range dst {
			dst[i] += g[i*np+n]
		}
	}
}

// convBackwardFilterAcc is ConvBackwardFilterAcc: g += dw^T of one image.
func convBackwardFilterAcc(p Conv, x, dy, g []float32, ws *Workspace) {
	d := newDirect(p.H, p.W, p.Pad, p.Pad, p.KH, p.KW, p.Stride)
	xp := d.pad(ws, x, p.C)
	taps := d.offsets(ws, nil, p.C) // row offsets of A
	k := len(taps)
	q := d.ho * d.wp // reduction length
	nvAll := (p.N + vecW - 1) / vecW
	np := nvAll * vecW

	// dyT[q][n], halo columns and the filters past N zero.
	dyT := grow(&ws.s2, q*np)
	clear(dyT)
	hw := d.ho * d.wo
	for n := range p.N {
		src := dy[n*hw : (n+1)*hw]
		for oy := range d.ho {
			row := src[oy*d.wo : (oy+1)*d.wo]
			base := oy*d.wp*np + n
			for ox, v := range row {
				dyT[base+ox*np] = v
			}
		}
	}
	boffs := grow(&ws.offs2, q)
	for i := range boffs {
		boffs[i] = int32(i * np)
	}

	// g += dw^T [k][np], one tile row band at a time.
	_ = g[k*np-1]
	kern := cur.kern
	nvb := nvAll
	if nvb > maxNV {
		nvb = tileNV
	}
	mr := mrFor(nvb)
	for k0 := 0; k0 < k; k0 += mr {
		m := min(mr, k-k0)
		for j0 := 0; j0 < np; j0 += nvb * vecW {
			nv := min(nvb, (np-j0)/vecW)
			kern(m, nv, q, xp, taps[k0:k0+m], dyT[j0:], boffs, g[k0*np+j0:], np, true)
		}
	}
}
