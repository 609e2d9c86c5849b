package kernel

// This file holds the filter gradient of a convolution, computed
// like the forward pass without an im2col matrix. Transposed, the gradient
// is dw^T[k][n] = sum_q xp[offs[k]+q] * dyT[q][n] over the positions q of
// the padded-pitch output: each tap k reads its shifted padded plane as a
// row of A (the micro-kernel's aoffs), and B is dy transposed to [q][n]
// with zeros in the halo columns, so the halo adds nothing.

// dotFilters and dotMinLen bound the convolutions whose filter gradient
// runs as inner products (convBackwardFilterDot): with one vector of
// filters, the transposed form's micro-kernel tile (8 x 1 vector) waits on
// its 8 broadcasts per 8 FMAs and ran at half the FMA peak, and the
// transposition of dy cost a third as much again; the inner products pay
// one horizontal sum per tile instead, which long rows amortise.
const (
	dotFilters = vecW
	dotMinLen  = 512
)

// useDot reports whether p's filter gradient runs as inner products.
func useDot(p Conv) bool {
	d := newDirect(p.H, p.W, p.Pad, p.Pad, p.KH, p.KW, p.Stride)
	return p.N <= dotFilters && d.ho*d.wp >= dotMinLen
}

// filterGradLen is FilterGradLen: dw itself for the inner-product form,
// else dw^T as [k][np], np = N rounded up to whole vectors.
func filterGradLen(p Conv) int {
	if useDot(p) {
		return p.N * p.C * p.KH * p.KW
	}
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
	if useDot(p) {
		AddTo(dw, g[:len(dw)])
		return
	}
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

// convBackwardFilterAcc is ConvBackwardFilterAcc: g += the gradient of
// one image, in filterGradLen's layout.
func convBackwardFilterAcc(p Conv, x, dy, g []float32, ws *Workspace) {
	if useDot(p) {
		convBackwardFilterDot(p, x, dy, g, ws)
		return
	}
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

// convBackwardFilterDot is convBackwardFilterAcc as inner products:
// dw[n][k] += sum_q dyP[n][q] * xp[taps[k]+q] over the padded-pitch output
// positions q, with dyP = dy in the padded pitch, zero in the halo columns
// and the tail, so the halo adds nothing.
func convBackwardFilterDot(p Conv, x, dy, dw []float32, ws *Workspace) {
	d := newDirect(p.H, p.W, p.Pad, p.Pad, p.KH, p.KW, p.Stride)
	xp := d.pad(ws, x, p.C)
	taps := d.offsets(ws, nil, p.C)
	_ = dw[p.N*len(taps)-1]
	dyP := grow(&ws.s2, p.N*d.pp)
	for n := range p.N {
		d.padGradRow(dyP[n*d.pp:(n+1)*d.pp], dy, n)
	}
	d.dotTiles(dyP, p.N, xp, taps, dw)
}

// padGradRow writes output plane n of dy into row (d.pp floats) in the
// padded pitch, zero in the halo columns and the tail.
func (d *direct) padGradRow(row, dy []float32, n int) {
	hw := d.ho * d.wo
	padRows(row, dy[n*hw:(n+1)*hw], d.ho, d.wo, d.wp)
	clear(row[d.ho*d.wp:])
}

// dotTiles adds to acc ([nf][len(taps)]) the inner products of the nf
// padded gradient rows of a (pitch d.pp) with the input planes xp shifted
// by each tap, in dotKernel tiles.
func (d *direct) dotTiles(a []float32, nf int, xp []float32, taps []int32, acc []float32) {
	k, q := len(taps), d.pp/vecW
	dot := cur.dot
	for n0 := 0; n0 < nf; n0 += dotMaxNB {
		nb := min(dotMaxNB, nf-n0)
		for k0 := 0; k0 < k; k0 += dotMaxKB {
			kb := min(dotMaxKB, k-k0)
			dot(nb, kb, q, a[n0*d.pp:], d.pp, xp, taps[k0:k0+kb], acc[n0*k+k0:], k)
		}
	}
}
