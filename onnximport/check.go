package onnximport

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
	"github.com/sgcnn/sgcnn/tensor"
)

// Opsets the reader accepts for the default ("" or "ai.onnx") domain.
const (
	minOpset = 7
	maxOpset = 21
)

// computeOps become graph nodes; foldOps are evaluated at import time and
// are accepted only on constants (Squeeze, Unsqueeze, Cast and Identity also
// work on activations).
var (
	computeOps = []string{
		"Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Conv", "ConvTranspose", "Div",
		"Dropout", "Flatten", "Gemm", "GlobalAveragePool", "HardSigmoid", "HardSwish", "Identity",
		"LeakyRelu", "MatMul", "MaxPool", "Mul", "Pad", "ReduceMean", "Relu", "Reshape", "Sigmoid",
		"Slice", "Split", "Squeeze", "Sub", "Transpose", "Unsqueeze",
	}
	foldOps = []string{
		"Abs", "And", "Cast", "Ceil", "Constant", "ConstantOfShape", "Equal", "Expand", "Floor", "Gather",
		"Greater", "GreaterOrEqual", "Less", "LessOrEqual", "Max", "Min", "Mod", "Neg", "Not", "Or",
		"Range", "Shape", "Where", "Xor",
	}
)

// supported lists every op type the reader takes, for error messages.
func supported() string {
	all := slices.Concat(computeOps, foldOps)
	slices.Sort(all)
	return strings.Join(slices.Compact(all), ", ")
}

// newImporter checks the model before any work: opset, every op, the input
// and output, and every tensor's header.
func newImporter(m *model, opts Options) (*importer, error) {
	g := m.proto.Graph
	im := &importer{
		opts: opts, graph: g,
		inits:   make(map[string]*onnxpb.TensorProto, len(m.inits)),
		consts:  map[string]*cval{},
		acts:    map[string]bool{},
		weights: map[string]*tensor.Tensor{},
		names:   map[string]bool{},
		fused:   map[*onnxpb.NodeProto]bool{},
	}
	if err := im.checkOpset(m.proto.OpsetImport); err != nil {
		return nil, err
	}
	if err := im.checkOps(); err != nil {
		return nil, err
	}
	for _, t := range m.inits {
		if _, dup := im.inits[t.Name]; dup || t.Name == "" {
			return nil, fmt.Errorf("initializer %q: name empty or used twice", t.Name)
		}
		if err := checkTensor(t); err != nil {
			return nil, fmt.Errorf("initializer %q: %w", t.Name, err)
		}
		im.inits[t.Name] = t
	}
	if err := im.checkConstants(); err != nil {
		return nil, err
	}
	in, shape, err := im.input()
	if err != nil {
		return nil, err
	}
	if len(g.Output) != 1 {
		return nil, fmt.Errorf("the graph has %d outputs, want one (the logits)", len(g.Output))
	}
	im.g = &graph.Graph{Input: in, InputShape: shape}
	im.acts[in] = true
	return im, nil
}

// checkOpset finds the default domain's opset version.
func (im *importer) checkOpset(ids []*onnxpb.OperatorSetIdProto) error {
	for _, id := range ids {
		if id.Domain == "" || id.Domain == "ai.onnx" {
			im.opset = id.Version
		}
	}
	if im.opset < minOpset || im.opset > maxOpset {
		return fmt.Errorf("opset %d of the ONNX domain: sgcnn reads opsets %d to %d (export with opset_version between them)", im.opset, minOpset, maxOpset)
	}
	return nil
}

// checkOps refuses, before any work, a node whose op is not supported.
func (im *importer) checkOps() error {
	for i, n := range im.graph.Node {
		dom := n.Domain
		ok := (dom == "" || dom == "ai.onnx") && (slices.Contains(computeOps, n.OpType) || slices.Contains(foldOps, n.OpType))
		if !ok {
			if dom != "" {
				dom += "."
			}
			return fmt.Errorf("node %d %q: unsupported op %s%s; supported ops: %s", i, n.Name, dom, n.OpType, supported())
		}
		for _, a := range n.Attribute {
			if a.G != nil || len(a.Graphs) > 0 || len(a.Tensors) > 0 {
				return fmt.Errorf("node %d %q (%s): attribute %s holds graphs or tensor lists, which sgcnn does not read", i, n.Name, n.OpType, a.Name)
			}
		}
	}
	return nil
}

// checkConstants checks the headers of Constant nodes' tensors.
func (im *importer) checkConstants() error {
	for i, n := range im.graph.Node {
		for _, a := range n.Attribute {
			if a.T == nil {
				continue
			}
			if err := checkTensor(a.T); err != nil {
				return fmt.Errorf("node %d %q (%s), attribute %s: %w", i, n.Name, n.OpType, a.Name, err)
			}
		}
	}
	return nil
}

// input finds the graph's one activation input (graph inputs that are also
// initializers are weights, as older exporters list them) and its
// per-image shape.
func (im *importer) input() (string, []int, error) {
	var ins []*onnxpb.ValueInfoProto
	for _, v := range im.graph.Input {
		if _, w := im.inits[v.Name]; !w {
			ins = append(ins, v)
		}
	}
	if len(ins) != 1 {
		return "", nil, fmt.Errorf("the graph has %d inputs that are not initializers, want one (the images)", len(ins))
	}
	v := ins[0]
	tt := v.GetType().GetTensorType()
	if tt == nil || tt.Shape == nil {
		return "", nil, fmt.Errorf("input %q has no tensor shape", v.Name)
	}
	if et := onnxpb.TensorProto_DataType(tt.ElemType); et != onnxpb.TensorProto_FLOAT {
		return "", nil, fmt.Errorf("input %q is %v, want float", v.Name, et)
	}
	dims := tt.Shape.Dim
	if len(dims) < 2 {
		return "", nil, fmt.Errorf("input %q has rank %d, want a batch dimension and at least one more", v.Name, len(dims))
	}
	im.batch = 1
	if b, ok := dims[0].Value.(*onnxpb.TensorShapeProto_Dimension_DimValue); ok && b.DimValue > 0 {
		im.batch = b.DimValue
	}
	if s := im.opts.InputShape; s != nil {
		if len(s) != len(dims)-1 {
			return "", nil, fmt.Errorf("input shape %v (--input-shape) has %d dimensions, input %q has %d besides the batch", s, len(s), v.Name, len(dims)-1)
		}
		if _, err := checkShape(s); err != nil {
			return "", nil, fmt.Errorf("input shape %v (--input-shape): %w", s, err)
		}
		return v.Name, slices.Clone(s), nil
	}
	shape := make([]int, len(dims)-1)
	for i, d := range dims[1:] {
		dv, ok := d.Value.(*onnxpb.TensorShapeProto_Dimension_DimValue)
		if !ok || dv.DimValue < 1 || dv.DimValue > maxElems {
			return "", nil, fmt.Errorf("input %q: dimension %d is dynamic (%s); give one image's shape with --input-shape (Options.InputShape), e.g. --input-shape 3,224,224", v.Name, i+1, dimString(d))
		}
		shape[i] = int(dv.DimValue)
	}
	if _, err := checkShape(shape); err != nil {
		return "", nil, fmt.Errorf("input %q: %w", v.Name, err)
	}
	return v.Name, shape, nil
}

// dimString describes a dimension for an error message.
func dimString(d *onnxpb.TensorShapeProto_Dimension) string {
	switch v := d.Value.(type) {
	case *onnxpb.TensorShapeProto_Dimension_DimParam:
		return fmt.Sprintf("%q", v.DimParam)
	case *onnxpb.TensorShapeProto_Dimension_DimValue:
		return fmt.Sprint(v.DimValue)
	}
	return "unset"
}

// checkShape checks a per-image shape: positive dims, bounded size.
func checkShape(s []int) (int, error) {
	n := 1
	for _, d := range s {
		if d < 1 || n > maxElems/d {
			return 0, errors.New("dimensions must be positive and hold at most 2^31 elements")
		}
		n *= d
	}
	return n, nil
}
