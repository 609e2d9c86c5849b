package kernel

// Routes (see the package doc): convolutions run direct (direct.go,
// direct_filter.go), except backward data for stride > 1, which is a GEMM
// and col2im (im2col.go); all reach the micro-kernel (micro.go).

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices, where
// op(A) is m x k (A is k x m when transA), op(B) is k x n (B is n x k when
// transB). When beta == 0, C is overwritten (NaNs in C do not propagate).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ws := wsPool.Get().(*Workspace)
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ws)
	wsPool.Put(ws)
}

// ConvForward computes y[N][OutH][OutW] = conv(x[C][H][W], w[N][C][KH][KW]),
// overwriting y.
func ConvForward(p Conv, x, w, y []float32, ws *Workspace) {
	convForwardDirect(p, x, w, y, ws)
}

// ConvBackwardData computes dx[C][H][W] from dy[N][OutH][OutW] and w,
// overwriting dx.
func ConvBackwardData(p Conv, dy, w, dx []float32, ws *Workspace) {
	if canBackwardDataDirect(p) {
		convBackwardDataDirect(p, dy, w, dx, ws)
		return
	}
	convBackwardDataGemm(p, dy, w, dx, ws)
}

// PrepareBackwardData writes into wt (length p.N*p.C*p.KH*p.KW) the weights
// w rearranged for ConvBackwardDataPrepared: transposed and flipped where
// backward data runs as a direct convolution. A layer calls it once per
// backward pass instead of once per image; for a 64->64 3x3 conv on 8x8
// the rearrangement costs about a fifth of the products.
func PrepareBackwardData(p Conv, w, wt []float32) {
	kk := p.KH * p.KW
	if canBackwardDataDirect(p) {
		flipTranspose(wt[:p.C*p.N*kk], w[:p.N*p.C*kk], p.N, p.C, kk)
		return
	}
	copy(wt[:p.N*p.C*kk], w)
}

// ConvBackwardDataPrepared is ConvBackwardData with weights that
// PrepareBackwardData rearranged.
func ConvBackwardDataPrepared(p Conv, dy, wt, dx []float32, ws *Workspace) {
	if canBackwardDataDirect(p) {
		convBackwardDataDirectT(p, dy, wt, dx, ws)
		return
	}
	convBackwardDataGemm(p, dy, wt, dx, ws)
}

// ConvBackwardFilter accumulates into dw[N][C][KH][KW] the gradient of the
// weights given the input x and the output gradient dy (dw += ...).
func ConvBackwardFilter(p Conv, x, dy, dw []float32, ws *Workspace) {
	convBackwardFilterDirect(p, x, dy, dw, ws)
}

// FilterGradLen is the length of the filter-gradient accumulator of
// ConvBackwardFilterAcc for p. Its layout is the kernel's choice, fixed by
// p: dw itself where the gradient runs as inner products (at most 16
// filters on long rows), else dw transposed, [C*KH*KW][N'] with N rounded
// up to whole vectors.
func FilterGradLen(p Conv) int { return filterGradLen(p) }

// ConvBackwardFilterAcc is ConvBackwardFilter into the accumulator g
// (FilterGradLen(p) floats, zeroed by the caller before the first image):
// a batch accumulates every image's gradient in g and adds it to dw once
// with AddFilterGrad, instead of transposing it per image (which cost up
// to 40% of the products on 8x8 planes).
func ConvBackwardFilterAcc(p Conv, x, dy, g []float32, ws *Workspace) {
	convBackwardFilterAcc(p, x, dy, g, ws)
}

// AddFilterGrad adds the accumulator g of ConvBackwardFilterAcc to
// dw[N][C][KH][KW].
func AddFilterGrad(p Conv, g, dw []float32) { addFilterGrad(p, g, dw) }

// GroupConvForward runs a diverse group convolution: each group's filters
// read only the group's channels. It writes y only at the output channels
// listed in some group's Filters; other channels of y are left untouched.
// p.N is the total number of output channels of y and p.C of x.
func GroupConvForward(p Conv, groups []Group, x, y []float32, ws *Workspace) {
	groupConvForwardDirect(p, groups, x, y, ws)
}

// FLOPs is the number of floating-point operations (2 per multiply-add)
// of one image's forward pass; each backward pass costs the same.
func (p Conv) FLOPs() float64 {
	return 2 * float64(p.N) * float64(p.C*p.KH*p.KW) * float64(p.OutH()*p.OutW())
}
