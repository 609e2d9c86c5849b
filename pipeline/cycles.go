package pipeline

import (
	"fmt"
	"math"

	"github.com/sgcnn/sgcnn/optim"
)

// Cycles is a cyclic learning rate for the global phase: Count cosine
// cycles of Length epochs each, every one annealing from Base to zero and
// restarting at Base (SGDR without warm restarts' growth; the low ends are
// the models stochastic weight averaging takes).
type Cycles struct {
	Base   float64
	Length int // epochs per cycle
}

// LR returns epoch's rate: the cosine of its position within its cycle.
func (c Cycles) LR(epoch int) float64 {
	if c.Length <= 0 {
		return c.Base
	}
	return optim.Cosine{Base: c.Base, Epochs: c.Length}.LR(epoch % c.Length)
}

// LRAt returns the rate at the fractional epoch t (Cycles is an
// optim.Continuous): the cosine of t's position within its cycle, so that
// the rate anneals within an epoch and restarts at Base where a cycle ends.
func (c Cycles) LRAt(t float64) float64 {
	if c.Length <= 0 {
		return c.Base
	}
	n := float64(c.Length)
	return optim.Cosine{Base: c.Base, Epochs: c.Length}.LRAt(t - n*math.Floor(t/n))
}

func (c Cycles) String() string {
	return fmt.Sprintf("cosine cycles(%g -> 0 over %d epochs each)", c.Base, c.Length)
}

// CycleLength returns the epochs of one global cycle, 0 when the global
// phase is not cyclic.
func (c *Config) CycleLength() int {
	_, global := c.epochs()
	if c.Cycles < 2 || global == 0 {
		return 0
	}
	return global / c.Cycles
}

// CycleEnd reports whether the global epoch e (1-based) ends a cycle.
func (c *Config) CycleEnd(e int) bool {
	n := c.CycleLength()
	return n > 0 && e > 0 && e%n == 0
}

// validateCycles checks the cyclic global phase and weight averaging.
func (c *Config) validateCycles() error {
	_, global := c.epochs()
	switch {
	case c.Cycles < 0:
		return fmt.Errorf("cycles %d: want 0 or more", c.Cycles)
	case c.Cycles > 1 && (global == 0 || global%c.Cycles != 0):
		return fmt.Errorf("cycles %d: the global epochs (%d) must be a positive multiple of it", c.Cycles, global)
	case c.Average && c.Cycles < 2:
		return fmt.Errorf("average: needs at least 2 global cycles to average (cycles %d)", c.Cycles)
	}
	return nil
}
