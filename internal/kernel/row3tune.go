package kernel

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// This file picks, per tile height m, the variant of the row3 kernels
// (row3_amd64.go) this CPU runs fastest, by timing them: making the taps
// at +1 and +2 with VALIGND costs no loads but, on Intel's AVX-512 cores,
// competes with the FMAs for port 5, while loading them costs split
// loads. Which wins depends on the core and on m, so it is measured here
// rather than fixed from one machine.

// The row3 kernel variants: variant v < row3Shift loads the last v of the
// two shifted taps from memory and makes the others with VALIGND; variant
// row3Shift, for one-filter tiles only, sums each tap's products apart
// and shifts the sums once per tile (at most row3SMaxNV vectors wide).
const (
	row3Shift    = 3
	row3Variants = 4
	row3SMaxNV   = 8
)

// row3Width is the widest tile, in vectors, of m rows in the variant
// row3Pick[m].
func row3Width(m int) int {
	if row3Pick[m] == row3Shift {
		return row3SMaxNV
	}
	return row3MaxNV(m)
}

// row3VariantOK reports whether variant v has kernels of m rows.
func row3VariantOK(v, m int) bool { return v != row3Shift || m == 1 }

// row3Names name the variants: "align" (both shifted taps by VALIGND),
// "load1" (the tap at +2 loaded), "load2" (both loaded), "shift" (one
// shift per tile).
var row3Names = [row3Variants]string{"align", "load1", "load2", "shift"}

var (
	// row3Pick[m] is the variant row3 tiles of m rows run.
	row3Pick  [row3MaxM + 1]uint8
	row3Tuned sync.Once
	// row3Times[m][v] is the best time of variant v in the tuning run
	// (0: not measured).
	row3Times [row3MaxM + 1][row3Variants]time.Duration
)

// tuneRow3 sets row3Pick once per process, from a short measurement
// (about a millisecond): for each m, every variant runs the tiles of a
// group reading 5 channels of a padded 32x32 plane (pitch 34), in
// alternation with the others, and the fastest of 7 rounds counts, which
// other load on the machine can only slow.
func tuneRow3() {
	row3Tuned.Do(func() {
		var row3 row3Kernel
		for _, im := range impls {
			if im.row3 != nil {
				row3 = im.row3
			}
		}
		if row3 == nil {
			return
		}
		const ch, wp, plane, pp = 5, 34, 34 * 34, 32 * 34
		b := make([]float32, ch*plane+pp+vecW)
		for i := range b {
			b[i] = float32(i%7) * 0.25
		}
		rowOffs := make([]int32, 0, 3*ch)
		for c := range ch {
			for ky := range 3 {
				rowOffs = append(rowOffs, int32(c*plane+ky*wp))
			}
		}
		a := make([]float32, row3MaxM*3*len(rowOffs))
		c := make([]float32, row3MaxM*pp)
		for m := 1; m <= row3MaxM; m++ {
			for round := range 8 {
				for v := range row3Variants {
					if !row3VariantOK(v, m) {
						continue
					}
					row3Pick[m] = uint8(v)
					width := row3Width(m)
					pass := func() { // the tiles of one plane, as GroupPlan runs them
						for j0 := 0; j0 < pp; {
							nv := min(width, (pp-j0)/vecW)
							tiles := (pp - j0) / (nv * vecW)
							row3(m, nv, tiles, a, 3*len(rowOffs), b[j0:], rowOffs, c[j0:], pp)
							j0 += tiles * nv * vecW
						}
					}
					t0 := time.Now()
					for range 16 {
						pass()
					}
					d := time.Since(t0)
					if round > 0 && (row3Times[m][v] == 0 || d < row3Times[m][v]) {
						row3Times[m][v] = d
					}
				}
			}
			best := 0
			for v := range row3Variants {
				if row3VariantOK(v, m) && row3Times[m][v] < row3Times[m][best] {
					best = v
				}
			}
			row3Pick[m] = uint8(best)
		}
	})
}

// row3TuneFlops is the useful flops per filter of one timing of tuneRow3:
// 16 passes over a 32x34 padded-pitch plane, 5 channels of 3x3 taps.
const row3TuneFlops = 16 * 2 * 45 * 32 * 34

// Tuning describes the kernel choices measured on this machine (run once
// per process, at the first NewGroupPlan or here): for the row3 tiles of 1 to 3
// filters, how many of the two shifted taps are loaded from memory rather
// than made with VALIGND, and the measured time of each variant relative
// to the fastest, with the rate of the fastest (variant names: row3Names). It is empty without row3
// kernels.
func Tuning() string {
	tuneRow3()
	var s []string
	for m := 1; m <= row3MaxM; m++ {
		t := row3Times[m]
		if t[0] == 0 {
			return ""
		}
		rel := make([]string, 0, row3Variants)
		for v := range row3Variants {
			if row3VariantOK(v, m) {
				rel = append(rel, fmt.Sprintf("%s %.2f", row3Names[v], float64(t[v])/float64(t[row3Pick[m]])))
			}
		}
		s = append(s, fmt.Sprintf("%d filter(s): %s, %.0f GFLOP/s (%s)", m, row3Names[row3Pick[m]],
			row3TuneFlops*float64(m)/t[row3Pick[m]].Seconds()/1e9, strings.Join(rel, ", ")))
	}
	out := "row3 tiles, " + strings.Join(s, "; ")
	for _, f := range []string{flatTuning(), flatBlockTuning(), flatS2Tuning(), i8FlatTuning()} {
		if f != "" {
			out += "; " + f
		}
	}
	return out
}
