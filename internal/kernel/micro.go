package kernel

// This file holds the micro-kernel interface that every driver (sgemm.go,
// direct.go) calls, and its pure-Go implementation. Assembly versions, where
// the CPU has them, replace it at init (micro_amd64.go).

const (
	vecW   = 16            // float32 lanes of one vector (a zmm register)
	maxMR  = 8             // most rows of one micro-tile
	maxNV  = 4             // most vectors in one micro-tile row
	maxAcc = 24            // most accumulator vectors (m*nv) of one micro-tile
	maxNR  = maxNV * vecW  // most columns of one micro-tile
	tileNV = 3             // vectors per row of the drivers' usual 8 x 48 tile
	tileNR = tileNV * vecW // columns of the usual tile
	wideNV = 8             // vectors of the one-row wide tile (1 x 128)
	// planeNV and planeMR shape the tile of an 8x8 plane's padded-pitch
	// output (8 rows of 10 = 80 floats, 5 vectors): one 4 x 80 tile covers
	// it where 8 x 48 tiles left an 8 x 32 remainder with 10 loads per 16
	// FMAs, 40% of the work.
	planeNV = 5
	planeMR = 4
)

// mrFor is the most rows a micro-tile of nv vectors may have.
func mrFor(nv int) int {
	if nv == planeNV {
		return planeMR
	}
	if nv > maxNV {
		return 1 // the wide tile
	}
	return min(maxMR, maxAcc/nv)
}

// microKernel computes one m x 16*nv tile of C (1 <= m <= mrFor(nv),
// 1 <= nv <= maxNV or nv == planeNV; or the wide tile, m == 1 and nv ==
// wideNV, whose 8 accumulators hide the FMA latency that a one-row tile of
// maxNV vectors cannot) from k steps of an indirect A and an indirect B:
//
//	for i := range m {
//		for j := range 16 * nv {
//			var s float32
//			for p := range k {
//				s += a[int(aoffs[i])+p] * b[int(boffs[p])+j]
//			}
//			if add {
//				c[i*ldc+j] += s
//			} else {
//				c[i*ldc+j] = s
//			}
//		}
//	}
//
// Row i of A starts at aoffs[i] (i*lda for a matrix), and row p of B at
// boffs[p]: p*ldb for a matrix, while a direct convolution lists the
// shifted image planes of each tap.
type microKernel func(m, nv, k int, a []float32, aoffs []int32, b []float32, boffs []int32, c []float32, ldc int, add bool)

// row3Kernel computes tiles consecutive m x 16*nv tiles (1 <= m <=
// row3MaxM, 1 <= nv <= row3MaxNV(m)) of a small filter group of a
// stride-1 convolution whose taps come in kernel rows of three
// consecutive offsets:
//
//	for i := range m {
//		for j := range 16 * nv * tiles {
//			var s float32
//			for r := range rowOffs {
//				for t := range 3 {
//					s += a[i*lda+3*r+t] * b[int(rowOffs[r])+t+j]
//				}
//			}
//			c[i*ldc+j] = s
//		}
//	}
//
// the microKernel's sums with boffs = the taps of every row, in the same
// order (or, in variant row3Shift, in another). One call runs a row of
// tiles, so that the per-tile call overhead, as much as a fifth of a
// small group's time, stays out of the Go loop. It may read b up to
// rowOffs[r] + 16*(tiles*nv+1) - 1.
type row3Kernel func(m, nv, tiles int, a []float32, lda int, b []float32, rowOffs []int32, c []float32, ldc int)

// row3MaxM is the most rows of a row3Kernel tile.
const row3MaxM = 3

// row3MaxNV is the widest row3Kernel tile of m rows, in vectors: the
// assembly keeps m*nv accumulators and nv+1 B vectors in 21 registers.
func row3MaxNV(m int) int {
	if m == 1 {
		return wideNV
	}
	return 20 / (m + 1)
}

// dotKernel computes an nb x kb tile (nb <= dotMaxNB, kb <= dotMaxKB) of
// inner products of length 16*q, added to c:
//
//	for i := range nb {
//		for j := range kb {
//			var s float32
//			for p := range 16 * q {
//				s += a[i*lda+p] * b[int(boffs[j])+p]
//			}
//			c[i*ldc+j] += s
//		}
//	}
//
// (in any order of summation): the filter gradient of a convolution with
// few filters (direct_filter.go).
type dotKernel func(nb, kb, q int, a []float32, lda int, b []float32, boffs []int32, c []float32, ldc int)

// The largest dotKernel tile: 24 accumulators.
const (
	dotMaxNB = 4
	dotMaxKB = 6
)

// dotGo is the pure-Go dotKernel.
func dotGo(nb, kb, q int, a []float32, lda int, b []float32, boffs []int32, c []float32, ldc int) {
	n := 16 * q
	for i := range nb {
		ar := a[i*lda : i*lda+n]
		for j := range kb {
			br := b[boffs[j] : int(boffs[j])+n]
			var s float32
			for p, v := range ar {
				s += v * br[p]
			}
			c[i*ldc+j] += s
		}
	}
}

// impl is one micro-kernel implementation.
type impl struct {
	name string
	kern microKernel
	vec  bool       // elementwise loops in assembly (elem.go)
	row3 row3Kernel // nil: the wide microKernel serves
	dot  dotKernel
}

var (
	implGo = impl{"go", microGo, false, nil, dotGo}
	cur    = implGo         // the implementation in use
	impls  = []impl{implGo} // all usable on this CPU, fastest last
)

// Impl names the micro-kernel implementation in use: "go" or "avx512".
func Impl() string { return cur.name }

// microGo is the pure-Go microKernel. It walks the tile in 2 x 4 register
// blocks: 8 accumulators and 6 loads fit the 16 SSE registers without spills.
func microGo(m, nv, k int, a []float32, aoffs []int32, b []float32, boffs []int32, c []float32, ldc int, add bool) {
	n := nv * vecW
	offs := boffs[:k]
	i := 0
	for ; i+2 <= m; i += 2 {
		a0s := a[aoffs[i] : int(aoffs[i])+k]
		a1s := a[aoffs[i+1] : int(aoffs[i+1])+k]
		for j := 0; j < n; j += 4 {
			var s00, s01, s02, s03, s10, s11, s12, s13 float32
			for p, o := range offs {
				bb := b[int(o)+j : int(o)+j+4 : int(o)+j+4]
				b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
				a0, a1 := a0s[p], a1s[p]
				s00 += a0 * b0
				s01 += a0 * b1
				s02 += a0 * b2
				s03 += a0 * b3
				s10 += a1 * b0
				s11 += a1 * b1
				s12 += a1 * b2
				s13 += a1 * b3
			}
			put4(c[i*ldc+j:], add, s00, s01, s02, s03)
			put4(c[(i+1)*ldc+j:], add, s10, s11, s12, s13)
		}
	}
	if i < m {
		a0s := a[aoffs[i] : int(aoffs[i])+k]
		for j := 0; j < n; j += 4 {
			var s0, s1, s2, s3 float32
			for p, o := range offs {
				bb := b[int(o)+j : int(o)+j+4 : int(o)+j+4]
				a0 := a0s[p]
				s0 += a0 * bb[0]
				s1 += a0 * bb[1]
				s2 += a0 * bb[2]
				s3 += a0 * bb[3]
			}
			put4(c[i*ldc+j:], add, s0, s1, s2, s3)
		}
	}
}

// put4 stores or adds four sums at the start of c.
func put4(c []float32, add bool, s0, s1, s2, s3 float32) {
	c = c[:4]
	if add {
		c[0] += s0
		c[1] += s1
		c[2] += s2
		c[3] += s3
	} else {
		c[0], c[1], c[2], c[3] = s0, s1, s2, s3
	}
}
