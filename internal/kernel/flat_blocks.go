package kernel

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// The flat route runs a group's filters in blocks of up to flat8MaxM, one
// kernel call per block and tile. Which block sizes are fastest depends
// on the machine and on the channels the group reads: blocks of up to
// flatWReuseM filters load each input row once per column shift (row
// reuse), larger ones have more accumulators but no reuse, and every
// call has a fixed cost (zeroing, stores, the call itself) that a group
// of few channels feels most. So the stride-1 flat route measures, once
// per process and plane width, a call of each block size on 4 and on 16
// channels (tuneFlatBlocks), models a call's time as linear in the
// channels between the two, and splits a group of nf filters into the
// blocks whose summed time is least (flatSplit).

// flatBlockCost is the measured time of one call of each block size (by
// number of filters, index 0 unused) on flatCostNC[0] and flatCostNC[1]
// channels.
type flatBlockCost [2][flat8MaxM + 1]time.Duration

// flatCostNC are the channel counts tuneFlatBlocks measures.
var flatCostNC = [2]int{4, 16}

var (
	flatBlockCosts [len(flatWidths)]flatBlockCost
	flatBlockTuned [len(flatWidths)]sync.Once
)

// tuneFlatBlocks measures flatBlockCosts[wi] with the generated kernels:
// every block size and channel count in turn, 8 calls a round, the
// fastest of 6 rounds after a warm-up.
func tuneFlatBlocks(wi int) {
	flatBlockTuned[wi].Do(func() {
		if flat8Kern == nil {
			return
		}
		w := flatWidths[wi]
		hw, nc := w*w, flatCostNC[1]
		x := make([]float32, (nc+2)*hw)
		for i := range x {
			x[i] = float32(i%7) * 0.1
		}
		choffs := make([]int32, nc)
		for i := range choffs {
			choffs[i] = int32((i + 1) * hw)
		}
		wt := make([]float32, flat8MaxM*nc*9)
		c := make([]float32, flat8MaxM*hw)
		coffs := make([]int, flat8MaxM)
		for i := range coffs {
			coffs[i] = i * hw
		}
		bias := make([]float32, flat8MaxM)
		t := &flatBlockCosts[wi]
		for round := range 7 {
			for k, n := range flatCostNC {
				for m := 1; m <= flat8MaxM; m++ {
					t0 := time.Now()
					for range 8 {
						flat8Kern(w, m, n, wt, n*9, choffs[:n], x, c, coffs[:m], bias, 0, nil)
					}
					d := time.Since(t0) / 8
					if round > 0 && (t[k][m] == 0 || d < t[k][m]) {
						t[k][m] = d
					}
				}
			}
		}
	})
}

// call returns the modelled time of one call of a block of m filters on
// nc channels: linear in nc through the two measurements.
func (t *flatBlockCost) call(m, nc int) float64 {
	a, b := float64(t[0][m]), float64(t[1][m])
	return a + (b-a)*float64(nc-flatCostNC[0])/float64(flatCostNC[1]-flatCostNC[0])
}

// flatSplit returns the block sizes of a group of nf filters reading nc
// channels: those whose modelled times (t) sum to the least, largest
// first; without measurements (t nil or empty), the fewest blocks of
// sizes as even as can be.
func flatSplit(nf, nc int, t *flatBlockCost) []int {
	if t == nil || t[0][1] == 0 {
		nb := (nf + flat8MaxM - 1) / flat8MaxM
		out := make([]int, nb)
		for b := range out {
			out[b] = nf / nb
			if b < nf%nb {
				out[b]++
			}
		}
		return out
	}
	// cost[n] is the least time of n filters, last[n] the size of the
	// last block that reaches it.
	cost, last := make([]float64, nf+1), make([]int, nf+1)
	for n := 1; n <= nf; n++ {
		cost[n] = -1
		for m := min(n, flat8MaxM); m >= 1; m-- { // on a tie, the larger block: fewer calls
			if c := cost[n-m] + t.call(m, nc); cost[n] < 0 || c < cost[n] {
				cost[n], last[n] = c, m
			}
		}
	}
	var out []int
	for n := nf; n > 0; n -= last[n] {
		out = append(out, last[n])
	}
	for i := 1; i < len(out); i++ { // largest first (insertion sort: few blocks)
		for j := i; j > 0 && out[j] > out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// flatBlockTuning describes tuneFlatBlocks' measurements for Tuning (""
// where none ran): each width's time per filter by block size, relative
// to the least, on 4 and on 16 channels.
func flatBlockTuning() string {
	var s []string
	for wi := range flatBlockCosts {
		t := &flatBlockCosts[wi]
		if t[0][1] == 0 {
			continue
		}
		var r []string
		for k, nc := range flatCostNC {
			per := func(m int) float64 { return float64(t[k][m]) / float64(m) }
			best := per(1)
			for m := 2; m <= flat8MaxM; m++ {
				best = min(best, per(m))
			}
			var v []string
			for m := 1; m <= flat8MaxM; m++ {
				v = append(v, fmt.Sprintf("%d %.2f", m, per(m)/best))
			}
			r = append(r, fmt.Sprintf("%d channels %s", nc, strings.Join(v, ", ")))
		}
		w := flatWidths[wi]
		s = append(s, fmt.Sprintf("flat blocks %dx%d (time per filter by block size, relative to the least): %s", w, w, strings.Join(r, "; ")))
	}
	return strings.Join(s, "; ")
}
