package swa

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

func newModel(t *testing.T, arch string, seed uint64) *models.Model {
	t.Helper()
	m, err := models.New(arch, 10, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// prune installs the same pseudo-random mask (about half the connections)
// on every prunable layer of m.
func prune(t *testing.T, m *models.Model, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, p := range m.PrunableLayers() {
		n, c := p.MaskShape()
		mask := make([]float32, n*c)
		for i := range mask {
			if rng.IntN(2) == 0 {
				mask[i] = 1
			}
		}
		if err := p.SetMask(mask); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMeanIsElementwiseMean(t *testing.T) {
	a, b, c := newModel(t, "resnet20", 1), newModel(t, "resnet20", 2), newModel(t, "resnet20", 3)
	for _, m := range []*models.Model{a, b, c} {
		prune(t, m, 9)
	}
	// Give the BN scales and shifts distinct values too.
	for i, p := range nn.AllParams(b.Net) {
		if !p.Decay {
			for j := range p.Value.Data {
				p.Value.Data[j] += float32(i+j%7) * 0.01
			}
		}
	}
	dst := newModel(t, "resnet20", 4)
	prune(t, dst, 9)
	before := nn.AllBuffers(dst.Net)[0].Value.Clone()
	var avg Averager
	for _, m := range []*models.Model{a, b, c} {
		if err := avg.Add(m); err != nil {
			t.Fatal(err)
		}
	}
	if avg.N() != 3 {
		t.Fatalf("N = %d, want 3", avg.N())
	}
	if err := avg.Mean(dst); err != nil {
		t.Fatal(err)
	}
	pa, pb, pc, pd := nn.AllParams(a.Net), nn.AllParams(b.Net), nn.AllParams(c.Net), nn.AllParams(dst.Net)
	for i := range pd {
		for j, got := range pd[i].Value.Data {
			want := (float64(pa[i].Value.Data[j]) + float64(pb[i].Value.Data[j]) + float64(pc[i].Value.Data[j])) / 3
			if math.Abs(float64(got)-want) > 1e-6*(1+math.Abs(want)) {
				t.Fatalf("%s[%d] = %g, want %g", pd[i].Name, j, got, want)
			}
		}
	}
	// Pruned connections stay exactly zero.
	for _, p := range dst.PrunableLayers() {
		n, c := p.MaskShape()
		w := p.Weight().Value.Data
		k := len(w) / (n * c)
		for i, v := range p.Mask() {
			for _, x := range w[i*k : (i+1)*k] {
				if v == 0 && x != 0 {
					t.Fatalf("%s: pruned connection %d has weight %g after averaging", p.Name(), i, x)
				}
			}
		}
	}
	if after := nn.AllBuffers(dst.Net)[0].Value; !slices.Equal(after.Data, before.Data) {
		t.Fatal("Mean changed a running statistic")
	}
	// Averaging a model with itself gives it back.
	var self Averager
	for range 2 {
		if err := self.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	want := nn.AllParams(a.Net)[5].Value.Clone()
	if err := self.Mean(a); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(nn.AllParams(a.Net)[5].Value.Data, want.Data) {
		t.Fatal("the mean of a model with itself differs from the model")
	}
}

func TestRefusesDifferentModels(t *testing.T) {
	pruned := newModel(t, "resnet20", 1)
	prune(t, pruned, 9)
	other := newModel(t, "resnet20", 2)
	prune(t, other, 10)
	cases := []struct {
		name string
		m    *models.Model
		want string
	}{
		{"another architecture", newModel(t, "resnet32", 1), "resnet32"},
		{"dense", newModel(t, "resnet20", 1), "pruned in one model and dense"},
		{"other masks", other, "mask entry"},
	}
	for _, c := range cases {
		var avg Averager
		if err := avg.Add(pruned); err != nil {
			t.Fatal(err)
		}
		err := avg.Add(c.m)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
		if avg.N() != 1 {
			t.Errorf("%s: a refused model was counted", c.name)
		}
		if err := avg.Mean(c.m); err == nil {
			t.Errorf("%s: Mean into a different model succeeded", c.name)
		}
	}
	var empty Averager
	if err := empty.Mean(pruned); err == nil {
		t.Error("Mean of no models succeeded")
	}
}

// TestUpdateBN checks the statistics against their definition: the plain
// average over batches of each batch's channel mean and unbiased
// variance, whatever the running values were before.
func TestUpdateBN(t *testing.T) {
	bn := nn.NewBatchNorm2d("bn", 3)
	net := nn.NewSequential("", bn, nn.NewReLU("relu"))
	for i := range bn.Mean.Value.Data {
		bn.Mean.Value.Data[i], bn.Var.Value.Data[i] = 50, 1e4 // stale values
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var batches []train.Batch
	for k, b := range []int{4, 2, 5} {
		x := tensor.New(b, 3, 2, 3)
		for i := range x.Data {
			ch := i / 6 % 3
			x.Data[i] = float32(rng.NormFloat64()*float64(ch+1) + float64(k*ch))
		}
		batches = append(batches, train.Batch{X: x, Y: make([]int, b)})
	}
	n, err := UpdateBN(net, func(yield func(train.Batch) bool) error {
		for _, b := range batches {
			if !yield(b) {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 11 {
		t.Fatalf("saw %d images, want 11", n)
	}
	for ch := range 3 {
		var wantMean, wantVar float64
		for _, b := range batches {
			var vs []float64
			for i := range b.X.Shape[0] {
				for _, v := range b.X.Data[(i*3+ch)*6 : (i*3+ch+1)*6] {
					vs = append(vs, float64(v))
				}
			}
			var s float64
			for _, v := range vs {
				s += v
			}
			mean := s / float64(len(vs))
			var ss float64
			for _, v := range vs {
				ss += (v - mean) * (v - mean)
			}
			wantMean += mean / 3
			wantVar += ss / float64(len(vs)-1) / 3
		}
		gotMean, gotVar := float64(bn.Mean.Value.Data[ch]), float64(bn.Var.Value.Data[ch])
		if math.Abs(gotMean-wantMean) > 1e-5*(1+math.Abs(wantMean)) || math.Abs(gotVar-wantVar) > 1e-5*(1+wantVar) {
			t.Errorf("channel %d: running mean %g var %g, want %g and %g", ch, gotMean, gotVar, wantMean, wantVar)
		}
	}
	if bn.Momentum != 0.1 {
		t.Errorf("momentum %g after the update, want 0.1 restored", bn.Momentum)
	}
}

func TestUpdateBNErrors(t *testing.T) {
	none := func(yield func(train.Batch) bool) error { return nil }
	if _, err := UpdateBN(nn.NewSequential("", nn.NewReLU("r")), none); err == nil || !strings.Contains(err.Error(), "no batch-norm") {
		t.Errorf("a network without BN: %v", err)
	}
	if _, err := UpdateBN(nn.NewSequential("", nn.NewBatchNorm2d("bn", 2)), none); err == nil || !strings.Contains(err.Error(), "no batches") {
		t.Errorf("no batches: %v", err)
	}
	wrong := func(yield func(train.Batch) bool) error {
		yield(train.Batch{X: tensor.New(2, 5, 2, 2), Y: []int{0, 0}})
		return nil
	}
	if _, err := UpdateBN(nn.NewSequential("", nn.NewBatchNorm2d("bn", 2)), wrong); err == nil || !strings.Contains(err.Error(), "bn") {
		t.Errorf("wrong channel count: %v", err)
	}
}
