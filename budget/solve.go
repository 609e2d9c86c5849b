package budget

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Kind is what a budget limits.
type Kind string

// The budget kinds.
const (
	Latency Kind = "latency" // measured forward time at a batch and thread count (compile)
	FLOPs   Kind = "flops"   // multiply-accumulates, the paper's counting rule (count)
	Params  Kind = "params"  // parameters, the paper's counting rule (count)
)

// Kinds lists the budget kinds in the order help texts name them.
var Kinds = []Kind{Latency, FLOPs, Params}

// Budget is a cost limit as a fraction of the dense network's cost.
type Budget struct {
	Kind     Kind    `json:"kind"`
	Fraction float64 `json:"fraction"`
}

// String returns the budget as ParseBudget reads it, e.g. "latency=0.4".
func (b Budget) String() string { return fmt.Sprintf("%s=%g", b.Kind, b.Fraction) }

// ParseBudget reads "kind=fraction", e.g. "latency=0.4", "flops=0.3" or
// "params=0.25". The fraction must lie in (0, 1); an unknown kind is an
// error that lists the kinds.
func ParseBudget(s string) (Budget, error) {
	k, v, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return Budget{}, fmt.Errorf("budget %q: want kind=fraction, e.g. latency=0.4 (kinds: %s)", s, kindList())
	}
	kind := Kind(strings.ToLower(strings.TrimSpace(k)))
	if !slices.Contains(Kinds, kind) {
		return Budget{}, fmt.Errorf("budget %q: unknown kind %q (kinds: %s)", s, k, kindList())
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return Budget{}, fmt.Errorf("budget %q: fraction %q is not a number", s, v)
	}
	if !(f > 0 && f < 1) {
		return Budget{}, fmt.Errorf("budget %q: fraction %g outside (0, 1) (of the dense network's %s)", s, f, kind)
	}
	return Budget{Kind: kind, Fraction: f}, nil
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Choice is one layer's options for Solve: a rate (percent, ascending;
// 0 is the dense layer), its cost and its predicted damage at each rate
// (a top-1 drop in points or a loss rise, by the Metric; 0 at rate 0).
type Choice struct {
	Name  string
	Rates []float64
	Cost  []float64
	Drop  []float64
}

// Problem is a budgeted choice of per-layer rates. A network's cost is
// Fixed plus the chosen options' costs; the budget allows Budget times
// Dense.
type Problem struct {
	Kind   Kind // named in errors
	Layers []Choice
	Fixed  float64 // cost of everything the layers do not cover
	Dense  float64 // the dense network's cost (the budget's denominator)
	Budget float64 // fraction of Dense, in (0, 1)
}

// Solution is Solve's answer.
type Solution struct {
	Index    []int     // chosen option per layer
	Rates    []float64 // chosen rate per layer
	Cost     float64   // predicted cost of the network
	Fraction float64   // Cost / Dense
	Drop     float64   // predicted damage: the sum of the layers' drops
}

// InfeasibleError reports a budget that every layer at its highest rate
// still exceeds.
type InfeasibleError struct {
	Kind   Kind
	Budget float64 // the fraction asked for
	Lowest float64 // the lowest fraction reachable
}

func (e *InfeasibleError) Error() string {
	k := string(e.Kind)
	if k == "" {
		k = "cost"
	}
	return fmt.Sprintf("budget %s=%g cannot be met: even at the highest rates the network keeps %.3f of its dense %s (the lowest reachable budget)",
		k, e.Budget, e.Lowest, k)
}

// Resolution is the number of cost steps the knapsack divides the budget
// into; rounding each option's cost up to a step overestimates a
// network's cost by at most layers/Resolution of the budget.
const Resolution = 10000

// Normalised returns c with its drops made non-negative and
// non-decreasing in the rate (running max) and its costs non-increasing
// (running min): a higher rate never costs more nor loses less than a
// lower one. Measurement noise is what this irons out.
func (c Choice) Normalised() Choice {
	out := Choice{Name: c.Name, Rates: slices.Clone(c.Rates), Cost: slices.Clone(c.Cost), Drop: slices.Clone(c.Drop)}
	for i := range out.Rates {
		out.Drop[i] = max(out.Drop[i], 0)
		if i > 0 {
			out.Drop[i] = max(out.Drop[i], out.Drop[i-1])
			out.Cost[i] = min(out.Cost[i], out.Cost[i-1])
		}
	}
	return out
}

// check reports malformed problems (a programming error of the caller
// or a corrupt table).
func (p *Problem) check() error {
	if !(p.Budget > 0 && p.Budget < 1) {
		return fmt.Errorf("budget: fraction %g outside (0, 1)", p.Budget)
	}
	if !(p.Dense > 0) || p.Fixed < 0 || math.IsNaN(p.Fixed) {
		return fmt.Errorf("budget: dense cost %g, fixed cost %g: want dense > 0, fixed >= 0", p.Dense, p.Fixed)
	}
	if len(p.Layers) == 0 {
		return fmt.Errorf("budget: no layers to choose rates for")
	}
	for _, l := range p.Layers {
		if len(l.Rates) == 0 || len(l.Cost) != len(l.Rates) || len(l.Drop) != len(l.Rates) || len(l.Rates) > 255 {
			return fmt.Errorf("budget: layer %s: %d rates, %d costs, %d drops", l.Name, len(l.Rates), len(l.Cost), len(l.Drop))
		}
		for i, r := range l.Rates {
			if i > 0 && !(r > l.Rates[i-1]) {
				return fmt.Errorf("budget: layer %s: rates %v not increasing", l.Name, l.Rates)
			}
			if !(l.Cost[i] >= 0) || math.IsNaN(l.Drop[i]) {
				return fmt.Errorf("budget: layer %s: cost %g or drop %g at rate %g", l.Name, l.Cost[i], l.Drop[i], r)
			}
		}
	}
	return nil
}

// Solve chooses one option per layer so that the network's cost is at
// most Budget*Dense and the summed drop is least (ties: the costlier,
// that is the less pruned, network). Layers are normalised first
// (Choice.Normalised). It is an exact multiple-choice knapsack by dynamic
// programming over the cost in steps of 1/Resolution of the room the
// budget leaves; costs are rounded up to a step, so the answer always
// meets the budget. A budget that the cheapest options exceed is an
// *InfeasibleError with the lowest reachable fraction.
func Solve(p Problem) (Solution, error) {
	if err := p.check(); err != nil {
		return Solution{}, err
	}
	ls := make([]Choice, len(p.Layers))
	minCost := p.Fixed
	for i, l := range p.Layers {
		ls[i] = l.Normalised()
		minCost += ls[i].Cost[len(l.Rates)-1]
	}
	limit := p.Budget * p.Dense
	if minCost > limit {
		return Solution{}, &InfeasibleError{Kind: p.Kind, Budget: p.Budget, Lowest: minCost / p.Dense}
	}
	room := limit - p.Fixed
	steps := func(c float64) int {
		if room <= 0 {
			return 0
		}
		return int(math.Ceil(c/room*Resolution - 1e-9))
	}
	// best[j]: the least drop of the layers so far at exactly j steps.
	inf := math.Inf(1)
	best := make([]float64, Resolution+1)
	for j := range best {
		best[j] = inf
	}
	best[0] = 0
	pick := make([][]uint8, len(ls))
	next := make([]float64, Resolution+1)
	for li, l := range ls {
		pick[li] = make([]uint8, Resolution+1)
		for j := range next {
			next[j] = inf
		}
		for k := range l.Rates {
			q := steps(l.Cost[k])
			for j := 0; j+q <= Resolution; j++ {
				if best[j] == inf {
					continue
				}
				if d := best[j] + l.Drop[k]; d < next[j+q] {
					next[j+q], pick[li][j+q] = d, uint8(k)
				}
			}
		}
		best, next = next, best
	}
	end := -1
	for j := Resolution; j >= 0; j-- { // ties: the costlier network
		if best[j] < inf && (end < 0 || best[j] < best[end]-1e-12) {
			end = j
		}
	}
	idx := make([]int, len(ls))
	if end < 0 {
		// The rounding alone ruled out every mix; the highest rates
		// fit (checked above).
		for i, l := range ls {
			idx[i] = len(l.Rates) - 1
		}
	} else {
		for li := len(ls) - 1; li >= 0; li-- {
			k := int(pick[li][end])
			idx[li] = k
			end -= steps(ls[li].Cost[k])
		}
	}
	return solution(p, ls, idx), nil
}

// solution evaluates the chosen options idx of normalised layers ls.
func solution(p Problem, ls []Choice, idx []int) Solution {
	s := Solution{Index: idx, Rates: make([]float64, len(ls)), Cost: p.Fixed}
	for i, k := range idx {
		s.Rates[i] = ls[i].Rates[k]
		s.Cost += ls[i].Cost[k]
		s.Drop += ls[i].Drop[k]
	}
	s.Fraction = s.Cost / p.Dense
	return s
}
