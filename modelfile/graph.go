package modelfile

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/tensor"
)

// readGraph decodes an imported network's graph from the metadata,
// attaches its constant operands (tensors of the file, not part of the
// JSON; shape inference needs them), infers its shapes and checks its
// weights' sizes.
func readGraph(meta map[string]string, weights map[string]*tensor.Tensor) (*graph.Graph, error) {
	raw, ok := meta[keyGraph]
	if !ok {
		return nil, fmt.Errorf("metadata %q is missing (an imported model's network)", keyGraph)
	}
	g := new(graph.Graph)
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(g); err != nil {
		return nil, fmt.Errorf("metadata %q: %w", keyGraph, err)
	}
	for _, n := range g.Nodes {
		if c, ok := weights[n.Name+".const"]; ok {
			n.Const = c
		}
	}
	if err := g.Infer(); err != nil {
		return nil, fmt.Errorf("metadata %q: %w", keyGraph, err)
	}
	if err := checkSizes(g, weights); err != nil {
		return nil, err
	}
	return g, nil
}

// checkSizes checks, before graph.Build allocates the layers a graph's
// attributes ask for, that the file holds each node's weight with the
// number of elements those attributes imply: a corrupt or hostile header
// cannot make Build allocate more than the file itself holds.
func checkSizes(g *graph.Graph, weights map[string]*tensor.Tensor) error {
	for _, n := range g.Nodes {
		var want int64
		switch n.Op {
		case graph.Conv, graph.ConvTranspose, graph.Gemm, graph.BatchNorm:
		default:
			continue
		}
		in := g.Shapes[n.Inputs[0]]
		switch n.Op {
		case graph.Conv:
			want = int64(n.Attrs.Out) * int64(in[0]/max(n.Attrs.Group, 1)) * int64(n.Attrs.Kernel[0]) * int64(n.Attrs.Kernel[1])
		case graph.ConvTranspose:
			want = int64(in[0]) * int64(n.Attrs.Out/max(n.Attrs.Group, 1)) * int64(n.Attrs.Kernel[0]) * int64(n.Attrs.Kernel[1])
		case graph.Gemm:
			want = int64(n.Attrs.Out)
			for _, d := range in {
				want *= int64(d)
			}
		case graph.BatchNorm:
			want = int64(in[0])
		}
		name := n.Name + ".weight"
		t, ok := weights[name]
		if !ok {
			return fmt.Errorf("tensor %s is missing (node %s, %s)", name, n.Name, n.Op)
		}
		if int64(len(t.Data)) != want {
			return fmt.Errorf("tensor %s has shape %s (%d elements), but node %s (%s) needs %d", name,
				tensor.ShapeString(t.Shape), len(t.Data), n.Name, n.Op, want)
		}
	}
	return nil
}
