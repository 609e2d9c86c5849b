package prune

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/selfgroup"
)

// weights returns n*c*kk Laplace-like weights with per-filter and
// per-channel scales, so that filters and channels differ in importance.
func weights(n, c, kk int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	fs := make([]float64, n)
	for i := range fs {
		fs[i] = math.Exp(0.5 * r.NormFloat64())
	}
	cs := make([]float64, c)
	for j := range cs {
		cs[j] = math.Exp(0.5 * r.NormFloat64())
	}
	w := make([]float32, n*c*kk)
	for i := range n {
		for j := range c {
			for t := range kk {
				w[(i*c+j)*kk+t] = float32(fs[i] * cs[j] * r.ExpFloat64() * float64(1-2*r.IntN(2)))
			}
		}
	}
	return w
}

// stepFunc is one layer step of a method under test.
type stepFunc func(w []float32, n, c, kk int, mask []float32, rate float64) (selfgroup.Result, error)

var methodSteps = map[string]stepFunc{
	"regular": func(w []float32, n, c, kk int, mask []float32, rate float64) (selfgroup.Result, error) {
		return RegularStep(w, n, c, kk, mask, rate, nil, 4)
	},
	"random": func(w []float32, n, c, kk int, mask []float32, rate float64) (selfgroup.Result, error) {
		return selfgroup.StepWithLabels(w, n, c, kk, mask, rate, nil, RandomLabels(n, min(16, n), 9), min(16, n), selfgroup.Options{})
	},
	"l1filter": func(w []float32, n, c, kk int, mask []float32, rate float64) (selfgroup.Result, error) {
		return L1FilterStep(w, n, c, kk, mask, rate, false)
	},
	"l1filter columns": func(w []float32, n, c, kk int, mask []float32, rate float64) (selfgroup.Result, error) {
		return L1FilterStep(w, n, c, kk, mask, rate, true)
	},
}

// Through a cumulative schedule every method prunes each layer to the
// rate within a point (l1filter within half a filter where a point is
// finer than one filter) and masks only lose ones.
func TestRateAndMonotone(t *testing.T) {
	shapes := [][3]int{{64, 64, 9}, {32, 16, 9}, {128, 64, 1}, {50, 20, 25}, {500, 800, 1}}
	rates := []float64{10, 20, 33, 50, 67, 75, 90, 95}
	for name, step := range methodSteps {
		for si, s := range shapes {
			n, c, kk := s[0], s[1], s[2]
			w := weights(n, c, kk, uint64(si))
			tol := 0.01
			switch name {
			case "l1filter":
				tol = max(tol, 0.5/float64(n)+1e-9)
			case "l1filter columns":
				tol = max(tol, 0.5/float64(c)+1e-9)
			}
			var mask []float32
			for _, p := range rates {
				res, err := step(w, n, c, kk, mask, p)
				if err != nil {
					t.Fatal(err)
				}
				zeros := 0
				for i, v := range res.NewMask {
					if v == 0 {
						zeros++
					} else if mask != nil && mask[i] == 0 {
						t.Fatalf("%s %v at %g%%: connection %d regained", name, s, p, i)
					}
				}
				got := float64(zeros) / float64(n*c)
				if got != res.Pruned {
					t.Errorf("%s %v at %g%%: Result.Pruned %v, mask says %v", name, s, p, res.Pruned, got)
				}
				if math.Abs(got-p/100) > tol {
					t.Errorf("%s %v at %g%%: pruned %.4f, want within %.3f", name, s, p, got, tol)
				}
				mask = res.NewMask
			}
		}
	}
}

// blockDiagonal returns the mask of g contiguous filter groups each
// reading its contiguous 1/g of the channels.
func blockDiagonal(n, c, g int) []float32 {
	m := make([]float32, n*c)
	for i := range n {
		for j := range c {
			if i*g/n == j*g/c {
				m[i*c+j] = 1
			}
		}
	}
	return m
}

func TestRegularBlockDiagonal(t *testing.T) {
	for _, s := range [][4]int{{64, 32, 9, 4}, {48, 48, 1, 16}, {16, 8, 9, 2}} {
		n, c, kk, g := s[0], s[1], s[2], s[3]
		w := weights(n, c, kk, 1)
		block := blockDiagonal(n, c, g)
		at := 100 * (1 - 1/float64(g))
		// In one step and after a lower rate, the mask at 1-1/g is the
		// block diagonal.
		res, err := RegularStep(w, n, c, kk, nil, at, nil, g)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.NewMask, block) {
			t.Errorf("%v at %g%%: mask is not block-diagonal", s, at)
		}
		low, _ := RegularStep(w, n, c, kk, nil, at/2, nil, g)
		for i, v := range block {
			if v == 1 && low.NewMask[i] != 1 {
				t.Fatalf("%v at %g%%: block connection %d pruned", s, at/2, i)
			}
		}
		res, _ = RegularStep(w, n, c, kk, low.NewMask, at, nil, g)
		if !slices.Equal(res.NewMask, block) {
			t.Errorf("%v at %g%% after %g%%: mask is not block-diagonal", s, at, at/2)
		}
		// Above 1-1/g nothing outside the blocks, and a group's filters
		// share their channels (up to one split column).
		hi, _ := RegularStep(w, n, c, kk, res.NewMask, (at+100)/2, nil, g)
		split := 0
		for i := range n {
			for j := range c {
				if hi.NewMask[i*c+j] == 1 && block[i*c+j] == 0 {
					t.Fatalf("%v: connection (%d, %d) outside the blocks", s, i, j)
				}
				if first := (i / (n / g)) * (n / g); hi.NewMask[i*c+j] != hi.NewMask[first*c+j] {
					split++
				}
			}
		}
		if split > n/g {
			t.Errorf("%v: %d connections disagree with their group's first filter", s, split)
		}
	}
}

// The importance-ranked block mask keeps, within a group's block, the
// channels of the largest centroid importance.
func TestRegularKeepsImportantChannels(t *testing.T) {
	n, c := 4, 4 // g = 2: filters 0-1 on channels 0-1, filters 2-3 on 2-3
	w := []float32{
		1, 5, 9, 9,
		2, 4, 9, 9,
		9, 9, 3, 1,
		9, 9, 2, 2,
	}
	res, err := RegularStep(w, n, c, 1, nil, 75, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{
		0, 1, 0, 0,
		0, 1, 0, 0,
		0, 0, 1, 0,
		0, 0, 1, 0,
	}
	if !slices.Equal(res.NewMask, want) {
		t.Errorf("mask %v, want %v", res.NewMask, want)
	}
}

func TestL1FilterRemovesSmallestNorms(t *testing.T) {
	n, c, kk := 10, 3, 4
	r := rand.New(rand.NewPCG(5, 5))
	norms := r.Perm(n) // filter i has L1 norm (norms[i]+1)*c*kk
	w := make([]float32, n*c*kk)
	for i := range n {
		for t := range c * kk {
			w[i*c*kk+t] = float32(norms[i]+1) * float32(1-2*(t%2))
		}
	}
	var mask []float32
	for _, p := range []float64{20, 50, 70} {
		res, err := L1FilterStep(w, n, c, kk, mask, p, false)
		if err != nil {
			t.Fatal(err)
		}
		k := int(math.Round(p / 100 * float64(n)))
		for i := range n {
			dead := !slices.Contains(res.NewMask[i*c:(i+1)*c], 1)
			live := !slices.Contains(res.NewMask[i*c:(i+1)*c], 0)
			if dead != (norms[i] < k) || dead == live {
				t.Errorf("at %g%%: filter %d (norm rank %d) dead %v live %v, want dead iff rank < %d", p, i, norms[i], dead, live, k)
			}
		}
		mask = res.NewMask
	}
	// Columns: input channel 1 has the smallest column norm.
	wc := []float32{3, 1, 2, 3, 1, 2}
	res, _ := L1FilterStep(wc, 2, 3, 1, nil, 33, true)
	if want := []float32{1, 0, 1, 1, 0, 1}; !slices.Equal(res.NewMask, want) {
		t.Errorf("columns: mask %v, want %v", res.NewMask, want)
	}
}

func TestRandomLabels(t *testing.T) {
	a := RandomLabels(50, 16, 7)
	if !slices.Equal(a, RandomLabels(50, 16, 7)) {
		t.Error("same seed, different labels")
	}
	if slices.Equal(a, RandomLabels(50, 16, 8)) {
		t.Error("different seeds, same labels")
	}
	size := make([]int, 16)
	for _, k := range a {
		size[k]++
	}
	if lo, hi := slices.Min(size), slices.Max(size); lo < 3 || hi > 4 {
		t.Errorf("cluster sizes %v, want 3 or 4", size)
	}
	if slices.IsSorted(a) {
		t.Error("labels are not shuffled")
	}
}

// lenet returns a LeNet-5 with fixed random weights.
func lenet(t *testing.T) *models.Model {
	t.Helper()
	m, err := models.New("lenet5", 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Every built-in method through Pruner on LeNet-5: per-layer rates met,
// masks monotone across steps, records that describe the masks, and
// seeded-deterministic masks.
func TestPrunersOnLeNet(t *testing.T) {
	opts := Options{Seed: 1}
	for _, method := range Names() {
		if method == MethodTaylor {
			continue // needs data: TestTaylorImportance
		}
		masks := func() [][]float32 {
			m := lenet(t)
			pr, err := New(method, opts)
			if err != nil {
				t.Fatal(err)
			}
			layers := m.PrunableLayers()
			var prev [][]float32
			for step, p := range []float64{30, 60} {
				rates := make([]float64, len(layers))
				for i := range rates {
					rates[i] = p
				}
				recs, err := pr.Prune(layers, rates, step)
				if err != nil {
					t.Fatal(err)
				}
				for i, l := range layers {
					n, c := l.MaskShape()
					tol := 0.01
					if method == MethodL1Filter {
						tol = max(tol, 0.5/float64(n))
					}
					if math.Abs(recs[i].Pruned-p/100) > tol {
						t.Errorf("%s %s at %g%%: pruned %.4f", method, l.Name(), p, recs[i].Pruned)
					}
					if prev != nil {
						for j, v := range l.Mask() {
							if v != 0 && prev[i][j] == 0 {
								t.Fatalf("%s %s: connection %d regained", method, l.Name(), j)
							}
						}
					}
					if recs[i].N != n || recs[i].C != c || len(recs[i].Labels) != n || recs[i].Name != l.Name() || recs[i].Rate != p {
						t.Errorf("%s %s: record %s %dx%d at %g%% with %d labels", method, l.Name(), recs[i].Name, recs[i].N, recs[i].C, recs[i].Rate, len(recs[i].Labels))
					}
					if !slices.Equal(recs[i].Mask, l.Mask()) {
						t.Errorf("%s %s: the record's mask is not the layer's", method, l.Name())
					}
					if want := selfgroup.Patterns(l.Mask(), n, c); recs[i].Patterns != want {
						t.Errorf("%s %s: %d patterns recorded, the mask has %d", method, l.Name(), recs[i].Patterns, want)
					}
				}
				prev = prev[:0]
				for _, l := range layers {
					prev = append(prev, slices.Clone(l.Mask()))
				}
			}
			return prev
		}
		a, b := masks(), masks()
		for i := range a {
			if !slices.Equal(a[i], b[i]) {
				t.Errorf("%s: two runs with seed %d give different masks", method, opts.Seed)
			}
		}
	}
}

func TestNew(t *testing.T) {
	imp := func([]nn.Prunable) ([][]float32, error) { return nil, nil }
	for _, tc := range []struct {
		method, importance string
		scores             ImportanceFunc
		ok                 bool
	}{
		{"self-grouping", "", nil, true}, {"self-grouping", "taylor", imp, true}, {"taylor", "l1", imp, true},
		{"taylor", "l1", nil, false}, {"regular", "taylor", imp, true}, {"random", "l1", nil, true},
		{"l1filter", "l1", nil, true}, {"l1filter", "taylor", imp, false}, {"nosuch", "l1", nil, false},
		{"", "l1", nil, false}, {"self-grouping", "l2", nil, false}, {"self-grouping", "taylor", nil, false},
	} {
		p, err := New(tc.method, Options{Importance: tc.importance, Scores: tc.scores})
		if (err == nil) != tc.ok || (err == nil && p == nil) {
			t.Errorf("New(%q, %q): %v, %v", tc.method, tc.importance, p, err)
		}
	}
	if _, err := New("random", Options{Rule: "bogus"}); err == nil || !strings.Contains(err.Error(), "keep rule") {
		t.Errorf("bad keep rule: %v", err)
	}
	if _, err := New("regular", Options{Groups: -1}); err == nil || !strings.Contains(err.Error(), "groups") {
		t.Errorf("negative groups: %v", err)
	}
	if err := Check("nosuch", Options{}); err == nil || !strings.Contains(err.Error(), "self-grouping, taylor, regular, random, l1filter") {
		t.Errorf("unknown method: %v", err)
	}
	// Without taylor importance no Scores reach the pruner.
	if p, _ := New("regular", Options{Scores: imp}); p.(*Regular).Importance != nil {
		t.Error("l1 importance: Scores passed on")
	}
	if p, _ := New("taylor", Options{Scores: imp}); p.(*SelfGrouping).Importance == nil {
		t.Error("method taylor: Scores not passed on")
	}
	if _, err := RegularStep(make([]float32, 4), 2, 2, 1, nil, 100, nil, 2); err == nil {
		t.Error("rate 100: no error")
	}
	if _, err := L1FilterStep(make([]float32, 4), 2, 2, 1, nil, 0, false); err == nil {
		t.Error("rate 0: no error")
	}
}

// Once caps the FC layers at fcCap and leaves the convs at the rate, and
// refuses rates and caps out of range before pruning.
func TestOnce(t *testing.T) {
	for _, tc := range []struct{ rate, fcCap, fc float64 }{{70, 40, 40}, {30, 40, 30}, {70, 100, 70}} {
		m := lenet(t)
		recs, err := Once(m, tc.rate, tc.fcCap, &SelfGrouping{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		layers := m.PrunableLayers()
		if len(recs) != len(layers) {
			t.Fatalf("%d records for %d layers", len(recs), len(layers))
		}
		for i, l := range layers {
			want := tc.rate
			if _, ok := l.(*nn.Linear); ok {
				want = tc.fc
			}
			if recs[i].Rate != want || math.Abs(recs[i].Pruned-want/100) > 0.05 {
				t.Errorf("rate %g, cap %g: %s at %g%%, pruned %.3f; want %g%%", tc.rate, tc.fcCap, l.Name(), recs[i].Rate, recs[i].Pruned, want)
			}
		}
	}
	for _, bad := range [][2]float64{{0, 60}, {100, 60}, {math.NaN(), 60}, {50, 0}, {50, math.NaN()}} {
		m := lenet(t)
		if _, err := Once(m, bad[0], bad[1], &SelfGrouping{}); err == nil {
			t.Errorf("rate %g, cap %g: no error", bad[0], bad[1])
		}
		for _, l := range m.PrunableLayers() {
			if l.Mask() != nil && slices.Contains(l.Mask(), 0) {
				t.Fatalf("rate %g, cap %g: %s pruned before the error", bad[0], bad[1], l.Name())
			}
		}
	}
}

// Register refuses a method without a name or New, and a name taken.
func TestRegisterRefuses(t *testing.T) {
	newL1 := func(Options) (Pruner, error) { return &L1Filter{}, nil }
	for name, m := range map[string]Method{
		"no name": {New: newL1}, "no New": {Name: "x-no-new"}, "taken": {Name: MethodRegular, New: newL1},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			Register(m)
		}()
	}
	if _, err := Lookup("x-no-new"); err == nil {
		t.Error("a refused method was registered")
	}
}
