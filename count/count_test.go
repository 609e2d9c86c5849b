package count_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

func model(t testing.TB, arch string) *models.Model {
	t.Helper()
	m, err := models.New(arch, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// paper counts m with all masks = 1 on its default prunable layers.
func paper(t testing.TB, m *models.Model) *count.Table {
	t.Helper()
	tb, err := count.Count(m.Net, m.InputShape, m.Prunable...)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestPaperBaselines pins METHOD.md section 4's checks (all masks = 1) and
// the usual CIFAR ResNet figures. Exact values for ResNet-50 and
// DenseNet-201 agree with an independent count over torchvision's modules
// (scripts/gen_torchvision_manifest.py, paper_count); those for DenseNet-121
// with a hand count of the architecture.
func TestPaperBaselines(t *testing.T) {
	cases := []struct {
		arch          string
		params, flops int64
		human         string
	}{
		{"resnet50", 25549224, 4089207912, "25.55M params, 4.09G FLOPs"},
		{"densenet201", 19818792, 4291383848, "19.82M params, 4.29G FLOPs"},
		// 431,080: every parameter of the network, bias included.
		{"lenet5", 431080, 2293560, "431.08K params, 2.29M FLOPs"},
		{"densenet121", 6893130, 888360906, "6.89M params, 888.36M FLOPs"},
		{"resnet56", 852986, 125487722, "852.99K params, 125.49M FLOPs"},
		{"resnet20", 269690, 40551722, "269.69K params, 40.55M FLOPs"},
	}
	for _, c := range cases {
		tb := paper(t, model(t, c.arch))
		if tb.Params != c.params || tb.FLOPs != c.flops {
			t.Errorf("%s: %d params, %d FLOPs; want %d, %d", c.arch, tb.Params, tb.FLOPs, c.params, c.flops)
		}
		if s := tb.Totals.String(); s != c.human {
			t.Errorf("%s: %q, want %q", c.arch, s, c.human)
		}
	}
	// The paper quotes LeNet-5 as 431K / 2294K.
	tb := paper(t, model(t, "lenet5"))
	if k := (tb.FLOPs + 500) / 1000; k != 2294 {
		t.Errorf("lenet5: %dK FLOPs, paper 2294K", k)
	}
}

// TestTorchvisionPaperCount compares with the counts the manifest script
// computed in PyTorch.
func TestTorchvisionPaperCount(t *testing.T) {
	for _, arch := range []string{"resnet50", "densenet201"} {
		b, err := os.ReadFile("../models/testdata/" + arch + "_manifest.json")
		if err != nil {
			t.Skip(err)
		}
		var mf struct {
			PaperCount struct{ Params, FLOPs int64 } `json:"paper_count"`
		}
		if err := json.Unmarshal(b, &mf); err != nil {
			t.Fatal(err)
		}
		tb := paper(t, model(t, arch))
		if tb.Params != mf.PaperCount.Params || tb.FLOPs != mf.PaperCount.FLOPs {
			t.Errorf("%s: %v, PyTorch count %d params %d FLOPs", arch, tb.Totals, mf.PaperCount.Params, mf.PaperCount.FLOPs)
		}
	}
}

// TestDenseRelation checks the package comment's relation between the
// dense count and the all-ones count: each prunable conv adds its BN term,
// 2N params (none without BN), and N FLOPs; nothing else changes.
func TestDenseRelation(t *testing.T) {
	for _, c := range []struct {
		arch string
		a    int64
	}{{"resnet20", 2}, {"densenet40", 2}, {"vgg16", 2}, {"lenet5", 0}, {"resnet50", 2}} {
		m := model(t, c.arch)
		dense, err := count.Count(m.Net, m.InputShape)
		if err != nil {
			t.Fatal(err)
		}
		ones := paper(t, m)
		if len(dense.Rows) != len(ones.Rows) {
			t.Fatalf("%s: %d and %d rows", c.arch, len(dense.Rows), len(ones.Rows))
		}
		var dp, df int64
		for i, d := range dense.Rows {
			o := ones.Rows[i]
			if d.Masked || o.Masked != slicesContains(m.Prunable, o.Name) {
				t.Errorf("%s %s: masked %v / %v", c.arch, d.Name, d.Masked, o.Masked)
			}
			if o.Kind == "conv" && o.Masked {
				if o.Params-d.Params != c.a*int64(o.Filters) || o.FLOPs-d.FLOPs != int64(o.Filters) {
					t.Errorf("%s %s: all-ones minus dense = %d params, %d FLOPs; want %d, %d", c.arch, o.Name,
						o.Params-d.Params, o.FLOPs-d.FLOPs, c.a*int64(o.Filters), o.Filters)
				}
				dp += c.a * int64(o.Filters)
				df += int64(o.Filters)
			} else if o.Totals != d.Totals {
				t.Errorf("%s %s: all-ones %v, dense %v", c.arch, o.Name, o.Totals, d.Totals)
			}
		}
		if ones.Params-dense.Params != dp || ones.FLOPs-dense.FLOPs != df {
			t.Errorf("%s: totals differ by %d, %d; want %d, %d", c.arch, ones.Params-dense.Params, ones.FLOPs-dense.FLOPs, dp, df)
		}
	}
	// ResNet-50 without the BN terms: 25.50M, not the paper's 25.55M.
	m := model(t, "resnet50")
	dense, _ := count.Count(m.Net, m.InputShape)
	if dense.Params != 25503912 {
		t.Errorf("resnet50 dense: %d params", dense.Params)
	}
}

func slicesContains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func ones(n int) []float32 {
	m := make([]float32, n)
	for i := range m {
		m[i] = 1
	}
	return m
}

// TestInstalledMasks: real all-ones masks count as asMasked does; half the
// connections halve the conv term; a filter with no input stops counting.
func TestInstalledMasks(t *testing.T) {
	m := model(t, "resnet20")
	want := paper(t, m)
	for _, p := range m.PrunableLayers() {
		n, c := p.MaskShape()
		if err := p.SetMask(ones(n * c)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := count.Count(m.Net, m.InputShape)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("all-ones masks: %v, asMasked: %v", got.Totals, want.Totals)
	}

	// layer2.1.conv1: 32 filters x 32 channels, 3x3, output 16x16.
	conv := m.Layer("layer2.1.conv1").(nn.Prunable)
	half := make([]float32, 32*32)
	for i := range half {
		half[i] = float32((i / 32 % 2) ^ (i % 2)) // every filter keeps 16 channels
	}
	if err := conv.SetMask(half); err != nil {
		t.Fatal(err)
	}
	got, _ = count.Count(m.Net, m.InputShape)
	r := row(t, got, "layer2.1.conv1")
	full := row(t, want, "layer2.1.conv1")
	if r.Params-64 != (full.Params-64)/2 || r.FLOPs-32 != (full.FLOPs-32)/2 {
		t.Errorf("half mask: %v, full %v: the conv term should halve", r.Totals, full.Totals)
	}
	if r.Params != 9*512+2*32 || r.FLOPs != 256*9*512+32 || r.Live != 32 || r.Kept != 512 || r.Pruned != 0.5 {
		t.Errorf("half mask row %+v", r)
	}
	if got.Params != want.Params-9*512 || got.FLOPs != want.FLOPs-256*9*512 {
		t.Errorf("half mask totals %v, want %v less 9*512 params", got.Totals, want.Totals)
	}

	// Filter 0 loses its 16 inputs: dead, its BN terms go too.
	clear(half[:32])
	if err := conv.SetMask(half); err != nil {
		t.Fatal(err)
	}
	got, _ = count.Count(m.Net, m.InputShape)
	r = row(t, got, "layer2.1.conv1")
	if r.Live != 31 || r.Params != 9*496+2*31 || r.FLOPs != 256*9*496+31 {
		t.Errorf("dead filter row %+v", r)
	}
}

func row(t *testing.T, tb *count.Table, name string) count.Row {
	t.Helper()
	for _, r := range tb.Rows {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no row %s", name)
	return count.Row{}
}

// TestBiasRules: LeNet-5 (bias, no BN) counts its real parameters;
// VGG-16's convs (bias and BN) carry 3 per filter; a masked linear layer
// counts only live outputs' biases.
func TestBiasRules(t *testing.T) {
	tb := paper(t, model(t, "lenet5"))
	for name, p := range map[string]int64{"conv1": 520, "conv2": 25050, "fc1": 400500, "fc2": 5010} {
		if r := row(t, tb, name); r.Params != p {
			t.Errorf("lenet5 %s: %d params, want %d", name, r.Params, p)
		}
	}
	if r := row(t, tb, "conv1"); r.Masked || r.FLOPs != 20*24*24*25 {
		t.Errorf("lenet5 conv1 (stem, unmasked): %+v", r)
	}
	if r := row(t, tb, "conv2"); r.FLOPs != 50*8*8*20*25+50 || !reflect.DeepEqual(r.Out, []int{50, 8, 8}) {
		t.Errorf("lenet5 conv2: %+v", r)
	}
	vgg := paper(t, model(t, "vgg16"))
	if r := row(t, vgg, "features.3"); r.Params != 64*64*9+3*64 || r.FLOPs != 32*32*64*64*9+64 {
		t.Errorf("vgg16 features.3: %+v", r)
	}
	if r := row(t, vgg, "features.0"); r.Params != 64*27+64 {
		t.Errorf("vgg16 features.0 (stem, unmasked): %+v", r)
	}

	m := model(t, "lenet5")
	fc2 := m.Layer("fc2").(nn.Prunable)
	mask := ones(10 * 500)
	clear(mask[:500]) // output 0 dead
	for i := 500; i < 5000; i += 2 {
		mask[i] = 0
	}
	if err := fc2.SetMask(mask); err != nil {
		t.Fatal(err)
	}
	tb, _ = count.Count(m.Net, m.InputShape)
	if r := row(t, tb, "fc2"); r.Live != 9 || r.Kept != 2250 || r.Params != 2250+9 || r.FLOPs != r.Params {
		t.Errorf("masked fc2: %+v", r)
	}
}

// oddLayer is a leaf from outside package nn, which package graph cannot
// lower.
type oddLayer struct{ name string }

func (o oddLayer) Name() string        { return o.name }
func (o oddLayer) Params() []*nn.Param { return nil }
func (o oddLayer) Forward(_ *nn.Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	return tensor.New(x.Shape[0], x.Shape[1]*4, x.Shape[2]/2, x.Shape[3]/2), nil
}
func (o oddLayer) Backward(_ *nn.Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) { return dy, nil }

// oddContainer hides its children from count.
type oddContainer struct{ oddLayer }

func (o oddContainer) Children() []nn.Layer { return nil }

func TestOtherLayersAndErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	net := nn.NewSequential("net", nn.NewConv2d("a", 3, 4, 3, 1, 1, false, rng), oddLayer{"space2depth"},
		nn.NewConv2d("b", 16, 8, 1, 1, 0, false, rng))
	// Count reads the lowered graph: a layer type package graph cannot
	// lower is refused, naming the layer.
	if _, err := count.Count(net, [3]int{3, 8, 8}); err == nil || !strings.Contains(err.Error(), "space2depth") {
		t.Errorf("unknown layer: %v", err)
	}
	if _, err := count.Count(nn.NewSequential("n", oddContainer{oddLayer{"box"}}), [3]int{3, 8, 8}); err == nil || !strings.Contains(err.Error(), "box") {
		t.Errorf("opaque container: %v", err)
	}
	m := model(t, "resnet20")
	if _, err := count.Count(m.Net, m.InputShape, "layer9.conv1"); err == nil || !strings.Contains(err.Error(), "layer9.conv1") {
		t.Errorf("unknown asMasked name: %v", err)
	}
	if _, err := count.Count(m.Net, [3]int{1, 32, 32}); err == nil || !strings.Contains(err.Error(), "conv1") {
		t.Errorf("wrong input channels: %v", err)
	}
}

func TestRatios(t *testing.T) {
	base, pruned := count.Totals{Params: 25549224, FLOPs: 4089207912}, count.Totals{Params: 11880000, FLOPs: 1910000000}
	if r := count.CompressionRatio(base, pruned); math.Abs(r-2.1506) > 1e-3 {
		t.Errorf("compression %g", r)
	}
	if r := count.FLOPsReduction(base, pruned); math.Abs(r-2.1410) > 1e-3 {
		t.Errorf("FLOPs reduction %g", r)
	}
	if r := count.CompressionRatio(base, count.Totals{}); !math.IsInf(r, 1) {
		t.Errorf("ratio to zero: %g", r)
	}
}
