package selfgroup

import (
	"fmt"
	"math"
	"strings"
)

// DefaultFCCap is the paper's cap on the rate of FC layers, in percent
// ("Conv-70/FC-60").
const DefaultFCCap = 60

// RateError reports an invalid pruning schedule.
type RateError struct {
	Step, Target float64
	Reason       string
}

// Error describes the schedule and what is wrong with it.
func (e *RateError) Error() string {
	return fmt.Sprintf("selfgroup: rate schedule step %g%% to target %g%%: %s", e.Step, e.Target, e.Reason)
}

// Rates returns the cumulative rates step, 2*step, ..., target (percent) at
// which successive pruning steps are taken. target must lie in (0, 100),
// step must be positive and divide target (up to rounding, so step 0.5 to
// 97.5 works); otherwise the error is a *RateError.
func Rates(step, target float64) ([]float64, error) {
	bad := func(why string) ([]float64, error) {
		return nil, &RateError{Step: step, Target: target, Reason: why}
	}
	switch {
	case !(target > 0 && target < 100):
		return bad("target must be in (0, 100)")
	case !(step > 0):
		return bad("step must be positive")
	case step > target:
		return bad("step exceeds target")
	}
	q := math.Round(target / step)
	if math.Abs(q*step-target) > 1e-9*target {
		return bad("step does not divide target")
	}
	rates := make([]float64, int(q))
	for i := range rates {
		rates[i] = float64(i+1) * step
	}
	rates[len(rates)-1] = target // exact, whatever the rounding of q*step
	return rates, nil
}

// LayerRate returns the rate a layer gets at cumulative rate p: p for a conv
// layer, min(p, fcCap) for an FC layer.
func LayerRate(p, fcCap float64, isFC bool) float64 {
	if isFC {
		return min(p, fcCap)
	}
	return p
}

// Scheme says when the network is fine-tuned during pruning.
type Scheme int

const (
	// LG fine-tunes locally after every step and globally after the last.
	LG Scheme = iota
	// G fine-tunes only globally, after the last step.
	G
	// L fine-tunes only locally, after every step (transfer experiments).
	L
)

// String returns "LG", "G" or "L".
func (s Scheme) String() string {
	switch s {
	case LG:
		return "LG"
	case G:
		return "G"
	case L:
		return "L"
	}
	return fmt.Sprintf("Scheme(%d)", int(s))
}

// ParseScheme parses "LG", "G" or "L" (case-insensitive).
func ParseScheme(s string) (Scheme, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "LG":
		return LG, nil
	case "G":
		return G, nil
	case "L":
		return L, nil
	}
	return 0, fmt.Errorf("selfgroup: unknown scheme %q (want LG, G or L)", s)
}

// Preset is the paper's fine-tuning budget for a scheme. Learning rates are
// for SGD with momentum 0.9 and weight decay 1e-4.
type Preset struct {
	Scheme Scheme
	// LocalEpochs of fine-tuning after each step, at constant LocalLR.
	LocalEpochs int
	LocalLR     float64
	// GlobalEpochs of fine-tuning after the last step, starting at
	// GlobalLR and multiplied by GlobalGamma at each epoch index in
	// GlobalMilestones.
	GlobalEpochs     int
	GlobalLR         float64
	GlobalMilestones []int
	GlobalGamma      float64
}

// Preset returns the paper's ImageNet budget for s: local 20 epochs at lr
// 0.01; global 90 epochs at lr 0.01 divided by 10 after epochs 30 and 60; G
// has no local and L no global fine-tuning.
func (s Scheme) Preset() Preset {
	p := Preset{Scheme: s, LocalEpochs: 20, LocalLR: 0.01,
		GlobalEpochs: 90, GlobalLR: 0.01, GlobalMilestones: []int{30, 60}, GlobalGamma: 0.1}
	switch s {
	case G:
		p.LocalEpochs, p.LocalLR = 0, 0
	case L:
		p.GlobalEpochs, p.GlobalLR, p.GlobalMilestones, p.GlobalGamma = 0, 0, nil, 0
	}
	return p
}

// GlobalLRAt returns the global fine-tuning learning rate for epoch index e
// (0-based): GlobalLR times GlobalGamma for every milestone <= e.
func (p Preset) GlobalLRAt(e int) float64 {
	lr := p.GlobalLR
	for _, m := range p.GlobalMilestones {
		if e >= m {
			lr *= p.GlobalGamma
		}
	}
	return lr
}
