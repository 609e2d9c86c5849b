package main

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestProcessCPUCountsOnlyTheWindow runs a goroutine that spins on a
// thread of its own and checks that processCPU over short windows never
// reads more CPU time than the window's wall time on all the CPUs:
// CLOCK_PROCESS_CPUTIME_ID, which takes other running threads' time as of
// their last tick, credits a window with up to a tick of the spinner's
// earlier time (the cause of issue 22's one-thread rows reading 2-3.7x
// their wall time).
func TestProcessCPUCountsOnlyTheWindow(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs 2 Ps: the spinner and the test")
	}
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for !stop.Load() {
		}
		close(done)
	}()
	defer func() { stop.Store(true); <-done }()
	time.Sleep(10 * time.Millisecond) // the spinner runs, its clock ticks
	// slack: the threads' clocks are read one after another.
	const slack = 100 * time.Microsecond
	for i := range 300 {
		w0, c0 := time.Now(), processCPU()
		time.Sleep(50 * time.Microsecond)
		c, w := processCPU()-c0, time.Since(w0)
		if lim := time.Duration(runtime.NumCPU())*w + slack; c > lim {
			t.Fatalf("window %d: %v of CPU time in %v of wall time on %d CPUs", i, c, w, runtime.NumCPU())
		}
	}
}
