package selfgroup

import (
	"fmt"
	"math"
)

// Importance returns the importance matrix of a layer with n filters, c
// input channels and kk kernel positions (kk = 1 for an FC layer):
// I[i][j] = sum over the kk positions of |w * m[i][j]|, as n*c values. It
// uses no data and no gradients. mask is n*c values or nil (all ones).
func Importance(w []float32, n, c, kk int, mask []float32) []float32 {
	checkLayer("Importance", len(w), n, c, kk, mask)
	imp := make([]float32, n*c)
	for ij := range imp {
		m := float32(1)
		if mask != nil {
			m = mask[ij]
		}
		var s float32
		for _, v := range w[ij*kk : (ij+1)*kk] {
			s += float32(math.Abs(float64(v * m)))
		}
		imp[ij] = s
	}
	return imp
}

// TaylorImportance is sgcnn's first-order Taylor variant of Importance, not
// in the paper: I[i][j] = sum over the kk positions of |w * dL/dw * m[i][j]|,
// an estimate of how much the loss would change if the connection were
// removed. grad has the layer of w's shape; the caller accumulates it over
// the batches it wants to average.
func TaylorImportance(w, grad []float32, n, c, kk int, mask []float32) []float32 {
	checkLayer("TaylorImportance", len(w), n, c, kk, mask)
	if len(grad) != len(w) {
		panic(fmt.Sprintf("selfgroup: TaylorImportance: len(grad)=%d, want %d", len(grad), len(w)))
	}
	imp := make([]float32, n*c)
	for ij := range imp {
		m := float32(1)
		if mask != nil {
			m = mask[ij]
		}
		var s float32
		g := grad[ij*kk : (ij+1)*kk]
		for t, v := range w[ij*kk : (ij+1)*kk] {
			s += float32(math.Abs(float64(v * g[t] * m)))
		}
		imp[ij] = s
	}
	return imp
}

// checkLayer panics (programmer error) when the slice lengths do not match
// the layer shape.
func checkLayer(fn string, lenW, n, c, kk int, mask []float32) {
	if n < 1 || c < 1 || kk < 1 {
		panic(fmt.Sprintf("selfgroup: %s: need n, c, kk >= 1, got %d, %d, %d", fn, n, c, kk))
	}
	if lenW != n*c*kk {
		panic(fmt.Sprintf("selfgroup: %s: len(w)=%d, want n*c*kk=%d*%d*%d", fn, lenW, n, c, kk))
	}
	if mask != nil && len(mask) != n*c {
		panic(fmt.Sprintf("selfgroup: %s: len(mask)=%d, want n*c=%d*%d", fn, len(mask), n, c))
	}
}
