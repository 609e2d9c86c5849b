package kernel

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// The machines this runs on are shared, so wall-clock rates drop whenever
// another job takes the core. The benchmarks therefore also report rates
// per second of this thread's (or process's) CPU time, which preemption
// does not inflate.

// cpuClock reads a CPU-time clock in seconds.
func cpuClock(id int32) float64 {
	var ts unix.Timespec
	if unix.ClockGettime(id, &ts) != nil {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}

// reportRates runs f (which loops b.N or b.Loop times) on a locked thread
// and reports GFLOP/s of wall time and of CPU time; for threads > 1, the
// CPU rate is per process CPU second times threads (what that many idle
// cores would give).
func reportRates(b *testing.B, flops float64, threads int, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	id := int32(unix.CLOCK_THREAD_CPUTIME_ID)
	if threads > 1 {
		id = unix.CLOCK_PROCESS_CPUTIME_ID
	}
	c0 := cpuClock(id)
	f()
	cpu := cpuClock(id) - c0
	total := flops * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(total/cpu*float64(threads)/1e9, "GFLOP/cpu-s")
	}
}
