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
	_ = acc[:GroupFilterGradLen(p, groups)]
	// dy's rows in group order, so that each group's rows are contiguous.
	rows := 0
	for _, g := range groups {
		rows += len(g.Filters)
	}
	dyP := grow(&ws.s2, rows*d.pp)
	r := 0
	for _, g := range groups {
		for _, n := range g.Filters {
			d.padGradRow(dyP[r*d.pp:(r+1)*d.pp], dy, n)
			r++
		}
	}
	xp := d.pad(ws, x, p.C)
	r, off := 0, 0
	for _, g := range groups {
		nf, k := len(g.Filters), len(g.Channels)*kk
		if nf > 0 && k > 0 {
			d.dotTiles(dyP[r*d.pp:], nf, xp, d.offsets(ws, g.Channels, 0), acc[off:off+nf*k])
		}
		r += nf
		off += nf * k
	}
}
