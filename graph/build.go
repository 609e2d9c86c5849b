package graph

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// builtOps are the ops Build creates a layer for.
var builtOps = map[Op]bool{Conv: true, ConvTranspose: true, BatchNorm: true, Gemm: true, MaxPool: true, AveragePool: true}

// Build creates node.Layer for every node with parameters (Conv,
// ConvTranspose, BatchNorm, Gemm) and for the pools, from the op, its
// attributes and the inferred shapes (Build calls Infer), with fresh
// initial weights drawn from seed (PyTorch's default initialisation).
// Layers those nodes held before are replaced.
//
// A Conv with one group, a square kernel, one stride for both axes, equal
// pads and no dilation becomes an *nn.Conv2d; any other Conv a
// *GeneralConv (one group, prunable) or a *GroupedConv; ConvTranspose a
// *ConvTranspose2d; BatchNorm an *nn.BatchNorm2d (Eps and Momentum from
// the attributes, PyTorch's defaults where zero); Gemm an *nn.Linear over
// the flattened input; MaxPool and AveragePool nn's layers where the
// attributes fit them, else a *Pool2d. Other nodes keep a nil Layer: Net
// runs them itself.
func Build(g *Graph, seed uint64) error {
	for _, n := range g.Nodes {
		if builtOps[n.Op] {
			n.Layer = nil // Infer checks a layer against the attributes
		}
	}
	if err := g.Infer(); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for _, n := range g.Nodes {
		if !builtOps[n.Op] {
			continue
		}
		l, err := buildLayer(n, g.Shapes[n.Inputs[0]], rng)
		if err != nil {
			return &Error{Node: n.Name, Op: n.Op, Msg: err.Error()}
		}
		n.Layer = l
	}
	return nil
}

// buildLayer creates the layer of a node whose input has per-image shape in.
func buildLayer(n *Node, in []int, rng *rand.Rand) (nn.Layer, error) {
	a := n.Attrs
	switch n.Op {
	case Conv:
		k, s, d, p := a.Kernel, pairOr(a.Stride, 1), pairOr(a.Dilation, 1), a.Pads
		if max(a.Group, 1) == 1 && k[0] == k[1] && s[0] == s[1] && d == [2]int{1, 1} &&
			p[0] == p[1] && p[1] == p[2] && p[2] == p[3] {
			return nn.NewConv2d(n.Name, in[0], a.Out, k[0], s[0], p[0], a.Bias, rng), nil
		}
		c, err := newCore(n.Name, in[0], a, false, rng)
		if err != nil {
			return nil, err
		}
		if c.Group == 1 {
			return &GeneralConv{*c}, nil
		}
		return &GroupedConv{*c}, nil
	case ConvTranspose:
		c, err := newCore(n.Name, in[0], a, true, rng)
		if err != nil {
			return nil, err
		}
		return &ConvTranspose2d{*c}, nil
	case BatchNorm:
		bn := nn.NewBatchNorm2d(n.Name, in[0])
		if a.Eps > 0 {
			bn.Eps = a.Eps
		}
		if a.Momentum > 0 {
			bn.Momentum = a.Momentum
		}
		return bn, nil
	case Gemm:
		return nn.NewLinear(n.Name, tensor.Numel(in...), a.Out, a.Bias, rng), nil
	case MaxPool, AveragePool:
		return newPool(n, in)
	}
	return nil, fmt.Errorf("no layer for op %s", n.Op)
}

// stateOf lists a node's parameters, buffers and constant.
func stateOf(n *Node) []*nn.Param {
	var ps []*nn.Param
	if n.Layer != nil {
		ps = append(ps, nn.AllParams(n.Layer)...)
		ps = append(ps, nn.AllBuffers(n.Layer)...)
	}
	if n.Const != nil {
		ps = append(ps, &nn.Param{Name: n.Name + ".const", Value: n.Const})
	}
	return ps
}

// StateDict lists every parameter, buffer and constant of the graph by
// name (PyTorch's: node.Name+".weight", ".bias", ".running_mean",
// ".running_var", and ".const" for constant operands), in node order. The
// tensors are the graph's own, not copies.
func (g *Graph) StateDict() (names []string, tensors map[string]*tensor.Tensor) {
	tensors = map[string]*tensor.Tensor{}
	for _, n := range g.Nodes {
		for _, p := range stateOf(n) {
			if _, dup := tensors[p.Name]; !dup {
				names = append(names, p.Name)
			}
			tensors[p.Name] = p.Value
		}
	}
	return names, tensors
}

// Load copies a state dict into the built layers and constants, checking
// that every tensor of the graph is given with its shape and that the dict
// holds nothing else (PyTorch's ".num_batches_tracked" entries are
// ignored). Masks, where set, are applied again to the loaded weights.
func (g *Graph) Load(state map[string]*tensor.Tensor) error {
	names, tensors := g.StateDict()
	var missing []string
	for _, name := range names {
		src, ok := state[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		dst := tensors[name]
		if src == nil || !tensor.SameShape(src.Shape, dst.Shape) || len(src.Data) != len(dst.Data) {
			return fmt.Errorf("graph: state %s has shape %s, the graph's is %s", name, tensor.ShapeString(shapeOf(src)), tensor.ShapeString(dst.Shape))
		}
	}
	var extra []string
	for name := range state {
		if _, ok := tensors[name]; !ok && !strings.HasSuffix(name, ".num_batches_tracked") {
			extra = append(extra, name)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("graph: state dict does not match the graph: missing %s; unexpected %s", list(missing), list(extra))
	}
	for _, name := range names {
		copy(tensors[name].Data, state[name].Data)
	}
	for _, n := range g.Nodes {
		if p, ok := n.Layer.(nn.Prunable); ok && p.Mask() != nil {
			if err := p.SetMask(p.Mask()); err != nil {
				return err
			}
		}
	}
	return nil
}

// list names up to five entries of names.
func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	if len(names) > 5 {
		return fmt.Sprintf("%s and %d more", strings.Join(names[:5], ", "), len(names)-5)
	}
	return strings.Join(names, ", ")
}
