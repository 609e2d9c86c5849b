package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The crew is the process's helper goroutines, shared by every Team: one
// Team holds it from Open to Close. One crew, not helpers per Team: a
// parked helper sleeps in the futex system call on Linux (wake_linux.go),
// which holds its P until the runtime's monitor takes it back, so that
// the helpers of many Teams (a compiled network's pool and its batch-1
// split, the pools of the other networks of a process) could hold every
// P and make a woken helper wait for one. Measured on a 2-vCPU virtual
// machine (AMD EPYC, Zen 4, 2026-12-07) with a Team per network, a
// batch-64 conv of bench/issue22 ran at 52% of the FMA peak instead of
// 100% in two runs of three: its helper never came.
type crew struct {
	mu     sync.Mutex // held while starting helpers
	n      int        // helpers started (numbered 1 to n)
	owner  atomic.Pointer[Team]
	parked atomic.Int32 // helpers parked or about to park
	wake   *waker
}

// theCrew is the process's crew.
var theCrew = crew{wake: newWaker(MaxParts)}

// grow starts helpers until there are at least n.
func (c *crew) grow(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.n < n {
		c.n++
		c.parked.Add(1)
		go c.helper(c.n)
	}
}

// rouse wakes the parked helpers for a session just opened. Where they
// park in the Go scheduler (not on Linux), it then yields the caller's P,
// as waker.wake explains.
func (c *crew) rouse() {
	if c.parked.Load() > 0 && c.wake.wake() {
		runtime.Gosched()
	}
}

// usable returns the Team whose jobs helper g takes: the crew's owner,
// while its session is open and it has a helper g; else nil.
func (c *crew) usable(g int) *Team {
	t := c.owner.Load()
	if t == nil || g > t.helpers || !t.open.Load() {
		return nil
	}
	return t
}

// helper is helper goroutine g's loop: claim parts of the jobs of the
// Team that holds the crew, spin for the next while a session is open
// and for spinLimit after, park otherwise. It never exits: the crew
// lives as long as the program, parked when idle.
func (c *crew) helper(g int) {
	c.park(g)
	var last *Team  // the Team of seen
	var seen uint64 // the last job number of last this helper looked at
	idle := time.Now()
	for polls := 1; ; polls++ {
		if t := c.usable(g); t != nil {
			if t != last {
				last, seen = t, 0
			}
			if cl := t.claim.Load(); cl>>32 != seen {
				// A job this helper has not worked on: claim its parts
				// until none is left. t.job holds this job from the
				// successful claim until this helper's fin.Add: the
				// caller posts no other before.
				seen = cl >> 32
				ran := uint64(0)
				for i := range t.claims(g, seen) {
					t.job.Part(g, i)
					ran++
				}
				if ran > 0 && t.fin.Add(ran) == seen<<32|(cl>>partsShift&0xff) && t.callerParked.Load() {
					signal(t.done)
				}
				continue
			}
		}
		if polls%256 != 0 {
			continue
		}
		now := time.Now()
		if c.usable(g) != nil {
			idle = now
		} else if now.Sub(idle) > spinLimit {
			c.parked.Add(1)
			c.park(g)
			idle = time.Now()
			continue
		}
		if polls%(1<<16) == 0 {
			runtime.Gosched() // the program's other goroutines on this P run
		}
	}
}

// park blocks until a wake, unless a session usable by helper g began
// since the helper was counted as parked; parked must already count the
// helper, and park uncounts it. The ticket is taken before the check: a
// wake between it and the wait is not lost.
func (c *crew) park(g int) {
	tk := c.wake.ticket()
	if c.usable(g) == nil {
		c.wake.wait(tk)
	}
	c.parked.Add(-1)
}
