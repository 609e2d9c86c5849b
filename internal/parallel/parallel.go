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
//
// A Pool keeps a Team of goroutines for its loops, so that back-to-back
// loops (the layers of a training step, the convs of a benchmark) find
// its goroutines awake instead of starting new ones on an idle core; a
// loop started while the Team is busy (from another goroutine, or from
// inside a loop) runs on new goroutines instead.
type Pool struct {
	threads int
	peak    atomic.Int32 // most goroutines one For has used

	mu    sync.Mutex // held while team runs a loop
	team  *teamBox   // started by the first loop on more than one goroutine
	teamN int        // team's goroutines
}

// teamBox holds a Pool's current Team, for the cleanup that stops it.
type teamBox struct{ t *Team }

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
	p.loop(n, fn, func(t int) Job { return &blocks{n: n, t: t, fn: fn} })
}

// loop runs the items of a For or ForAny loop: on the calling goroutine
// when one suffices, else as job(t)'s t parts on p's Team, or on t new
// goroutines (part w on worker w) when the Team cannot be had.
func (p *Pool) loop(n int, fn func(worker, i int), job func(t int) Job) {
	t := min(p.Threads(), n)
	p.record(t)
	if t <= 1 {
		for i := range n {
			fn(0, i)
		}
		return
	}
	j := job(t)
	if p.runTeam(j, t) {
		return
	}
	var wg sync.WaitGroup
	for w := range t {
		wg.Go(func() { j.Part(w, w) })
	}
	wg.Wait()
}

// ForAny calls fn(worker, i) for every i in [0, n), like For, but hands
// the items out one at a time to whichever of its min(p.Threads(), n)
// goroutines is free, so that a goroutine on a slower or busier core
// takes fewer items instead of setting the loop's wall time. worker is
// in [0, p.Threads()) and identifies the goroutine (for per-goroutine
// scratch space without locks); which items it runs varies from call to
// call, so ForAny is for loops whose items' results do not depend on the
// worker that runs them (the images of an inference batch), never for
// sums kept per worker.
//
// Measured on a 2-vCPU virtual machine (Intel Xeon, 2026-12-07), the two
// vCPUs of one loop differed by several percent in speed, and For's
// fixed halves waited for the slower.
func (p *Pool) ForAny(n int, fn func(worker, i int)) {
	p.loop(n, fn, func(int) Job { return &anyItems{n: int64(n), fn: fn} })
}

// anyItems is a ForAny loop as a Team job: every part claims items from
// one counter until none is left, under its goroutine's worker number.
type anyItems struct {
	next atomic.Int64
	n    int64
	fn   func(worker, i int)
}

// Part runs items on goroutine g until all are claimed.
func (a *anyItems) Part(g, _ int) {
	for {
		i := a.next.Add(1) - 1
		if i >= a.n {
			return
		}
		a.fn(g, int(i))
	}
}

// blocks is a For loop as a Team job: part w is worker w's contiguous
// block of items, whichever goroutine runs it.
type blocks struct {
	n, t int
	fn   func(worker, i int)
}

// Part runs block w.
func (b *blocks) Part(_, w int) {
	for i := w * b.n / b.t; i < (w+1)*b.n/b.t; i++ {
		b.fn(w, i)
	}
}

// runTeam runs job j's t parts on p's Team and reports whether it did:
// not when the Team is busy, or cannot be had (one P, more than MaxParts
// parts).
func (p *Pool) runTeam(j Job, t int) bool {
	q := p
	if q == nil {
		q = &defaultPool
	}
	if t > MaxParts || !q.mu.TryLock() {
		return false
	}
	defer q.mu.Unlock()
	team := q.teamOf(p.Threads())
	if team == nil {
		return false
	}
	done := false
	defer func() {
		team.Close()
		if !done { // a panicking item: never reuse the Team mid-job
			team.Stop()
			q.team.t = nil
		}
	}()
	team.Open()
	team.Run(j, t)
	done = true
	return true
}

// teamOf returns q's Team of threads goroutines, starting it (again, if
// the default count changed) when needed; p.mu is held. A Pool's Team
// stops when the Pool is garbage collected.
func (p *Pool) teamOf(threads int) *Team {
	if p.team == nil {
		p.team = new(teamBox)
		if p != &defaultPool {
			runtime.AddCleanup(p, func(b *teamBox) { b.t.Stop() }, p.team)
		}
	}
	if p.team.t != nil && p.teamN == threads {
		return p.team.t
	}
	p.team.t.Stop()
	p.team.t, p.teamN = NewTeam(threads), threads
	return p.team.t
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
