package kernel

import "sync"

// This file holds the blocked SGEMM driver: it packs alpha*op(A) into
// row tiles and op(B) into column panels, both in the Workspace, and runs
// the micro-kernel over every tile x panel pair (the BLIS loop order).

const (
	gemmKC = 256  // rows of op(B) per packed block: a 256 x 48 panel is 48 KiB, about L1
	gemmNC = 1536 // columns of op(B) per packed block: 256 x 1536 floats is 1.5 MiB, in L2
)

// wsPool serves the Workspace-less Sgemm entry point.
var wsPool = sync.Pool{New: func() any { return new(Workspace) }}

// sgemm is Sgemm with scratch memory from ws (uses ws.ga, ws.gb, ws.offs,
// ws.tile).
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ws *Workspace) {
	if m <= 0 || n <= 0 {
		return
	}
	if beta != 0 && beta != 1 {
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
	}
	if k <= 0 || alpha == 0 {
		if beta == 0 {
			for i := range m {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	kern := cur.kern
	for j0 := 0; j0 < n; j0 += gemmNC {
		nc := min(gemmNC, n-j0)
		npan := (nc + tileNR - 1) / tileNR
		for p0 := 0; p0 < k; p0 += gemmKC {
			kc := min(gemmKC, k-p0)
			add := beta != 0 || p0 > 0
			bp := packB(ws, transB, b, ldb, p0, kc, j0, nc)
			offs := grow(&ws.offs, kc)
			for p := range offs {
				offs[p] = int32(p * tileNR)
			}
			ap := packA(ws, transA, alpha, a, lda, m, p0, kc)
			aoffs := ws.aoffs[:]
			for i := range aoffs {
				aoffs[i] = int32(i * kc)
			}
			for jp := range npan {
				j := jp * tileNR
				w := min(tileNR, nc-j)
				nv := (w + vecW - 1) / vecW
				panel := bp[jp*kc*tileNR:]
				for i0 := 0; i0 < m; i0 += maxMR {
					mr := min(maxMR, m-i0)
					at := ap[i0*kc:]
					ct := c[i0*ldc+j0+j:]
					if w == nv*vecW {
						kern(mr, nv, kc, at, aoffs, panel, offs, ct, ldc, add)
						continue
					}
					// Partial panel: compute into the tile, then merge the
					// w valid columns.
					t := ws.tile[:]
					kern(mr, nv, kc, at, aoffs, panel, offs, t, tileNR, false)
					for i := range mr {
						dst := ct[i*ldc : i*ldc+w]
						src := t[i*tileNR : i*tileNR+w]
						if add {
							for jj, v := range src {
								dst[jj] += v
							}
						} else {
							copy(dst, src)
						}
					}
				}
			}
		}
	}
}

// packB copies rows p0..p0+kc and columns j0..j0+nc of op(B) into panels
// of tileNR columns: element (p, j) of panel q lands at q*kc*tileNR + p*tileNR
// + j. Columns past nc are zero.
func packB(ws *Workspace, transB bool, b []float32, ldb, p0, kc, j0, nc int) []float32 {
	npan := (nc + tileNR - 1) / tileNR
	bp := grow(&ws.gb, npan*kc*tileNR)
	for q := range npan {
		w := min(tileNR, nc-q*tileNR)
		panel := bp[q*kc*tileNR : (q+1)*kc*tileNR]
		jb := j0 + q*tileNR
		if !transB {
			for p := range kc {
				dst := panel[p*tileNR : (p+1)*tileNR]
				copy(dst, b[(p0+p)*ldb+jb:(p0+p)*ldb+jb+w])
				clear(dst[w:])
			}
			continue
		}
		if w < tileNR {
			clear(panel)
		}
		for j := range w {
			src := b[(jb+j)*ldb+p0 : (jb+j)*ldb+p0+kc]
			for p, v := range src {
				panel[p*tileNR+j] = v
			}
		}
	}
	return bp
}

// packA copies alpha times columns p0..p0+kc of op(A) (all m rows) into
// an m x kc row-major matrix.
func packA(ws *Workspace, transA bool, alpha float32, a []float32, lda, m, p0, kc int) []float32 {
	ap := grow(&ws.ga, m*kc)
	if transA {
		for p := range kc {
			src := a[(p0+p)*lda : (p0+p)*lda+m]
			for i, v := range src {
				ap[i*kc+p] = alpha * v
			}
		}
		return ap
	}
	for i := range m {
		src := a[i*lda+p0 : i*lda+p0+kc]
		dst := ap[i*kc : (i+1)*kc]
		for p, v := range src {
			dst[p] = alpha * v
		}
	}
	return ap
}
