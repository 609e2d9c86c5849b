package onnx_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/export/onnx/ort"
	"github.com/sgcnn/sgcnn/export/onnx/ort/orttest"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// openORT loads ONNX Runtime or skips (fails under CI=true).
func openORT(t testing.TB) { orttest.Open(t) }

// randomize gives every BatchNorm non-trivial statistics and affine
// parameters, so that a wrong translation of either shows.
func randomize(m *models.Model, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	nn.Walk(m.Net, func(l nn.Layer) {
		if bn, ok := l.(*nn.BatchNorm2d); ok {
			for i := range bn.C {
				bn.Gamma.Value.Data[i] = 0.5 + rng.Float32()
				bn.Beta.Value.Data[i] = 0.2 * (rng.Float32() - 0.5)
				bn.Mean.Value.Data[i] = 0.2 * (rng.Float32() - 0.5)
				bn.Var.Value.Data[i] = 0.5 + rng.Float32()
			}
		}
	})
}

// maskGroups masks every prunable layer in the self-grouping pattern: the
// filters fall into four groups, each keeping a random half of the input
// channels, and a few filters are dead.
func maskGroups(t testing.TB, m *models.Model, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 11))
	for _, p := range m.PrunableLayers() {
		n, c := p.MaskShape()
		rows := make([][]float32, 4)
		for g := range rows {
			rows[g] = make([]float32, c)
			for j := range c {
				if rng.IntN(2) == 0 || j == g%c {
					rows[g][j] = 1
				}
			}
		}
		mask := make([]float32, 0, n*c)
		for f := range n {
			if f%13 == 5 {
				mask = append(mask, make([]float32, c)...) // dead filter
				continue
			}
			mask = append(mask, rows[rng.IntN(len(rows))]...)
		}
		if err := p.SetMask(mask); err != nil {
			t.Fatal(err)
		}
	}
}

// logits runs m in eval mode on x.
func logits(t testing.TB, m *models.Model, x *tensor.Tensor) []float32 {
	t.Helper()
	in := tensor.New(x.Shape...)
	copy(in.Data, x.Data)
	y, err := m.Net.Forward(nn.NewCtx(false), in)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), y.Data...)
}

// ortLogits exports m and runs it in ONNX Runtime on x.
func ortLogits(t testing.TB, m *models.Model, opts onnx.Options, x *tensor.Tensor) []float32 {
	t.Helper()
	var buf bytes.Buffer
	if err := onnx.Export(&buf, m, opts); err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewSession(buf.Bytes(), onnx.InputName, onnx.OutputName, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	shape := make([]int64, len(x.Shape))
	for i, d := range x.Shape {
		shape[i] = int64(d)
	}
	y, yshape, err := s.Run(x.Data, shape)
	if err != nil {
		t.Fatal(err)
	}
	if len(yshape) != 2 || yshape[0] != shape[0] || int(yshape[1]) != m.Classes {
		t.Fatalf("ONNX Runtime output shape %v, want [%d %d]", yshape, shape[0], m.Classes)
	}
	return y
}

// within reports the largest difference between got and want, in units of
// the logits' scale max(1, max |want|), and fails above tol.
func within(t testing.TB, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d logits, want %d", what, len(got), len(want))
	}
	scale := 1.0
	for _, w := range want {
		scale = max(scale, math.Abs(float64(w)))
	}
	worst, at := 0.0, 0
	for i := range want {
		d := math.Abs(float64(got[i]-want[i])) / scale
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	t.Logf("%s: max |ort - sgcnn| / %.3g = %.2g (logit %d: %g vs %g)", what, scale, worst, at, got[at], want[at])
	if !(worst <= tol) {
		t.Errorf("%s: logit %d is %g in ONNX Runtime, %g in sgcnn (relative difference %.3g > %g)", what, at, got[at], want[at], worst, tol)
	}
}

func input(m *models.Model, batch int, seed uint64) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 3))
	x := tensor.New(batch, m.InputShape[0], m.InputShape[1], m.InputShape[2])
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	return x
}

const tol = 1e-4

func TestParity(t *testing.T) {
	openORT(t)
	cases := []struct {
		arch   string
		batch  int
		masked bool
		opts   onnx.Options
		long   bool // skipped under -short
	}{
		{arch: "lenet5", batch: 3},
		{arch: "lenet5", batch: 2, masked: true, opts: onnx.Options{Conv: onnx.ConvGrouped}},
		{arch: "resnet20", batch: 2},
		{arch: "resnet20", batch: 2, opts: onnx.Options{FoldBN: true, Batch: 2}},
		{arch: "resnet20", batch: 2, masked: true},
		{arch: "resnet20", batch: 2, masked: true, opts: onnx.Options{Conv: onnx.ConvGrouped}},
		{arch: "resnet20", batch: 1, masked: true, opts: onnx.Options{Conv: onnx.ConvGrouped, FoldBN: true}},
		{arch: "vgg16", batch: 2, masked: true, opts: onnx.Options{Conv: onnx.ConvGrouped}},
		{arch: "densenet40", batch: 2},
		{arch: "densenet40", batch: 1, masked: true, opts: onnx.Options{Conv: onnx.ConvGrouped}},
		{arch: "resnet50", batch: 1, long: true},
		{arch: "densenet201", batch: 1, long: true},
	}
	for _, c := range cases {
		name := c.arch
		if c.masked {
			name += "/masked"
		}
		name += "/" + c.opts.Conv.String()
		if c.opts.FoldBN {
			name += "/foldbn"
		}
		t.Run(name, func(t *testing.T) {
			if c.long && testing.Short() {
				t.Skip("large model: skipped with -short")
			}
			t0 := time.Now()
			m, err := models.New(c.arch, 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			randomize(m, 2)
			if c.masked {
				maskGroups(t, m, 3)
			}
			x := input(m, c.batch, 4)
			want := logits(t, m, x)
			got := ortLogits(t, m, c.opts, x)
			within(t, name, got, want, tol)
			t.Logf("%s took %v", name, time.Since(t0).Round(time.Millisecond))
		})
	}
}

// TestFastestChoosesAndLogs times both forms of every masked conv of a
// ResNet-20 in ONNX Runtime, and checks the mixed model's logits and the
// export log.
func TestFastestChoosesAndLogs(t *testing.T) {
	openORT(t)
	m, err := models.New("resnet20", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	randomize(m, 5)
	maskGroups(t, m, 6)
	var log strings.Builder
	opts := onnx.Options{Conv: onnx.ConvFastest, Timer: ort.Timer{Threads: 1, Reps: 5}, TimeBatch: 2, Log: &log}
	_, choices, err := onnx.Build(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	convs := 0
	for _, p := range m.PrunableLayers() {
		if _, ok := p.(*nn.Conv2d); ok {
			convs++
		}
	}
	if len(choices) != convs {
		t.Fatalf("%d choices, want one per masked conv (%d)", len(choices), convs)
	}
	forms := map[onnx.ConvMode]int{}
	for _, c := range choices {
		if c.Dense <= 0 || c.Grouped <= 0 {
			t.Errorf("%s: times %v / %v, want both measured", c.Layer, c.Dense, c.Grouped)
		}
		if (c.Form == onnx.ConvGrouped) != (c.Grouped < c.Dense) {
			t.Errorf("%s: chose %v with dense %v, grouped %v", c.Layer, c.Form, c.Dense, c.Grouped)
		}
		if !strings.Contains(log.String(), c.Layer+": ") {
			t.Errorf("log has no line for %s", c.Layer)
		}
		forms[c.Form]++
	}
	t.Logf("chosen forms: %v\n%s", forms, log.String())
	x := input(m, 2, 8)
	within(t, "resnet20/fastest", ortLogits(t, m, onnx.Options{Forms: formsOf(choices)}, x), logits(t, m, x), tol)
}

func formsOf(cs []onnx.Choice) map[string]onnx.ConvMode {
	f := map[string]onnx.ConvMode{}
	for _, c := range cs {
		f[c.Layer] = c.Form
	}
	return f
}
