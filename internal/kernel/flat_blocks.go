package kernel

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// This file chooses how the flat route (flat8.go) splits a group's
// filters into blocks of at most flat8MaxM, one flatKernel call each. The
// kernels do not run equally fast per filter: those of up to
// flatWReuseM filters load each input row once per column shift, the
// larger ones once per tap, and the block of five ran 2-8% slower per
// filter than those of four and six (BenchmarkFlatBlocks; 7% on 16x16
// planes). An even split (16 filters: 6, 5, 5; 32: 6, 6, 5, 5, 5, 5) hit
// it in every dense ResNet stage: the 32x16x16 and 16x32x32 convs ran 4%
// faster in blocks of four (quiet A/B, one thread, 2026-12-07). The
// rates are measured once per process and plane width (tuneFlatBlocks),
// and the split minimizes the sum of the blocks' times (flatBlockSizes);
// every split gives the same bits, since each kernel sums an output's
// taps in flatTapOrder.

var (
	flatBlocksTuned [len(flatWidths)]sync.Once
	// flatBlockTimes[i][m] is the fastest time of tuneFlatBlocks' call of
	// m filters on planes flatWidths[i] wide (0: not measured).
	flatBlockTimes [len(flatWidths)][flat8MaxM + 1]time.Duration
)

// tuneFlatBlocks sets flatBlockTimes[wi] once per process from a short
// measurement (about 2 ms): the assembly kernel of each block size m on
// the channels of flatTuneShape(wi) with bias and ReLU, 4 calls a timing, the sizes
// in alternation, the fastest of 7 rounds after a warm-up.
func tuneFlatBlocks(wi int) {
	flatBlocksTuned[wi].Do(func() {
		if flat8Impl == nil {
			return
		}
		w, nc := flatWidths[wi], flatTuneShape(wi).C
		hw := w * w
		x := make([]float32, (nc+2)*hw) // planes 1 to nc: the kernels' usual loop body
		for i := range x {
			x[i] = float32(i%7) * 0.1
		}
		choffs := make([]int32, nc)
		for i := range choffs {
			choffs[i] = int32((i + 1) * hw)
		}
		wt := make([]float32, flat8MaxM*nc*9)
		for i := range wt {
			wt[i] = float32(i%13-6) * 0.01
		}
		c := make([]float32, flat8MaxM*hw)
		coffs := make([]int, flat8MaxM)
		for i := range coffs {
			coffs[i] = i * hw
		}
		bias := make([]float32, flat8MaxM)
		t := &flatBlockTimes[wi]
		for round := range 8 {
			for m := 1; m <= flat8MaxM; m++ {
				t0 := time.Now()
				for range 4 {
					flat8Impl(w, m, nc, wt, nc*9, choffs, x, c, coffs, bias, 0, nil)
				}
				if d := time.Since(t0); round > 0 && (t[m] == 0 || d < t[m]) {
					t[m] = d
				}
			}
		}
	})
}

// flatBlockSizes returns the sizes of the blocks newFlat8 splits nf
// filters into on planes flatWidths[wi] wide: for more than flat8MaxM
// filters, the split whose measured block times (tuneFlatBlocks) sum
// least, where that is at least 3% less than the even split into the
// fewest blocks; else, or without times (wi < 0, or no assembly
// kernels), the even split. A group of up to flat8MaxM filters (a
// pruned conv's) thus stays one call: with its few channels a second
// call's fixed cost (the accumulators' stores, the loop's start) weighs
// more than in the times measured on a whole stage's channels.
func flatBlockSizes(wi, nf int) []int {
	if wi >= 0 && nf > flat8MaxM {
		tuneFlatBlocks(wi)
	}
	nb := (nf + flat8MaxM - 1) / flat8MaxM
	even := make([]int, nb)
	for b := range even {
		even[b] = nf / nb
		if b < nf%nb {
			even[b]++
		}
	}
	if wi < 0 || nf <= flat8MaxM || flatBlockTimes[wi][1] == 0 {
		return even
	}
	t := &flatBlockTimes[wi]
	// best[n] is the least time of n filters, last[n] the size of the
	// last block of that split.
	best := make([]time.Duration, nf+1)
	last := make([]int, nf+1)
	for n := 1; n <= nf; n++ {
		for m := 1; m <= min(n, flat8MaxM); m++ {
			if d := best[n-m] + t[m]; last[n] == 0 || d < best[n] {
				best[n], last[n] = d, m
			}
		}
	}
	var et time.Duration
	for _, m := range even {
		et += t[m]
	}
	if float64(best[nf]) > flatSplitGain*float64(et) {
		return even
	}
	var out []int
	for n := nf; n > 0; n -= last[n] {
		out = append(out, last[n])
	}
	return out
}

// flatSplitGain is the most time, relative to the even split's, that
// flatBlockSizes' measured split may take to replace it: rates within
// a few percent of each other are within the measurement's noise (on
// 8x8 planes blocks of 4, 5 and 6 ran at 174-181 GFLOP/s, and a split
// [4 6 6 ...] picked from them ran the 64x8x8 conv 1% slower than the
// even one).
const flatSplitGain = 0.97

// flatBlockTuning describes tuneFlatBlocks' measurements for Tuning (""
// where none ran): per width, each block size's rate and the split of
// the dense convs' filters (16, 32 or 64).
func flatBlockTuning() string {
	var s []string
	for wi, t := range flatBlockTimes {
		if t[1] == 0 {
			continue
		}
		p := flatTuneShape(wi)
		w, nf := p.W, p.N
		var r []string
		for m := 1; m <= flat8MaxM; m++ {
			r = append(r, fmt.Sprintf("%d %.0f", m, float64(2*9*m*p.C*w*w*4)/t[m].Seconds()/1e9))
		}
		s = append(s, fmt.Sprintf("%dx%d planes: GFLOP/s by block size %s; %d filters in blocks %v", w, w,
			strings.Join(r, ", "), nf, flatBlockSizes(wi, nf)))
	}
	if s == nil {
		return ""
	}
	return "flat blocks, " + strings.Join(s, "; ")
}
