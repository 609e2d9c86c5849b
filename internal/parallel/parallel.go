// Package parallel runs loops over independent items (typically the images
// of a batch) on a fixed number of goroutines. sgcnn parallelises over images,
// never inside one small matrix product: measured here, whole images per
// goroutine scale 1.9-2.0x on two cores, split GEMMs only 1.3-1.45x.
//
// The number of goroutines travels with the work as a *Pool: a compiled
// network, an nn.Ctx and a training run each carry their own, so two networks
// in one program can use different counts. The nil *Pool uses the
// program's default count (SetThreads, Threads), for callers that pass
// none.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// defaultThreads is the count of the nil Pool; < 1 means GOMAXPROCS.
var defaultThreads atomic.Int32

// defaultPool records the nil Pool's Peak.
var defaultPool Pool

// SetThreads sets the default number of worker goroutines: the count of
// the nil Pool, used by work that carries no count of its own;
// n < 1 means runtime.GOMAXPROCS(0).
func SetThreads(n int) { defaultThreads.Store(int32(n)) }

// Threads returns the default number of worker goroutines (SetThreads).
func Threads() int {
	if n := int(defaultThreads.Load()); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// Pool is a number of worker goroutines for loops. A Pool may be used by
// several goroutines at once. The nil *Pool uses the default count
// (SetThreads).
type Pool struct {
	threads int
	peak    atomic.Int32 // most goroutines one For has used
}

// NewPool returns a pool of threads workers; threads < 1 returns nil, the
// default pool.
func NewPool(threads int) *Pool {
	if threads < 1 {
		return nil
	}
	return &Pool{threads: threads}
}

// Threads returns the number of worker goroutines p's For uses.
func (p *Pool) Threads() int {
	if p == nil {
		return Threads()
	}
	return p.threads
}

// Peak returns the most goroutines that one call of p's For has used so
// far (for the nil Pool: of any For on the default count): a record of
// what a network really ran on.
func (p *Pool) Peak() int {
	if p == nil {
		p = &defaultPool
	}
	return int(p.peak.Load())
}

// For calls fn(worker, i) for every i in [0, n), spreading the items over
// min(p.Threads(), n) goroutines. worker is in [0, p.Threads()) and
// identifies the goroutine, so fn can use per-worker scratch space without
// locks. Items are handed out in contiguous blocks, so the assignment of
// items to workers is deterministic for a given n and thread count.
func (p *Pool) For(n int, fn func(worker, i int)) {
	t := min(p.Threads(), n)
	p.record(t)
	if t <= 1 {
		for i := range n {
			fn(0, i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range t {
		lo, hi := w*n/t, (w+1)*n/t
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				fn(w, i)
			}
		}()
	}
	wg.Wait()
}

// record raises p's Peak to t.
func (p *Pool) record(t int) {
	if p == nil {
		p = &defaultPool
	}
	for {
		old := p.peak.Load()
		if int32(t) <= old || p.peak.CompareAndSwap(old, int32(t)) {
			return
		}
	}
}
