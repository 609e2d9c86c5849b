package parallel

import (
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"
)

// A Team splits one small job (a conv of a lone image: a few microseconds
// of work) over the calling goroutine and helper goroutines that live as
// long as the Team. For's goroutine per call, or a channel or WaitGroup
// handoff to a parked goroutine, costs the wake-up of an idle thread:
// measured on a 2-vCPU virtual machine (Intel Xeon, 2026-12-07), a
// goroutine woken by a channel first ran 115 us to 950 us later, and one
// woken by a futex up to 1.7 ms later (most tries over 48 us), while a
// pruned ResNet conv of one image takes 14 us. A Team's helpers instead
// spin on an atomic job number while a session is open (Open to Close,
// e.g. one network forward), so that a handoff costs a cache-line
// transfer (about 100 ns).
//
// The parts of a job are claimed, not assigned: each goroutine takes its
// own part first (the caller part 0, helper g part g), then any left, so
// that a helper that is late (still waking up, or descheduled by other
// jobs on the machine) costs nothing but its share, and the caller never
// waits for a helper to arrive, only for parts a helper has started.
// Which goroutine runs which part may therefore vary from call to call:
// parts must write disjoint outputs, and are told their goroutine's index
// (0 for the caller) to pick scratch space.
//
// Spinning is bounded: helpers spin while a session is open and for
// spinLimit after it closes (so that back-to-back sessions find them
// awake), then park until the next Open; an idle Team burns no CPU. A
// caller whose wait for a started part passes spinLimit parks too (the
// part's helper wakes it): on a machine whose other jobs take the
// helper's core, spinning through the helper's time slice made a split
// ResNet-56 image 60x slower.
//
// Helpers park on a channel, locked to their OS thread while parked
// (runtime.LockOSThread): the P is freed as for any parked goroutine,
// and the wake-up hands the waker's P straight to the helper's own thread.
// Measured on a 2-vCPU virtual machine (AMD EPYC Zen 4, 2026-12-08),
// from Open after a 50 ms pause to the helper's first part: 60-95 us
// median, against 1.2-1.8 ms unlocked (a parked goroutine that any thread
// may run waited for another thread to wake and steal it); one image split
// over both cores after a 50 ms pause (bench/b1 -block 1 -gap 50ms) ran
// 1.40-1.46x the unsplit speed dense and 1.09-1.24x pruned, against
// 0.84-1.02x unlocked; two goroutines started by the program after a
// helper parked ran together as before. Tried before that: parking in
// the futex system call, which woke helpers as fast but kept their P
// until the runtime's monitor took it back, so that the rest of the
// program lost a core (a two-goroutine FMA loop at 170-179 GFLOP/s
// instead of 220-229); reverted.
type Team struct {
	// claim is the job number (high 32 bits), its part count and a bit
	// per claimed part; fin is the job number and the parts finished.
	// Each has a cache line of its own: helpers poll claim while parts
	// finish.
	claim atomic.Uint64
	_     [56]byte
	fin   atomic.Uint64
	_     [56]byte

	job Job    // the job of claim's number (written before claim publishes it)
	seq uint64 // the caller's last job number

	open         atomic.Bool  // a session is open: helpers spin
	quit         atomic.Bool  // helpers exit
	parked       atomic.Int32 // helpers parked or about to park
	callerParked atomic.Bool
	wake         chan struct{} // a token per helper to wake
	done         chan struct{} // a token for the parked caller
	helpers      int
}

// Job is work split into parts that may run at the same time.
type Job interface {
	// Part runs part i on the Team's goroutine g (0: the caller of Run;
	// 1 to Helpers(): the helpers).
	Part(g, i int)
}

// spinLimit is how long a helper spins after a session closes (so that
// back-to-back sessions find it awake), and how long Run's caller spins
// for a part that a helper has started before it parks: longer than a
// conv, far shorter than a scheduler time slice.
const spinLimit = 200 * time.Microsecond

// NewTeam starts a Team of threads goroutines: the caller of Run and
// threads-1 helpers (parked until Open). It returns nil for threads < 2,
// and when the program runs on one P (GOMAXPROCS 1), where a helper could
// only take the caller's turn.
func NewTeam(threads int) *Team {
	if threads < 2 || runtime.GOMAXPROCS(0) < 2 {
		return nil
	}
	t := &Team{helpers: threads - 1, wake: make(chan struct{}, threads-1), done: make(chan struct{}, 1)}
	t.parked.Store(int32(t.helpers))
	for g := 1; g <= t.helpers; g++ {
		go t.helper(g)
	}
	return t
}

// Helpers returns the number of helper goroutines (0 for the nil Team).
func (t *Team) Helpers() int {
	if t == nil {
		return 0
	}
	return t.helpers
}

// Open starts a session: parked helpers wake and spin for jobs. Open,
// Run and Close are called by one goroutine at a time. On the nil Team,
// Open, Close and Stop do nothing.
//
// Having woken a helper, Open yields its P (runtime.Gosched): the woken
// helper waits in this P's run-next slot, from which an idle P steals
// only reluctantly, and yielding runs it here while the caller moves to
// the other P. Measured on a 2-vCPU VM (Intel Xeon, 2026-12-07): after a
// 2 ms pause, a two-part job of 2 x 500 us took 969 us median (p90
// 3 ms) without the yield, 574-586 us with it, against 601-612 us for two
// new goroutines.
func (t *Team) Open() {
	if t == nil {
		return
	}
	t.open.Store(true)
	if t.wakeParked() {
		runtime.Gosched()
	}
}

// Close ends the session: helpers park once their part is done.
func (t *Team) Close() {
	if t != nil {
		t.open.Store(false)
	}
}

// Stop ends the helpers (after their current part). The Team must not be
// used after.
func (t *Team) Stop() {
	if t == nil {
		return
	}
	t.quit.Store(true)
	for range t.helpers {
		signal(t.wake)
	}
}

// wakeParked sends a wake token for each parked helper (without blocking:
// stale tokens only cost the helper another check) and reports whether
// it sent any.
func (t *Team) wakeParked() bool {
	n := t.parked.Load()
	for i := n; i > 0; i-- {
		signal(t.wake)
	}
	return n > 0
}

// signal sends a token on c unless it is full.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// claim words: the job number in the high 32 bits, the job's part count
// in bits 16-23, a bit per claimed part in the low 16.
const (
	partsShift = 16
	maskBits   = 1<<partsShift - 1
)

// MaxParts is the most parts a Team's job may have.
const MaxParts = partsShift

// Run runs j's parts 0 to parts-1 (at most MaxParts) on the caller and
// the helpers that come, and returns when all are done. Each goroutine
// takes first the part of its own index, if unclaimed (the caller part 0,
// helper g part g), so that with parts equal to the Team's goroutines
// each runs the same part of every job while all keep pace: the part's
// data then stays in its core's cache from one job to the next. Then it
// takes the others left. Outside a session (Open) the caller runs all.
func (t *Team) Run(j Job, parts int) {
	if parts <= 0 {
		return
	}
	if t == nil || parts == 1 || !t.open.Load() {
		for i := range parts {
			j.Part(0, i)
		}
		return
	}
	if parts > MaxParts {
		panic("parallel: Team.Run: more than MaxParts parts")
	}
	t.seq++
	n := t.seq << 32
	t.job = j
	t.fin.Store(n)
	t.claim.Store(n | uint64(parts)<<partsShift) // publishes job
	ran := uint64(0)
	for i := range t.claims(0, n>>32) {
		j.Part(0, i)
		ran++
	}
	want := n | uint64(parts)
	if t.fin.Add(ran) == want {
		return
	}
	t.await(want)
}

// claims yields the parts of job seq that goroutine g claims: its own
// first, then the unclaimed ones from the last down, until none is left
// or the job is not seq's.
func (t *Team) claims(g int, seq uint64) func(func(int) bool) {
	return func(yield func(int) bool) {
		c := t.claim.Load()
		for c>>32 == seq {
			parts := int(c >> partsShift & 0xff)
			free := ^c & (1<<parts - 1)
			if free == 0 {
				return
			}
			i := g
			if i >= parts || free&(1<<i) == 0 {
				i = 63 - bits.LeadingZeros64(free)
			}
			if !t.claim.CompareAndSwap(c, c|1<<i) {
				c = t.claim.Load()
				continue
			}
			if !yield(i) {
				return
			}
			c = t.claim.Load()
		}
	}
}

// await spins until fin reaches want, then parks until the helper that
// finishes the last part wakes it.
func (t *Team) await(want uint64) {
	start := time.Now()
	for polls := 1; t.fin.Load() != want; polls++ {
		if polls%256 != 0 || time.Since(start) < spinLimit {
			continue
		}
		t.callerParked.Store(true)
		if t.fin.Load() != want {
			<-t.done
		}
		t.callerParked.Store(false)
	}
}

// helper is helper goroutine g's loop: claim parts of posted jobs, spin
// for the next while the session is open, park otherwise.
func (t *Team) helper(g int) {
	var seen uint64 // the last job number this helper looked at
	t.park()
	for !t.quit.Load() {
		c := t.claim.Load()
		if c>>32 == seen || !t.open.Load() {
			// Outside a session every job is done (Close follows Run).
			seen = c >> 32
			t.idle(seen)
			continue
		}
		// A job this helper has not worked on: claim its parts until none
		// is left. t.job holds this job from the successful claim until
		// this helper's fin.Add: the caller posts no other before.
		seen = c >> 32
		ran := uint64(0)
		for i := range t.claims(g, seen) {
			t.job.Part(g, i)
			ran++
		}
		if ran > 0 && t.fin.Add(ran) == seen<<32|(c>>partsShift&0xff) && t.callerParked.Load() {
			signal(t.done)
		}
	}
}

// idle waits for a job other than seen: it spins while the session is
// open and for spinLimit after, then parks. Spinning, it yields its P
// now and then (runtime.Gosched), so that the program's other goroutines
// on it run.
func (t *Team) idle(seen uint64) {
	last := time.Now() // when the session was last seen open
	for polls := 1; !t.quit.Load(); polls++ {
		if t.claim.Load()>>32 != seen {
			return
		}
		if polls%256 != 0 {
			continue
		}
		if now := time.Now(); t.open.Load() {
			last = now
		} else if now.Sub(last) > spinLimit {
			break
		}
		if polls%(1<<16) == 0 {
			runtime.Gosched()
		}
	}
	t.parked.Add(1)
	t.park()
}

// park blocks until a wake token comes, unless quit or a session began
// since the helper was counted as parked; parked must already count the
// helper, and park uncounts it.
func (t *Team) park() {
	if !t.quit.Load() && !t.open.Load() {
		// Parked on its own thread: see "Helpers park" in Team's doc.
		runtime.LockOSThread()
		<-t.wake
		runtime.UnlockOSThread()
	}
	t.parked.Add(-1)
}
