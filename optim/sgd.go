// Package optim holds the optimiser (SGD with momentum, optional Nesterov,
// and weight decay, as PyTorch's torch.optim.SGD) and the learning-rate
// schedules used for training and fine-tuning.
//
// Pruned connections stay pruned: after every update the weights, and the
// momentum buffers, are multiplied by the parameter's connection mask, so
// neither weight decay nor leftover momentum can move a masked weight.
package optim

import (
	"fmt"

	"github.com/sgcnn/sgcnn/nn"
)

// SGD is stochastic gradient descent with momentum and weight decay,
// matching torch.optim.SGD (dampening 0).
type SGD struct {
	Params      []*nn.Param
	LR          float64
	Momentum    float64
	WeightDecay float64 // applied to parameters with Decay set
	Nesterov    bool
	velocity    [][]float32
}

// NewSGD returns an optimiser over params.
func NewSGD(params []*nn.Param, lr, momentum, weightDecay float64, nesterov bool) *SGD {
	s := &SGD{Params: params, LR: lr, Momentum: momentum, WeightDecay: weightDecay, Nesterov: nesterov}
	s.velocity = make([][]float32, len(params))
	return s
}

// Step applies one update using the gradients in the parameters. It fails,
// before changing anything, if a gradient holds NaN or Inf, naming the
// parameter.
func (s *SGD) Step() error {
	for _, p := range s.Params {
		if nn.HasNonFinite(p.Grad.Data) {
			return &nn.NonFiniteError{Where: p.Name, What: "gradient"}
		}
	}
	lr, mom := float32(s.LR), float32(s.Momentum)
	for i, p := range s.Params {
		wd := float32(0)
		if p.Decay {
			wd = float32(s.WeightDecay)
		}
		w, g := p.Value.Data, p.Grad.Data
		if mom == 0 {
			for j := range w {
				w[j] -= lr * (g[j] + wd*w[j])
			}
		} else {
			if s.velocity[i] == nil {
				// PyTorch initialises the buffer with the first gradient.
				s.velocity[i] = make([]float32, len(w))
				for j := range w {
					s.velocity[i][j] = g[j] + wd*w[j]
				}
			} else {
				v := s.velocity[i]
				for j := range w {
					v[j] = mom*v[j] + g[j] + wd*w[j]
				}
			}
			v := s.velocity[i]
			if s.Nesterov {
				for j := range w {
					w[j] -= lr * (g[j] + wd*w[j] + mom*v[j])
				}
			} else {
				for j := range w {
					w[j] -= lr * v[j]
				}
			}
		}
		if p.Mask != nil {
			kk := len(w) / len(p.Mask)
			for j, m := range p.Mask {
				if m == 0 {
					clear(w[j*kk : (j+1)*kk])
					if s.velocity[i] != nil {
						clear(s.velocity[i][j*kk : (j+1)*kk])
					}
				}
			}
		}
	}
	return nil
}

// Velocity returns the momentum buffer of parameter i (nil before the
// first step), for checkpoints.
func (s *SGD) Velocity(i int) []float32 { return s.velocity[i] }

// SetVelocity restores the momentum buffer of parameter i.
func (s *SGD) SetVelocity(i int, v []float32) error {
	if v != nil && len(v) != s.Params[i].Value.Len() {
		return fmt.Errorf("optimizer state for %s has %d values, want %d", s.Params[i].Name, len(v), s.Params[i].Value.Len())
	}
	s.velocity[i] = v
	return nil
}

// Validate checks SGD hyper-parameters before any work: a positive
// learning rate, momentum in [0, 1) and non-negative weight decay.
func Validate(lr, momentum, weightDecay float64) error {
	switch {
	case !(lr > 0):
		return fmt.Errorf("learning rate %g: want > 0", lr)
	case momentum < 0 || momentum >= 1:
		return fmt.Errorf("momentum %g: want [0, 1)", momentum)
	case weightDecay < 0:
		return fmt.Errorf("weight decay %g: want >= 0", weightDecay)
	}
	return nil
}
