package budget

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
)

func lenet(t *testing.T) *models.Model {
	t.Helper()
	m, err := models.New("lenet5", 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// snapshot copies every prunable layer's weights and mask.
func snapshot(ls []nn.Prunable) [][]float32 {
	var s [][]float32
	for _, l := range ls {
		s = append(s, slices.Clone(l.Weight().Value.Data), slices.Clone(l.Mask()))
	}
	return s
}

func TestLoadCostsCache(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "costs.json")
	key := Key{CPU: CPUModel(), Threads: 2, Batch: 64, Model: "m", Layers: []string{"a"}, Rates: []float64{0, 50}}
	tab := &CostTable{Key: key, Layers: []CostRow{{Name: "a", Ns: []float64{2, 1}, FLOPs: []int64{4, 2}, Params: []int64{4, 2}}},
		TotalNs: []float64{5, 4}, Scales: []float64{1, 1}}
	if got, why, err := LoadCosts(path, key); got != nil || why != "" || err != nil {
		t.Fatalf("missing file: %v %q %v; want nothing", got, why, err)
	}
	if err := SaveCosts(path, tab); err != nil {
		t.Fatal(err)
	}
	got, why, err := LoadCosts(path, key)
	if err != nil || got == nil || why != "" || got.TotalNs[1] != 4 {
		t.Fatalf("same key: %v %q %v; want the table", got, why, err)
	}
	other := tab.Key
	other.CPU = "AMD EPYC 9R14 96-Core Processor (not this one)"
	tab.Key = other
	if err := SaveCosts(path, tab); err != nil {
		t.Fatal(err)
	}
	got, why, err = LoadCosts(path, key)
	if err != nil || got != nil || !strings.Contains(why, "another CPU model") || !strings.Contains(why, other.CPU) {
		t.Fatalf("table from another CPU: %v %q %v; want it ignored, saying why", got, why, err)
	}
	for _, change := range []func(k *Key){
		func(k *Key) { k.Threads = 1 },
		func(k *Key) { k.Batch = 1 },
		func(k *Key) { k.Rates = []float64{0, 60} },
		func(k *Key) { k.Layers = []string{"b"} },
	} {
		k := key
		change(&k)
		tab.Key = k
		if err := SaveCosts(path, tab); err != nil {
			t.Fatal(err)
		}
		if got, why, _ := LoadCosts(path, key); got != nil || why == "" {
			t.Errorf("key %+v used for %+v", k, key)
		}
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, why, err := LoadCosts(path, key); got != nil || why == "" || err != nil {
		t.Errorf("corrupt file: %v %q %v; want it ignored with a reason", got, why, err)
	}
}

// TestMeasureCostsLeNet measures LeNet-5's table at two rates: the
// counts agree with package count on the dense and the pruned network,
// costs fall with the rate, times are positive, and the layers come
// back as they were.
func TestMeasureCostsLeNet(t *testing.T) {
	m := lenet(t)
	layers := m.PrunableLayers()
	before := snapshot(layers)
	names := m.Prunable
	dense, err := count.Count(m.Net, m.InputShape, names...)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := MeasureCosts(m.Net, m.InputShape, layers, CostOptions{Model: "lenet5", Rates: []float64{50, 90}, Batch: 4, Repeats: 1,
		Pruning: Pruning{Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if after := snapshot(layers); !slices.EqualFunc(before, after, slices.Equal) {
		t.Fatal("MeasureCosts left the layers changed")
	}
	if tab.DenseFLOPs != dense.FLOPs || tab.DenseParams != dense.Params {
		t.Errorf("dense %d FLOPs %d params, count says %d and %d", tab.DenseFLOPs, tab.DenseParams, dense.FLOPs, dense.Params)
	}
	// At rate 90, prune the layers as the table did and count.
	for _, l := range layers {
		mask, err := OneShot(l, 90, Pruning{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer save(l).restore()
		if err := l.SetMask(mask); err != nil {
			t.Fatal(err)
		}
	}
	pruned, err := count.Count(m.Net, m.InputShape, names...)
	if err != nil {
		t.Fatal(err)
	}
	sum := tab.FixedFLOPs
	for i, r := range tab.Layers {
		sum += r.FLOPs[2]
		if r.Name != names[i] || len(r.Ns) != 3 {
			t.Fatalf("row %d: %s with %d times", i, r.Name, len(r.Ns))
		}
		if !(r.FLOPs[2] < r.FLOPs[1] && r.FLOPs[1] < r.FLOPs[0]) || !(r.Params[2] < r.Params[0]) {
			t.Errorf("%s: FLOPs %v params %v do not fall with the rate", r.Name, r.FLOPs, r.Params)
		}
		if math.Abs(r.Pruned[2]-0.9) > 0.1 || r.Pruned[0] != 0 {
			t.Errorf("%s: pruned %v, want 0 then about 0.9 at rate 90", r.Name, r.Pruned)
		}
		for _, ns := range r.Ns {
			if !(ns > 0) {
				t.Errorf("%s: times %v, want positive", r.Name, r.Ns)
			}
		}
	}
	if sum != pruned.FLOPs {
		t.Errorf("fixed + layers at rate 90 = %d FLOPs, count says %d", sum, pruned.FLOPs)
	}
	if !(tab.Scale > 0) || tab.Fixed < 0 || tab.TotalNs[0] <= 0 {
		t.Errorf("fit %g + %g x, totals %v", tab.Fixed, tab.Scale, tab.TotalNs)
	}
	for k := range tab.Rates { // a uniform mix is predicted as measured
		idx := []int{k, k, k}
		if p := tab.Predict(idx); tab.TotalNs[k] > tab.Fixed && math.Abs(p-tab.TotalNs[k]) > 1e-6*tab.TotalNs[k] {
			t.Errorf("rate %g: predicted %g ns, measured %g", tab.Rates[k], p, tab.TotalNs[k])
		}
	}
	// A FLOPs budget between the dense and the fully pruned network is
	// met by the chosen rates, counted afresh.
	sens := &SensitivityTable{Rates: []float64{50, 90}, Top1: 99}
	for _, n := range names {
		sens.Layers = append(sens.Layers, SensRow{Name: n, Top1: []float64{98, 90}, Loss: []float64{0.1, 0.5}})
	}
	p, err := tab.Problem(Budget{FLOPs, 0.5}, sens, LossRise, nil)
	if err != nil {
		t.Fatal(err)
	}
	sol, err := Solve(p)
	if err != nil {
		t.Fatal(err)
	}
	var fl int64 = tab.FixedFLOPs
	for i, k := range sol.Index {
		fl += tab.Layers[i].FLOPs[k]
	}
	if float64(fl) > 0.5*float64(tab.DenseFLOPs) {
		t.Errorf("chosen rates %v give %d FLOPs, over half of %d", sol.Rates, fl, tab.DenseFLOPs)
	}
	if _, err := tab.Problem(Budget{FLOPs, 0.5}, &SensitivityTable{Rates: []float64{50, 80}}, Top1Drop, nil); err == nil {
		t.Error("sensitivity rates that differ from the cost table's: no error")
	}
}

// TestSensitivityRestores runs the sensitivity loop with an eval that
// checks the network it sees: exactly one layer pruned, at about the
// trial's rate, every other layer untouched; afterwards every layer is as
// it was.
func TestSensitivityRestores(t *testing.T) {
	m := lenet(t)
	layers := m.PrunableLayers()
	before := snapshot(layers)
	rates := []float64{40, 80}
	trial := -1
	eval := func() (float64, float64, error) {
		trial++
		masked := 0
		for li, l := range layers {
			if l.Mask() == nil {
				if !slices.Equal(l.Weight().Value.Data, before[2*li]) {
					t.Errorf("trial %d: unpruned layer %s has changed weights", trial, l.Name())
				}
				continue
			}
			masked++
			if trial > 0 {
				want := rates[(trial-1)%len(rates)] / 100
				if got := prunedFraction(l.Mask()); math.Abs(got-want) > 0.12 {
					t.Errorf("trial %d: layer %s pruned %.3f, want about %.2f", trial, l.Name(), got, want)
				}
			}
		}
		if want := min(trial, 1); masked != want {
			t.Errorf("trial %d: %d layers pruned, want %d", trial, masked, want)
		}
		return 100 - float64(trial), float64(trial), nil
	}
	tab, err := Sensitivity(layers, rates, eval, Pruning{Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after := snapshot(layers); !slices.EqualFunc(before, after, slices.Equal) {
		t.Fatal("Sensitivity left the layers changed")
	}
	if len(tab.Layers) != len(layers) || tab.Top1 != 100 {
		t.Fatalf("%d rows, base %g", len(tab.Layers), tab.Top1)
	}
	for i := range tab.Layers {
		d := tab.Drops(i)
		if d[0] != float64(2*i+1) || d[1] != float64(2*i+2) {
			t.Errorf("row %d drops %v, want %d and %d", i, d, 2*i+1, 2*i+2)
		}
	}
	if _, err := Sensitivity(layers, []float64{80, 40}, eval, Pruning{}, nil); err == nil {
		t.Error("decreasing rates: no error")
	}
}

// TestFitIgnoresOutliers: the latency line through eight rates, one of
// them timed during a burst of load at three times its time, comes out
// as the line the other seven lie on.
func TestFitIgnoresOutliers(t *testing.T) {
	tab := &CostTable{Key: Key{Rates: []float64{0, 30, 40, 50, 60, 70, 80, 90}}, Layers: []CostRow{{}, {}}}
	for k := range tab.Rates {
		a, b := 100-float64(10*k), 50-float64(4*k)
		tab.Layers[0].Ns = append(tab.Layers[0].Ns, a)
		tab.Layers[1].Ns = append(tab.Layers[1].Ns, b)
		y := 2000 + 64*(a+b)
		if k == 3 {
			y *= 3
		}
		tab.TotalNs = append(tab.TotalNs, y)
	}
	tab.fit()
	if math.Abs(tab.Scale-64) > 1e-6 || math.Abs(tab.Fixed-2000) > 1e-3 {
		t.Errorf("fit %g + %g x, want 2000 + 64 x", tab.Fixed, tab.Scale)
	}
	if p := tab.Predict([]int{0, 7}); math.Abs(p-(2000+64*(100+22))) > 1e-3 {
		t.Errorf("Predict = %g", p)
	}
}

// TestCostsOnGraphNet: the tables work on a network held as a lowered
// graph (graph.Net, as an imported model is): the same counts as the nn
// tree it was lowered from.
func TestCostsOnGraphNet(t *testing.T) {
	m := lenet(t)
	g, err := graph.Lower(m.Net, m.InputShape[:])
	if err != nil {
		t.Fatal(err)
	}
	gn, err := graph.NewNet("lenet5", g)
	if err != nil {
		t.Fatal(err)
	}
	var layers []nn.Prunable
	for _, l := range nn.Prunables(gn) {
		if slices.Contains(m.Prunable, l.Name()) {
			layers = append(layers, l)
		}
	}
	opt := CostOptions{Model: "graph", Rates: []float64{60}, Batch: 2, Repeats: 1, Pruning: Pruning{Seed: 1}}
	a, err := MeasureCosts(gn, m.InputShape, layers, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := MeasureCosts(m.Net, m.InputShape, m.PrunableLayers(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Layers) != len(m.Prunable) || a.DenseFLOPs != b.DenseFLOPs {
		t.Fatalf("graph: %d layers, %d FLOPs; tree: %d, %d", len(a.Layers), a.DenseFLOPs, len(b.Layers), b.DenseFLOPs)
	}
	for i := range a.Layers {
		if !slices.Equal(a.Layers[i].FLOPs, b.Layers[i].FLOPs) || !slices.Equal(a.Layers[i].Params, b.Layers[i].Params) {
			t.Errorf("%s: graph %v %v, tree %v %v", a.Layers[i].Name, a.Layers[i].FLOPs, a.Layers[i].Params, b.Layers[i].FLOPs, b.Layers[i].Params)
		}
	}
}
