package optim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Schedule gives the learning rate for an epoch (0-based), constant within
// the epoch, as PyTorch's epoch-stepped schedulers.
type Schedule interface {
	LR(epoch int) float64
	String() string
}

// Continuous is a Schedule that is also defined between epoch boundaries:
// LRAt(t) is the rate at a fractional epoch t (1.5 is halfway through the
// second epoch) and LRAt(float64(e)) equals LR(e). Cosine anneals within
// an epoch; Constant, Step and MultiStep only change at epoch boundaries.
type Continuous interface {
	Schedule
	LRAt(t float64) float64
}

// Constant keeps the learning rate fixed.
type Constant struct{ Base float64 }

// LR returns Base.
func (c Constant) LR(int) float64 { return c.Base }

// LRAt returns Base.
func (c Constant) LRAt(float64) float64 { return c.Base }

func (c Constant) String() string { return fmt.Sprintf("constant(%g)", c.Base) }

// Step multiplies the rate by Gamma every Every epochs (StepLR).
type Step struct {
	Base  float64
	Every int
	Gamma float64
}

// LR returns Base * Gamma^(epoch/Every).
func (s Step) LR(epoch int) float64 { return s.Base * math.Pow(s.Gamma, float64(epoch/s.Every)) }

// LRAt returns the rate of the epoch that t falls in.
func (s Step) LRAt(t float64) float64 { return s.LR(int(math.Floor(t))) }

func (s Step) String() string {
	return fmt.Sprintf("step(%g, every %d, x%g)", s.Base, s.Every, s.Gamma)
}

// MultiStep multiplies the rate by Gamma at each milestone epoch
// (MultiStepLR): epochs >= a milestone get one more factor.
type MultiStep struct {
	Base       float64
	Milestones []int
	Gamma      float64
}

// LR returns the rate for epoch.
func (m MultiStep) LR(epoch int) float64 {
	lr := m.Base
	for _, e := range m.Milestones {
		if epoch >= e {
			lr *= m.Gamma
		}
	}
	return lr
}

// LRAt returns the rate of the epoch that t falls in.
func (m MultiStep) LRAt(t float64) float64 { return m.LR(int(math.Floor(t))) }

func (m MultiStep) String() string {
	return fmt.Sprintf("multistep(%g, at %v, x%g)", m.Base, m.Milestones, m.Gamma)
}

// Cosine anneals from Base to Min over Epochs (CosineAnnealingLR, T_max =
// Epochs).
type Cosine struct {
	Base, Min float64
	Epochs    int
}

// LR returns the annealed rate.
func (c Cosine) LR(epoch int) float64 { return c.LRAt(float64(epoch)) }

// LRAt returns the annealed rate at a fractional epoch t: the rate of
// PyTorch's CosineAnnealingLR stepped once per iteration.
func (c Cosine) LRAt(t float64) float64 {
	if c.Epochs <= 0 {
		return c.Base
	}
	return c.Min + (c.Base-c.Min)*(1+math.Cos(math.Pi*t/float64(c.Epochs)))/2
}

func (c Cosine) String() string {
	return fmt.Sprintf("cosine(%g -> %g over %d)", c.Base, c.Min, c.Epochs)
}

// Parse reads a schedule description: "constant", "step:EVERY[:GAMMA]",
// "multistep:M1,M2,...[:GAMMA]" or "cosine"; base is the initial rate and
// epochs the run length (for cosine). GAMMA defaults to 0.1.
func Parse(spec string, base float64, epochs int) (Schedule, error) {
	if base <= 0 || math.IsNaN(base) || math.IsInf(base, 0) {
		return nil, fmt.Errorf("learning rate %g must be positive", base)
	}
	parts := strings.Split(spec, ":")
	gamma := 0.1
	if len(parts) == 3 {
		g, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || !(g > 0) || math.IsInf(g, 0) {
			return nil, fmt.Errorf("schedule %q: gamma %q is not a positive number", spec, parts[2])
		}
		gamma = g
	}
	switch {
	case parts[0] == "constant" && len(parts) == 1:
		return Constant{base}, nil
	case parts[0] == "cosine" && len(parts) == 1:
		return Cosine{Base: base, Epochs: epochs}, nil
	case parts[0] == "step" && len(parts) >= 2 && len(parts) <= 3:
		n, err := strconv.Atoi(parts[1])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("schedule %q: step size %q is not a positive integer", spec, parts[1])
		}
		return Step{Base: base, Every: n, Gamma: gamma}, nil
	case parts[0] == "multistep" && len(parts) >= 2 && len(parts) <= 3:
		var ms []int
		for _, f := range strings.Split(parts[1], ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 0 {
				return nil, fmt.Errorf("schedule %q: milestone %q is not a non-negative integer", spec, f)
			}
			if len(ms) > 0 && n <= ms[len(ms)-1] {
				return nil, fmt.Errorf("schedule %q: milestones must increase (%d follows %d)", spec, n, ms[len(ms)-1])
			}
			ms = append(ms, n)
		}
		return MultiStep{Base: base, Milestones: ms, Gamma: gamma}, nil
	}
	return nil, fmt.Errorf("unknown schedule %q: want constant, cosine, step:N[:GAMMA] or multistep:M1,M2[:GAMMA]", spec)
}
