package selfgroup

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// Percentile returns the p-th percentile (0 <= p <= 100) of values exactly
// as numpy.percentile's default method ("linear") computes it in float64:
// with the values sorted ascending as a, the virtual index x = p/100*(n-1)
// splits into i = floor(x) and g = x-i, and the result is a[i] + (a[i+1]-a[i])*g,
// written for g >= 0.5 as a[i+1] - (a[i+1]-a[i])*(1-g) as numpy's _lerp does.
// A NaN among the values gives NaN, as in numpy. values is not modified.
// It runs in expected linear time (selection, not sorting). Empty values or
// p outside [0, 100] panic.
func Percentile[T float32 | float64](values []T, p float64) float64 {
	n := len(values)
	if n == 0 {
		panic("selfgroup: Percentile of no values")
	}
	if !(p >= 0 && p <= 100) {
		panic(fmt.Sprintf("selfgroup: Percentile: p=%g outside [0, 100]", p))
	}
	a := make([]float64, n)
	for i, v := range values {
		if v != v {
			return math.NaN()
		}
		a[i] = float64(v)
	}
	x := p / 100 * float64(n-1)
	lo := int(math.Floor(x))
	g := x - float64(lo)
	hi := min(lo+1, n-1)
	selectKth(a, lo)
	va := a[lo]
	vb := va
	if hi > lo {
		vb = slices.Min(a[lo+1:]) // everything right of lo is >= a[lo]
	}
	diff := vb - va
	if g >= 0.5 {
		return vb - diff*(1-g)
	}
	return va + diff*g
}

// selectKth reorders a so that a[k] is the value a sorted copy would hold
// there, everything before it is <= a[k] and everything after is >= a[k].
// Three-way partitioning keeps it linear on the many equal values a pruned
// layer has (every pruned connection is a zero); after too many rounds it
// sorts what is left, bounding the worst case at n log n.
func selectKth(a []float64, k int) {
	lo, hi := 0, len(a) // the answer lies in a[lo:hi]
	budget := 2*bits.Len(uint(len(a))) + 8
	for hi-lo > 16 {
		if budget == 0 {
			slices.Sort(a[lo:hi])
			return
		}
		budget--
		piv := median3(a[lo], a[lo+(hi-lo)/2], a[hi-1])
		// Dutch flag: [lo,lt) < piv, [lt,i) == piv, (gt,hi) > piv.
		lt, i, gt := lo, lo, hi-1
		for i <= gt {
			switch v := a[i]; {
			case v < piv:
				a[lt], a[i] = a[i], a[lt]
				lt++
				i++
			case v > piv:
				a[i], a[gt] = a[gt], a[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt
		case k > gt:
			lo = gt + 1
		default:
			return // a[k] == piv
		}
	}
	slices.Sort(a[lo:hi])
}

func median3(x, y, z float64) float64 {
	if x > y {
		x, y = y, x
	}
	if y > z {
		y = z
	}
	return max(x, y)
}
