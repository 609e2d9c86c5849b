package onnximport

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
	"github.com/sgcnn/sgcnn/tensor"
)

// Options tune the import.
type Options struct {
	// InputShape overrides one image's input shape (C, H, W): needed when
	// the model has a dynamic dimension other than the batch.
	InputShape []int
	// Dir is the folder external data files are read from. ReadFile
	// defaults it to the model file's folder; Read refuses external data
	// when it is empty.
	Dir string
}

// Read parses an ONNX model and returns its graph, built (graph.Build) and
// loaded with the file's weights.
func Read(data []byte, opts Options) (*graph.Graph, error) {
	g, weights, err := convert(data, opts)
	if err != nil {
		return nil, err
	}
	return g, buildAndLoad(g, weights)
}

// ReadFile reads the ONNX model at path (see Read). The file is mapped
// rather than read where the system allows, and released as soon as the
// weights are converted, so that the built network does not coexist with
// the file's bytes.
func ReadFile(path string, opts Options) (*graph.Graph, error) {
	if opts.Dir == "" {
		opts.Dir = filepath.Dir(path)
	}
	data, release, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnximport: %w", err)
	}
	g, weights, err := convert(data, opts)
	release()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := buildAndLoad(g, weights); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// readWhole is mapFile's fallback: the file read into memory.
func readWhole(path string) ([]byte, func(), error) {
	b, err := os.ReadFile(path)
	return b, func() {}, err
}

// convert decodes and checks the model, then lowers it to a graph whose
// parameters are returned by state_dict name, not yet built.
func convert(data []byte, opts Options) (*graph.Graph, map[string]*tensor.Tensor, error) {
	m, err := decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("onnximport: %w", err)
	}
	im, err := newImporter(m, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("onnximport: %w", err)
	}
	if err := im.run(); err != nil {
		return nil, nil, fmt.Errorf("onnximport: %w", err)
	}
	return im.g, im.weights, nil
}

// importer holds the state of one conversion.
type importer struct {
	opts  Options
	opset int64
	graph *onnxpb.GraphProto
	// inits are initializers not yet decoded; consts are decoded or folded
	// constants, by ONNX value name.
	inits  map[string]*onnxpb.TensorProto
	consts map[string]*cval
	// acts are the activation tensors made so far (ONNX value names, kept
	// as the graph's tensor names).
	acts  map[string]bool
	batch int64 // the batch dimension Shape reports (1 when dynamic)

	g       *graph.Graph
	fresh   bool // g.Shapes covers every node
	weights map[string]*tensor.Tensor
	names   map[string]bool // node names taken
	// fused are nodes already lowered into an earlier one (a MatMul's bias
	// Add).
	fused map[*onnxpb.NodeProto]bool
}

// run lowers every node, then infers the final graph's shapes.
func (im *importer) run() error {
	for i, n := range im.graph.Node {
		if im.fused[n] {
			continue
		}
		if err := im.node(n); err != nil {
			return fmt.Errorf("node %d %q (%s): %w", i, n.Name, n.OpType, err)
		}
	}
	out := im.graph.Output[0].Name
	if !im.acts[out] {
		return fmt.Errorf("graph output %q is not computed from the input (a constant, or not produced)", out)
	}
	im.g.Output = out
	if err := im.g.Infer(); err != nil {
		return err
	}
	return nil
}

// shape returns an activation's per-image shape, inferring the graph built
// so far when nodes were added since the last call.
func (im *importer) shape(name string) ([]int, error) {
	if !im.acts[name] {
		return nil, fmt.Errorf("%q is not an activation", name)
	}
	if !im.fresh {
		im.g.Output = im.g.Input
		if err := im.g.Infer(); err != nil {
			return nil, err
		}
		im.fresh = true
	}
	s, ok := im.g.Shapes[name]
	if !ok {
		return nil, fmt.Errorf("no shape for %q", name)
	}
	return s, nil
}

// add appends a graph node whose outputs are activations.
func (im *importer) add(n *graph.Node) {
	im.g.Nodes = append(im.g.Nodes, n)
	for _, o := range n.Outputs {
		im.acts[o] = true
	}
	im.fresh = false
}

// param records a node parameter under the node's state_dict name.
func (im *importer) param(node, suffix string, c *cval, dims ...int) error {
	if c.numel() != tensor.Numel(dims...) {
		return fmt.Errorf("%s.%s has %d values, want %v", node, suffix, c.numel(), dims)
	}
	t, err := tensor.From(c.floats(), dims...)
	if err != nil {
		return err
	}
	im.weights[node+"."+suffix] = t
	return nil
}
