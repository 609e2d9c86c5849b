package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/sgcnn/sgcnn/internal/onnxpb"
	"github.com/sgcnn/sgcnn/nn"
)

// value is a tensor of the graph: its name and its shape without the batch
// dimension.
type value struct {
	name  string
	shape []int
}

// builder accumulates one graph.
type builder struct {
	g       *onnxpb.GraphProto
	opts    Options
	used    map[string]bool
	choices []Choice
}

func newBuilder(name string, opts Options) *builder {
	return &builder{g: &onnxpb.GraphProto{Name: name}, opts: opts, used: map[string]bool{InputName: true, OutputName: true}}
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

func unsupported(l nn.Layer, reason string) error {
	return &UnsupportedError{Layer: l.Name(), Type: fmt.Sprintf("%T", l), Reason: reason}
}

// need4D checks that x is [C H W] with C channels (c > 0) or any C.
func need4D(l nn.Layer, x value, c int) error {
	if len(x.shape) != 3 || (c > 0 && x.shape[0] != c) {
		want := "[C H W]"
		if c > 0 {
			want = fmt.Sprintf("[%d H W]", c)
		}
		return unsupported(l, fmt.Sprintf("input shape %v (without batch), want %s", x.shape, want))
	}
	return nil
}

// poolOut is the output size of a window k, stride s, padding p over n.
func poolOut(n, k, s, p int) int { return (n+2*p-k)/s + 1 }

// emit writes layer l applied to x and returns its output.
func (b *builder) emit(l nn.Layer, x value) (value, error) {
	switch l := l.(type) {
	case *nn.Sequential:
		for i := 0; i < len(l.Layers); i++ {
			var err error
			if c, ok := l.Layers[i].(*nn.Conv2d); ok && b.opts.FoldBN && i+1 < len(l.Layers) {
				if bn, ok := l.Layers[i+1].(*nn.BatchNorm2d); ok && bn.C == c.Out {
					if x, err = b.conv(c, bn, x); err != nil {
						return value{}, err
					}
					i++
					continue
				}
			}
			if x, err = b.emit(l.Layers[i], x); err != nil {
				return value{}, err
			}
		}
		return x, nil
	case *nn.Conv2d:
		return b.conv(l, nil, x)
	case *nn.BatchNorm2d:
		if err := need4D(l, x, l.C); err != nil {
			return value{}, err
		}
		gamma := b.floats(l.Gamma.Name, l.Gamma.Value.Data, l.C)
		beta := b.floats(l.Beta.Name, l.Beta.Value.Data, l.C)
		mean := b.floats(l.Mean.Name, l.Mean.Value.Data, l.C)
		vr := b.floats(l.Var.Name, l.Var.Value.Data, l.C)
		return value{b.op("BatchNormalization", l.Name(), []string{x.name, gamma, beta, mean, vr},
			attrFloat("epsilon", float32(l.Eps))), x.shape}, nil
	case *nn.ReLU:
		return value{b.op("Relu", l.Name(), []string{x.name}), x.shape}, nil
	case *nn.Dropout:
		return x, nil // eval mode: the identity
	case *nn.MaxPool2d, *nn.AvgPool2d:
		return b.pool(l, x)
	case *nn.GlobalAvgPool:
		if err := need4D(l, x, 0); err != nil {
			return value{}, err
		}
		p := b.op("GlobalAveragePool", l.Name(), []string{x.name})
		return value{b.op("Flatten", l.Name()+".flatten", []string{p}, attrInt("axis", 1)), x.shape[:1]}, nil
	case *nn.Linear:
		in := x
		if len(x.shape) != 1 {
			in = value{b.op("Flatten", l.Name()+".flatten", []string{x.name}, attrInt("axis", 1)), []int{prod(x.shape)}}
		}
		if in.shape[0] != l.In {
			return value{}, unsupported(l, fmt.Sprintf("%d input features, layer takes %d", in.shape[0], l.In))
		}
		w := b.floats(l.W.Name, masked(l.W.Value.Data, l.W.Mask, 1), l.Out, l.In)
		ins := []string{in.name, w}
		if l.B != nil {
			ins = append(ins, b.floats(l.B.Name, l.B.Value.Data, l.Out))
		}
		return value{b.op("Gemm", l.Name(), ins, attrInt("transB", 1)), []int{l.Out}}, nil
	case *nn.Residual:
		s := x
		if l.Shortcut != nil {
			var err error
			if s, err = b.emit(l.Shortcut, x); err != nil {
				return value{}, err
			}
		}
		y, err := b.emit(l.Body, x)
		if err != nil {
			return value{}, err
		}
		if !sameShape(y.shape, s.shape) {
			return value{}, unsupported(l, fmt.Sprintf("body output %v and shortcut output %v differ", y.shape, s.shape))
		}
		return value{b.op("Add", l.Name(), []string{y.name, s.name}), y.shape}, nil
	case *nn.DenseConcat:
		if err := need4D(l, x, 0); err != nil {
			return value{}, err
		}
		z, err := b.emit(l.Body, x)
		if err != nil {
			return value{}, err
		}
		if len(z.shape) != 3 || z.shape[1] != x.shape[1] || z.shape[2] != x.shape[2] {
			return value{}, unsupported(l, fmt.Sprintf("body output %v cannot be concatenated to input %v", z.shape, x.shape))
		}
		return value{b.op("Concat", l.Name(), []string{x.name, z.name}, attrInt("axis", 1)),
			[]int{x.shape[0] + z.shape[0], x.shape[1], x.shape[2]}}, nil
	case *nn.ShortcutA:
		return b.shortcutA(l, x)
	case nn.Container:
		return value{}, unsupported(l, "unknown container")
	}
	return value{}, unsupported(l, "no ONNX translation for this layer type")
}

// pool writes MaxPool or AveragePool.
func (b *builder) pool(l nn.Layer, x value) (value, error) {
	if err := need4D(l, x, 0); err != nil {
		return value{}, err
	}
	var op string
	var k, s, p int
	var extra []*onnxpb.AttributeProto
	switch l := l.(type) {
	case *nn.MaxPool2d:
		op, k, s, p = "MaxPool", l.K, l.Stride, l.Pad
	case *nn.AvgPool2d:
		op, k, s, p = "AveragePool", l.K, l.Stride, l.Pad
		extra = append(extra, attrInt("count_include_pad", 1))
	}
	h, w := x.shape[1], x.shape[2]
	if h+2*p < k || w+2*p < k {
		return value{}, unsupported(l, fmt.Sprintf("input %dx%d is smaller than the %dx%d window", h, w, k, k))
	}
	attrs := append([]*onnxpb.AttributeProto{attrInts("kernel_shape", k, k), attrInts("strides", s, s), attrInts("pads", p, p, p, p)}, extra...)
	return value{b.op(op, l.Name(), []string{x.name}, attrs...), []int{x.shape[0], poolOut(h, k, s, p), poolOut(w, k, s, p)}}, nil
}

// shortcutA writes x[:, :, ::s, ::s] zero-padded from In to Out channels.
func (b *builder) shortcutA(l *nn.ShortcutA, x value) (value, error) {
	if err := need4D(l, x, l.In); err != nil {
		return value{}, err
	}
	if l.Out < l.In || l.Stride < 1 {
		return value{}, unsupported(l, fmt.Sprintf("%d -> %d channels with stride %d", l.In, l.Out, l.Stride))
	}
	h, w := x.shape[1], x.shape[2]
	y := x
	if l.Stride != 1 {
		y = value{b.op("Slice", l.Name()+".slice", []string{x.name,
			b.ints(l.Name()+".starts", 0, 0), b.ints(l.Name()+".ends", h, w),
			b.ints(l.Name()+".axes", 2, 3), b.ints(l.Name()+".steps", l.Stride, l.Stride)}),
			[]int{l.In, (h + l.Stride - 1) / l.Stride, (w + l.Stride - 1) / l.Stride}}
	}
	if l.Out == l.In {
		return y, nil
	}
	pad := (l.Out - l.In) / 2
	pads := b.ints(l.Name()+".pads", 0, pad, 0, 0, 0, l.Out-l.In-pad, 0, 0)
	return value{b.op("Pad", l.Name(), []string{y.name, pads}), []int{l.Out, y.shape[1], y.shape[2]}}, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
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
