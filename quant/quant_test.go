package quant

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// testNet is a small ResNet-like network (stem, one residual block, a
// stride-2 conv, pooling, linear) with random weights and BatchNorm
// statistics; pruned gives its convs random connection masks (uneven
// groups).
func testNet(t *testing.T, pruned bool) nn.Layer {
	r := rand.New(rand.NewPCG(7, 8))
	bn := func(name string, c int) *nn.BatchNorm2d {
		b := nn.NewBatchNorm2d(name, c)
		for i := range c {
			b.Gamma.Value.Data[i] = 0.5 + r.Float32()
			b.Beta.Value.Data[i] = r.Float32() - 0.5
			b.Mean.Value.Data[i] = 0.2 * (r.Float32() - 0.5)
			b.Var.Value.Data[i] = 0.5 + r.Float32()
		}
		return b
	}
	conv := func(name string, in, out, k, s, p int) *nn.Conv2d {
		c := nn.NewConv2d(name, in, out, k, s, p, false, r)
		if pruned {
			m := make([]float32, in*out)
			for i := range m {
				if r.IntN(3) > 0 {
					m[i] = 1
				}
			}
			if err := c.SetMask(m); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	body := nn.NewSequential("block.body",
		conv("block.conv1", 8, 8, 3, 1, 1), bn("block.bn1", 8), nn.NewReLU("block.relu1"),
		conv("block.conv2", 8, 8, 3, 1, 1), bn("block.bn2", 8))
	return nn.NewSequential("net",
		conv("conv1", 3, 8, 3, 1, 1), bn("bn1", 8), nn.NewReLU("relu1"),
		nn.NewResidual("block", body, nil), nn.NewReLU("relu2"),
		conv("conv3", 8, 16, 3, 2, 1), bn("bn3", 16), nn.NewReLU("relu3"),
		nn.NewGlobalAvgPool("pool"), nn.NewLinear("fc", 16, 10, true, r))
}

func images(n int, seed uint64) *tensor.Tensor {
	r := rand.New(rand.NewPCG(seed, 1))
	x := tensor.New(n, 3, 12, 12)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	return x
}

// TestCompileInt8 compiles the test network, dense and pruned, with every
// conv on the int8 route and checks its logits against package nn's fp32
// forward of the same (masked) network: a few percent RMS error, and the
// same top-1 class on nearly every image.
func TestCompileInt8(t *testing.T) {
	for _, pruned := range []bool{false, true} {
		net := testNet(t, pruned)
		g, err := graph.Of(net, []int{3, 12, 12})
		if err != nil {
			t.Fatal(err)
		}
		cal, err := Calibrate(g, images(64, 1), 16)
		if err != nil {
			t.Fatal(err)
		}
		if len(cal.Ranges) != 4 || cal.Images != 64 {
			t.Fatalf("calibrated %d convs on %d images, want 4 on 64", len(cal.Ranges), cal.Images)
		}
		if r := cal.Ranges[1]; r.Min != 0 { // block.conv1 reads a ReLU output
			t.Errorf("%s: input minimum %v after a ReLU, want 0", r.Layer, r.Min)
		}
		q, err := Compile(g, cal, compile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range q.Layers() {
			if strings.Contains(l.Name, "conv") != l.Int8 {
				t.Errorf("layer %s: Int8 %v", l.Name, l.Int8)
			}
		}
		x := images(200, 2)
		want, err := net.Forward(nn.NewCtx(false), x)
		if err != nil {
			t.Fatal(err)
		}
		want = want.Clone()
		got, err := q.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		var e2, n2 float64
		agree := 0
		for i := range 200 {
			gi, wi := got.Data[i*10:(i+1)*10], want.Data[i*10:(i+1)*10]
			for j := range wi {
				d := float64(gi[j] - wi[j])
				e2 += d * d
				n2 += float64(wi[j]) * float64(wi[j])
			}
			if argmax(gi) == argmax(wi) {
				agree++
			}
		}
		rel := math.Sqrt(e2 / n2)
		t.Logf("pruned=%v: logits RMS error %.3g relative, top-1 agreement %d/200", pruned, rel, agree)
		if rel > 0.05 || agree < 190 {
			t.Errorf("pruned=%v: int8 logits off: relative RMS error %.3g, top-1 agreement %d/200", pruned, rel, agree)
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

// TestCalibrateErrors checks the bad-input errors: fewer images than one
// batch, a wrong image shape, a batch of 0.
func TestCalibrateErrors(t *testing.T) {
	g, err := graph.Of(testNet(t, false), []int{3, 12, 12})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x     *tensor.Tensor
		batch int
		want  string
	}{
		{images(10, 1), 16, "at least one batch"},
		{tensor.New(20, 3, 10, 12), 16, "shape"},
		{images(10, 1), 0, "batch 0"},
		{nanImages(), 16, "not finite"},
	} {
		_, err := Calibrate(g, c.x, c.batch)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Calibrate(%v, batch %d): error %v, want one containing %q", c.x.Shape, c.batch, err, c.want)
		}
	}
}

// TestLayerErrors checks that every conv gets an error of a few tenths of
// a percent (8-bit inputs and weights), sorted largest first, and that a
// deliberately coarse input quantization shows up as the worst layer.
func TestLayerErrors(t *testing.T) {
	g, err := graph.Of(testNet(t, true), []int{3, 12, 12})
	if err != nil {
		t.Fatal(err)
	}
	x := images(32, 3)
	cal, err := Calibrate(g, x, 16)
	if err != nil {
		t.Fatal(err)
	}
	cal.Ranges[2].Max *= 40 // block.conv2: 40x too wide a range
	errs, err := LayerErrors(g, x, 16, cal)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 4 || errs[0].Layer != "block.conv2" {
		t.Fatalf("errors %+v: want 4, block.conv2 first", errs)
	}
	for i, e := range errs {
		if i > 0 && (e.RelRMS > errs[i-1].RelRMS || e.RelRMS > 0.02 || e.RelRMS <= 0) {
			t.Errorf("layer %s: relative error %.3g (sorted, 0 < e < 2%% expected)", e.Layer, e.RelRMS)
		}
	}
}

func nanImages() *tensor.Tensor {
	x := images(16, 1)
	x.Data[5] = float32(math.NaN())
	return x
}

// TestCompileInt8UnknownLayer checks that an Int8 entry naming no conv is
// an error, not silently fp32.
func TestCompileInt8UnknownLayer(t *testing.T) {
	g, err := graph.Of(testNet(t, false), []int{3, 12, 12})
	if err != nil {
		t.Fatal(err)
	}
	cal := &Calibration{Ranges: []Range{{Layer: "fc", Min: -1, Max: 1}}}
	if _, err := Compile(g, cal, compile.Options{}); err == nil || !strings.Contains(err.Error(), `"fc"`) {
		t.Fatalf("Int8 on the linear layer fc: error %v, want one naming it", err)
	}
}
