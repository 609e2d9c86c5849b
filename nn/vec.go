package nn

import (
	"github.com/sgcnn/sgcnn/internal/kernel"
)

// minChunk is the fewest floats worth a goroutine of an elementwise loop:
// below it, fork/join (about a microsecond) costs more than the loop.
const minChunk = 1 << 14

// forChunks calls fn on contiguous chunks [lo, hi) covering [0, n), on
// c's workers when n is large; chunk edges fall on multiples of 16 floats,
// so the vector kernels see whole vectors.
func (c *Ctx) forChunks(n int, fn func(lo, hi int)) {
	p := c.Pool()
	t := min(p.Threads(), n/minChunk)
	if t <= 1 {
		fn(0, n)
		return
	}
	p.For(t, func(_, w int) {
		lo, hi := (w*n/t)&^15, ((w+1)*n/t)&^15
		if w == t-1 {
			hi = n
		}
		fn(lo, hi)
	})
}

// addInto sets dst[i] += src[i] on c's workers.
func (c *Ctx) addInto(dst, src []float32) {
	c.forChunks(len(dst), func(lo, hi int) { kernel.AddTo(dst[lo:hi], src[lo:hi]) })
}
