package models

import (
	"fmt"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// File is an sgcnn model file (package modelfile) loaded as a network.
type File struct {
	// Model is the network, with its weights and masks.
	Model *Model
	// Info is the file's record of how the model was made.
	Info modelfile.Info
	// Extra holds the tensors that are neither parameters, buffers nor
	// masks (optimiser state), by name.
	Extra map[string]*tensor.Tensor
}

// graphNet is what a model made by FromGraph runs.
type graphNet interface{ Graph() *graph.Graph }

// SaveFile writes m (weights, running statistics, masks), info and extra
// tensors to path atomically, as an sgcnn model file. A model made by
// FromGraph is saved with its graph, so that LoadFile needs no other file;
// a CIFAR ResNet records whether it has option B shortcuts.
func SaveFile(path string, m *Model, info modelfile.Info, extra map[string]*tensor.Tensor) error {
	f := &modelfile.File{Arch: m.Arch, Classes: m.Classes, ShortcutB: hasShortcutB(m), Info: info, Extra: extra}
	if gn, ok := m.Net.(graphNet); ok {
		if m.Arch != GraphArch {
			return fmt.Errorf("modelfile: a graph-backed model must have Arch %q, not %q", GraphArch, m.Arch)
		}
		f.Graph = gn.Graph()
		f.Names, f.State = f.Graph.StateDict()
	} else {
		f.Names, f.State = StateDict(m)
	}
	for _, p := range nn.Prunables(m.Net) {
		if mask := p.Mask(); mask != nil {
			n, c := p.MaskShape()
			f.Masks = append(f.Masks, modelfile.Mask{Layer: p.Name(), Mask: &tensor.Tensor{Shape: []int{n, c}, Data: mask}})
		}
	}
	return modelfile.Save(path, f)
}

// hasShortcutB reports whether m is a CIFAR ResNet built with ShortcutB:
// its first downsampling block has a projection conv.
func hasShortcutB(m *Model) bool {
	b, ok := registry[m.Arch]
	return ok && b.takesShortcut && m.Layer("layer2.0.shortcut.0") != nil
}

// LoadFile reads an sgcnn model file and builds its model: a built-in
// architecture with the file's weights, or an imported network from the
// graph the file holds. wantArch, when not empty, must match the file's
// architecture. Masks are set on their layers (which zeroes the pruned
// weights); a mask whose layer or shape does not fit is an error naming it.
func LoadFile(path, wantArch string) (*File, error) {
	f, err := modelfile.Load(path, wantArch)
	if err != nil {
		return nil, err
	}
	m, err := build(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	masks := make(map[string]*tensor.Tensor, len(f.Masks))
	for _, mk := range f.Masks {
		masks[mk.Layer] = mk.Mask
	}
	for _, p := range nn.Prunables(m.Net) {
		t, ok := masks[p.Name()]
		if !ok {
			continue
		}
		delete(masks, p.Name())
		n, c := p.MaskShape()
		if !tensor.SameShape(t.Shape, []int{n, c}) {
			return nil, fmt.Errorf("%s: tensor %s.weight_mask has shape %s, want [%d %d]", path, p.Name(), tensor.ShapeString(t.Shape), n, c)
		}
		if err := p.SetMask(t.Data); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	for _, mk := range f.Masks {
		if _, left := masks[mk.Layer]; left {
			return nil, fmt.Errorf("%s: mask %s.weight_mask names no prunable layer of %s", path, mk.Layer, f.Arch)
		}
	}
	out := &File{Model: m, Info: f.Info, Extra: f.Extra}
	if f.Graph != nil {
		return out, nil // build loaded the weights; SetMask zeroed the pruned ones
	}
	if err := LoadStateDict(m, f.State); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// build makes the model a file describes: a built-in architecture (with
// fresh weights; LoadFile fills them) or an imported graph, built (its
// sizes are checked by modelfile.Load) and loaded with the file's weights.
func build(f *modelfile.File) (*Model, error) {
	if f.Graph == nil {
		var opts []Option
		if f.ShortcutB {
			opts = append(opts, ShortcutB())
		}
		return New(f.Arch, f.Classes, 0, opts...)
	}
	if err := graph.Build(f.Graph, 0); err != nil {
		return nil, fmt.Errorf("metadata %q: %w", "graph", err)
	}
	if err := f.Graph.Load(f.State); err != nil {
		return nil, err
	}
	return FromGraph(f.Graph, f.Classes)
}
