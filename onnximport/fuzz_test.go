package onnximport

import (
	"fmt"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// seedModels are the fuzz corpus: small models covering the decoder's
// paths (raw and typed data, Constant nodes, shape folding, several
// outputs, attributes in both opset styles).
func seedModels(t testing.TB) [][]byte {
	var seeds [][]byte
	seeds = append(seeds, smallNet().out(t, "/fc/Gemm_out"))
	b := newModel(13, -1, 4, 3, 3)
	shape := b.node("Shape", "s", []string{"x"})
	idx := b.node("Constant", "c", nil, aTensor("value", &onnxpb.TensorProto{DataType: int32(onnxpb.TensorProto_INT64), Int64Data: []int64{0}}))
	n := b.node("Unsqueeze", "u", []string{b.node("Gather", "g", []string{shape, idx}), b.ints("ax", 0)})
	y := b.node("Reshape", "r", []string{"x", b.node("Concat", "cat", []string{n, b.ints("m1", -1)}, aInt("axis", 0))})
	b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{Name: "w", Dims: []int64{36, 2}, DataType: 1, FloatData: make([]float32, 72)})
	seeds = append(seeds, b.out(t, b.node("MatMul", "mm", []string{y, "w"})))
	b = newModel(9, 1, 6, 4, 4)
	b.nodeOuts("Split", "sp", []string{"x"}, []string{"a", "b"}, aInt("axis", 1), aInts("split", 2, 4))
	y = b.node("Slice", "sl", []string{"b"}, aInts("starts", 1), aInts("ends", 3), aInts("axes", 1))
	y = b.node("Concat", "cat", []string{"a", y}, aInt("axis", 1))
	y = b.node("Clip", "clip", []string{y}, aFloat("min", 0), aFloat("max", 6))
	seeds = append(seeds, b.out(t, b.node("AveragePool", "ap", []string{y}, aInts("kernel_shape", 2, 2), aString("auto_pad", "SAME_UPPER"))))
	return seeds
}

// summary is a comparable description of an imported graph: its nodes and
// every state tensor's values.
func summary(g *graph.Graph) string {
	s := fmt.Sprintf("%s %v -> %s\n", g.Input, g.InputShape, g.Output)
	for _, n := range g.Nodes {
		s += fmt.Sprintf("%s %s %v %v %+v\n", n.Name, n.Op, n.Inputs, n.Outputs, n.Attrs)
	}
	names, ts := g.StateDict()
	for _, name := range names {
		s += fmt.Sprintf("%s %v %v\n", name, ts[name].Shape, ts[name].Data)
	}
	return s
}

// FuzzRead feeds arbitrary bytes to Read: it must not panic, must be
// deterministic, and a model it accepts must read the same after a round
// trip through the generated protobuf code (decode, re-encode), which
// checks the hand-written decoder against the standard one.
func FuzzRead(f *testing.F) {
	for _, s := range seedModels(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g1, err1 := Read(data, Options{})
		g2, err2 := Read(data, Options{})
		if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
			t.Fatalf("two reads differ: %v / %v", err1, err2)
		}
		if err1 != nil {
			return
		}
		if s1, s2 := summary(g1), summary(g2); s1 != s2 {
			t.Fatalf("two reads differ:\n%s\n%s", s1, s2)
		}
		m := &onnxpb.ModelProto{}
		if err := proto.Unmarshal(data, m); err != nil {
			t.Fatalf("accepted, but the generated decoder refuses it: %v", err)
		}
		again, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		g3, err := Read(again, Options{})
		if err != nil {
			t.Fatalf("accepted, but not after a round trip: %v", err)
		}
		if s1, s3 := summary(g1), summary(g3); !reflect.DeepEqual(s1, s3) {
			t.Fatalf("round trip changed the graph:\n%s\n%s", s1, s3)
		}
	})
}
