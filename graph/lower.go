package graph

import (
	"fmt"
	"slices"

	"github.com/sgcnn/sgcnn/nn"
)

// This file lowers the built-in networks (trees of nn containers) into a
// graph. It holds the one type switch over nn's layers that the readers of
// a network need; count, compile and export read the graph.

// Lower turns an nn tree into a graph for inputs of one image's shape
// inputShape (C, H, W). Each node with parameters has Layer set to the very
// same nn leaf (parameters are shared, not copied) and is named after it.
// Sequential is flattened; Residual becomes its body and shortcut followed
// by an Add named after it; DenseConcat its body followed by a Concat of
// [x, body] on the channel axis. A node's one output tensor is named after
// the node. Shapes are inferred before Lower returns.
func Lower(net nn.Layer, inputShape []int) (*Graph, error) {
	l := &lowering{g: &Graph{Input: "input", InputShape: slices.Clone(inputShape)}, used: map[string]bool{"input": true}}
	out, err := l.emit(net, "input")
	if err != nil {
		return nil, err
	}
	l.g.Output = out
	if err := l.g.Infer(); err != nil {
		return nil, err
	}
	return l.g, nil
}

// Of returns the graph of a network: a graph-backed network's own graph
// (see Net), or Lower(net, inputShape) for an nn tree.
func Of(net nn.Layer, inputShape []int) (*Graph, error) {
	if gn, ok := net.(interface{ Graph() *Graph }); ok {
		g := gn.Graph()
		if g.Shapes == nil {
			if err := g.Infer(); err != nil {
				return nil, err
			}
		}
		if len(inputShape) > 0 && !slices.Equal(inputShape, g.InputShape) {
			return nil, fmt.Errorf("graph: the network takes %v inputs, not %v", g.InputShape, inputShape)
		}
		return g, nil
	}
	return Lower(net, inputShape)
}

// Prunable reports whether the node is pruned by default: a Conv with group
// 1 or a Gemm, whose layer carries a connection mask.
func (n *Node) Prunable() bool { return n.PrunableLayer() != nil }

// PrunableLayer returns the node's layer as an nn.Prunable when the node is
// prunable by default, else nil. Grouped and depthwise convs stay dense.
func (n *Node) PrunableLayer() nn.Prunable {
	if (n.Op == Conv && n.Attrs.Group <= 1) || n.Op == Gemm {
		if p, ok := n.Layer.(nn.Prunable); ok {
			return p
		}
	}
	return nil
}

// lowering carries the graph being built and the names taken.
type lowering struct {
	g    *Graph
	used map[string]bool
}

// add appends a node reading ins, named after name (made unique), and
// returns its output tensor.
func (l *lowering) add(name string, op Op, a Attrs, layer nn.Layer, ins ...string) string {
	base := name
	if base == "" {
		base = string(op)
	}
	for i := 2; l.used[name] || name == ""; i++ {
		name = fmt.Sprintf("%s#%d", base, i)
	}
	l.used[name] = true
	l.g.Nodes = append(l.g.Nodes, &Node{Name: name, Op: op, Inputs: ins, Outputs: []string{name}, Attrs: a, Layer: layer})
	return name
}

// emit lowers layer x applied to tensor in and returns its output tensor.
func (l *lowering) emit(x nn.Layer, in string) (string, error) {
	switch x := x.(type) {
	case *nn.Sequential:
		var err error
		for _, c := range x.Layers {
			if in, err = l.emit(c, in); err != nil {
				return "", err
			}
		}
		return in, nil
	case *nn.Residual:
		// Body first, as nn.Walk visits it, so that the prunable nodes keep
		// the order of nn.Prunables.
		y, err := l.emit(x.Body, in)
		if err != nil {
			return "", err
		}
		s := in
		if x.Shortcut != nil {
			if s, err = l.emit(x.Shortcut, in); err != nil {
				return "", err
			}
		}
		return l.add(x.Name(), Add, Attrs{}, nil, y, s), nil
	case *nn.DenseConcat:
		z, err := l.emit(x.Body, in)
		if err != nil {
			return "", err
		}
		return l.add(x.Name(), Concat, Attrs{Axis: 0}, nil, in, z), nil
	case *nn.Conv2d:
		p := x.Pad
		return l.add(x.Name(), Conv, Attrs{Out: x.Out, Kernel: [2]int{x.K, x.K}, Stride: [2]int{x.Stride, x.Stride},
			Pads: [4]int{p, p, p, p}, Dilation: [2]int{1, 1}, Group: 1, Bias: x.B != nil}, x, in), nil
	case *nn.BatchNorm2d:
		return l.add(x.Name(), BatchNorm, Attrs{Eps: x.Eps, Momentum: x.Momentum}, x, in), nil
	case *nn.Linear:
		return l.add(x.Name(), Gemm, Attrs{Out: x.Out, Bias: x.B != nil}, x, in), nil
	case *nn.ReLU:
		return l.add(x.Name(), Relu, Attrs{}, x, in), nil
	case *nn.Dropout:
		return l.add(x.Name(), Dropout, Attrs{Ratio: x.P}, x, in), nil
	case *nn.MaxPool2d:
		return l.add(x.Name(), MaxPool, poolAttrs(x.K, x.Stride, x.Pad, false), x, in), nil
	case *nn.AvgPool2d:
		return l.add(x.Name(), AveragePool, poolAttrs(x.K, x.Stride, x.Pad, true), x, in), nil
	case *nn.GlobalAvgPool:
		return l.add(x.Name(), GlobalAveragePool, Attrs{}, x, in), nil
	case *nn.ShortcutA:
		return l.add(x.Name(), ShortcutA, Attrs{Out: x.Out, Stride: [2]int{x.Stride, x.Stride}}, x, in), nil
	}
	return "", &Error{Node: x.Name(), Msg: fmt.Sprintf("layer type %T cannot be lowered", x)}
}

// poolAttrs describes a square, symmetric pool of nn.
func poolAttrs(k, s, p int, countPad bool) Attrs {
	return Attrs{Kernel: [2]int{k, k}, Stride: [2]int{s, s}, Pads: [4]int{p, p, p, p}, CountIncludePad: countPad}
}
