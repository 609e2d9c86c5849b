package kernel

// This file holds the flat route's kernel of a group of one filter on
// 16x16 and 32x32 planes (the most common group of a pruned ResNet's
// first stage: self-grouping leaves 12-16 groups of its 16 filters). The kernels of
// blocks of one filter sum a channel's taps in flatTapOrder (column
// shift outer), which makes them load each input row three times a
// channel for three FMAs a load; they ran load-bound at 64% of the FMA
// peak (BenchmarkFlatM, w=32 m=1). flatOneKern loads each row once and
// makes the column shifts in registers, which sums the taps in
// flatOneTapOrder instead: a group of one filter is never split (into
// blocks or across threads), so that its results still do not depend on
// the blocking or the threads.

// flatOneTapOrder is the order in which flatOneKern sums a channel's taps
// (row shift outer, column shift inner).
var flatOneTapOrder = [9]int{0, 1, 2, 3, 4, 5, 6, 7, 8}

var (
	// flatOneImpl is the assembly flatOneKern of this CPU, or nil.
	flatOneImpl flatKernel
	// flatOneKern is the flatKernel that flat plans run for groups of one
	// filter on 16x16 and 32x32 planes (m = 1 only), or nil for flat8Kern: the
	// kernels' flatOneImpl, or flatOneGo where tests set it.
	flatOneKern flatKernel
)

// flatOneGo is the pure-Go flatOneKern: flatGo with the taps summed in
// flatOneTapOrder.
func flatOneGo(w, m, nc int, wt []float32, lda int, choffs []int32, x, c []float32, coffs []int, bias []float32, lo float32, add []float32) {
	flatGoOrder(&flatOneTapOrder, w, m, nc, wt, lda, choffs, x, c, coffs, bias, lo, add)
}
