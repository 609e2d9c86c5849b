// Package torchexport writes an sgcnn model for PyTorch: its state_dict in
// PyTorch's zip format (torch.load reads it) with each pruned layer's mask
// as a buffer, and its filter groups in a JSON sidecar.
//
// The state_dict holds, under the PyTorch names of package models:
//
//	<layer>.weight, <layer>.bias     parameters; pruned weights are zero
//	<bn>.running_mean, running_var   BatchNorm statistics
//	<bn>.num_batches_tracked         0 (int64), so strict loading succeeds
//	<layer>.weight_mask              for each masked conv or linear layer:
//	                                 the mask broadcast to the weight's
//	                                 shape, 1 where kept, 0 where pruned
//	<node>.const                     the constant operand of an elementwise
//	                                 node of an imported graph
//
// It walks the lowered graph (graph.Of), so a built-in model and an
// imported one (a graph.Net) are written alike, in node order.
//
// The masks are what torch.nn.utils.prune.custom_from_mask takes, so a
// PyTorch model built with the same layout can be pruned identically and
// trained further with the pruned weights held at zero.
// scripts/load_torch_export.py builds the CIFAR ResNets and LeNet-5 this
// way, checks the logits, and shows how to continue training on one
// process or with torchrun (DDP).
//
// The sidecar <out>.groups.json lists, per masked layer, its filter groups:
// the filters with one kept-input pattern and the input channels they read
// (Groups). It is what a grouped implementation needs to run the layer.
package torchexport

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/internal/maskgroup"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/pytorch"
	"github.com/sgcnn/sgcnn/tensor"
)

// MaskSuffix ends the name of a mask buffer: "<layer>" + MaskSuffix.
const MaskSuffix = ".weight_mask"

// GroupsSuffix is appended to the export's path to name the sidecar.
const GroupsSuffix = ".groups.json"

// Groups is the content of the sidecar.
type Groups struct {
	Arch    string  `json:"arch"`
	Classes int     `json:"classes"`
	Input   [3]int  `json:"input"` // channels, height, width
	Layers  []Layer `json:"layers"`
}

// Layer is one masked layer's group structure.
type Layer struct {
	Name     string  `json:"name"`     // state_dict prefix
	Filters  int     `json:"filters"`  // N, output channels
	Channels int     `json:"channels"` // C, input channels
	Kept     int     `json:"kept"`     // kept (filter, channel) pairs
	Groups   []Group `json:"groups"`
	Dead     []int   `json:"dead"` // filters with every input pruned
}

// Group is a set of filters with one kept-input pattern.
type Group struct {
	Filters  []int `json:"filters"`
	Channels []int `json:"channels"`
}

// StateDict returns m's state_dict with a <layer>.weight_mask buffer for
// every masked layer, num_batches_tracked for every BatchNorm, and
// <node>.const for every constant operand of an elementwise op. Weights
// are copies with the pruned entries zeroed. It reads the lowered graph
// (graph.Of), in node order.
func StateDict(m *models.Model) (*pytorch.StateDict, error) {
	g, err := graph.Of(m.Net, m.InputShape[:])
	if err != nil {
		return nil, fmt.Errorf("torchexport: %w", err)
	}
	sd := pytorch.NewStateDict()
	for _, n := range g.Nodes {
		if err := addNode(sd, n); err != nil {
			return nil, err
		}
	}
	return sd, nil
}

// addNode adds one node's parameters, buffers, mask and constant.
func addNode(sd *pytorch.StateDict, n *graph.Node) error {
	if n.Layer == nil {
		if n.Const != nil {
			sd.Add(n.Name+".const", copyOf(n.Const))
		}
		return nil
	}
	var mask []float32
	var kk int
	var w *nn.Param
	if p := n.PrunableLayer(); p != nil && p.Mask() != nil {
		mask, w = p.Mask(), p.Weight()
		nf, c := p.MaskShape()
		if len(mask) != nf*c {
			return fmt.Errorf("torchexport: layer %s: mask has %d entries, want %d", n.Name, len(mask), nf*c)
		}
		kk = w.Value.Len() / (nf * c)
	}
	for _, prm := range n.Layer.Params() {
		t := copyOf(prm.Value)
		if mask != nil && prm == w {
			for i, v := range mask {
				if v == 0 {
					clear(t.Data[i*kk : (i+1)*kk])
				}
			}
		}
		sd.Add(prm.Name, t)
	}
	if b, ok := n.Layer.(nn.Buffered); ok {
		for _, prm := range b.Buffers() {
			sd.Add(prm.Name, copyOf(prm.Value))
		}
	}
	if mask != nil {
		mt := tensor.New(w.Value.Shape...)
		for i, v := range mask {
			for j := range kk {
				mt.Data[i*kk+j] = v
			}
		}
		sd.Add(n.Name+MaskSuffix, mt)
	}
	if n.Const != nil {
		sd.Add(n.Name+".const", copyOf(n.Const))
	}
	if n.Op == graph.BatchNorm {
		sd.AddInt(n.Name+".num_batches_tracked", &pytorch.IntTensor{Shape: []int{}, Data: []int64{0}})
	}
	return nil
}

func copyOf(t *tensor.Tensor) *tensor.Tensor {
	c := tensor.New(t.Shape...)
	copy(c.Data, t.Data)
	return c
}

// GroupsOf returns the group structure of m's masked layers, in forward
// order.
func GroupsOf(m *models.Model) Groups {
	g := Groups{Arch: m.Arch, Classes: m.Classes, Input: m.InputShape, Layers: []Layer{}}
	for _, p := range nn.Prunables(m.Net) {
		mask := p.Mask()
		if mask == nil {
			continue
		}
		n, c := p.MaskShape()
		fs, dead := maskgroup.Of(mask, n, c)
		l := Layer{Name: p.Name(), Filters: n, Channels: c, Dead: dead, Groups: []Group{}}
		if l.Dead == nil {
			l.Dead = []int{}
		}
		for _, v := range mask {
			if v != 0 {
				l.Kept++
			}
		}
		for _, f := range fs {
			gr := Group{Filters: f}
			for j := range c {
				if mask[f[0]*c+j] != 0 {
					gr.Channels = append(gr.Channels, j)
				}
			}
			l.Groups = append(l.Groups, gr)
		}
		g.Layers = append(g.Layers, l)
	}
	return g
}

// Export writes m's state_dict with masks to path (PyTorch zip format) and
// its groups to path + GroupsSuffix. Each file is written all or nothing;
// if the sidecar cannot be written, the state_dict is removed again.
func Export(path string, m *models.Model) error {
	if m == nil || m.Net == nil {
		return fmt.Errorf("torchexport: no model")
	}
	sd, err := StateDict(m)
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(GroupsOf(m), "", " ")
	if err != nil {
		return fmt.Errorf("torchexport: %w", err)
	}
	if err := pytorch.SaveZip(path, sd); err != nil {
		return fmt.Errorf("torchexport: %w", err)
	}
	side := path + GroupsSuffix
	if err := atomicfile.Write(side, func(w io.Writer) error {
		_, err := w.Write(append(js, '\n'))
		return err
	}); err != nil {
		os.Remove(path)
		return fmt.Errorf("torchexport: writing %s: %w", side, err)
	}
	return nil
}
