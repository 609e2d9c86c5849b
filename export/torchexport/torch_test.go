package torchexport_test

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/export/torchexport"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/pytorch"
	"github.com/sgcnn/sgcnn/tensor"
)

// torchPython is Debian's Python, which has python3-torch.
const torchPython = "/usr/bin/python3"

// maskedModel returns arch with random BatchNorm statistics and every
// prunable layer masked in four patterns, with a few dead filters.
func maskedModel(t testing.TB, arch string) *models.Model {
	t.Helper()
	m, err := models.New(arch, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
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
	for _, p := range m.PrunableLayers() {
		n, c := p.MaskShape()
		rows := make([][]float32, 4)
		for g := range rows {
			rows[g] = make([]float32, c)
			for j := range c {
				if rng.IntN(2) == 0 {
					rows[g][j] = 1
				}
			}
			rows[g][g%c] = 1
		}
		var mask []float32
		for f := range n {
			if f%11 == 3 {
				mask = append(mask, make([]float32, c)...)
			} else {
				mask = append(mask, rows[f%4]...)
			}
		}
		if err := p.SetMask(mask); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestStateDictMasksAndGroups(t *testing.T) {
	m := maskedModel(t, "resnet20")
	dir := t.TempDir()
	path := filepath.Join(dir, "r20.pth")
	if err := torchexport.Export(path, m); err != nil {
		t.Fatal(err)
	}
	sd, err := pytorch.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	conv := m.Layer("layer2.1.conv1").(*nn.Conv2d)
	mt := sd.Tensors["layer2.1.conv1.weight_mask"]
	w := sd.Tensors["layer2.1.conv1.weight"]
	if mt == nil || w == nil || !tensor.SameShape(mt.Shape, conv.W.Value.Shape) {
		t.Fatalf("mask %v, weight %v", mt, w)
	}
	for i, v := range mt.Data {
		if want := conv.W.Mask[i/9]; v != want {
			t.Fatalf("mask value %d is %g, want %g", i, v, want)
		}
		if v == 0 && w.Data[i] != 0 {
			t.Fatalf("pruned weight %d is %g", i, w.Data[i])
		}
	}
	if _, ok := sd.Tensors["conv1.weight_mask"]; ok {
		t.Error("unmasked conv1 has a mask")
	}
	if sd.Ints["bn1.num_batches_tracked"] == nil {
		t.Error("no num_batches_tracked")
	}
	var g torchexport.Groups
	b, err := os.ReadFile(path + torchexport.GroupsSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if g.Arch != "resnet20" || len(g.Layers) != 19 {
		t.Fatalf("sidecar: arch %q, %d layers", g.Arch, len(g.Layers))
	}
	l := g.Layers[0]
	if l.Name != "layer1.0.conv1" || len(l.Groups) != 4 || len(l.Dead) != 2 || l.Filters != 16 {
		t.Errorf("first layer: %+v", l)
	}
	covered := len(l.Dead)
	for _, gr := range l.Groups {
		covered += len(gr.Filters)
		for _, f := range gr.Filters {
			for _, c := range gr.Channels {
				if conv := m.Layer(l.Name).(*nn.Conv2d); conv.W.Mask[f*l.Channels+c] != 1 {
					t.Errorf("group lists channel %d that filter %d does not keep", c, f)
				}
			}
		}
	}
	if covered != l.Filters {
		t.Errorf("groups and dead cover %d of %d filters", covered, l.Filters)
	}
}

func TestExportBadPath(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "missing", "x.pth")
	if err := torchexport.Export(bad, maskedModel(t, "lenet5")); err == nil {
		t.Fatal("no error")
	}
	// The sidecar's failure removes the state_dict: a directory stands in
	// the sidecar's way.
	path := filepath.Join(dir, "y.pth")
	if err := os.Mkdir(path+torchexport.GroupsSuffix, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path+torchexport.GroupsSuffix, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := torchexport.Export(path, maskedModel(t, "lenet5"))
	if err == nil || !strings.Contains(err.Error(), torchexport.GroupsSuffix) {
		t.Fatalf("error %v, want one naming the sidecar", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("state_dict left behind: %v", err)
	}
}

// needTorch skips without PyTorch, except under CI=true, where it fails.
func needTorch(t *testing.T) {
	t.Helper()
	err := exec.Command(torchPython, "-c", "import torch").Run()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s with torch is required under CI=true (install python3-torch): %v", torchPython, err)
	}
	t.Skipf("skipping: %s has no torch (install python3-torch): %v", torchPython, err)
}

// TestPythonLoaderMatchesLogits exports masked models, has
// scripts/load_torch_export.py rebuild them in PyTorch with the masks
// registered, and compares PyTorch's logits with sgcnn's.
func TestPythonLoaderMatchesLogits(t *testing.T) {
	needTorch(t)
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "load_torch_export.py")
	for _, arch := range []string{"lenet5", "resnet20", "vgg16"} {
		t.Run(arch, func(t *testing.T) {
			m := maskedModel(t, arch)
			dir := t.TempDir()
			path := filepath.Join(dir, arch+".pth")
			if err := torchexport.Export(path, m); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			x := tensor.New(3, m.InputShape[0], m.InputShape[1], m.InputShape[2])
			for i := range x.Data {
				x.Data[i] = float32(rng.NormFloat64())
			}
			in := tensor.New(x.Shape...)
			copy(in.Data, x.Data)
			y, err := m.Net.Forward(nn.NewCtx(false), in)
			if err != nil {
				t.Fatal(err)
			}
			ref := pytorch.NewStateDict()
			ref.Add("input", x)
			ref.Add("logits", y)
			refPath := filepath.Join(dir, "ref.pth")
			if err := pytorch.SaveZip(refPath, ref); err != nil {
				t.Fatal(err)
			}
			args := []string{script, path, "--check", refPath}
			if arch == "resnet20" {
				args = append(args, "--train-steps", "2")
			}
			out, err := exec.Command(torchPython, args...).CombinedOutput()
			t.Logf("%s", out)
			if err != nil {
				t.Fatalf("load_torch_export.py: %v", err)
			}
			if !strings.Contains(string(out), "logits: max |torch - sgcnn|") {
				t.Error("the script printed no comparison")
			}
		})
	}
}
