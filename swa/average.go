package swa

import (
	"errors"
	"fmt"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
)

// Averager accumulates the parameters of snapshots of one model: add each
// with Add, then write their mean with Mean.
type Averager struct {
	first *models.Model
	names []string
	sum   [][]float64 // per parameter, in nn.AllParams order
	n     int
}

// Add accumulates m's parameters (weights, biases, batch-norm scales and
// shifts; not the running statistics). Every model added must have the
// first one's architecture, parameter shapes and masks.
func (a *Averager) Add(m *models.Model) error {
	ps := params(m)
	if a.first == nil {
		a.first = m
		a.sum = make([][]float64, len(ps))
		for i, p := range ps {
			a.names = append(a.names, p.Name)
			a.sum[i] = make([]float64, len(p.Value.Data))
		}
	} else if err := a.check(m, ps); err != nil {
		return err
	}
	for i, p := range ps {
		s := a.sum[i]
		for j, v := range p.Value.Data {
			s[j] += float64(v)
		}
	}
	a.n++
	return nil
}

// N returns the number of models added.
func (a *Averager) N() int { return a.n }

// Mean writes the mean of the added models' parameters into dst, which
// must have their architecture and masks (it may be one of them). The
// running statistics of dst's batch-norm layers are left as they were:
// they belong to no average, so re-estimate them with UpdateBN.
func (a *Averager) Mean(dst *models.Model) error {
	if a.n == 0 {
		return errors.New("swa: no models to average")
	}
	ps := params(dst)
	if err := a.check(dst, ps); err != nil {
		return err
	}
	for i, p := range ps {
		for j, s := range a.sum[i] {
			p.Value.Data[j] = float32(s / float64(a.n))
		}
	}
	return nil
}

func params(m *models.Model) []*nn.Param { return nn.AllParams(m.Net) }

// check reports how m, with parameters ps, differs from the first model
// added: architecture, a parameter's name or size, or a layer's mask.
func (a *Averager) check(m *models.Model, ps []*nn.Param) error {
	first, names := a.first, a.names
	if m.Arch != first.Arch || m.Classes != first.Classes {
		return fmt.Errorf("swa: model is a %s with %d classes, the first a %s with %d", m.Arch, m.Classes, first.Arch, first.Classes)
	}
	if len(ps) != len(names) {
		return fmt.Errorf("swa: model has %d parameters, the first %d", len(ps), len(names))
	}
	for i, p := range ps {
		if p.Name != names[i] {
			return fmt.Errorf("swa: parameter %d is %s, the first model's %s", i, p.Name, names[i])
		}
		if len(p.Value.Data) != len(a.sum[i]) {
			return fmt.Errorf("swa: parameter %s has %d values, the first model's %d", p.Name, len(p.Value.Data), len(a.sum[i]))
		}
	}
	want := map[string][]float32{}
	for _, p := range nn.Prunables(first.Net) {
		want[p.Name()] = p.Mask()
	}
	for _, p := range nn.Prunables(m.Net) {
		w, got := want[p.Name()], p.Mask()
		if (w == nil) != (got == nil) {
			return fmt.Errorf("swa: layer %s is pruned in one model and dense in the other: the masks must be the same", p.Name())
		}
		if len(w) != len(got) {
			return fmt.Errorf("swa: layer %s has a mask of %d entries, the first model's %d", p.Name(), len(got), len(w))
		}
		for j := range w {
			if w[j] != got[j] {
				n, c := p.MaskShape()
				return fmt.Errorf("swa: layer %s: mask entry (filter %d, channel %d) differs from the first model's: the masks must be the same", p.Name(), j/c%n, j%c)
			}
		}
	}
	return nil
}
