package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func TestForVisitsEachItemOnce(t *testing.T) {
	for _, th := range []int{1, 2, 3, 8} {
		p := NewPool(th)
		for _, n := range []int{0, 1, 2, 7, 100} {
			counts := make([]atomic.Int32, n)
			workers := make([]atomic.Int32, n)
			p.For(n, func(w, i int) {
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
		if got := p.Peak(); got != th {
			t.Errorf("threads %d: Peak %d after a loop of 100 items", th, got)
		}
	}
}

// Two pools used at once keep their own counts, whatever the default.
func TestPoolsAreIndependent(t *testing.T) {
	defer SetThreads(Threads())
	SetThreads(5)
	a, b := NewPool(1), NewPool(3)
	var wg sync.WaitGroup
	var maxW [2]atomic.Int32
	for k, p := range []*Pool{a, b} {
		wg.Go(func() {
			for range 50 {
				p.For(12, func(w, _ int) {
					for {
						old := maxW[k].Load()
						if int32(w) <= old || maxW[k].CompareAndSwap(old, int32(w)) {
							break
						}
					}
				})
			}
		})
	}
	wg.Wait()
	if a.Peak() != 1 || b.Peak() != 3 || maxW[0].Load() != 0 || maxW[1].Load() != 2 {
		t.Errorf("pools of 1 and 3: Peak %d and %d, highest worker %d and %d", a.Peak(), b.Peak(), maxW[0].Load(), maxW[1].Load())
	}
}

func TestDefaultPool(t *testing.T) {
	defer SetThreads(Threads())
	if NewPool(0) != nil || NewPool(-2) != nil {
		t.Fatal("NewPool(< 1) is not the default (nil) pool")
	}
	SetThreads(0)
	if got := (*Pool)(nil).Threads(); got != runtime.GOMAXPROCS(0) {
		t.Errorf("default threads %d, want GOMAXPROCS %d", got, runtime.GOMAXPROCS(0))
	}
	SetThreads(4)
	var p *Pool
	if p.Threads() != 4 {
		t.Errorf("nil pool: %d threads after SetThreads(4)", p.Threads())
	}
	p.For(9, func(int, int) {})
	if p.Peak() < 4 {
		t.Errorf("default pool's Peak %d after a loop of 9 items on 4 threads", p.Peak())
	}
}
