package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

// Back-to-back loops run on the Pool's Team: no goroutine is started per
// loop, and the worker numbers stay those of contiguous blocks.
func TestForReusesItsTeam(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one P: no Team")
	}
	p := NewPool(2)
	p.For(2, func(int, int) {}) // starts the Team
	before := runtime.NumGoroutine()
	var bad atomic.Int32
	for range 1000 {
		p.For(10, func(w, i int) {
			if i < w*5 || i >= (w+1)*5 {
				bad.Add(1)
			}
		})
		if n := runtime.NumGoroutine(); n > before {
			t.Fatalf("%d goroutines during back-to-back loops, %d after the first", n, before)
		}
	}
	if bad.Load() != 0 {
		t.Errorf("%d items ran outside their worker's block", bad.Load())
	}
}

// A loop inside a loop, and loops on one Pool from several goroutines, run
// every item once: the Team is busy, so they fall back to new goroutines.
func TestForNestedAndConcurrent(t *testing.T) {
	p := NewPool(3)
	var count atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				p.For(6, func(_, _ int) {
					p.For(5, func(_, _ int) { count.Add(1) })
				})
			}
		})
	}
	wg.Wait()
	if got := count.Load(); got != 4*50*6*5 {
		t.Errorf("%d items ran, want %d", got, 4*50*6*5)
	}
}

// An item that panics propagates the panic to For's caller on the calling
// goroutine, and the Pool runs later loops correctly.
func TestForAfterPanic(t *testing.T) {
	p := NewPool(2)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("no panic from For")
			}
		}()
		p.For(2, func(w, _ int) {
			if w == 0 {
				panic("item")
			}
		})
	}()
	for range 100 {
		var count atomic.Int32
		p.For(7, func(_, _ int) { count.Add(1) })
		if count.Load() != 7 {
			t.Fatalf("%d of 7 items ran after a panic", count.Load())
		}
	}
}

// The default (nil) Pool follows SetThreads from one loop to the next.
func TestDefaultPoolFollowsSetThreads(t *testing.T) {
	defer SetThreads(Threads())
	var p *Pool
	for _, th := range []int{2, 3, 2} {
		SetThreads(th)
		var maxW atomic.Int32
		p.For(30, func(w, _ int) {
			for {
				old := maxW.Load()
				if int32(w) <= old || maxW.CompareAndSwap(old, int32(w)) {
					break
				}
			}
		})
		if int(maxW.Load()) != th-1 {
			t.Errorf("SetThreads(%d): highest worker %d", th, maxW.Load())
		}
	}
}

// ForAny visits each item once, never runs one worker number on two
// goroutines at once, and gives a slow worker fewer items.
func TestForAnyVisitsEachItemOnce(t *testing.T) {
	for _, th := range []int{1, 2, 3, 8} {
		p := NewPool(th)
		for _, n := range []int{0, 1, 2, 7, 100} {
			counts := make([]atomic.Int32, n)
			busy := make([]atomic.Bool, th)
			p.ForAny(n, func(w, i int) {
				if w < 0 || w >= th {
					t.Errorf("threads %d: worker %d", th, w)
					return
				}
				if busy[w].Swap(true) {
					t.Errorf("threads %d, n %d: worker %d ran two items at once", th, n, w)
				}
				counts[i].Add(1)
				runtime.Gosched()
				busy[w].Store(false)
			})
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("threads %d, n %d: item %d visited %d times", th, n, i, c)
				}
			}
		}
	}
}

func TestForAnyBalancesASlowWorker(t *testing.T) {
	var ran [2]atomic.Int32
	NewPool(2).ForAny(40, func(w, _ int) {
		ran[w].Add(1)
		if w == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	})
	if a, b := ran[0].Load(), ran[1].Load(); a+b != 40 || a >= b {
		t.Errorf("40 items, worker 0 slow: workers ran %d and %d items", a, b)
	}
}
