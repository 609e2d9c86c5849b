package parallel

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// countJob counts the runs of each part and records the goroutines that
// ran them.
type countJob struct {
	runs  []atomic.Int32
	g     []atomic.Int32
	sleep time.Duration // per part: long enough, the others park
	bad   atomic.Int32  // parts told a goroutine index out of range
	limit int
}

func (j *countJob) Part(g, i int) {
	if g < 0 || g > j.limit {
		j.bad.Add(1)
	}
	j.runs[i].Add(1)
	j.g[i].Store(int32(g))
	if j.sleep > 0 {
		time.Sleep(j.sleep)
	}
}

// TestTeamRunsEachPartOnce posts jobs of 1 to 9 parts to Teams of 2 and
// 3 goroutines, inside and outside a session, some with parts long enough
// that the waiting side parks, and checks that Run returns only after
// each part ran exactly once and that helpers took parts.
func TestTeamRunsEachPartOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, threads := range []int{2, 3} {
		tm := NewTeam(threads)
		if tm.Helpers() != threads-1 {
			t.Fatalf("NewTeam(%d): %d helpers", threads, tm.Helpers())
		}
		helped := 0
		for k := range 600 {
			if k%200 == 0 {
				tm.Open()
			}
			if k%200 == 150 {
				tm.Close()
			}
			parts := 1 + k%9
			j := &countJob{runs: make([]atomic.Int32, parts), g: make([]atomic.Int32, parts), limit: threads - 1}
			if k%97 == 5 {
				j.sleep = 300 * time.Microsecond // past spinLimit: the caller parks
			}
			tm.Run(j, parts)
			for i := range parts {
				if r := j.runs[i].Load(); r != 1 {
					t.Fatalf("threads %d, job %d: part %d of %d ran %d times", threads, k, i, parts, r)
				}
				if j.g[i].Load() != 0 {
					helped++
				}
			}
			if j.bad.Load() != 0 {
				t.Fatalf("threads %d, job %d: a part was told a goroutine index out of range", threads, k)
			}
			if k%70 == 3 {
				time.Sleep(500 * time.Microsecond) // the helpers park within the session
			}
		}
		tm.Stop()
		if helped == 0 {
			t.Errorf("threads %d: the helpers ran no part of 600 jobs", threads)
		}

	}
}

// TestTeamClaimOrder checks the order in which goroutines claim the parts
// of a job: their own index first, then the highest left, and nothing of
// another job.
func TestTeamClaimOrder(t *testing.T) {
	tm := &Team{}
	const seq = 7
	tm.claim.Store(seq<<32 | 5<<partsShift) // 5 parts, none claimed
	take := func(g int) int {
		for i := range tm.claims(g, seq) {
			return i
		}
		return -1
	}
	for _, c := range []struct{ g, want int }{{2, 2}, {0, 0}, {2, 4}, {7, 3}, {0, 1}, {1, -1}} {
		if got := take(c.g); got != c.want {
			t.Fatalf("goroutine %d claimed part %d, want %d", c.g, got, c.want)
		}
	}
	tm.claim.Store((seq+1)<<32 | 2<<partsShift)
	if got := take(0); got != -1 {
		t.Fatalf("claims of job %d took part %d of job %d", seq, got, seq+1)
	}
}

// TestTeamNil checks the nil Team (one thread, or GOMAXPROCS 1): Run runs
// every part on the caller, and Open and Close do nothing.
func TestTeamNil(t *testing.T) {
	if tm := NewTeam(1); tm != nil {
		t.Fatalf("NewTeam(1) = %v, want nil", tm)
	}
	prev := runtime.GOMAXPROCS(1)
	tm := NewTeam(2)
	runtime.GOMAXPROCS(prev)
	if tm != nil {
		t.Fatalf("NewTeam(2) on GOMAXPROCS 1 = %v, want nil", tm)
	}
	tm.Open()
	j := &countJob{runs: make([]atomic.Int32, 5), g: make([]atomic.Int32, 5)}
	tm.Run(j, 5)
	tm.Close()
	for i := range 5 {
		if j.runs[i].Load() != 1 || j.g[i].Load() != 0 {
			t.Fatalf("nil Team: part %d ran %d times, last on goroutine %d", i, j.runs[i].Load(), j.g[i].Load())
		}
	}
}

// TestTeamIdleBurnsNoCPU checks that a Team between sessions, and one
// whose open session posts nothing for a while, uses almost no CPU time:
// its helpers park.
func TestTeamIdleBurnsNoCPU(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	tm := NewTeam(2)
	defer tm.Stop()
	tm.Open()
	tm.Run(&countJob{runs: make([]atomic.Int32, 2), g: make([]atomic.Int32, 2), limit: 1}, 2)
	for _, open := range []bool{false, true} {
		if !open {
			tm.Close()
		}
		time.Sleep(20 * time.Millisecond) // past the spin limit
		c0, w0 := cpuTime(t), time.Now()
		time.Sleep(100 * time.Millisecond)
		if c, w := cpuTime(t)-c0, time.Since(w0); c > w/5 {
			t.Errorf("session open %v: the idle Team used %v of CPU in %v", open, c, w)
		}
	}
}

// cpuTime returns the process's user and system CPU time.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestTeamStop checks that Stop ends the helpers.
func TestTeamStop(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	before := runtime.NumGoroutine()
	tm := NewTeam(3)
	tm.Open()
	tm.Run(&countJob{runs: make([]atomic.Int32, 4), g: make([]atomic.Int32, 4), limit: 2}, 4)
	tm.Stop()
	for range 200 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Errorf("%d goroutines after Stop, %d before NewTeam", runtime.NumGoroutine(), before)
}

// BenchmarkTeamHandoff times Run of a job of two empty parts in an open
// session: the cost of one fork and join.
func BenchmarkTeamHandoff(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	tm := NewTeam(2)
	defer tm.Stop()
	tm.Open()
	j := &countJob{runs: make([]atomic.Int32, 2), g: make([]atomic.Int32, 2), limit: 1}
	for b.Loop() {
		tm.Run(j, 2)
	}
	tm.Close()
}
