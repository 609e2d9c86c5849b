package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
	"github.com/sgcnn/sgcnn/nn"
)

// value is a tensor of the ONNX graph: its name and its shape without the
// batch dimension.
type value struct {
	name  string
	shape []int
}

// builder accumulates one ONNX graph.
type builder struct {
	g       *onnxpb.GraphProto
	opts    Options
	used    map[string]bool
	choices []Choice

	src    *graph.Graph
	vals   map[string]value            // source tensor name -> ONNX value
	folded map[*graph.Node]bool        // BatchNorm nodes folded into the conv before them
	bnOf   map[*graph.Node]*graph.Node // conv -> the BatchNorm folded into it
}

func newBuilder(name string, opts Options) *builder {
	return &builder{g: &onnxpb.GraphProto{Name: name}, opts: opts, used: map[string]bool{InputName: true, OutputName: true}}
}

// lowerError turns an error of graph.Of into an *UnsupportedError naming
// the node (the nn layer of the same name) when it is a *graph.Error.
func lowerError(err error) error {
	var ge *graph.Error
	if errors.As(err, &ge) {
		t := string(ge.Op)
		if t == "" {
			t = "nn layer"
		}
		return &UnsupportedError{Layer: ge.Node, Type: t, Reason: ge.Msg}
	}
	return fmt.Errorf("onnx: %w", err)
}

// emitGraph writes every node of g and returns the value of g's output.
func (b *builder) emitGraph(g *graph.Graph) (value, error) {
	b.src = g
	b.vals = map[string]value{g.Input: {name: InputName, shape: g.InputShape}}
	b.g.Input = append(b.g.Input, valueInfo(InputName, b.opts.Batch, g.InputShape))
	b.planFolds()
	for _, n := range g.Nodes {
		if b.folded[n] {
			continue
		}
		if err := b.emit(n); err != nil {
			return value{}, err
		}
	}
	out, ok := b.vals[g.Output]
	if !ok {
		return value{}, fmt.Errorf("onnx: graph output %s is not produced by any node", g.Output)
	}
	return out, nil
}

// planFolds finds, under Options.FoldBN, each BatchNorm whose input is a
// Conv's output read by nothing else.
func (b *builder) planFolds() {
	b.folded, b.bnOf = map[*graph.Node]bool{}, map[*graph.Node]*graph.Node{}
	if !b.opts.FoldBN {
		return
	}
	prod, cons := b.src.Producer(), b.src.Consumers()
	for _, n := range b.src.Nodes {
		if n.Op != graph.BatchNorm || len(n.Inputs) != 1 {
			continue
		}
		c := prod[n.Inputs[0]]
		if c == nil || c.Op != graph.Conv || len(c.Outputs) != 1 || len(cons[c.Outputs[0]]) != 1 || c.Outputs[0] == b.src.Output {
			continue
		}
		b.folded[n], b.bnOf[c] = true, n
	}
}

// in returns the ONNX value of the node's i-th input.
func (b *builder) in(n *graph.Node, i int) (value, error) {
	if i >= len(n.Inputs) {
		return value{}, unsupported(n, fmt.Sprintf("has %d inputs, want at least %d", len(n.Inputs), i+1))
	}
	v, ok := b.vals[n.Inputs[i]]
	if !ok {
		return value{}, unsupported(n, fmt.Sprintf("input %s is not produced before the node", n.Inputs[i]))
	}
	return v, nil
}

// out records that the ONNX value name holds the node's i-th output and
// returns it.
func (b *builder) out(n *graph.Node, i int, name string) value {
	v := value{name: name, shape: b.src.Shapes[n.Outputs[i]]}
	b.vals[n.Outputs[i]] = v
	return v
}

// unique returns name, or name with a numeric suffix if it is taken, and
// marks it taken.
func (b *builder) unique(name string) string {
	n := name
	for i := 1; b.used[n]; i++ {
		n = name + "_" + strconv.Itoa(i)
	}
	b.used[n] = true
	return n
}

// node appends a node; name is made unique.
func (b *builder) node(op, name string, in, out []string, attrs ...*onnxpb.AttributeProto) {
	b.g.Node = append(b.g.Node, &onnxpb.NodeProto{OpType: op, Name: b.unique("node:" + name), Input: in, Output: out, Attribute: attrs})
}

// op appends a node with one output named after the layer and returns it.
func (b *builder) op(op, layer string, in []string, attrs ...*onnxpb.AttributeProto) string {
	out := b.unique(layer)
	b.node(op, layer, in, []string{out}, attrs...)
	return out
}

// rename makes the last node's output old be called new; it reports false
// if old is not the last node's only output.
func (b *builder) rename(old, new string) bool {
	if len(b.g.Node) == 0 {
		return false
	}
	n := b.g.Node[len(b.g.Node)-1]
	if len(n.Output) != 1 || n.Output[0] != old {
		return false
	}
	n.Output[0] = new
	return true
}

// floats adds a float32 initializer and returns its name.
func (b *builder) floats(name string, data []float32, shape ...int) string {
	if len(data) != prod(shape) {
		panic(fmt.Sprintf("onnx: initializer %s: %d values for shape %v", name, len(data), shape))
	}
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	name = b.unique(name)
	b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{
		Name: name, Dims: dims(shape), DataType: int32(onnxpb.TensorProto_FLOAT), RawData: raw})
	return name
}

// ints adds a 1-D int64 initializer and returns its name.
func (b *builder) ints(name string, data ...int) string {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(int64(v)))
	}
	name = b.unique(name)
	b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{
		Name: name, Dims: []int64{int64(len(data))}, DataType: int32(onnxpb.TensorProto_INT64), RawData: raw})
	return name
}

func attrInts(name string, v ...int) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INTS, Ints: dims(v)}
}

func attrInt(name string, v int) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INT, I: int64(v)}
}

func attrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_FLOAT, F: v}
}

// valueInfo describes a float tensor [batch, shape...]; batch 0 is the
// symbolic dimension "batch".
func valueInfo(name string, batch int, shape []int) *onnxpb.ValueInfoProto {
	d := []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}}}
	if batch > 0 {
		d[0] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(batch)}}
	}
	for _, s := range shape {
		d = append(d, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(s)}})
	}
	return &onnxpb.ValueInfoProto{Name: name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: int32(onnxpb.TensorProto_FLOAT), Shape: &onnxpb.TensorShapeProto{Dim: d}}}}}
}

func dims(v []int) []int64 {
	d := make([]int64, len(v))
	for i, x := range v {
		d[i] = int64(x)
	}
	return d
}

func prod(v []int) int {
	p := 1
	for _, x := range v {
		p *= x
	}
	return p
}

func unsupported(n *graph.Node, reason string) error {
	return &UnsupportedError{Layer: n.Name, Type: string(n.Op), Reason: reason}
}

// param returns the node's parameter or buffer named n.Name+suffix
// (".weight", ".bias", ".running_mean", ".running_var"), or nil.
func param(n *graph.Node, suffix string) *nn.Param {
	if n.Layer == nil {
		return nil
	}
	ps := n.Layer.Params()
	if b, ok := n.Layer.(nn.Buffered); ok {
		ps = append(ps[:len(ps):len(ps)], b.Buffers()...)
	}
	for _, p := range ps {
		if p.Name == n.Name+suffix {
			return p
		}
	}
	return nil
}

// needParam is param, or an error when the node has no such parameter or
// its size is not size.
func needParam(n *graph.Node, suffix string, size int) (*nn.Param, error) {
	p := param(n, suffix)
	if p == nil {
		return nil, unsupported(n, fmt.Sprintf("no parameter %s%s", n.Name, suffix))
	}
	if p.Value.Len() != size {
		return nil, unsupported(n, fmt.Sprintf("parameter %s has %d values, want %d", p.Name, p.Value.Len(), size))
	}
	return p, nil
}

// masked returns a copy of w with the entries of pruned (filter, channel)
// pairs zeroed; kk is the number of weights per pair.
func masked(w, mask []float32, kk int) []float32 {
	out := append([]float32(nil), w...)
	if mask == nil {
		return out
	}
	for i, m := range mask {
		if m == 0 {
			clear(out[i*kk : (i+1)*kk])
		}
	}
	return out
}

// pair returns v with zeros read as 1 (strides and dilations).
func pair(v [2]int) [2]int {
	for i := range v {
		if v[i] == 0 {
			v[i] = 1
		}
	}
	return v
}

// axis returns the ONNX axis of a per-image axis (0 is channels, so 1 in
// ONNX); a negative axis counts from the end in both.
func axis(a int) int {
	if a >= 0 {
		return a + 1
	}
	return a
}
