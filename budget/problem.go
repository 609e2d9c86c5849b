package budget

import (
	"fmt"
	"math"
	"slices"
)

// RateGrid returns the rates lo, lo+step, ..., up to hi (percent), e.g.
// 30, 40, ..., 90.
func RateGrid(lo, hi, step float64) ([]float64, error) {
	if !(lo > 0 && hi < 100 && lo <= hi && step > 0) {
		return nil, fmt.Errorf("rates %g to %g by %g: want 0 < from <= to < 100 and a positive step", lo, hi, step)
	}
	n := int(math.Floor((hi-lo)/step+1e-9)) + 1
	if n > 1000 {
		return nil, fmt.Errorf("rates %g to %g by %g: too many rates", lo, hi, step)
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Round((lo+float64(i)*step)*1e6) / 1e6
	}
	return out, nil
}

// Problem builds the choice of rates for budget b from the cost table and
// the sensitivity table (measured at the cost table's rates, less 0):
// each layer may take rate 0 (dense, no drop) or any rate of the tables
// up to its cap (caps[name], e.g. the FC cap; no entry: no cap). Its
// damage at each rate is the table's Scores by metric m. Costs are
// the layer's predicted share of the batch's time (Scales[k] * Ns[k]), its FLOPs
// or its parameters; the dense cost is the model's prediction of the dense
// network (latency) or its count.
func (t *CostTable) Problem(b Budget, sens *SensitivityTable, m Metric, caps map[string]float64) (Problem, error) {
	if !slices.Equal(sens.Rates, t.Rates[1:]) {
		return Problem{}, fmt.Errorf("the sensitivity table's rates %v differ from the cost table's %v", sens.Rates, t.Rates[1:])
	}
	p := Problem{Kind: b.Kind, Budget: b.Fraction}
	switch b.Kind {
	case Latency:
		// The model's own dense time, so that a fraction is a ratio of
		// two predictions and the fit's error in scale cancels.
		p.Fixed, p.Dense = t.Fixed, t.Predict(make([]int, len(t.Layers)))
	case FLOPs:
		p.Fixed, p.Dense = float64(t.FixedFLOPs), float64(t.DenseFLOPs)
	case Params:
		p.Fixed, p.Dense = float64(t.FixedParams), float64(t.DenseParams)
	default:
		return Problem{}, fmt.Errorf("budget kind %q: want one of %s", b.Kind, kindList())
	}
	for _, r := range t.Layers {
		i := sens.Row(r.Name)
		if i < 0 {
			return Problem{}, fmt.Errorf("layer %s is not in the sensitivity table", r.Name)
		}
		if len(sens.Layers[i].Top1) != len(sens.Rates) || len(sens.Layers[i].Loss) != len(sens.Rates) {
			return Problem{}, fmt.Errorf("layer %s: the sensitivity table has %d accuracies and %d losses for %d rates",
				r.Name, len(sens.Layers[i].Top1), len(sens.Layers[i].Loss), len(sens.Rates))
		}
		drops := append([]float64{0}, sens.Scores(i, m)...)
		c := Choice{Name: r.Name}
		for k, rate := range t.Rates {
			if cp, ok := caps[r.Name]; ok && rate > cp {
				break
			}
			var cost float64
			switch b.Kind {
			case Latency:
				cost = t.Scales[k] * r.Ns[k]
			case FLOPs:
				cost = float64(r.FLOPs[k])
			case Params:
				cost = float64(r.Params[k])
			}
			c.Rates, c.Cost, c.Drop = append(c.Rates, rate), append(c.Cost, cost), append(c.Drop, drops[k])
		}
		p.Layers = append(p.Layers, c)
	}
	return p, nil
}
