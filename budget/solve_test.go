package budget

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseBudget(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Budget
	}{
		{"latency=0.4", Budget{Latency, 0.4}},
		{"FLOPs=0.3", Budget{FLOPs, 0.3}},
		{" params = 0.25 ", Budget{Params, 0.25}},
	} {
		got, err := ParseBudget(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseBudget(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"latency=1.5", "outside (0, 1)"},
		{"flops=0", "outside (0, 1)"},
		{"params=-0.2", "outside (0, 1)"},
		{"latency=1", "outside (0, 1)"},
		{"speed=0.3", "kinds: latency, flops, params"},
		{"latency", "kind=fraction"},
		{"flops=abc", "not a number"},
	} {
		_, err := ParseBudget(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseBudget(%q): error %v, want one containing %q", c.in, err, c.want)
		}
	}
}

// randomProblem returns n layers of k options with costs decreasing and
// drops increasing in the rate (with some noise when noisy).
func randomProblem(r *rand.Rand, n, k int, noisy bool) Problem {
	p := Problem{Kind: Latency, Fixed: 10 * r.Float64()}
	for i := range n {
		c := Choice{Name: string(rune('a' + i))}
		cost, drop := 5+10*r.Float64(), 0.0
		for j := range k {
			c.Rates = append(c.Rates, float64(10*j))
			c.Cost = append(c.Cost, cost)
			c.Drop = append(c.Drop, drop)
			cost *= 0.5 + 0.4*r.Float64()
			drop += 3 * r.Float64() * r.Float64()
			if noisy && r.IntN(3) == 0 {
				c.Cost[j] += r.Float64()
				c.Drop[j] -= r.Float64()
			}
		}
		p.Dense += c.Cost[0]
		p.Layers = append(p.Layers, c)
	}
	p.Dense += p.Fixed
	return p
}

// bruteForce returns the least drop over all mixes of the normalised
// layers whose cost is at most limit (Inf when none is).
func bruteForce(p Problem, limit float64) float64 {
	ls := make([]Choice, len(p.Layers))
	for i, l := range p.Layers {
		ls[i] = l.Normalised()
	}
	best := math.Inf(1)
	var rec func(i int, cost, drop float64)
	rec = func(i int, cost, drop float64) {
		if cost > limit {
			return
		}
		if i == len(ls) {
			best = min(best, drop)
			return
		}
		for k := range ls[i].Rates {
			rec(i+1, cost+ls[i].Cost[k], drop+ls[i].Drop[k])
		}
	}
	rec(0, p.Fixed, 0)
	return best
}

// TestSolveAgainstBruteForce: on random problems the knapsack's answer
// meets the budget and is at least as good as the exhaustive optimum
// under a budget tightened by the rounding it allows (one step per layer).
func TestSolveAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		p := randomProblem(r, 2+r.IntN(4), 2+r.IntN(4), trial%2 == 1)
		p.Budget = 0.2 + 0.75*r.Float64()
		limit := p.Budget * p.Dense
		sol, err := Solve(p)
		var inf *InfeasibleError
		if errors.As(err, &inf) {
			if !math.IsInf(bruteForce(p, limit), 1) {
				t.Fatalf("trial %d: infeasible, but brute force finds a mix under %g", trial, limit)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if sol.Cost > limit*(1+1e-12) {
			t.Fatalf("trial %d: cost %g over the budget %g", trial, sol.Cost, limit)
		}
		exact := bruteForce(p, limit)
		if sol.Drop < exact-1e-9 {
			t.Fatalf("trial %d: drop %g below the exhaustive optimum %g (cost accounting wrong)", trial, sol.Drop, exact)
		}
		slack := float64(len(p.Layers)) * (limit - p.Fixed) / Resolution
		if tight := bruteForce(p, limit-slack); sol.Drop > tight+1e-9 {
			t.Fatalf("trial %d: drop %g, but %g is reachable under the tightened budget", trial, sol.Drop, tight)
		}
		// The reported cost and drop are those of the chosen options.
		var c, d float64 = p.Fixed, 0
		for i, k := range sol.Index {
			n := p.Layers[i].Normalised()
			c, d = c+n.Cost[k], d+n.Drop[k]
			if sol.Rates[i] != n.Rates[k] {
				t.Fatalf("trial %d: rate %g for option %d", trial, sol.Rates[i], k)
			}
		}
		if math.Abs(c-sol.Cost) > 1e-9 || math.Abs(d-sol.Drop) > 1e-9 || math.Abs(sol.Fraction-c/p.Dense) > 1e-12 {
			t.Fatalf("trial %d: solution says cost %g drop %g, options sum to %g and %g", trial, sol.Cost, sol.Drop, c, d)
		}
	}
}

func TestSolveInfeasible(t *testing.T) {
	p := Problem{Kind: FLOPs, Fixed: 10, Dense: 110, Budget: 0.2, Layers: []Choice{
		{Name: "a", Rates: []float64{0, 50, 90}, Cost: []float64{50, 25, 5}, Drop: []float64{0, 1, 2}},
		{Name: "b", Rates: []float64{0, 50, 90}, Cost: []float64{50, 30, 10}, Drop: []float64{0, 1, 2}},
	}}
	_, err := Solve(p)
	var inf *InfeasibleError
	if !errors.As(err, &inf) {
		t.Fatalf("Solve: %v, want an InfeasibleError", err)
	}
	if want := 25.0 / 110; math.Abs(inf.Lowest-want) > 1e-12 || inf.Kind != FLOPs {
		t.Errorf("lowest %g kind %s, want %g flops", inf.Lowest, inf.Kind, want)
	}
	if !strings.Contains(err.Error(), "0.227") || !strings.Contains(err.Error(), "flops=0.2") {
		t.Errorf("error %q does not give the budget and the lowest reachable fraction", err)
	}
	p.Budget = 25.0/110 + 1e-9 // just reachable: every layer at its highest rate
	sol, err := Solve(p)
	if err != nil || sol.Rates[0] != 90 || sol.Rates[1] != 90 {
		t.Errorf("at the lowest reachable budget: %v, %v; want both layers at 90", sol.Rates, err)
	}
}

// TestNormalisedMonotone: costs never rise and drops never fall with the
// rate after normalising, and negative drops become 0.
func TestNormalisedMonotone(t *testing.T) {
	c := Choice{Name: "x", Rates: []float64{0, 30, 50, 70}, Cost: []float64{10, 11, 6, 7}, Drop: []float64{0, -1, 2, 1}}
	n := c.Normalised()
	wantC, wantD := []float64{10, 10, 6, 6}, []float64{0, 0, 2, 2}
	for i := range n.Rates {
		if n.Cost[i] != wantC[i] || n.Drop[i] != wantD[i] {
			t.Fatalf("normalised %v %v, want %v %v", n.Cost, n.Drop, wantC, wantD)
		}
	}
	if c.Cost[1] != 11 || c.Drop[1] != -1 {
		t.Error("Normalised changed its receiver")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		p := randomProblem(r, 4, 5, true)
		for _, l := range p.Layers {
			n := l.Normalised()
			for k := 1; k < len(n.Rates); k++ {
				if n.Cost[k] > n.Cost[k-1] || n.Drop[k] < n.Drop[k-1] || n.Drop[k] < 0 {
					t.Fatalf("not monotone: %v %v", n.Cost, n.Drop)
				}
			}
		}
	}
}

// TestSolveTiesLeastPruning: when no option loses anything, the answer
// is the costliest network within the budget, not the most pruned one.
// (At exactly 0.75 the rounding up of costs rules the fit out.)
func TestSolveTiesLeastPruning(t *testing.T) {
	p := Problem{Kind: Params, Dense: 100, Budget: 0.76, Layers: []Choice{
		{Name: "a", Rates: []float64{0, 50, 90}, Cost: []float64{50, 25, 5}, Drop: []float64{0, 0, 0}},
		{Name: "b", Rates: []float64{0, 50, 90}, Cost: []float64{50, 25, 5}, Drop: []float64{0, 0, 0}},
	}}
	sol, err := Solve(p)
	if err != nil {
		t.Fatal(err)
	}
	if sol.Cost != 75 {
		t.Errorf("cost %g (rates %v), want 75: one layer at 50, one dense", sol.Cost, sol.Rates)
	}
}

func TestSolveRejectsMalformed(t *testing.T) {
	good := Choice{Name: "a", Rates: []float64{0, 50}, Cost: []float64{2, 1}, Drop: []float64{0, 1}}
	for _, p := range []Problem{
		{Dense: 2, Budget: 1.2, Layers: []Choice{good}},
		{Dense: 0, Budget: 0.5, Layers: []Choice{good}},
		{Dense: 2, Budget: 0.5},
		{Dense: 2, Budget: 0.5, Layers: []Choice{{Name: "b", Rates: []float64{50, 0}, Cost: []float64{1, 2}, Drop: []float64{1, 0}}}},
		{Dense: 2, Budget: 0.5, Layers: []Choice{{Name: "c", Rates: []float64{0}, Cost: []float64{1, 2}, Drop: []float64{0}}}},
	} {
		if _, err := Solve(p); err == nil {
			t.Errorf("Solve(%+v): no error", p)
		}
	}
}

// TestPlanSchedule: every layer reaches its own target at the last step,
// rates grow step by step, and a layer left dense is never pruned.
func TestPlanSchedule(t *testing.T) {
	p := &Plan{Layers: []Target{{Name: "a", Rate: 90}, {Name: "b", Rate: 45}, {Name: "c", Rate: 0}}}
	s, err := p.Schedule(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 9 || s[8] != 90 {
		t.Fatalf("schedule %v, want 9 steps to 90", s)
	}
	prev := map[string]float64{}
	for _, q := range s {
		for _, l := range p.Layers {
			r := p.Rate(l.Name, q)
			if r < prev[l.Name] || (l.Rate == 0 && r != 0) {
				t.Fatalf("layer %s: rate %g after %g at progress %g", l.Name, r, prev[l.Name], q)
			}
			prev[l.Name] = r
		}
	}
	if prev["a"] != 90 || prev["b"] != 45 || p.Rate("zzz", 90) != 0 {
		t.Errorf("final rates %v, want a 90, b 45", prev)
	}
	s, _ = (&Plan{Layers: []Target{{Name: "a", Rate: 35}}}).Schedule(10)
	if len(s) != 4 || s[3] != 35 || math.Abs(s[0]-8.75) > 1e-12 {
		t.Errorf("schedule to 35 by 10: %v, want 4 even steps", s)
	}
	if _, err := (&Plan{Layers: []Target{{Name: "a", Rate: 0}}}).Schedule(10); err == nil {
		t.Error("a plan with every layer dense: no error")
	}
}

func TestRateGrid(t *testing.T) {
	g, err := RateGrid(30, 90, 10)
	if err != nil || len(g) != 7 || g[0] != 30 || g[6] != 90 {
		t.Errorf("RateGrid(30, 90, 10) = %v, %v", g, err)
	}
	for _, bad := range [][3]float64{{0, 90, 10}, {30, 100, 10}, {50, 40, 10}, {30, 90, 0}, {1, 99, 0.01}} {
		if _, err := RateGrid(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("RateGrid%v: no error", bad)
		}
	}
}
