package models

import (
	"fmt"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/tensor"
)

// GraphArch is the Arch of a model that runs a graph (an imported ONNX
// network) rather than one of the built-in architectures.
const GraphArch = "graph"

// FromGraph wraps a built graph (every node's layer created, e.g. by
// graph.Build or the ONNX importer) as a Model: Arch GraphArch, Net a
// *graph.Net over g, InputShape g's (C, H, W), and Prunable the graph's
// prunable nodes (every Conv with group 1 and every Gemm; see
// graph.Node.Prunable) in node order. Grouped and depthwise convs are not
// listed: they stay dense.
//
// The graph's output must be one vector of logits per image. classes, when
// positive, must equal its length; 0 takes it from the graph.
func FromGraph(g *graph.Graph, classes int) (*Model, error) {
	if g.Shapes == nil {
		if err := g.Infer(); err != nil {
			return nil, err
		}
	}
	if len(g.InputShape) != 3 {
		return nil, fmt.Errorf("models: the graph's input %s has per-image shape %s, want (channels, height, width)",
			g.Input, tensor.ShapeString(g.InputShape))
	}
	out := g.Shapes[g.Output]
	if len(out) != 1 {
		return nil, fmt.Errorf("models: the graph's output %s has per-image shape %s, want one vector of logits [classes]",
			g.Output, tensor.ShapeString(out))
	}
	if classes > 0 && classes != out[0] {
		return nil, fmt.Errorf("models: %d classes asked for, but the graph's output %s has %d", classes, g.Output, out[0])
	}
	net, err := graph.NewNet(GraphArch, g)
	if err != nil {
		return nil, err
	}
	m := &Model{Arch: GraphArch, Net: net, InputShape: [3]int(g.InputShape), Classes: out[0]}
	for _, n := range g.Nodes {
		if p := n.PrunableLayer(); p != nil {
			m.Prunable = append(m.Prunable, p.Name())
		}
	}
	return m, nil
}

// Graph returns the graph a model runs: its own for a model made by
// FromGraph, else the built-in network lowered (graph.Lower).
func (m *Model) Graph() (*graph.Graph, error) {
	return graph.Of(m.Net, m.InputShape[:])
}
