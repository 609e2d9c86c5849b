package e2e

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/checkpoint"
	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/export/torchexport"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/onnximport"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/tensor"
)

// Tolerances, relative to the largest magnitude of the reference values.
const (
	// forwardTol bounds the logits' difference between two engines (the
	// issue's 1e-4).
	forwardTol = 1e-4
	// gradTol bounds a parameter gradient's difference from PyTorch's:
	// gradients sum over more terms than logits, in another order.
	gradTol = 1e-3
)

// importNet reads an ONNX network into a model.
func importNet(t *testing.T, path string, inputShape []int) *models.Model {
	t.Helper()
	g, err := onnximport.ReadFile(path, onnximport.Options{InputShape: inputShape})
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.FromGraph(g, 10)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// forward runs m in eval mode on a copy of x.
func forward(t *testing.T, m *models.Model, x *tensor.Tensor) []float32 {
	t.Helper()
	y, err := m.Net.Forward(nn.NewCtx(false), clone(x))
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), y.Data...)
}

// selfGroup runs one self-grouping step at rate percent on every prunable
// layer (FC layers at min(rate, 60), as sgcnn prune's default --fc-cap
// does) and returns the fraction of connections pruned.
func selfGroup(t *testing.T, m *models.Model, names []string, rate float64, seed uint64) float64 {
	t.Helper()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var layers []nn.Prunable
	var rates []float64
	for _, p := range nn.Prunables(m.Net) {
		if !want[p.Name()] {
			continue
		}
		layers = append(layers, p)
		r := rate
		if _, ok := p.(*nn.Linear); ok {
			r = min(rate, 60)
		}
		rates = append(rates, r)
	}
	if len(layers) != len(names) {
		t.Fatalf("%d of the %d layers to prune found", len(layers), len(names))
	}
	sg := &prune.SelfGrouping{Seed: seed}
	if _, err := sg.Prune(layers, rates, 0); err != nil {
		t.Fatal(err)
	}
	var off, all int
	for _, p := range layers {
		for _, v := range p.Mask() {
			all++
			if v == 0 {
				off++
			}
		}
	}
	return float64(off) / float64(max(all, 1))
}

// TestTorchvision checks every network end to end: import, forward against
// ONNX Runtime (and PyTorch), one self-grouping step, the compiled network
// and the exported pruned ONNX against nn, and the model file round trip.
func TestTorchvision(t *testing.T) {
	nets := networks(t)
	openORT(t)
	for _, name := range append(append([]string{}, torchvisionNets...), cifarNets...) {
		t.Run(name, func(t *testing.T) { checkNetwork(t, nets[name]) })
	}
}

func checkNetwork(t *testing.T, n *network) {
	model, err := os.ReadFile(n.ONNX)
	if err != nil {
		t.Fatal(err)
	}
	m := importNet(t, n.ONNX, nil)
	if got := m.InputShape[:]; !slices.Equal(got, n.InputShape) || m.Classes != n.Classes {
		t.Fatalf("imported input %v, %d classes; want %v, %d", got, m.Classes, n.InputShape, n.Classes)
	}
	if len(m.Prunable) == 0 {
		t.Fatal("no prunable layer")
	}
	ref := loadRef(t, n)
	x := ref.tensor(t, "input")

	// Dense: sgcnn, ONNX Runtime and PyTorch agree.
	ortDense := runORT(t, model, x)
	dense := forward(t, m, x)
	within(t, "dense: sgcnn vs ONNX Runtime", dense, ortDense, forwardTol)
	within(t, "dense: sgcnn vs PyTorch", dense, ref.tensor(t, "output").Data, forwardTol)

	// One self-grouping step; the compiled network equals nn's forward.
	frac := selfGroup(t, m, m.Prunable, 50, 1)
	t.Logf("%d prunable layers, %.1f%% of their connections pruned", len(m.Prunable), 100*frac)
	if frac < 0.2 {
		t.Fatalf("only %.1f%% pruned at rate 50", 100*frac)
	}
	pruned := forward(t, m, x)
	if d, _ := relDiff(pruned, dense); d < 1e-3 {
		t.Errorf("pruning changed the logits by only %.2g: masks not applied?", d)
	}
	cn, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	y, err := cn.Forward(clone(x))
	if err != nil {
		t.Fatal(err)
	}
	within(t, "pruned: compiled vs nn", y.Data, pruned, forwardTol)

	// The exported pruned network runs in ONNX Runtime with the same
	// logits, both ways of writing a pruned conv.
	for _, mode := range []onnx.ConvMode{onnx.ConvDense, onnx.ConvGrouped} {
		var buf bytes.Buffer
		if err := onnx.Export(&buf, m, onnx.Options{Conv: mode}); err != nil {
			t.Fatal(err)
		}
		within(t, "pruned: exported ONNX ("+mode.String()+") in ONNX Runtime vs nn", runORT(t, buf.Bytes(), x), pruned, forwardTol)
	}

	// The model file keeps the graph, weights and masks.
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := models.SaveFile(path, m, modelfile.Info{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := models.LoadFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if f.Model.Arch != models.GraphArch || !slices.Equal(f.Model.Prunable, m.Prunable) || f.Info.Std[2] != 0.25 {
		t.Fatalf("loaded %s with %d prunable layers, info %+v", f.Model.Arch, len(f.Model.Prunable), f.Info)
	}
	if d, at := relDiff(forward(t, f.Model, x), pruned); d != 0 {
		t.Errorf("model file round trip changed logit %d (relative %.2g)", at, d)
	}
}

// TestGradients checks, for the networks with PyTorch gradients, one
// training step (BatchNorm in training mode): the loss, every parameter's
// gradient, and the BatchNorm running statistics after the forward.
func TestGradients(t *testing.T) {
	nets := networks(t)
	count := 0
	for _, name := range append(append([]string{}, torchvisionNets...), cifarNets...) {
		n := nets[name]
		if !n.Grads {
			continue
		}
		count++
		t.Run(name, func(t *testing.T) { checkGradients(t, n) })
	}
	if count < 3 {
		t.Fatalf("%d networks have PyTorch gradients, want 3", count)
	}
}

func checkGradients(t *testing.T, n *network) {
	m := importNet(t, n.ONNX, nil)
	ref := loadRef(t, n)
	x := ref.tensor(t, "train_input")
	li, ok := ref.Ints["labels"]
	if !ok {
		t.Fatal("reference file has no labels")
	}
	labels := make([]int, len(li.Data))
	for i, v := range li.Data {
		labels[i] = int(v)
	}
	ctx := nn.NewCtx(true)
	nn.ZeroGrad(m.Net)
	logits, err := m.Net.Forward(ctx, clone(x))
	if err != nil {
		t.Fatal(err)
	}
	loss, dy, err := nn.SoftmaxCrossEntropy(logits, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := float64(ref.tensor(t, "loss").Data[0])
	t.Logf("loss %.6f, PyTorch %.6f", loss, want)
	if math.Abs(loss-want) > forwardTol*math.Max(1, math.Abs(want)) {
		t.Errorf("loss %.6f, PyTorch %.6f", loss, want)
	}
	if _, err := m.Net.Backward(ctx, dy); err != nil {
		t.Fatal(err)
	}
	// A gradient is compared at the scale of its own largest element, but
	// at least 1e-2 of the network's largest: a bias whose gradient is
	// zero in exact arithmetic holds only rounding noise in both.
	floor := 0.0
	for name, g := range ref.Tensors {
		if strings.HasPrefix(name, "grad.") {
			for _, v := range g.Data {
				floor = max(floor, 1e-2*math.Abs(float64(v)))
			}
		}
	}
	t.Logf("PyTorch's gradients move by %.2g under 1e-6 input noise (scale floor %.2g)", ref.tensor(t, "grad_sensitivity").Data[0], floor)
	seen := map[string]bool{}
	worst, worstName := 0.0, ""
	defer func() { t.Logf("largest gradient difference: %.2g (%s)", worst, worstName) }()
	for _, p := range nn.AllParams(m.Net) {
		seen["grad."+p.Name] = true
		g, ok := ref.Tensors["grad."+p.Name]
		if !ok {
			t.Errorf("parameter %s: PyTorch has no such parameter", p.Name)
			continue
		}
		if !slices.Equal(g.Shape, p.Value.Shape) {
			t.Errorf("parameter %s: shape %v, PyTorch %v", p.Name, p.Value.Shape, g.Shape)
			continue
		}
		d, at := relDiffFloor(p.Grad.Data, g.Data, floor)
		if d > worst {
			worst, worstName = d, p.Name
		}
		if !(d <= gradTol) {
			t.Errorf("gradient of %s: element %d is %g, PyTorch %g (relative difference %.3g > %g)", p.Name, at, p.Grad.Data[at], g.Data[at], d, gradTol)
		}
	}
	for _, b := range nn.AllBuffers(m.Net) {
		r, ok := ref.Tensors["running."+b.Name]
		if !ok {
			continue
		}
		seen["running."+b.Name] = true
		if d, at := relDiff(b.Value.Data, r.Data); !(d <= forwardTol) {
			t.Errorf("%s after the forward: element %d is %g, PyTorch %g (relative %.3g)", b.Name, at, b.Value.Data[at], r.Data[at], d)
		}
	}
	for name := range ref.Tensors {
		if strings.HasPrefix(name, "grad.") || strings.HasPrefix(name, "running.") {
			if !seen[name] {
				t.Errorf("PyTorch's %s has no counterpart in the imported network", name)
			}
		}
	}
}

// TestTorchStateDict exports each pruned network as a PyTorch state_dict
// (sgcnn export --format torch) and has PyTorch load it, strictly, into its
// own definition of the network and run the reference input: the logits
// must be sgcnn's.
func TestTorchStateDict(t *testing.T) {
	nets := networks(t)
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(python, "-c", "import torch, torchvision").CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s with torch and torchvision is required under CI=true: %v: %s", python, err, out)
		}
		t.Skipf("skipping: %s cannot import torch and torchvision: %v", python, err)
	}
	dir := t.TempDir()
	for _, name := range append(append([]string{}, torchvisionNets...), "cifarnet") {
		n := nets[name]
		m := importNet(t, n.ONNX, nil)
		selfGroup(t, m, m.Prunable, 50, 1)
		if err := torchexport.Export(filepath.Join(dir, name+".pth"), m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		x := loadRef(t, n).tensor(t, "input")
		f := checkpoint.NewFile()
		f.Add("input", x)
		f.Add("logits", &tensor.Tensor{Shape: []int{x.Shape[0], m.Classes}, Data: forward(t, m, x)})
		if err := checkpoint.Save(filepath.Join(dir, name+".check.safetensors"), f); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(python, filepath.Join(root, "scripts", "gen_torchvision_onnx.py"), "--check-state-dicts", dir).CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("PyTorch's check of the exported state_dicts failed: %v", err)
	}
}
