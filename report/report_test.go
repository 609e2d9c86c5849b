package report

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "update golden files in testdata")

// syntheticLayer returns an n x c layer in g groups: filter i is in
// group i*7%g, and group k reads channel j unless (j+k)%3 == 0; filter 5
// has no input left (dead).
func syntheticLayer(name string, n, c, g int) Layer {
	l := Layer{Name: name, Rate: 30, N: n, C: c, Groups: g, Patterns: g, Dead: 1,
		Labels: make([]int, n), Mask: make([]float32, n*c)}
	pruned := 0
	for i := range n {
		k := i * 7 % g
		l.Labels[i] = k
		for j := range c {
			if (j+k)%3 != 0 && i != 5 {
				l.Mask[i*c+j] = 1
			} else {
				pruned++
			}
		}
	}
	l.Pruned = float64(pruned) / float64(n*c)
	return l
}

// syntheticRun returns a ResNet-56 LG run of three steps, with local and
// global epochs and the layers of the last step.
func syntheticRun() *Run {
	base := Counts{Params: 853018, FLOPs: 125485706, Compression: 1, FLOPsReduction: 1}
	step := func(i int, rate, pruned, tuned float64, params, flops int64) Step {
		return Step{Index: i, Rate: rate, FCCap: math.Min(rate, 60), AccPruned: pruned, AccTuned: tuned, Epochs: 2,
			Counts: Counts{Params: params, FLOPs: flops,
				Compression:    float64(base.Params) / float64(params),
				FLOPsReduction: float64(base.FLOPs) / float64(flops)}}
	}
	r := &Run{
		Model: "resnet56", Dataset: "cifar10", Method: "self-grouping", Scheme: "LG",
		Config: map[string]any{"rate": 60.0, "step": 20.0, "groups": 16.0, "local_lr": 0.01,
			"global_schedule": "step", "layers": []any{"layer1.0.conv1", "layer1.0.conv2"}, "note": "a|b"},
		Baseline: Step{AccPruned: 93.39, AccTuned: 93.39, Counts: base, Speedup: 1},
		Steps: []Step{
			step(1, 20, 92.81, 93.1, 690000, 101000000),
			step(2, 40, 88.02, 92.7, 520000, 76000000),
			step(3, 60, 61.5, 91.96, 350000, 51000000),
		},
		Machine: map[string]string{"cpu": "test cpu", "threads": "2"},
	}
	r.Steps[2].Speedup = 1.73
	r.Steps[2].Layers = []Layer{syntheticLayer("layer1.0.conv1", 16, 16, 4), syntheticLayer("layer2.0.conv2", 32, 32, 16)}
	final := r.Steps[2]
	final.Layers, final.AccTuned, final.Epochs = nil, 92.88, 3
	r.Final = &final
	for s := 1; s <= 3; s++ {
		for e := 1; e <= 2; e++ {
			r.Epochs = append(r.Epochs, Epoch{Phase: "local", Step: s, Epoch: e, LR: 0.01,
				Loss: 0.9 - 0.1*float64(s) - 0.05*float64(e), TestTop1: 88 + float64(s+e)})
		}
	}
	for e := 1; e <= 3; e++ {
		r.Epochs = append(r.Epochs, Epoch{Phase: "global", Step: 3, Epoch: e, LR: 0.01,
			Loss: 0.3 - 0.05*float64(e), TestTop1: 91 + 0.5*float64(e)})
	}
	return r
}

// golden compares got with testdata/name.golden; with -update it writes
// the golden file, and on a mismatch it writes testdata/name.got.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	gotPath := filepath.Join("testdata", name+".got")
	if !bytes.Equal(got, want) {
		if err := os.WriteFile(gotPath, got, 0o644); err != nil {
			t.Error(err)
		}
		t.Fatalf("%s differs from %s; wrote %s (diff them; go test -update accepts)", name, path, gotPath)
	}
	os.Remove(gotPath)
}

func TestMarkdownGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, syntheticRun()); err != nil {
		t.Fatal(err)
	}
	golden(t, "run.md", b.Bytes())
}

func TestMarkdownSchemeG(t *testing.T) {
	// Scheme G: no local fine-tuning, no measured speedup, no layers.
	r := syntheticRun()
	r.Scheme, r.Config, r.Machine = "G", nil, nil
	for i := range r.Steps {
		r.Steps[i].AccTuned, r.Steps[i].Epochs, r.Steps[i].Speedup, r.Steps[i].Layers = -1, 0, 0, nil
	}
	r.Final.Speedup = 0
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "run_g.md", b.Bytes())
	s := b.String()
	for _, bad := range []string{"| -1", "-1.00", "0.00x", "## Config", "## Layers"} {
		if strings.Contains(s, bad) {
			t.Errorf("markdown contains %q:\n%s", bad, s)
		}
	}
}

// stripMemory removes what JSON does not carry.
func stripMemory(r *Run) {
	for i := range r.Steps {
		for j := range r.Steps[i].Layers {
			l := &r.Steps[i].Layers[j]
			l.Labels, l.Mask, l.N, l.C = nil, nil, 0, 0
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	r := syntheticRun()
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("{\n  \"model\": \"resnet56\",\n")) || !bytes.HasSuffix(b.Bytes(), []byte("}\n")) {
		t.Errorf("not indented JSON:\n%.200s", b.String())
	}
	for _, name := range []string{`"acc_pruned"`, `"fc_rate"`, `"flops_reduction"`, `"train_loss"`, `"speedup": 1.73`} {
		if !strings.Contains(b.String(), name) {
			t.Errorf("JSON lacks %s", name)
		}
	}
	got, err := ReadJSON(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	stripMemory(r)
	if !reflect.DeepEqual(got, r) {
		t.Errorf("round trip differs:\ngot  %+v\nwant %+v", got, r)
	}
	// And the bytes are stable.
	var b2 bytes.Buffer
	if err := WriteJSON(&b2, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), b2.Bytes()) {
		t.Error("writing a read run gives other bytes")
	}
}

func TestJSONErrors(t *testing.T) {
	r := syntheticRun()
	r.Steps[0].AccTuned = math.NaN()
	if err := WriteJSON(&bytes.Buffer{}, r); err == nil {
		t.Error("WriteJSON accepted NaN")
	}
	for _, in := range []string{"", "{", `{"model": 3}`, "{} {}", `{"steps": {}}`} {
		if _, err := ReadJSON(strings.NewReader(in)); err == nil {
			t.Errorf("ReadJSON(%q) gave no error", in)
		}
	}
	if _, err := ReadJSON(strings.NewReader(`{"model": "m", "future": 1}` + "\n")); err != nil {
		t.Errorf("unknown field: %v", err)
	}
}

func TestConfigOf(t *testing.T) {
	type cfg struct {
		Rate   float64  `json:"rate"`
		Groups int      `json:"groups"`
		Layers []string `json:"layers"`
		Scheme string   `json:"scheme"`
	}
	m, err := ConfigOf(cfg{Rate: 62.5, Groups: 16, Layers: []string{"a", "b"}, Scheme: "LG"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"rate": 62.5, "groups": 16.0, "layers": []any{"a", "b"}, "scheme": "LG"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("ConfigOf = %#v, want %#v", m, want)
	}
	var b bytes.Buffer
	writeMap(&b, "Config", m)
	if got := b.String(); got != "\n## Config\n\n- groups: 16\n- layers: [a, b]\n- rate: 62.5\n- scheme: LG\n" {
		t.Errorf("config section:\n%s", got)
	}
	if _, err := ConfigOf(3); err == nil {
		t.Error("ConfigOf(3): no error")
	}
}
