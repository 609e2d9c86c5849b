package sgcnn

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/quant"
	"github.com/sgcnn/sgcnn/tensor"
)

// TestQuantize quantizes a LeNet-5 on MNIST, calibrated on the first 128
// images of a 200-image validation split, and checks the calibration
// against quant.Calibrate on those images drawn here, the int8 network's
// logits against fp32's, and the per-conv errors.
func TestQuantize(t *testing.T) {
	mm, err := models.New("lenet5", 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Model: mm}
	trainSet, err := OpenSplit("mnist", "", true, 600)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Quantize(m, QuantizeConfig{Train: trainSet, ValSplit: 200, Calib: 128, CalibBatch: 64}, WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	if want := "validation split (200 of 600 training images"; !strings.HasPrefix(q.From, want) {
		t.Errorf("From = %q, want it to start %q", q.From, want)
	}

	// The calibration: the first 128 images of the same split.
	_, val, _, err := HoldOut(trainSet, 200)
	if err != nil {
		t.Fatal(err)
	}
	first, err := First(val, 128)
	if err != nil {
		t.Fatal(err)
	}
	x, err := collectImages(first, first.Norm(), 32)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Of(mm.Net, mm.InputShape[:])
	if err != nil {
		t.Fatal(err)
	}
	want, err := quant.Calibrate(g, x, 64)
	if err != nil {
		t.Fatal(err)
	}
	if q.Calibration.Images != 128 || !slices.Equal(q.Calibration.Ranges, want.Ranges) || len(want.Ranges) == 0 {
		t.Fatalf("calibration %d images %v, want 128 images %v", q.Calibration.Images, q.Calibration.Ranges, want.Ranges)
	}
	if len(q.Errors) != len(want.Ranges) || !slices.IsSortedFunc(q.Errors, func(a, b quant.LayerError) int { return cmp.Compare(b.RelRMS, a.RelRMS) }) {
		t.Errorf("Errors %+v: want one per int8 conv (%d), largest first", q.Errors, len(want.Ranges))
	}

	// The int8 logits on test images against fp32's.
	testSet, err := OpenSplit("mnist", "", false, 64)
	if err != nil {
		t.Fatal(err)
	}
	xt, err := collectImages(testSet, testSet.Norm(), 64)
	if err != nil {
		t.Fatal(err)
	}
	f32, err := Compile(m, WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	e := relRMS(t, f32, q.Compiled, xt)
	t.Logf("int8 relative RMS error %.4f; %d convs, errors %+v", e, len(q.Errors), q.Errors)
	if !(e < 0.03) {
		t.Errorf("int8 logits' relative RMS error against fp32 = %.4f, want under 0.03", e)
	}
}

// relRMS returns the relative RMS difference of b's outputs from a's on x.
func relRMS(t *testing.T, a, b *Compiled, x *tensor.Tensor) float64 {
	t.Helper()
	ya, err := a.Net.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	ref := slices.Clone(ya.Data)
	yb, err := b.Net.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	var num, den float64
	for i, v := range ref {
		d := float64(yb.Data[i] - v)
		num += d * d
		den += float64(v) * float64(v)
	}
	return math.Sqrt(num / den)
}

// TestQuantizeRefuses checks that bad settings are ConfigErrors naming
// their field, before any image is calibrated on.
func TestQuantizeRefuses(t *testing.T) {
	mm, err := models.New("lenet5", 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Model: mm}
	trainSet, err := OpenSplit("mnist", "", true, 300)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cfg   QuantizeConfig
		field string
	}{
		{QuantizeConfig{CalibBatch: -1}, "CalibBatch"},
		{QuantizeConfig{Calib: -5}, "Calib"},
		{QuantizeConfig{Calib: 10}, "Calib"},         // under one batch of 64
		{QuantizeConfig{ValSplit: -1}, "ValSplit"},   // negative
		{QuantizeConfig{ValSplit: 300}, "ValSplit"},  // the whole training set
		{QuantizeConfig{ValSplit: 100}, "Calib"},     // 512 of a 100-image split
		{QuantizeConfig{Dataset: "nope"}, "Dataset"}, // read by name
	} {
		cfg := c.cfg
		if cfg.Dataset == "" {
			cfg.Train = trainSet
		}
		_, err := Quantize(m, cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("%+v: %v; want a ConfigError of %s", c.cfg, err, c.field)
		}
	}
}

// TestQuantizedExportONNX writes a quantized LeNet-5 in QDQ form and
// reads the file back: one QuantizeLinear per calibrated conv, at its
// calibrated scale, and each conv's bias an int32 tensor dequantized at
// the input scale times the filter scales.
func TestQuantizedExportONNX(t *testing.T) {
	_, q := quantizedLeNet(t, 3)
	path := filepath.Join(t.TempDir(), "int8.onnx")
	if err := q.ExportONNX(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatal(err)
	}
	inits := map[string]*onnxpb.TensorProto{}
	for _, in := range mp.Graph.Initializer {
		inits[in.Name] = in
	}
	quantized, biases := 0, 0
	for _, n := range mp.Graph.Node {
		switch {
		case n.OpType == "QuantizeLinear":
			quantized++
			s := inits[n.Input[1]]
			if s == nil || len(s.RawData) != 4 {
				t.Fatalf("%s: no scalar scale", n.Name)
			}
			scale := math.Float32frombits(binary.LittleEndian.Uint32(s.RawData))
			if !slices.ContainsFunc(q.Calibration.Ranges, func(r quant.Range) bool { return r.Quant().Scale == scale }) {
				t.Errorf("%s: scale %v is no calibrated conv's", n.Name, scale)
			}
		case n.OpType == "DequantizeLinear" && strings.HasSuffix(n.Name, ".bias_dequantize"):
			biases++
			if in := inits[n.Input[0]]; in == nil || in.DataType != int32(onnxpb.TensorProto_INT32) {
				t.Errorf("%s: the bias is not an int32 initializer", n.Name)
			}
		}
	}
	if quantized != len(q.Calibration.Ranges) || biases != len(q.Calibration.Ranges) {
		t.Errorf("%d QuantizeLinear and %d int32 biases, want %d of each (the int8 convs)", quantized, biases, len(q.Calibration.Ranges))
	}
}

// quantizedLeNet returns a LeNet-5 of random weights (seed) and its int8
// network, calibrated on 64 images of a 100-image validation split of
// MNIST's first 300 training images.
func quantizedLeNet(t *testing.T, seed uint64) (*Model, *Quantized) {
	t.Helper()
	mm, err := models.New("lenet5", 10, seed)
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Model: mm}
	trainSet, err := OpenSplit("mnist", "", true, 300)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Quantize(m, QuantizeConfig{Train: trainSet, ValSplit: 100, Calib: 64}, WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	return m, q
}
