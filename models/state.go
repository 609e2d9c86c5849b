package models

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// entries lists m's parameters and buffers in PyTorch's state_dict order:
// layer by layer in forward order, each layer's parameters (weight, bias)
// before its buffers (running_mean, running_var).
func entries(m *Model) []*nn.Param {
	var ps []*nn.Param
	nn.Walk(m.Net, func(l nn.Layer) {
		if _, ok := l.(nn.Container); ok {
			return
		}
		ps = append(ps, l.Params()...)
		if b, ok := l.(nn.Buffered); ok {
			ps = append(ps, b.Buffers()...)
		}
	})
	return ps
}

// StateDict returns m's parameters and BatchNorm running statistics under
// their PyTorch names, in state_dict order. The tensors are m's own, not
// copies: writing to them changes the model. num_batches_tracked is not
// included.
func StateDict(m *Model) (names []string, tensors map[string]*tensor.Tensor) {
	ps := entries(m)
	names = make([]string, len(ps))
	tensors = make(map[string]*tensor.Tensor, len(ps))
	for i, p := range ps {
		names[i] = p.Name
		tensors[p.Name] = p.Value
	}
	return names, tensors
}

// ShapeMismatch is one tensor whose checkpoint shape differs from the
// model's.
type ShapeMismatch struct {
	Name       string
	Checkpoint []int
	Model      []int
}

// StateDictError reports a checkpoint that does not fit a model.
type StateDictError struct {
	Arch       string          // the model's architecture
	Missing    []string        // expected by the model, absent from the checkpoint
	Unexpected []string        // in the checkpoint, unknown to the model
	Mismatched []ShapeMismatch // present in both with different shapes
}

// listed joins up to five names and says how many more there are.
func listed(names []string) string {
	const most = 5
	if len(names) <= most {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:most], ", "), len(names)-most)
}

// Error summarises the problem; when no checkpoint name matches the model
// at all, it says the checkpoint is for another architecture.
func (e *StateDictError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing "+listed(e.Missing))
	}
	if len(e.Unexpected) > 0 {
		parts = append(parts, "unexpected "+listed(e.Unexpected))
	}
	if len(e.Mismatched) > 0 {
		var ms []string
		for _, m := range e.Mismatched {
			ms = append(ms, fmt.Sprintf("%s (checkpoint %s, model %s)", m.Name,
				tensor.ShapeString(m.Checkpoint), tensor.ShapeString(m.Model)))
		}
		parts = append(parts, "shape mismatch "+listed(ms))
	}
	what := "checkpoint does not fit " + e.Arch
	if len(e.Mismatched) == 0 && len(e.Missing) > 0 && len(e.Unexpected) > 0 {
		what = "checkpoint is for another architecture than " + e.Arch
	}
	return "models: " + what + ": " + strings.Join(parts, "; ")
}

// LoadStateDict copies the tensors of a checkpoint into m. Every parameter
// and running statistic of m must be present with the same shape, and the
// checkpoint must hold nothing else (names ending in num_batches_tracked
// are ignored); otherwise LoadStateDict changes nothing and returns a
// *StateDictError listing every missing, unexpected and mismatched name.
// Layers that carry a mask get it applied again to the loaded weights.
func LoadStateDict(m *Model, tensors map[string]*tensor.Tensor) error {
	ps := entries(m)
	known := make(map[string]bool, len(ps))
	e := &StateDictError{Arch: m.Arch}
	for _, p := range ps {
		known[p.Name] = true
		t, ok := tensors[p.Name]
		switch {
		case !ok || t == nil:
			e.Missing = append(e.Missing, p.Name)
		case !tensor.SameShape(t.Shape, p.Value.Shape) || len(t.Data) != len(p.Value.Data):
			e.Mismatched = append(e.Mismatched, ShapeMismatch{Name: p.Name, Checkpoint: t.Shape, Model: p.Value.Shape})
		}
	}
	for name := range tensors {
		if !known[name] && !strings.HasSuffix(name, "num_batches_tracked") {
			e.Unexpected = append(e.Unexpected, name)
		}
	}
	sort.Strings(e.Unexpected)
	if len(e.Missing)+len(e.Unexpected)+len(e.Mismatched) > 0 {
		return e
	}
	for _, p := range ps {
		copy(p.Value.Data, tensors[p.Name].Data)
	}
	for _, p := range nn.Prunables(m.Net) {
		if mask := p.Mask(); mask != nil {
			if err := p.SetMask(mask); err != nil {
				return fmt.Errorf("models: reapplying the mask of %s: %w", p.Name(), err)
			}
		}
	}
	return nil
}
