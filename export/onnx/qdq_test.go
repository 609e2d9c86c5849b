package onnx_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/quant"
	"github.com/sgcnn/sgcnn/tensor"
)

// TestQDQOneLayer exports ResNet-20 (random weights and BatchNorm
// statistics) with one conv in QDQ form and checks that ONNX Runtime's
// logits match sgcnn's with that one conv int8 within 2% of the int8 error
// itself (the difference fp32 - int8): the same quantization of inputs and
// weights, at the first conv (asymmetric, image input), after a ReLU, at a
// stride-2 conv and at the last conv.
func TestQDQOneLayer(t *testing.T) {
	openORT(t)
	m, err := models.New("resnet20", 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	randomize(m, 5)
	g, err := graph.Of(m.Net, m.InputShape[:])
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	cal, err := quant.Calibrate(g, randImages(r, 64), 32)
	if err != nil {
		t.Fatal(err)
	}
	x := randImages(r, 50)
	f32 := logits(t, m, x)
	for _, name := range []string{"conv1", "layer1.0.conv1", "layer2.0.conv1", "layer3.2.conv2"} {
		a, ok := cal.Int8()[name]
		if !ok {
			t.Fatalf("%s not calibrated", name)
		}
		net, err := compile.CompileGraph(g, compile.Options{Int8: map[string]kernel.ActQuant{name: a}})
		if err != nil {
			t.Fatal(err)
		}
		want, err := net.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		got := ortLogits(t, m, onnx.Options{FoldBN: true, QDQ: map[string]onnx.QDQ{name: {Scale: a.Scale, Zero: a.Zero}}}, x)
		dq, df := rms(got, want.Data), rms(f32, want.Data)
		t.Logf("%s %+v: RMS |ort - sgcnn int8| %.3g, |fp32 - sgcnn int8| %.3g", name, a, dq, df)
		if dq > 0.02*df {
			t.Errorf("%s: ONNX Runtime's QDQ conv is %.3g (RMS) from sgcnn int8, whose own int8 error is %.3g", name, dq, df)
		}
	}
}

func randImages(r *rand.Rand, n int) *tensor.Tensor {
	x := tensor.New(n, 3, 32, 32)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	return x
}

// TestQDQAgainstSgcnnInt8 exports ResNet-20 (random weights and BatchNorm
// statistics; dense, then masked in groups) in QDQ form with the
// quantization package quant calibrated, runs it in ONNX Runtime, and
// compares with sgcnn's int8 compiled network on the same images: the
// logits close (both compute the same quantized products) and the top-1
// classes agreeing on at least 99% of the images.
func TestQDQAgainstSgcnnInt8(t *testing.T) {
	openORT(t)
	for _, pruned := range []bool{false, true} {
		m, err := models.New("resnet20", 10, 3)
		if err != nil {
			t.Fatal(err)
		}
		randomize(m, 5)
		if pruned {
			maskGroups(t, m, 9)
		}
		g, err := graph.Of(m.Net, m.InputShape[:])
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		cal, err := quant.Calibrate(g, randImages(r, 64), 32)
		if err != nil {
			t.Fatal(err)
		}
		q := map[string]onnx.QDQ{}
		for name, a := range cal.Int8() {
			q[name] = onnx.QDQ{Scale: a.Scale, Zero: a.Zero}
		}
		net, err := quant.Compile(g, cal, compile.Options{Route: compile.Grouped})
		if err != nil {
			t.Fatal(err)
		}
		const n = 200
		x := randImages(r, n)
		want, err := net.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		got := ortLogits(t, m, onnx.Options{FoldBN: true, QDQ: q}, x)
		f32 := logits(t, m, x)
		dq, df := rms(got, want.Data), rms(f32, want.Data)
		t.Logf("pruned=%v: RMS |ort QDQ - sgcnn int8| %.3g, |fp32 - sgcnn int8| %.3g", pruned, dq, df)
		// Through 19 layers, rounding ties that fall differently (x/s
		// against x*(1/s), ONNX Runtime's requantization in QLinearConv,
		// constant channels folded exactly by sgcnn) flip some quantized
		// values and the flips spread; TestQDQOneLayer checks each conv
		// alone, where they cannot. Measured on 2026-12-08: 0.10 of the
		// int8 error dense, 0.43 pruned; with the bias in fp32 (ONNX
		// Runtime rounding it to int32 in QLinearConv, sgcnn not) they
		// were 0.28 and 0.62.
		limit := map[bool]float64{false: 0.2, true: 0.55}[pruned]
		if dq > limit*df {
			t.Errorf("pruned=%v: ONNX Runtime's QDQ model is %.3g (RMS) from sgcnn int8, more than %.2f of the int8 error %.3g: not the same quantization", pruned, dq, limit, df)
		}
		agree := 0
		for i := range n {
			if argmax(got[i*10:(i+1)*10]) == argmax(want.Data[i*10:(i+1)*10]) {
				agree++
			}
		}
		t.Logf("pruned=%v: top-1 agreement %d/%d", pruned, agree, n)
		if agree < n*99/100 {
			t.Errorf("pruned=%v: ONNX Runtime's QDQ model and sgcnn int8 agree on %d of %d images, want 99%%", pruned, agree, n)
		}
	}
}

func argmax(v []float32) int {
	b := 0
	for i, x := range v {
		if x > v[b] {
			b = i
		}
	}
	return b
}

// rms is the root mean square of a - b.
func rms(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i] - b[i])
		s += d * d
	}
	return math.Sqrt(s / float64(len(a)))
}
