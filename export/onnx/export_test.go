package onnx_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

func mustNew(t testing.TB, arch string) *models.Model {
	t.Helper()
	m, err := models.New(arch, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ops counts the graph's nodes by operator.
func ops(g *onnxpb.GraphProto) map[string]int {
	c := map[string]int{}
	for _, n := range g.Node {
		c[n.OpType]++
	}
	return c
}

func TestGraphOperators(t *testing.T) {
	for _, c := range []struct {
		arch string
		want map[string]int
	}{
		// ResNet-20: 19 convs and BNs, two option-A shortcuts, 9 adds.
		{"resnet20", map[string]int{"Conv": 19, "BatchNormalization": 19, "Relu": 19, "Add": 9,
			"Slice": 2, "Pad": 2, "GlobalAveragePool": 1, "Flatten": 1, "Gemm": 1}},
		{"lenet5", map[string]int{"Conv": 2, "MaxPool": 2, "Flatten": 1, "Gemm": 2, "Relu": 1}},
		// DenseNet-40: 36 dense layers concatenated, 2 transitions.
		{"densenet40", map[string]int{"Conv": 39, "Concat": 36, "AveragePool": 2, "BatchNormalization": 39}},
		{"vgg16", map[string]int{"Conv": 13, "MaxPool": 5, "AveragePool": 1, "Gemm": 1}},
	} {
		mp, _, err := onnx.Build(mustNew(t, c.arch), onnx.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.arch, err)
		}
		got := ops(mp.Graph)
		for op, n := range c.want {
			if got[op] != n {
				t.Errorf("%s: %d %s nodes, want %d (all: %v)", c.arch, got[op], op, n, got)
			}
		}
		if mp.OpsetImport[0].Version != onnx.Opset || mp.Graph.Output[0].Name != onnx.OutputName {
			t.Errorf("%s: opset %d, output %q", c.arch, mp.OpsetImport[0].Version, mp.Graph.Output[0].Name)
		}
	}
}

func TestFoldBNRemovesBatchNorms(t *testing.T) {
	mp, _, err := onnx.Build(mustNew(t, "resnet20"), onnx.Options{FoldBN: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := ops(mp.Graph)["BatchNormalization"]; n != 0 {
		t.Errorf("%d BatchNormalization nodes left after folding", n)
	}
}

func TestExportDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	m := mustNew(t, "resnet20")
	maskGroups(t, m, 1)
	opts := onnx.Options{Conv: onnx.ConvGrouped}
	if err := onnx.Export(&a, m, opts); err != nil {
		t.Fatal(err)
	}
	if err := onnx.Export(&b, m, opts); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two exports of one model differ")
	}
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(a.Bytes(), &mp); err != nil {
		t.Fatal(err)
	}
	if ops(mp.Graph)["Gather"] == 0 {
		t.Error("grouped export has no Gather")
	}
}

// TestMaskedWeightsZeroed checks that a pruned weight is written as zero
// even when the layer's weight tensor still holds a value there.
func TestMaskedWeightsZeroed(t *testing.T) {
	m := mustNew(t, "lenet5")
	conv := m.Layer("conv2").(*nn.Conv2d)
	mask := make([]float32, conv.Out*conv.In)
	for i := range mask {
		mask[i] = float32(i % 2)
	}
	if err := conv.SetMask(mask); err != nil {
		t.Fatal(err)
	}
	for i := range conv.W.Value.Data {
		conv.W.Value.Data[i] = 1 // as if an optimizer had written over the mask
	}
	mp, _, err := onnx.Build(m, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, init := range mp.Graph.Initializer {
		if init.Name != "conv2.weight" {
			continue
		}
		kk := conv.K * conv.K
		for i, m := range mask {
			v := init.RawData[4*i*kk : 4*(i+1)*kk]
			zero := bytes.Count(v, []byte{0}) == len(v)
			if zero != (m == 0) {
				t.Fatalf("pair %d (mask %g): zero=%v", i, m, zero)
			}
		}
		return
	}
	t.Fatal("no conv2.weight initializer")
}

// fakeTimer says grouped is faster for layers whose name contains "layer3".
type fakeTimer struct{ calls int }

func (f *fakeTimer) Time(model []byte, shape []int64) (time.Duration, error) {
	f.calls++
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(model, &mp); err != nil {
		return 0, err
	}
	grouped := ops(mp.Graph)["Conv"] > 1
	if strings.Contains(mp.Graph.Name, "layer3") == grouped {
		return time.Millisecond, nil
	}
	return 2 * time.Millisecond, nil
}

func TestFastestUsesTimer(t *testing.T) {
	m := mustNew(t, "resnet20")
	maskGroups(t, m, 2)
	ft := &fakeTimer{}
	var log bytes.Buffer
	_, choices, err := onnx.Build(m, onnx.Options{Conv: onnx.ConvFastest, Timer: ft, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if ft.calls != 2*len(choices) || len(choices) != 18 {
		t.Fatalf("%d timings for %d choices, want 2 x 18", ft.calls, len(choices))
	}
	for _, c := range choices {
		if want := strings.Contains(c.Layer, "layer3"); (c.Form == onnx.ConvGrouped) != want {
			t.Errorf("%s: chose %v", c.Layer, c.Form)
		}
	}
	if !strings.Contains(log.String(), "layer3.2.conv2: 4 groups, 5 dead filters: grouped (dense 2.000 ms, grouped 1.000 ms at batch 8)") {
		t.Errorf("log:\n%s", log.String())
	}
	if _, _, err := onnx.Build(m, onnx.Options{Conv: onnx.ConvFastest}); err == nil {
		t.Error("fastest without a timer: no error")
	}
}

func TestGroupsHookValidated(t *testing.T) {
	m := mustNew(t, "lenet5")
	conv := m.Layer("conv2").(*nn.Conv2d)
	mask := make([]float32, conv.Out*conv.In)
	for i := range mask {
		mask[i] = 1
	}
	if err := conv.SetMask(mask); err != nil {
		t.Fatal(err)
	}
	all := make([]int, conv.In)
	for i := range all {
		all[i] = i
	}
	half := func(lo, hi int) []int {
		var s []int
		for i := lo; i < hi; i++ {
			s = append(s, i)
		}
		return s
	}
	for _, c := range []struct {
		groups []onnx.Group
		err    string
	}{
		{[]onnx.Group{{Filters: half(0, 50), Channels: all}}, ""},
		{[]onnx.Group{{Filters: half(0, 25), Channels: all}, {Filters: half(25, 50), Channels: all}}, ""},
		{[]onnx.Group{{Filters: half(0, 49), Channels: all}}, "filter 49 is in no group"},
		{[]onnx.Group{{Filters: half(0, 50), Channels: all}, {Filters: []int{3}, Channels: all}}, "in two groups"},
		{[]onnx.Group{{Filters: half(0, 50), Channels: all[:10]}}, "leaves out channel 10"},
		{[]onnx.Group{{Filters: half(0, 50), Channels: append(all, 20)}}, "channel 20 twice"},
	} {
		opts := onnx.Options{Conv: onnx.ConvGrouped, Groups: func(layer string, _ []float32, n, ch int) []onnx.Group {
			if layer != "conv2" || n != 50 || ch != 20 {
				t.Errorf("Groups called for %s %dx%d", layer, n, ch)
			}
			return c.groups
		}}
		_, _, err := onnx.Build(m, opts)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("groups %v: error %v, want %q", len(c.groups), err, c.err)
		}
	}
}

// odd is a layer export does not know.
type odd struct{}

func (odd) Name() string { return "odd1" }
func (odd) Forward(*nn.Ctx, *tensor.Tensor) (*tensor.Tensor, error) {
	return nil, errors.New("unused")
}
func (odd) Backward(*nn.Ctx, *tensor.Tensor) (*tensor.Tensor, error) {
	return nil, errors.New("unused")
}
func (odd) Params() []*nn.Param { return nil }

func TestBadInputNoPartialFile(t *testing.T) {
	dir := t.TempDir()
	m := mustNew(t, "lenet5")
	m.Net = nn.NewSequential("net", m.Net.(*nn.Sequential).Layers[0], odd{})
	path := filepath.Join(dir, "out.onnx")
	err := onnx.ExportFile(path, m, onnx.Options{})
	var ue *onnx.UnsupportedError
	if !errors.As(err, &ue) || ue.Layer != "odd1" {
		t.Fatalf("error %v, want an UnsupportedError naming odd1", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left behind: %v", ents)
	}

	// A path in a missing directory fails and names the path.
	bad := filepath.Join(dir, "no", "such", "dir", "m.onnx")
	if err := onnx.ExportFile(bad, mustNew(t, "lenet5"), onnx.Options{}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("error %v, want one naming %s", err, bad)
	}

	// An existing file survives a failed export and is replaced by a good one.
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := onnx.ExportFile(path, m, onnx.Options{}); err == nil {
		t.Fatal("no error")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("failed export changed the file: %q", b)
	}
	if err := onnx.ExportFile(path, mustNew(t, "lenet5"), onnx.Options{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); len(b) < 1000 {
		t.Errorf("exported file is %d bytes", len(b))
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files in dir: %v", ents)
	}
}

func TestParseConvMode(t *testing.T) {
	for _, c := range []onnx.ConvMode{onnx.ConvDense, onnx.ConvGrouped, onnx.ConvFastest} {
		if got, err := onnx.ParseConvMode(c.String()); err != nil || got != c {
			t.Errorf("%v: %v, %v", c, got, err)
		}
	}
	if _, err := onnx.ParseConvMode("sparse"); err == nil {
		t.Error("sparse: no error")
	}
}
