package modelfile

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/tensor"
)

// graphNet is what a model made by models.FromGraph runs.
type graphNet interface{ Graph() *graph.Graph }

// stateOf returns the tensors Save writes for m: its state dict in order,
// and, for a graph model, the graph's JSON (its constants are among the
// tensors).
func stateOf(m *models.Model) (names []string, tensors map[string]*tensor.Tensor, graphJSON string, err error) {
	gn, ok := m.Net.(graphNet)
	if !ok {
		names, tensors = models.StateDict(m)
		return names, tensors, "", nil
	}
	if m.Arch != models.GraphArch {
		return nil, nil, "", fmt.Errorf("modelfile: a graph-backed model must have Arch %q, not %q", models.GraphArch, m.Arch)
	}
	g := gn.Graph()
	raw, err := json.Marshal(g)
	if err != nil {
		return nil, nil, "", fmt.Errorf("modelfile: the graph: %w", err)
	}
	names, tensors = g.StateDict()
	return names, tensors, string(raw), nil
}

// build makes the model a file describes: a built-in architecture (with
// fresh weights; Load fills them) or, for arch "graph", the graph in the
// metadata, built and loaded with weights.
func build(meta map[string]string, arch string, classes int, weights map[string]*tensor.Tensor) (*models.Model, error) {
	if arch != models.GraphArch {
		var opts []models.Option
		if meta[keyShortB] == "true" {
			opts = append(opts, models.ShortcutB())
		}
		return models.New(arch, classes, 0, opts...)
	}
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
	// Constant operands are tensors of the file, not part of the JSON;
	// shape inference needs them.
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
	if err := graph.Build(g, 0); err != nil {
		return nil, fmt.Errorf("metadata %q: %w", keyGraph, err)
	}
	if err := g.Load(weights); err != nil {
		return nil, err
	}
	return models.FromGraph(g, classes)
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
