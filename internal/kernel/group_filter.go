package kernel

// This file holds the weight gradient of a diverse group convolution
// (GroupConvForward's groups): per group, the inner products of its
// filters' output gradients with the shifted input planes of its
// channels only, the dotKernel form of direct_filter.go restricted to the
// kept connections.

// GroupFilterGradLen is the length of GroupFilterGradAcc's accumulator for
// groups: sum over groups of filters x channels x KH*KW.
func GroupFilterGradLen(p Conv, groups []Group) int {
	n := 0
	for _, g := range groups {
		n += len(g.Filters) * len(g.Channels) * p.KH * p.KW
	}
	return n
}

// GroupFilterGradAcc adds to acc the weight gradient of one image x (with
// output gradient dy, [N][OutH][OutW]) with respect to every group's
// weights, group after group, each laid out as Group.Weights is
// ([filters][channels][KH][KW]); the groups' Weights themselves are not
// read. A filter may appear in one group only.
func GroupFilterGradAcc(p Conv, groups []Group, x, dy, acc []float32, ws *Workspace) {
	d := newDirect(p.H, p.W, p.Pad, p.Pad, p.KH, p.KW, p.Stride)
	kk := p.KH * p.KW
	hw := d.ho * d.wo
	_ = acc[:GroupFilterGradLen(p, groups)]
	// dy in the padded pitch, zero in the halo and tail, one row per
	// filter in group order, so that each group's rows are contiguous.
	rows := 0
	for _, g := range groups {
		rows += len(g.Filters)
	}
	dyP := grow(&ws.s2, rows*d.pp)
	r := 0
	for _, g := range groups {
		for _, n := range g.Filters {
			row := dyP[r*d.pp : (r+1)*d.pp]
			padRows(row, dy[n*hw:(n+1)*hw], d.ho, d.wo, d.wp)
			clear(row[d.ho*d.wp:])
			r++
		}
	}
	xp := d.pad(ws, x, p.C)
	q := d.pp / vecW
	dot := cur.dot
	r, off := 0, 0
	for _, g := range groups {
		nf, k := len(g.Filters), len(g.Channels)*kk
		if nf == 0 || k == 0 {
			r += nf
			continue
		}
		taps := d.offsets(ws, g.Channels, 0)
		a := dyP[r*d.pp:]
		gacc := acc[off : off+nf*k]
		for n0 := 0; n0 < nf; n0 += dotMaxNB {
			nb := min(dotMaxNB, nf-n0)
			for k0 := 0; k0 < k; k0 += dotMaxKB {
				kb := min(dotMaxKB, k-k0)
				dot(nb, kb, q, a[n0*d.pp:], d.pp, xp, taps[k0:k0+kb], gacc[n0*k+k0:], k)
			}
		}
		r += nf
		off += nf * k
	}
}
