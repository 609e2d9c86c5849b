package data

import (
	"slices"
	"testing"
)

// numbered returns n 1x1x2 images whose pixels encode their index.
func numbered(n int) *Dataset {
	d := &Dataset{Name: "numbered", N: n, C: 1, H: 1, W: 2, Pixels: make([]uint8, 2*n), Labels: make([]int, n),
		Classes: []string{"a", "b", "c"}, Mean: []float32{0.5}, Std: []float32{0.25}}
	for i := range n {
		d.Pixels[2*i], d.Pixels[2*i+1] = uint8(i>>8), uint8(i)
		d.Labels[i] = i % 3
	}
	return d
}

// ids returns the indices encoded in d's images, checking their labels.
func ids(t *testing.T, d *Dataset) []int {
	t.Helper()
	out := make([]int, d.N)
	for i := range d.N {
		out[i] = int(d.Pixels[2*i])<<8 | int(d.Pixels[2*i+1])
		if d.Labels[i] != out[i]%3 {
			t.Fatalf("image %d (index %d) has label %d, want %d", i, out[i], d.Labels[i], out[i]%3)
		}
	}
	return out
}

func TestHoldoutPartitions(t *testing.T) {
	d := numbered(1000)
	rest, held, err := d.Holdout(100, 7)
	if err != nil {
		t.Fatal(err)
	}
	if held.N != 100 || rest.N != 900 {
		t.Fatalf("held %d, rest %d: want 100 and 900", held.N, rest.N)
	}
	for _, p := range []*Dataset{rest, held} {
		if err := p.Check(); err != nil {
			t.Fatal(err)
		}
	}
	h, r := ids(t, held), ids(t, rest)
	all := append(append([]int(nil), h...), r...)
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("the parts are not a partition of the images: index %d is %d", i, v)
		}
	}
	if !slices.IsSorted(h) || !slices.IsSorted(r) {
		t.Error("the parts do not keep the data set's order")
	}
	// Drawn at random: not the first or last 100 images.
	if h[len(h)-1] < 500 || h[0] > 500 {
		t.Errorf("held-out indices %d..%d: not spread over the set", h[0], h[len(h)-1])
	}
	// The same seed gives the same split; another seed another one.
	_, again, _ := d.Holdout(100, 7)
	if !slices.Equal(ids(t, again), h) {
		t.Error("the same seed drew another split")
	}
	_, other, _ := d.Holdout(100, 8)
	if slices.Equal(ids(t, other), h) {
		t.Error("another seed drew the same split")
	}
}

func TestHoldoutBounds(t *testing.T) {
	d := numbered(10)
	if rest, held, err := d.Holdout(0, 1); err != nil || rest != d || held != nil {
		t.Fatalf("n = 0: got %v, %v, %v; want d itself and no split", rest, held, err)
	}
	for _, n := range []int{-1, 10, 11} {
		if _, _, err := d.Holdout(n, 1); err == nil {
			t.Errorf("n = %d: no error", n)
		}
	}
}
