package prune

import (
	"cmp"
	"math"
	"slices"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/selfgroup"
)

// L1Filter is L1-norm filter pruning (Li et al. 2017) in masked form: at
// cumulative rate p a conv layer of n filters loses the round(p*n)
// filters with the smallest L1 norms of their (masked) weights, each as a
// whole mask row, which is a fraction p of its connections and so, under
// the masked count, a fraction p of its FLOPs: the same budget as
// self-grouping at p, layer by layer. A removed filter is dead; count's
// masked rule drops its BN term. Filters removed at earlier steps stay
// removed (they rank first), so masks only lose ones.
//
// Simplifications, to keep the comparison on one accounting:
//   - The next layer keeps its connections from a removed filter's channel
//     (in the masked network that channel still carries the dead filter's
//     constant BN shift), so they are still counted. Surgery that also cut
//     those inputs would save more FLOPs per removed filter; at equal
//     FLOPs this masked variant removes more filters than Li et al. would,
//     which handicaps it.
//   - An FC layer loses whole input columns (input neurons, by column L1
//     norm) instead of rows, so that the classifier keeps every class.
type L1Filter struct{}

// Prune runs one step on every layer.
func (L1Filter) Prune(layers []nn.Prunable, rates []float64, _ int) ([]Layer, error) {
	return EachLayer(layers, rates, nil,
		func(l nn.Prunable, w []float32, n, c, kk int, mask []float32, rate float64, _ []float32) (selfgroup.Result, error) {
			_, fc := l.(*nn.Linear)
			return L1FilterStep(w, n, c, kk, mask, rate, fc)
		})
}

// L1FilterStep prunes one layer (laid out as in package selfgroup) to the
// cumulative rate (percent) by removing whole filters (mask rows), or with
// columns set whole input channels (mask columns), smallest L1 norm of the
// masked weights first: round(rate*n) rows or round(rate*c) columns in
// all, those already removed counted first, ties broken by index. The
// Result's Labels are all zero (one group), Groups is 1 and Threshold is
// the largest norm removed.
func L1FilterStep(w []float32, n, c, kk int, mask []float32, rate float64, columns bool) (selfgroup.Result, error) {
	if err := checkRate(rate); err != nil {
		return selfgroup.Result{}, err
	}
	imp := selfgroup.Importance(w, n, c, kk, mask) // checks the shapes
	units, along := n, c
	at := func(u, t int) int { return u*c + t } // unit u = filter (row)
	if columns {
		units, along = c, n
		at = func(u, t int) int { return t*c + u } // unit u = input channel
	}
	type unit struct {
		live bool
		norm float64
		u    int
	}
	us := make([]unit, units)
	for u := range us {
		us[u].u = u
		for t := range along {
			us[u].norm += float64(imp[at(u, t)])
			if mask == nil || mask[at(u, t)] != 0 {
				us[u].live = true
			}
		}
	}
	slices.SortFunc(us, func(a, b unit) int {
		if a.live != b.live {
			if a.live {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.norm, b.norm), cmp.Compare(a.u, b.u))
	})
	k := int(math.Round(rate / 100 * float64(units)))
	for k < units && !us[k].live {
		k++ // never revive a removed unit
	}
	newMask := make([]float32, n*c)
	if mask == nil {
		for t := range newMask {
			newMask[t] = 1
		}
	} else {
		copy(newMask, mask)
	}
	var tau float64
	for _, x := range us[:k] {
		tau = max(tau, x.norm)
		for t := range along {
			newMask[at(x.u, t)] = 0
		}
	}
	zeros := 0
	for _, v := range newMask {
		if v == 0 {
			zeros++
		}
	}
	return selfgroup.Result{NewMask: newMask, Labels: make([]int, n), Groups: 1, Threshold: tau,
		Pruned: float64(zeros) / float64(n*c)}, nil
}
