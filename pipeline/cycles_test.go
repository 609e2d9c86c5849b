package pipeline

import (
	"math"
	"testing"

	"github.com/sgcnn/sgcnn/selfgroup"
)

func TestCyclesRestartTheCosine(t *testing.T) {
	c := Cycles{Base: 0.01, Length: 4}
	for e := range 12 {
		k := e % 4
		want := 0.01 * (1 + math.Cos(math.Pi*float64(k)/4)) / 2
		if got := c.LR(e); math.Abs(got-want) > 1e-15 {
			t.Errorf("epoch %d: lr %g, want %g", e, got, want)
		}
	}
	cfg := smallConfig(selfgroup.G)
	cfg.GlobalEpochs, cfg.Cycles = 12, 3
	if cfg.CycleLength() != 4 || !cfg.CycleEnd(8) || cfg.CycleEnd(6) || cfg.CycleEnd(0) {
		t.Errorf("cycle length %d, ends at 8: %v, at 6: %v", cfg.CycleLength(), cfg.CycleEnd(8), cfg.CycleEnd(6))
	}
}

func TestCyclesValidate(t *testing.T) {
	for _, c := range []struct {
		global, cycles int
		average, ok    bool
	}{
		{12, 3, true, true},
		{12, 0, false, true},
		{12, 5, false, false}, // not a multiple
		{12, -1, false, false},
		{12, 1, true, false}, // nothing to average
		{12, 0, true, false},
	} {
		cfg := smallConfig(selfgroup.G)
		cfg.GlobalEpochs, cfg.Cycles, cfg.Average = c.global, c.cycles, c.average
		if err := cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: error %v", c, err)
		}
	}
}
