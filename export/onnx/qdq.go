package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// This file writes convs in QDQ form (Options.QDQ): the int8 model of
// sgcnn's int8 route (package quant) as ONNX Runtime reads quantized
// models,
//
//	x -> QuantizeLinear(sx, zx: uint8) -> DequantizeLinear(sx, zx) -+
//	w: int8 -> DequantizeLinear(sw[N], 0, axis 0) ------------------+-> Conv
//	b: int32 -> DequantizeLinear(sx*sw[N], 0, axis 0) --------------+
//
// with the weights quantized per output channel, symmetric, after the
// BatchNorm fold (so FoldBN is required), by the rule of
// kernel.NewInt8Plan: sw = max|w|/127 (kernel.FilterScale), q =
// round-half-even(w/sw); and the bias on the grid of the int32 sums
// (kernel.QuantBias), as sgcnn's int8 route adds it. ONNX Runtime fuses
// such a conv whose output feeds a QuantizeLinear into one QLinearConv,
// which takes the int32 bias as written: with an fp32 bias it would round
// the bias itself, and its predictions would part from sgcnn's (on a
// fragile pruned ResNet-20, 1 image in 100).

// QDQ is the per-tensor uint8 quantization of a conv's input:
// q = saturate(round(x/Scale) + Zero).
type QDQ struct {
	Scale float32
	Zero  uint8
}

// qdqConv writes sp (masked weights as zeros: one Conv) in QDQ form.
func (b *builder) qdqConv(sp *convSpec, x value, q QDQ) (value, error) {
	if q.Scale <= 0 || math.IsNaN(float64(q.Scale)) || math.IsInf(float64(q.Scale), 0) {
		return value{}, fmt.Errorf("onnx: layer %s: QDQ input scale %v, want > 0", sp.name, q.Scale)
	}
	if sp.group != 1 {
		return value{}, fmt.Errorf("onnx: layer %s: QDQ form of a grouped conv (group %d) is not supported", sp.name, sp.group)
	}
	sx := b.floats(sp.name+".input_scale", []float32{q.Scale})
	zx := b.tensor(sp.name+".input_zero_point", onnxpb.TensorProto_UINT8, []byte{q.Zero})
	xq := b.op("QuantizeLinear", sp.name+".input_quantize", []string{x.name, sx, zx})
	xd := b.op("DequantizeLinear", sp.name+".input_dequantize", []string{xq, sx, zx})

	per := len(sp.w) / sp.out
	wq := make([]byte, len(sp.w))
	scales := make([]float32, sp.out)
	for n := range sp.out {
		w := sp.w[n*per : (n+1)*per]
		s := kernel.FilterScale(w)
		scales[n] = s
		for i, v := range w {
			r := min(max(math.RoundToEven(float64(v/s)), -127), 127)
			wq[n*per+i] = byte(int8(r))
		}
	}
	wName := b.tensor(sp.wName+"_quantized", onnxpb.TensorProto_INT8, wq, sp.out, sp.in/sp.group, sp.kh, sp.kw)
	ws := b.floats(sp.wName+"_scale", scales, sp.out)
	wz := b.tensor(sp.wName+"_zero_point", onnxpb.TensorProto_INT8, make([]byte, sp.out), sp.out)
	wd := b.op("DequantizeLinear", sp.name+".weight_dequantize", []string{wName, ws, wz}, attrInt("axis", 0))
	ins := []string{xd, wd}
	if sp.bias != nil {
		ins = append(ins, b.qdqBias(sp, q.Scale, scales))
	}
	return value{b.op("Conv", sp.name, ins, sp.attrs()...), []int{sp.out, sp.outH, sp.outW}}, nil
}

// qdqBias writes sp's bias as int32 sums of input scale sx and filter
// scales sw, dequantized, and returns the dequantized bias's name.
func (b *builder) qdqBias(sp *convSpec, sx float32, sw []float32) string {
	raw := make([]byte, 4*sp.out)
	scales := make([]float32, sp.out)
	for n, v := range sp.bias {
		scales[n] = sx * sw[n]
		binary.LittleEndian.PutUint32(raw[4*n:], uint32(kernel.QuantBias(v, scales[n])))
	}
	name := b.unique(sp.bName + "_quantized")
	b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{
		Name: name, Dims: dims([]int{sp.out}), DataType: int32(onnxpb.TensorProto_INT32), RawData: raw})
	bs := b.floats(sp.bName+"_scale", scales, sp.out)
	bz := b.unique(sp.bName + "_zero_point")
	b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{
		Name: bz, Dims: dims([]int{sp.out}), DataType: int32(onnxpb.TensorProto_INT32), RawData: make([]byte, 4*sp.out)})
	return b.op("DequantizeLinear", sp.name+".bias_dequantize", []string{name, bs, bz}, attrInt("axis", 0))
}

// tensor adds an initializer of one-byte elements (INT8 or UINT8) and
// returns its name; no shape means a scalar.
func (b *builder) tensor(name string, dt onnxpb.TensorProto_DataType, raw []byte, shape ...int) string {
	if len(raw) != prod(shape) {
		panic(fmt.Sprintf("onnx: initializer %s: %d values for shape %v", name, len(raw), shape))
	}
	name = b.unique(name)
	b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{
		Name: name, Dims: dims(shape), DataType: int32(dt), RawData: raw})
	return name
}
