package kernel

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// BenchmarkMicro times the micro-kernel alone on L1-resident operands: the
// ceiling for every driver.
func BenchmarkMicro(b *testing.B) {
	for _, s := range []struct{ m, nv, k int }{{8, 3, 256}, {6, 4, 256}, {8, 1, 256}, {4, 3, 256}, {8, 3, 144}, {1, 4, 256}, {1, wideNV, 256}, {1, wideNV, 45}, {2, 4, 45}, {2, 4, 90}, {4, 4, 45}} {
		a := make([]float32, s.m*s.k)
		aoffs := make([]int32, s.m)
		for i := range aoffs {
			aoffs[i] = int32(i * s.k)
		}
		bb := make([]float32, s.k*maxNR+wideNV*vecW)
		offs := make([]int32, s.k)
		for p := range offs {
			offs[p] = int32(p * maxNR)
		}
		c := make([]float32, maxMR*maxNR)
		flops := 2 * float64(s.m*s.nv*vecW*s.k)
		b.Run(fmt.Sprintf("%dx%d/k=%d", s.m, s.nv*vecW, s.k), func(b *testing.B) {
			benchImpls(b, flops, func(b *testing.B, _ *Workspace) {
				for b.Loop() {
					cur.kern(s.m, s.nv, s.k, a, aoffs, bb, offs, c, maxNR, false)
				}
			}, nil)
		})
	}
}

// BenchmarkPeak is the FMA peak of this core right now (fmaPeak).
func BenchmarkPeak(b *testing.B) {
	if !asmWanted {
		b.Skip("no AVX-512")
	}
	const n = 1000
	reportRates(b, 768*n, 1, func() {
		for b.Loop() {
			fmaPeak(n)
		}
	})
}

// BenchmarkPeak2Threads is the FMA peak of two goroutines on two cores:
// the ceiling for BenchmarkConv2Threads.
func BenchmarkPeak2Threads(b *testing.B) {
	if !asmWanted {
		b.Skip("no AVX-512")
	}
	const n = 1000
	reportRates(b, 2*768*n, 2, func() {
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				for range b.N {
					fmaPeak(n)
				}
			})
		}
		wg.Wait()
	})
}

// TestFMAPeakLoop checks the flops FMAPeakLoop reports: 768 per iteration
// where the assembly loop runs, none in a pure-Go build.
func TestFMAPeakLoop(t *testing.T) {
	want := 0.0
	if asmWanted {
		want = 7680
	}
	if got := FMAPeakLoop(10); got != want {
		t.Errorf("FMAPeakLoop(10) = %v, want %v", got, want)
	}
	if got := FMAPeakLoop(0); got != 0 {
		t.Errorf("FMAPeakLoop(0) = %v, want 0", got)
	}
}
