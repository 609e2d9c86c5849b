package nn

import (
	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/internal/parallel"
)

// minChunk is the fewest floats worth a goroutine of an elementwise loop:
// below it, fork/join (about a microsecond) costs more than the loop.
const minChunk = 1 << 14

// forChunks calls fn on contiguous chunks [lo, hi) covering [0, n), in
// parallel when n is large; chunk edges fall on multiples of 16 floats, so
// the vector kernels see whole vectors.
func forChunks(n int, fn func(lo, hi int)) {
	t := min(parallel.Threads(), n/minChunk)
	if t <= 1 {
		fn(0, n)
		return
	}
	parallel.For(t, func(_, w int) {
		lo, hi := (w*n/t)&^15, ((w+1)*n/t)&^15
		if w == t-1 {
			hi = n
		}
		fn(lo, hi)
	})
}

// addInto sets dst[i] += src[i] in parallel.
func addInto(dst, src []float32) {
	forChunks(len(dst), func(lo, hi int) { kernel.AddTo(dst[lo:hi], src[lo:hi]) })
}
