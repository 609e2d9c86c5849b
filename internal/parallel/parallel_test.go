package parallel

import (
	"sync/atomic"
	"testing"
)

func TestForVisitsEachItemOnce(t *testing.T) {
	defer SetThreads(0)
	for _, th := range []int{1, 2, 3, 8} {
		SetThreads(th)
		for _, n := range []int{0, 1, 2, 7, 100} {
			counts := make([]atomic.Int32, n)
			workers := make([]atomic.Int32, n)
			For(n, func(w, i int) {
				counts[i].Add(1)
				workers[i].Store(int32(w))
			})
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("threads %d, n %d: item %d visited %d times", th, n, i, c)
				}
				// Contiguous blocks: worker w gets [w*n/t, (w+1)*n/t).
				tt := min(th, n)
				if w := int(workers[i].Load()); i < w*n/tt || i >= (w+1)*n/tt {
					t.Fatalf("threads %d, n %d: item %d ran on worker %d", th, n, i, w)
				}
			}
		}
	}
}
