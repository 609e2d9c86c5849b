package compile

import (
	"sync/atomic"
)

// pair runs the second half of each conv of a lone image (Options.SplitOne)
// on a helper goroutine that lives for one Forward call. Each side spins
// for a short while before it parks on a channel: between the convs of one
// image the handoff then costs two atomic operations (well under a
// microsecond) instead of a goroutine start and a wake-up of an idle
// thread (several microseconds on a virtual machine, as long as a pruned
// 8x8 conv), while on a machine whose other jobs take a core the waiting
// side parks instead of spinning through the other's time slice. Spinning
// only (an earlier form) made a split ResNet-56 image 60 times slower
// under such load.
type pair struct {
	post, done atomic.Uint64 // the numbers of the last job posted, finished
	quit       atomic.Bool
	job        func()
	// Parking: a side sets its flag, checks once more, then waits for a
	// token; the other side sends one (never blocking) after its update
	// when it sees the flag. Stale tokens only cause a second check.
	helperParked, callerParked atomic.Bool
	wake, fin                  chan struct{}
}

// spinPolls is the number of polls a side spins before it parks: a few
// microseconds.
const spinPolls = 2000

// startPair starts the helper goroutine; stop ends it.
func startPair() *pair {
	p := &pair{wake: make(chan struct{}, 1), fin: make(chan struct{}, 1)}
	go p.loop()
	return p
}

// signal sends a token on c unless one is waiting there.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// loop runs posted jobs until quit.
func (p *pair) loop() {
	var seen uint64
	for {
		n := p.post.Load()
		for polls := 0; n == seen && polls < spinPolls; polls++ {
			if p.quit.Load() {
				return
			}
			n = p.post.Load()
		}
		if n == seen {
			p.helperParked.Store(true)
			if n = p.post.Load(); n == seen && !p.quit.Load() {
				<-p.wake
			}
			p.helperParked.Store(false)
			if p.quit.Load() {
				return
			}
			continue
		}
		seen = n
		p.job()
		p.done.Store(n)
		if p.callerParked.Load() {
			signal(p.fin)
		}
	}
}

// run runs a on the calling goroutine and b on the helper, and returns
// when both are done.
func (p *pair) run(a, b func()) {
	p.job = b
	n := p.post.Add(1) // publishes job (the atomic orders the write before it)
	if p.helperParked.Load() {
		signal(p.wake)
	}
	a()
	for polls := 0; p.done.Load() != n; polls++ {
		if polls < spinPolls {
			continue
		}
		p.callerParked.Store(true)
		if p.done.Load() != n {
			<-p.fin
		}
		p.callerParked.Store(false)
	}
}

// stop ends the helper goroutine once it has finished its jobs.
func (p *pair) stop() {
	p.quit.Store(true)
	signal(p.wake)
}
