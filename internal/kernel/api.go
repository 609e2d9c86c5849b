package kernel

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices, where
// op(A) is m x k (A is k x m when transA), op(B) is k x n (B is n x k when
// transB). When beta == 0, C is overwritten (NaNs in C do not propagate).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmRef(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// ConvForward computes y[N][OutH][OutW] = conv(x[C][H][W], w[N][C][KH][KW]),
// overwriting y.
func ConvForward(p Conv, x, w, y []float32, ws *Workspace) {
	convForwardRef(p, x, w, y)
}

// ConvBackwardData computes dx[C][H][W] from dy[N][OutH][OutW] and w,
// overwriting dx.
func ConvBackwardData(p Conv, dy, w, dx []float32, ws *Workspace) {
	convBackwardDataRef(p, dy, w, dx)
}

// ConvBackwardFilter accumulates into dw[N][C][KH][KW] the gradient of the
// weights given the input x and the output gradient dy (dw += ...).
func ConvBackwardFilter(p Conv, x, dy, dw []float32, ws *Workspace) {
	convBackwardFilterRef(p, x, dy, dw)
}

// GroupConvForward runs a diverse group convolution: each group's filters
// read only the group's channels. It writes y only at the output channels
// listed in some group's Filters; other channels of y are left untouched.
// p.N is the total number of output channels of y and p.C of x.
func GroupConvForward(p Conv, groups []Group, x, y []float32, ws *Workspace) {
	groupConvForwardRef(p, groups, x, y)
}
