package compile

import (
	"runtime"
	"sync/atomic"
)

// pair runs the second half of each conv of a lone image (Options.SplitOne)
// on a helper goroutine that lives for one Forward call and waits for work
// by spinning, so that a conv's fork and join cost two atomic handoffs
// (well under a microsecond) instead of a goroutine start and a wake-up of
// an idle thread (several microseconds on a virtual machine, as long as a
// pruned 8x8 conv): with 54 convs per ResNet-56 image, that overhead made
// the split image slower than one thread. The spinning yields to the
// scheduler every few thousand polls, so the pair makes progress even
// when both goroutines share one thread.
type pair struct {
	post atomic.Uint64 // the number of the last job posted
	done atomic.Uint64 // the number of the last job finished
	quit atomic.Bool
	job  func()
}

// spinYield is the number of polls between yields to the scheduler.
const spinYield = 4096

// startPair starts the helper goroutine; stop ends it.
func startPair() *pair {
	p := &pair{}
	go p.loop()
	return p
}

// loop runs posted jobs until quit.
func (p *pair) loop() {
	var seen uint64
	for polls := 1; ; polls++ {
		if n := p.post.Load(); n != seen {
			seen = n
			p.job()
			p.done.Store(n)
			polls = 0
			continue
		}
		if p.quit.Load() {
			return
		}
		if polls%spinYield == 0 {
			runtime.Gosched()
		}
	}
}

// run runs a on the calling goroutine and b on the helper, and returns
// when both are done.
func (p *pair) run(a, b func()) {
	p.job = b
	n := p.post.Add(1) // publishes job (the atomic orders the write before it)
	a()
	for polls := 1; p.done.Load() != n; polls++ {
		if polls%spinYield == 0 {
			runtime.Gosched()
		}
	}
}

// stop ends the helper goroutine once it has finished its jobs.
func (p *pair) stop() { p.quit.Store(true) }
