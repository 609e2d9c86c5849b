package onnximport

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// TestFoldingOps folds every constant op the reader evaluates and adds each
// result to the activation; ONNX Runtime, which computes the same
// constants itself, is the reference.
func TestFoldingOps(t *testing.T) {
	b := newModel(13, -1, 2, 3)
	y := "x"
	add := func(name, c string) {
		f := b.node("Cast", name+"_f", []string{c}, aInt("to", int64(onnxpb.TensorProto_FLOAT)))
		y = b.node("Add", name+"_add", []string{y, f})
	}
	scalar := func(name string, v int64) string {
		b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{Name: name, DataType: int32(onnxpb.TensorProto_INT64), Int64Data: []int64{v}})
		return name
	}
	r := b.node("Range", "range", []string{scalar("r0", 1), scalar("r1", 4), scalar("r2", 1)}) // [1 2 3]
	add("range", r)
	fill := floatTensor("", []int64{1}, []float32{0.5})
	y = b.node("Mul", "cos_mul", []string{y, b.node("ConstantOfShape", "cos", []string{b.ints("cos_shape", 2, 3)}, aTensor("value", fill))})
	cond := b.node("Less", "less", []string{r, scalar("two", 2)})
	add("where", b.node("Where", "where", []string{cond, r, b.node("Neg", "neg", []string{r})}))
	add("mod", b.node("Mod", "mod", []string{b.ints("m_a", 7, -7, 5), b.ints("m_b", 3, 3, -3)}))
	add("div", b.node("Div", "idiv", []string{b.ints("d_a", 7, -7, 6), b.ints("d_b", 2, 2, 4)}))
	row := b.node("Reshape", "row", []string{b.ints("row_v", 1, 2, 3), b.ints("row_s", 1, 3)})
	add("expand", b.node("Expand", "expand", []string{row, b.ints("ex_s", 2, 3)}))
	six := b.node("Reshape", "six", []string{b.ints("six_v", 10, 20, 30, 40, 50, 60), b.ints("six_s", 3, 2)})
	add("transpose", b.node("Transpose", "tr", []string{six}, aInts("perm", 1, 0)))
	add("gather", b.node("Gather", "ga", []string{b.node("Transpose", "tr2", []string{six}), b.ints("ga_i", 2, 0, 1)}, aInt("axis", 1)))
	flat := b.node("Flatten", "fl", []string{six}, aInt("axis", 0))
	add("slice", b.node("Slice", "sl", []string{flat, b.ints("sl_st", -1), b.ints("sl_en", -7), b.ints("sl_ax", 1), b.ints("sl_sp", -2)}))
	mx := b.node("Max", "max", []string{b.ints("mx_a", 1, 5, -2), b.ints("mx_b", 3, 0, -1), b.ints("mx_c", 2, 2, 2)})
	mn := b.node("Min", "min", []string{mx, b.ints("mn_b", 4)})
	add("minmax", b.node("Abs", "abs", []string{b.node("Sub", "sub", []string{mn, b.ints("five", 5)})}))
	fl := b.node("Floor", "floor", []string{b.rand("fr", 3)})
	add("floorceil", b.node("Add", "fc", []string{fl, b.node("Ceil", "ceil", []string{b.rand("cr", 2, 1)})}))
	eq := b.node("Equal", "eq", []string{b.ints("eq_a", 1, 2, 3), b.ints("eq_b", 1, 0, 3)})
	gt := b.node("Greater", "gt", []string{b.ints("gt_a", 1, 2, 3), b.ints("gt_b", 2)})
	le := b.node("LessOrEqual", "le", []string{b.ints("le_a", 1, 2, 3), b.ints("le_b", 2)})
	ge := b.node("GreaterOrEqual", "ge", []string{b.ints("ge_a", 1, 2, 3), b.ints("ge_b", 2)})
	add("and", b.node("And", "and", []string{eq, b.node("Not", "not", []string{gt})}))
	add("or", b.node("Or", "or", []string{le, ge}))
	add("xor", b.node("Xor", "xor", []string{eq, le}))
	sq := b.node("Squeeze", "sq", []string{b.node("Unsqueeze", "usq", []string{b.ints("u_v", 4, 5, 6), b.ints("u_ax", 0)}), b.ints("sq_ax", 0)})
	cat := b.node("Concat", "cat", []string{b.node("Identity", "idn", []string{sq}), b.ints("cat_b", 7, 8, 9)}, aInt("axis", 0))
	add("concat", b.node("Reshape", "cat2", []string{cat, b.ints("cat2_s", 2, 3)}))
	y = b.node("Reshape", "back", []string{y, b.ints("back_s", 0, 6)})
	parity(t, b.out(t, y))
}

// TestTensorStorage reads every storage form of a TensorProto: raw bytes,
// the typed fields, float16 and double, small integer types and bool.
func TestTensorStorage(t *testing.T) {
	le := binary.LittleEndian
	f16 := []uint16{0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555}
	want16 := []float32{1, -2, 65504, float32(math.Ldexp(1, -24)), 0.333251953125}
	raw16 := make([]byte, 0, 10)
	var i32 []int32
	for _, h := range f16 {
		raw16 = le.AppendUint16(raw16, h)
		i32 = append(i32, int32(h))
	}
	d := func(dt onnxpb.TensorProto_DataType) int32 { return int32(dt) }
	n5 := []int64{5}
	cases := []struct {
		t    *onnxpb.TensorProto
		want []float64
	}{
		{&onnxpb.TensorProto{Dims: n5, DataType: d(onnxpb.TensorProto_FLOAT16), RawData: raw16}, f64(want16)},
		{&onnxpb.TensorProto{Dims: n5, DataType: d(onnxpb.TensorProto_FLOAT16), Int32Data: i32}, f64(want16)},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: d(onnxpb.TensorProto_DOUBLE), DoubleData: []float64{0.25, -3}}, []float64{0.25, -3}},
		{&onnxpb.TensorProto{Dims: []int64{1}, DataType: d(onnxpb.TensorProto_DOUBLE), RawData: le.AppendUint64(nil, math.Float64bits(1.5))}, []float64{1.5}},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: d(onnxpb.TensorProto_FLOAT), FloatData: []float32{2, -1}}, []float64{2, -1}},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: d(onnxpb.TensorProto_INT32), RawData: le.AppendUint32(le.AppendUint32(nil, 7), math.MaxUint32)}, []float64{7, -1}},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: d(onnxpb.TensorProto_INT8), RawData: []byte{0xff, 3}}, []float64{-1, 3}},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: d(onnxpb.TensorProto_UINT8), Int32Data: []int32{255, 3}}, []float64{255, 3}},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: d(onnxpb.TensorProto_BOOL), RawData: []byte{1, 0}}, []float64{1, 0}},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: d(onnxpb.TensorProto_UINT64), Uint64Data: []uint64{9, 1}}, []float64{9, 1}},
		{&onnxpb.TensorProto{Dims: []int64{}, DataType: d(onnxpb.TensorProto_INT64), Int64Data: []int64{-4}}, []float64{-4}},
	}
	for i, c := range cases {
		v, err := tensorValue(c.t, "")
		if err != nil {
			t.Fatalf("case %d (%v): %v", i, onnxpb.TensorProto_DataType(c.t.DataType), err)
		}
		if v.numel() != len(c.want) {
			t.Fatalf("case %d: %d values, want %d", i, v.numel(), len(c.want))
		}
		for k, w := range c.want {
			if v.at(k) != w {
				t.Errorf("case %d (%v) value %d: %v, want %v", i, onnxpb.TensorProto_DataType(c.t.DataType), k, v.at(k), w)
			}
		}
	}
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
