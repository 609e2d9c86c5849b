package parallel

import (
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"
)

// A Team splits one small job (a conv of a lone image: a few microseconds
// of work) over the calling goroutine and helper goroutines. For's
// goroutine per call, or a channel or WaitGroup handoff to a parked
// goroutine, costs the wake-up of an idle thread: measured on a 2-vCPU
// virtual machine (Intel Xeon, 2026-12-07), a goroutine woken by a channel
// first ran 115 us to 950 us later (AMD EPYC, Zen 4: 1.7 ms median),
// while a pruned ResNet conv of one image takes 14 us. A Team's helpers
// instead spin on an atomic job number while a session is open (Open to
// Close, e.g. one network forward), so that a handoff costs a cache-line
// transfer (about 100 ns).
//
// The helpers are the process's crew (crew.go), shared by every Team: one
// Team at a time holds them, from Open to Close. A Team whose Open finds
// them held by another runs its session alone (Run runs every part on
// the caller), so that two Teams never pile helpers onto the same cores.
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
// awake), then park until the next Open (on Linux in the futex system
// call: wake_linux.go); an idle crew burns no CPU. A caller whose wait
// for a started part passes spinLimit parks too (the part's helper wakes
// it): on a machine whose other jobs take the helper's core, spinning
// through the helper's time slice made a split ResNet-56 image 60x
// slower.
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

	open         atomic.Bool // a session holding the crew is open
	callerParked atomic.Bool
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

// NewTeam returns a Team of threads goroutines: the caller of Run and
// threads-1 helpers of the crew (started, parked, the first time a Team
// needs them). It returns nil for threads < 2, and when the program runs
// on one P (GOMAXPROCS 1), where a helper could only take the caller's
// turn.
func NewTeam(threads int) *Team {
	if threads < 2 || runtime.GOMAXPROCS(0) < 2 {
		return nil
	}
	h := min(threads-1, MaxParts-1)
	theCrew.grow(h)
	return &Team{helpers: h, done: make(chan struct{}, 1)}
}

// Helpers returns the number of helper goroutines (0 for the nil Team).
func (t *Team) Helpers() int {
	if t == nil {
		return 0
	}
	return t.helpers
}

// Open starts a session: it takes the crew, whose parked helpers wake and
// spin for jobs, and reports whether it did (not when another Team holds
// it; the session then runs on the caller alone). Open, Run and Close
// are called by one goroutine at a time. On the nil Team, Open reports
// false, and Close and Stop do nothing.
func (t *Team) Open() bool {
	if t == nil || !theCrew.owner.CompareAndSwap(nil, t) {
		return false
	}
	t.open.Store(true)
	theCrew.rouse()
	return true
}

// Close ends the session and frees the crew: its helpers, their parts of
// the last job done, spin for spinLimit for the next session, then park.
func (t *Team) Close() {
	if t == nil || !t.open.Load() {
		return
	}
	t.open.Store(false)
	theCrew.owner.CompareAndSwap(t, nil)
}

// Stop ends the Team's use (closing its session, if open). The crew's
// helpers stay, parked, for the program's other Teams.
func (t *Team) Stop() { t.Close() }

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
