package selfgroup

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The ExampleStep layer with its two planted groups given as labels: the
// same threshold (halfway between 0.1 and 1) and the same block mask.
func TestStepWithLabelsPlanted(t *testing.T) {
	n, c := 8, 6
	w := make([]float32, n*c)
	want := make([]float32, n*c)
	labels := make([]int, n)
	for i := range n {
		if i >= 4 {
			labels[i] = 1
		}
		for j := range c {
			w[i*c+j] = 0.1
			if (i < 4) == (j < 3) {
				w[i*c+j] = 1 + 0.1*float32(j)
				want[i*c+j] = 1
			}
		}
	}
	res, err := StepWithLabels(w, n, c, 1, nil, 50, nil, labels, 2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Threshold-0.55) > 1e-6 || res.Pruned != 0.5 || !slices.Equal(res.NewMask, want) {
		t.Errorf("threshold %v, pruned %v, mask %v; want 0.55, 0.5, %v", res.Threshold, res.Pruned, res.NewMask, want)
	}
	if res.Inertia != 0 || res.Groups != 2 || !slices.Equal(res.Labels, labels) {
		t.Errorf("inertia %v, groups %d, labels %v", res.Inertia, res.Groups, res.Labels)
	}
	// Step finds the same groups and so the same mask.
	ref, err := Step(w, n, c, 1, nil, 50, nil, Options{Groups: 2, Seed: 1})
	if err != nil || !slices.Equal(ref.NewMask, res.NewMask) {
		t.Errorf("Step mask %v (err %v), StepWithLabels %v", ref.NewMask, err, res.NewMask)
	}
}

// Given k-means' own labels, StepWithLabels reproduces Step up to the
// difference between k-means' last centroids and the member means.
func TestStepWithLabelsMatchesStep(t *testing.T) {
	n, c, kk := 64, 64, 9
	w := pretrainedLike(n, c, kk, 5)
	ref, err := Step(w, n, c, kk, nil, 50, nil, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	res, err := StepWithLabels(w, n, c, kk, nil, 50, nil, ref.Labels, ref.Groups, Options{})
	if err != nil {
		t.Fatal(err)
	}
	diff := 0
	for i := range res.NewMask {
		if res.NewMask[i] != ref.NewMask[i] {
			diff++
		}
	}
	if diff > n*c/100 {
		t.Errorf("%d of %d mask entries differ from Step's", diff, n*c)
	}
}

// Fixed random groups through a cumulative schedule: masks only lose
// ones, members of a group share their row, and the pruned fraction
// tracks the rate under both keep rules.
func TestStepWithLabelsSchedule(t *testing.T) {
	n, c, kk, g := 96, 48, 9, 16
	w := pretrainedLike(n, c, kk, 7)
	r := rand.New(rand.NewPCG(1, 2))
	labels := make([]int, n)
	for i, p := range r.Perm(n) {
		labels[p] = i * g / n
	}
	for _, rule := range []KeepRule{FirstMember, OwnMask} {
		var mask []float32
		for p := 10.0; p < 100; p += 10 {
			res, err := StepWithLabels(w, n, c, kk, mask, p, nil, labels, g, Options{Rule: rule})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(res.Pruned-p/100) > 0.01 {
				t.Errorf("%v at %g%%: pruned %.4f", rule, p, res.Pruned)
			}
			for i := range n * c {
				if mask != nil && mask[i] == 0 && res.NewMask[i] != 0 {
					t.Fatalf("%v at %g%%: connection %d regained", rule, p, i)
				}
			}
			first := map[int]int{}
			for i, k := range labels {
				f, ok := first[k]
				if !ok {
					first[k] = i
					continue
				}
				if !slices.Equal(res.NewMask[i*c:(i+1)*c], res.NewMask[f*c:(f+1)*c]) {
					t.Fatalf("%v at %g%%: filters %d and %d of group %d differ", rule, p, f, i, k)
				}
			}
			mask = res.NewMask
		}
	}
}

func TestStepWithLabelsErrors(t *testing.T) {
	w := make([]float32, 8)
	if _, err := StepWithLabels(w, 2, 4, 1, nil, 0, nil, []int{0, 0}, 1, Options{}); err == nil {
		t.Error("rate 0: no error")
	}
	if _, err := StepWithLabels(w, 2, 4, 1, nil, 50, nil, []int{0, 0}, 0, Options{}); err == nil {
		t.Error("0 groups: no error")
	}
	if _, err := StepWithLabels(w, 2, 4, 1, nil, 50, nil, []int{0, 0}, 1, Options{Rule: 7}); err == nil {
		t.Error("bad rule: no error")
	}
	for _, f := range []func(){
		func() { StepWithLabels(w, 2, 4, 1, nil, 50, nil, []int{0}, 1, Options{}) },
		func() { StepWithLabels(w, 2, 4, 1, nil, 50, nil, []int{0, 2}, 2, Options{}) },
		func() { StepWithLabels(w, 2, 4, 1, nil, 50, make([]float32, 3), []int{0, 0}, 1, Options{}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}
