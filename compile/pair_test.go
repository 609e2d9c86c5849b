package compile

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestPair checks that every job posted to a pair runs once, on the
// helper, before run returns, on one and two Ps, with pauses that make
// both sides park.
func TestPair(t *testing.T) {
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		p := startPair()
		var a, b atomic.Int64
		for i := range 300 {
			var sleep time.Duration
			if i%50 == 0 {
				sleep = 200 * time.Microsecond // long enough to park
			}
			p.run(func() { a.Add(1); time.Sleep(sleep) }, func() { b.Add(1) })
			if a.Load() != int64(i+1) || b.Load() != int64(i+1) {
				t.Fatalf("GOMAXPROCS %d, job %d: caller ran %d, helper %d", procs, i, a.Load(), b.Load())
			}
			if i%70 == 0 {
				time.Sleep(300 * time.Microsecond) // the helper parks between jobs
			}
		}
		p.stop()
		runtime.GOMAXPROCS(prev)
	}
}
