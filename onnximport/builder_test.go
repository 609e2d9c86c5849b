package onnximport

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// mb builds small ONNX models for the tests, as an exporter would.
type mb struct {
	m   *onnxpb.ModelProto
	g   *onnxpb.GraphProto
	rng *rand.Rand
}

// newModel starts a model with one float input; a negative dim is the
// dynamic batch "N".
func newModel(opset int64, dims ...int64) *mb {
	g := &onnxpb.GraphProto{Name: "test"}
	m := &onnxpb.ModelProto{
		IrVersion:    8,
		ProducerName: "onnximport test",
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Version: opset}},
		Graph:        g,
	}
	b := &mb{m: m, g: g, rng: rand.New(rand.NewPCG(1, 2))}
	g.Input = append(g.Input, valueInfo("x", dims))
	return b
}

// valueInfo is a float tensor's value info; negative dims are symbolic.
func valueInfo(name string, dims []int64) *onnxpb.ValueInfoProto {
	sh := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}}
		if d < 0 {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		}
		sh.Dim = append(sh.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{Name: name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: int32(onnxpb.TensorProto_FLOAT), Shape: sh}}}}
}

// floatTensor is a float TensorProto in raw_data.
func floatTensor(name string, dims []int64, vals []float32) *onnxpb.TensorProto {
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return &onnxpb.TensorProto{Name: name, Dims: dims, DataType: int32(onnxpb.TensorProto_FLOAT), RawData: raw}
}

// intTensor is an int64 TensorProto in int64_data.
func intTensor(name string, vals ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: name, Dims: []int64{int64(len(vals))}, DataType: int32(onnxpb.TensorProto_INT64), Int64Data: vals}
}

// rand adds a float initializer of random values in [-1, 1) and returns
// its name.
func (b *mb) rand(name string, dims ...int64) string {
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*b.rng.Float32() - 1
	}
	b.g.Initializer = append(b.g.Initializer, floatTensor(name, dims, v))
	return name
}

// positive adds a float initializer of values in [0.5, 1.5).
func (b *mb) positive(name string, dims ...int64) string {
	b.rand(name, dims...)
	t := b.g.Initializer[len(b.g.Initializer)-1]
	for i := 0; i < len(t.RawData); i += 4 {
		v := math.Float32frombits(binary.LittleEndian.Uint32(t.RawData[i:]))
		binary.LittleEndian.PutUint32(t.RawData[i:], math.Float32bits(1+v/2))
	}
	return name
}

// ints adds an int64 initializer.
func (b *mb) ints(name string, vals ...int64) string {
	b.g.Initializer = append(b.g.Initializer, intTensor(name, vals...))
	return name
}

// node adds a node; its output is named after it.
func (b *mb) node(op, name string, ins []string, attrs ...*onnxpb.AttributeProto) string {
	b.g.Node = append(b.g.Node, &onnxpb.NodeProto{OpType: op, Name: name, Input: ins, Output: []string{name + "_out"}, Attribute: attrs})
	return name + "_out"
}

// nodeOuts adds a node with several outputs.
func (b *mb) nodeOuts(op, name string, ins, outs []string, attrs ...*onnxpb.AttributeProto) {
	b.g.Node = append(b.g.Node, &onnxpb.NodeProto{OpType: op, Name: name, Input: ins, Output: outs, Attribute: attrs})
}

// out names the graph output and returns the encoded model.
func (b *mb) out(t testing.TB, name string) []byte {
	t.Helper()
	b.g.Output = []*onnxpb.ValueInfoProto{valueInfo(name, nil)}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(b.m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func aInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INTS, Ints: v}
}

func aInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INT, I: v}
}

func aFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_FLOAT, F: v}
}

func aString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_STRING, S: []byte(v)}
}

func aTensor(name string, t *onnxpb.TensorProto) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_TENSOR, T: t}
}
