package models

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

func mustNew(t testing.TB, arch string, opts ...Option) *Model {
	t.Helper()
	m, err := New(arch, 0, 1, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// paramCount counts trainable parameters (BN running statistics excluded).
func paramCount(m *Model) int {
	n := 0
	for _, p := range nn.AllParams(m.Net) {
		n += p.Value.Len()
	}
	return n
}

func TestParamCounts(t *testing.T) {
	// Sources: LeNet-5 431,080 (METHOD.md); ResNet-20/56 from
	// shared/models/cifar10/SOURCES.md; ResNet-50, DenseNet-201 from
	// torchvision (testdata manifests); VGG-16 and DenseNet-121 from
	// kuangliu/pytorch-cifar's models (sum of numel over parameters());
	// DenseNet-40 (k=12) is "1.0M" in Huang et al., Table 2, and 1.02M in
	// Liu et al.'s network slimming; implementations with a 2k = 24 filter
	// stem (andreasveit/densenet-pytorch) have 1,059,298.
	want := map[string]int{
		"lenet5":      431080,
		"resnet20":    269722,
		"resnet32":    464154,
		"resnet44":    658586,
		"resnet56":    853018,
		"resnet110":   1727962,
		"vgg16":       14728266,
		"densenet121": 6956298,
		"densenet40":  1019722,
		"resnet50":    25557032,
		"densenet201": 20013928,
	}
	for _, arch := range Names() {
		m := mustNew(t, arch)
		if got := paramCount(m); got != want[arch] {
			t.Errorf("%s: %d parameters, want %d", arch, got, want[arch])
		}
		if m.Arch != arch {
			t.Errorf("%s: Arch = %q", arch, m.Arch)
		}
	}
}

func TestNamesCoverRegistry(t *testing.T) {
	names := Names()
	if len(names) != len(registry) {
		t.Fatalf("Names() has %d entries, registry %d", len(names), len(registry))
	}
	if _, err := New("resnet18", 0, 1); err == nil || !strings.Contains(err.Error(), "resnet20") {
		t.Errorf("unknown arch: error %v should list the known ones", err)
	}
	if _, err := New("vgg16", 0, 1, ShortcutB()); err == nil {
		t.Error("ShortcutB on vgg16 accepted")
	}
}

func TestPrunableDefaults(t *testing.T) {
	cases := []struct {
		arch        string
		n           int
		first, last string
		not         []string
	}{
		{"lenet5", 3, "conv2", "fc2", []string{"conv1"}},
		{"resnet20", 19, "layer1.0.conv1", "linear", []string{"conv1"}},
		{"resnet56", 55, "layer1.0.conv1", "linear", []string{"conv1"}},
		{"vgg16", 13, "features.3", "classifier", []string{"features.0"}},
		{"densenet40", 36 + 2 + 1, "features.denseblock1.denselayer1.conv1", "classifier", []string{"features.conv0"}},
		{"densenet121", 58*2 + 3 + 1, "features.denseblock1.denselayer1.conv1", "classifier", []string{"features.conv0"}},
		{"resnet50", 16*3 + 1, "layer1.0.conv1", "fc", []string{"conv1", "layer1.0.downsample.0"}},
		{"densenet201", 98*2 + 3 + 1, "features.denseblock1.denselayer1.conv1", "classifier", []string{"features.conv0"}},
	}
	for _, c := range cases {
		m := mustNew(t, c.arch)
		ps := m.PrunableLayers()
		if len(ps) != c.n || len(m.Prunable) != c.n {
			t.Errorf("%s: %d prunable layers (%d names), want %d", c.arch, len(ps), len(m.Prunable), c.n)
			continue
		}
		if ps[0].Name() != c.first || ps[len(ps)-1].Name() != c.last {
			t.Errorf("%s: prunable layers run %s..%s, want %s..%s", c.arch, ps[0].Name(), ps[len(ps)-1].Name(), c.first, c.last)
		}
		for _, n := range c.not {
			for _, p := range m.Prunable {
				if p == n {
					t.Errorf("%s: %s is prunable by default", c.arch, n)
				}
			}
			if m.Layer(n) == nil {
				t.Errorf("%s: no layer %s", c.arch, n)
			}
		}
	}
	m := mustNew(t, "resnet20", ShortcutB())
	for _, p := range m.Prunable {
		if strings.Contains(p, "shortcut") {
			t.Errorf("resnet20 option B: shortcut conv %s is prunable", p)
		}
	}
}

type manifest struct {
	Arch    string `json:"arch"`
	Params  int    `json:"params"`
	Entries []struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
	} `json:"entries"`
}

// TestTorchvisionManifests checks names and shapes against torchvision's
// state_dicts, written by scripts/gen_torchvision_manifest.py.
func TestTorchvisionManifests(t *testing.T) {
	for _, arch := range []string{"resnet50", "densenet201"} {
		b, err := os.ReadFile(filepath.Join("testdata", arch+"_manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		var mf manifest
		if err := json.Unmarshal(b, &mf); err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		m := mustNew(t, arch)
		names, tensors := StateDict(m)
		if len(names) != len(mf.Entries) || len(tensors) != len(names) {
			t.Errorf("%s: %d state_dict entries (%d distinct), torchvision has %d", arch, len(names), len(tensors), len(mf.Entries))
		}
		seen := map[string]bool{}
		for i, e := range mf.Entries {
			seen[e.Name] = true
			got, ok := tensors[e.Name]
			switch {
			case !ok:
				t.Errorf("%s: missing %s", arch, e.Name)
			case !reflect.DeepEqual(got.Shape, e.Shape):
				t.Errorf("%s: %s has shape %v, torchvision %v", arch, e.Name, got.Shape, e.Shape)
			case i < len(names) && names[i] != e.Name:
				t.Errorf("%s: entry %d is %s, torchvision has %s", arch, i, names[i], e.Name)
			}
		}
		for _, n := range names {
			if !seen[n] {
				t.Errorf("%s: %s is not in torchvision's state_dict", arch, n)
			}
		}
		if got := paramCount(m); got != mf.Params {
			t.Errorf("%s: %d parameters, torchvision %d", arch, got, mf.Params)
		}
	}
}

func TestCIFARResNetNames(t *testing.T) {
	names, ts := StateDict(mustNew(t, "resnet20"))
	// 97 tensors as in akamaster's resnet20 checkpoint (SOURCES.md).
	if len(names) != 97 {
		t.Errorf("resnet20: %d state_dict entries, want 97", len(names))
	}
	want := map[string][]int{
		"conv1.weight":             {16, 3, 3, 3},
		"bn1.running_var":          {16},
		"layer2.0.conv1.weight":    {32, 16, 3, 3},
		"layer3.2.bn2.bias":        {64},
		"layer3.2.conv2.weight":    {64, 64, 3, 3},
		"linear.weight":            {10, 64},
		"linear.bias":              {10},
		"layer1.0.bn1.running_var": {16},
	}
	for n, s := range want {
		if got := ts[n]; got == nil || !reflect.DeepEqual(got.Shape, s) {
			t.Errorf("%s: got %v, want shape %v", n, got, s)
		}
	}
	_, tb := StateDict(mustNew(t, "resnet20", ShortcutB()))
	for n, s := range map[string][]int{
		"layer2.0.shortcut.0.weight":       {32, 16, 1, 1},
		"layer2.0.shortcut.1.running_mean": {32},
		"layer3.0.shortcut.0.weight":       {64, 32, 1, 1},
	} {
		if got := tb[n]; got == nil || !reflect.DeepEqual(got.Shape, s) {
			t.Errorf("option B %s: got %v, want shape %v", n, got, s)
		}
	}
	if len(tb) != 97+2*5 {
		t.Errorf("option B: %d entries, want %d", len(tb), 97+10)
	}
}

func TestVGGAndDenseNetNames(t *testing.T) {
	_, v := StateDict(mustNew(t, "vgg16"))
	for n, s := range map[string][]int{
		"features.0.weight":       {64, 3, 3, 3},
		"features.0.bias":         {64},
		"features.1.running_mean": {64},
		"features.7.weight":       {128, 64, 3, 3},
		"features.40.weight":      {512, 512, 3, 3},
		"features.41.running_var": {512},
		"classifier.weight":       {10, 512},
		"classifier.bias":         {10},
	} {
		if got := v[n]; got == nil || !reflect.DeepEqual(got.Shape, s) {
			t.Errorf("vgg16 %s: got %v, want shape %v", n, got, s)
		}
	}
	_, d := StateDict(mustNew(t, "densenet121"))
	for n, s := range map[string][]int{
		"features.conv0.weight":                          {64, 3, 3, 3},
		"features.denseblock1.denselayer1.norm1.weight":  {64},
		"features.denseblock1.denselayer1.conv1.weight":  {128, 64, 1, 1},
		"features.denseblock1.denselayer6.conv2.weight":  {32, 128, 3, 3},
		"features.transition1.conv.weight":               {128, 256, 1, 1},
		"features.denseblock4.denselayer16.norm1.weight": {992},
		"features.norm5.running_var":                     {1024},
		"classifier.weight":                              {10, 1024},
	} {
		if got := d[n]; got == nil || !reflect.DeepEqual(got.Shape, s) {
			t.Errorf("densenet121 %s: got %v, want shape %v", n, got, s)
		}
	}
	if _, ok := d["features.norm0.weight"]; ok {
		t.Error("CIFAR densenet121 has an ImageNet stem")
	}
	_, d40 := StateDict(mustNew(t, "densenet40"))
	for n, s := range map[string][]int{
		"features.conv0.weight":                          {16, 3, 3, 3},
		"features.denseblock1.denselayer12.conv1.weight": {12, 148, 3, 3},
		"features.transition2.conv.weight":               {304, 304, 1, 1},
		"classifier.weight":                              {10, 448},
	} {
		if got := d40[n]; got == nil || !reflect.DeepEqual(got.Shape, s) {
			t.Errorf("densenet40 %s: got %v, want shape %v", n, got, s)
		}
	}
}

func TestSeeds(t *testing.T) {
	a, _ := New("resnet20", 0, 7)
	b, _ := New("resnet20", 0, 7)
	c, _ := New("resnet20", 0, 8)
	wa, wb, wc := a.Layer("layer1.0.conv1").Params()[0], b.Layer("layer1.0.conv1").Params()[0], c.Layer("layer1.0.conv1").Params()[0]
	if !reflect.DeepEqual(wa.Value.Data, wb.Value.Data) {
		t.Error("equal seeds gave different weights")
	}
	if reflect.DeepEqual(wa.Value.Data, wc.Value.Data) {
		t.Error("different seeds gave equal weights")
	}
	m, err := New("resnet56", 100, 1)
	if err != nil || m.Classes != 100 {
		t.Fatalf("New(resnet56, 100): %v, classes %d", err, m.Classes)
	}
	_, ts := StateDict(m)
	if s := ts["linear.weight"].Shape; !reflect.DeepEqual(s, []int{100, 64}) {
		t.Errorf("100 classes: linear.weight %v", s)
	}
}

func TestLoadStateDict(t *testing.T) {
	src, dst := mustNew(t, "resnet20"), mustNew(t, "resnet20")
	_, ts := StateDict(src)
	ck := map[string]*tensor.Tensor{}
	for n, v := range ts {
		ck[n] = v.Clone()
	}
	ck["bn1.num_batches_tracked"] = tensor.New() // ignored
	ck["bn1.running_mean"].Data[3] = 42
	if err := LoadStateDict(dst, ck); err != nil {
		t.Fatal(err)
	}
	_, got := StateDict(dst)
	for n, v := range ts {
		if n == "bn1.running_mean" {
			continue
		}
		if !reflect.DeepEqual(got[n].Data, v.Data) {
			t.Errorf("%s not loaded", n)
		}
	}
	if got["bn1.running_mean"].Data[3] != 42 {
		t.Error("running statistics not loaded")
	}

	// A DenseNet checkpoint into a ResNet.
	_, other := StateDict(mustNew(t, "densenet40"))
	err := LoadStateDict(dst, other)
	var se *StateDictError
	if !errors.As(err, &se) {
		t.Fatalf("foreign checkpoint: error %v", err)
	}
	msg := err.Error()
	for _, s := range []string{"another architecture", "missing conv1.weight", "unexpected classifier.bias", "more"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q lacks %q", msg, s)
		}
	}
	if len(se.Missing) != 97 || len(se.Unexpected) != len(other) {
		t.Errorf("%d missing, %d unexpected", len(se.Missing), len(se.Unexpected))
	}

	// One wrong shape, one missing, one extra: nothing changes.
	ck["layer1.0.conv1.weight"] = tensor.New(16, 8, 3, 3)
	delete(ck, "linear.bias")
	ck["linear.extra"] = tensor.New(1)
	ck["bn1.running_mean"].Data[3] = 7
	err = LoadStateDict(dst, ck)
	if !errors.As(err, &se) || len(se.Missing) != 1 || len(se.Unexpected) != 1 || len(se.Mismatched) != 1 {
		t.Fatalf("error %v", err)
	}
	for _, s := range []string{"missing linear.bias", "unexpected linear.extra", "layer1.0.conv1.weight (checkpoint [16 8 3 3], model [16 16 3 3])"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if got["bn1.running_mean"].Data[3] != 42 {
		t.Error("a failed load changed the model")
	}
}

func TestLoadStateDictKeepsMask(t *testing.T) {
	m := mustNew(t, "lenet5")
	fc1 := m.Layer("fc1").(nn.Prunable)
	n, c := fc1.MaskShape()
	mask := make([]float32, n*c)
	mask[0] = 1
	if err := fc1.SetMask(mask); err != nil {
		t.Fatal(err)
	}
	_, ts := StateDict(mustNew(t, "lenet5"))
	if err := LoadStateDict(m, ts); err != nil {
		t.Fatal(err)
	}
	w := fc1.Weight().Value.Data
	if w[0] == 0 || w[1] != 0 || w[len(w)-1] != 0 {
		t.Errorf("mask not reapplied: w[0]=%g w[1]=%g", w[0], w[1])
	}
}
