package budget

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
)

// Target is one layer's place in a Plan.
type Target struct {
	Name string  `json:"name"`
	Rate float64 `json:"rate"` // the layer's target rate, percent (0: left dense)
	// Drop is the layer's predicted damage at Rate (by the plan's
	// Metric, normalised as Solve uses it), and Cost its predicted cost
	// there (ns per batch, FLOPs or parameters, by the budget's kind).
	Drop float64 `json:"drop"`
	Cost float64 `json:"cost"`
}

// Plan is a budgeted pruning: each layer's own target rate, and what was
// predicted for the network.
type Plan struct {
	Budget Budget   `json:"budget"`
	Layers []Target `json:"layers"`
	// Predicted is the network's predicted cost as a fraction of the dense
	// one's; PredictedCost is the cost itself and DenseCost the dense one's
	// (for latency, ns per batch of CostTable.Batch images).
	Predicted     float64 `json:"predicted"`
	PredictedCost float64 `json:"predicted_cost"`
	DenseCost     float64 `json:"dense_cost"`
	// PredictedDrop is the sum of the layers' predicted drops, by Metric.
	PredictedDrop float64 `json:"predicted_drop"`
	Metric        Metric  `json:"metric"`
	// Lowest is the lowest fraction reachable with every layer at its
	// highest rate.
	Lowest float64 `json:"lowest"`
	// Method names the solver ("knapsack").
	Method string `json:"method"`
}

// NewPlan turns a solution of p into a plan for budget b.
func NewPlan(b Budget, m Metric, p Problem, s Solution) *Plan {
	pl := &Plan{Budget: b, Metric: m, Predicted: s.Fraction, PredictedCost: s.Cost, DenseCost: p.Dense,
		PredictedDrop: s.Drop, Lowest: p.Fixed / p.Dense, Method: "knapsack"}
	for i, l := range p.Layers {
		n := l.Normalised()
		k := s.Index[i]
		pl.Layers = append(pl.Layers, Target{Name: l.Name, Rate: n.Rates[k], Drop: n.Drop[k], Cost: n.Cost[k]})
		pl.Lowest += n.Cost[len(n.Cost)-1] / p.Dense
	}
	return pl
}

// MaxRate returns the highest target rate of the plan.
func (p *Plan) MaxRate() float64 {
	m := 0.0
	for _, t := range p.Layers {
		m = max(m, t.Rate)
	}
	return m
}

// Schedule returns the cumulative progress rates of the pruning steps:
// K = ceil(MaxRate/step) steps ending at MaxRate, evenly spaced
// (MaxRate*k/K). Rates maps them to each layer's own rate.
func (p *Plan) Schedule(step float64) ([]float64, error) {
	top := p.MaxRate()
	if !(top > 0 && top < 100) {
		return nil, fmt.Errorf("budget plan: highest target rate %g: want a rate in (0, 100)", top)
	}
	if !(step > 0) {
		return nil, fmt.Errorf("budget plan: step %g: want a positive step", step)
	}
	k := int(math.Ceil(top/step - 1e-9))
	out := make([]float64, k)
	for i := range out {
		out[i] = top * float64(i+1) / float64(k)
	}
	out[k-1] = top
	return out, nil
}

// Rate returns layer name's rate at progress rate q (a Schedule entry):
// its target times q / MaxRate, so that every layer reaches its own target
// at the last step. It is 0 for a layer the plan leaves dense or does not
// name.
func (p *Plan) Rate(name string, q float64) float64 {
	i := slices.IndexFunc(p.Layers, func(t Target) bool { return t.Name == name })
	top := p.MaxRate()
	if i < 0 || top == 0 {
		return 0
	}
	return p.Layers[i].Rate * min(q, top) / top
}

// SavePlan writes p to path as JSON (all or nothing).
func SavePlan(path string, p *Plan) error { return writeJSONFile(path, p) }

// LoadPlan reads a plan written by SavePlan.
func LoadPlan(path string) (*Plan, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := new(Plan)
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, fmt.Errorf("%s: not a budget plan: %w", path, err)
	}
	if _, err := p.Schedule(10); err != nil || len(p.Layers) == 0 {
		return nil, fmt.Errorf("%s: a plan without target rates", path)
	}
	return p, nil
}
