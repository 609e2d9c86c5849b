package data

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestNormalisationValues(t *testing.T) {
	cases := []struct {
		norm Norm
		c    int
		v    uint8
		want float64
	}{
		{ImageNetNorm, 0, 0, -0.485 / 0.229},
		{ImageNetNorm, 1, 255, (1 - 0.456) / 0.224},
		{ImageNetNorm, 2, 128, (128.0/255 - 0.406) / 0.225},
		{MNISTNorm, 0, 0, -0.1307 / 0.3081},
		{MNISTNorm, 0, 255, (1 - 0.1307) / 0.3081},
	}
	for _, c := range cases {
		if got := c.norm.Normalize(c.c, c.v); math.Abs(float64(got)-c.want) > 1e-5 {
			t.Errorf("Normalize(%d, %d) = %v, want %v", c.c, c.v, got, c.want)
		}
	}
	// The loader's output for an unaugmented batch is exactly Normalize.
	d := synthDataset(5, 3, 4, 4)
	d.Mean, d.Std = slices.Clone(ImageNetNorm.Mean), slices.Clone(ImageNetNorm.Std)
	l, err := NewLoader(d, Config{BatchSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Batch(0, 0, l.Order(0))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range d.Pixels {
		c := i / 16 % 3
		if got, want := b.X.Data[i], ImageNetNorm.Normalize(c, v); got != want {
			t.Fatalf("X[%d] = %v, want %v", i, got, want)
		}
	}
}

// transform with a window is a shifted copy with zero (pixel value 0)
// fill, mirrored when flipped.
func TestTransformWindow(t *testing.T) {
	const c, h, w = 2, 5, 7
	src := make([]uint8, c*h*w)
	for i := range src {
		src[i] = uint8(10 + i)
	}
	one := []float32{1, 1} // identity normalisation: scale 1, bias 0
	zero := []float32{0, 0}
	for _, win := range []window{{0, 0, false}, {2, -3, false}, {-4, 4, false}, {0, 0, true}, {1, 2, true}, {-5, 0, false}} {
		dst := make([]float32, c*h*w)
		transform(dst, src, c, h, w, win, one, zero)
		for ch := range c {
			for y := range h {
				for x := range w {
					sx := x
					if win.flip {
						sx = w - 1 - x
					}
					sx += win.dx
					sy := y + win.dy
					var want float32
					if sy >= 0 && sy < h && sx >= 0 && sx < w {
						want = float32(src[ch*h*w+sy*w+sx])
					}
					if got := dst[ch*h*w+y*w+x]; got != want {
						t.Fatalf("%+v: [%d][%d][%d] = %v, want %v", win, ch, y, x, got, want)
					}
				}
			}
		}
	}
}

// With Augment, every sample is a window of the zero-padded image,
// possibly mirrored; padding normalises to -mean/std.
func TestAugmentIsWindow(t *testing.T) {
	d := synthDataset(64, 3, 8, 8)
	l, err := NewLoader(d, Config{BatchSize: 16, Augment: true, Shuffle: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if cfg := l.Config(); cfg.Pad != CIFARPad || !cfg.Flip {
		t.Fatalf("Augment gave Pad %d Flip %v", cfg.Pad, cfg.Flip)
	}
	scale, bias := normCoeffs(d.Norm())
	seen := map[window]bool{}
	for b, err := range l.Epoch(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		for j, i := range b.Index {
			got := b.X.Data[j*192 : (j+1)*192]
			found := false
			for dy := -4; dy <= 4 && !found; dy++ {
				for dx := -4; dx <= 4 && !found; dx++ {
					for _, f := range []bool{false, true} {
						want := make([]float32, 192)
						transform(want, d.Image(i), 3, 8, 8, window{dy, dx, f}, scale, bias)
						if slices.Equal(got, want) {
							found = true
							seen[window{dy, dx, f}] = true
							break
						}
					}
				}
			}
			if !found {
				t.Fatalf("sample %d is not a padded window of image %d", j, i)
			}
			if b.Y[j] != d.Labels[i] {
				t.Fatalf("label %d, want %d", b.Y[j], d.Labels[i])
			}
		}
	}
	// 64 draws from 162 windows: expect plenty of distinct ones, both
	// flips, and a shift on each axis.
	var flips, unflipped int
	for win := range seen {
		if win.flip {
			flips++
		} else {
			unflipped++
		}
	}
	if len(seen) < 30 || flips == 0 || unflipped == 0 {
		t.Errorf("only %d distinct windows (%d flipped)", len(seen), flips)
	}
}

// Batches depend on (seed, epoch, batch) only: not on the worker count or
// the prefetch depth.
func TestLoaderDeterminism(t *testing.T) {
	d := synthDataset(103, 3, 6, 6)
	collect := func(workers, prefetch int, seed uint64, epoch int) (xs [][]float32, idx []int, ys []int) {
		l, err := NewLoader(d, Config{BatchSize: 10, Shuffle: true, Augment: true, Seed: seed,
			Workers: workers, Prefetch: prefetch})
		if err != nil {
			t.Fatal(err)
		}
		for b, err := range l.Epoch(context.Background(), epoch) {
			if err != nil {
				t.Fatal(err)
			}
			xs = append(xs, b.X.Data)
			idx = append(idx, b.Index...)
			ys = append(ys, b.Y...)
		}
		return xs, idx, ys
	}
	x1, i1, y1 := collect(1, 1, 42, 3)
	if len(x1) != 11 || len(i1) != 103 {
		t.Fatalf("%d batches, %d samples; want 11, 103", len(x1), len(i1))
	}
	sorted := slices.Sorted(slices.Values(i1))
	if !slices.Equal(sorted, seq(0, 103)) {
		t.Fatal("an epoch does not visit each sample once")
	}
	if slices.Equal(i1, seq(0, 103)) {
		t.Error("shuffle left the order unchanged")
	}
	for _, wp := range [][2]int{{4, 2}, {7, 16}} {
		x2, i2, y2 := collect(wp[0], wp[1], 42, 3)
		if !slices.Equal(i1, i2) || !slices.Equal(y1, y2) || !slices.EqualFunc(x1, x2, slices.Equal) {
			t.Errorf("workers=%d prefetch=%d: batches differ from workers=1", wp[0], wp[1])
		}
	}
	_, i3, _ := collect(2, 2, 42, 4)
	_, i4, _ := collect(2, 2, 43, 3)
	if slices.Equal(i1, i3) || slices.Equal(i1, i4) {
		t.Error("order does not change with epoch and seed")
	}
}

func TestLoaderDropLast(t *testing.T) {
	d := synthDataset(25, 1, 2, 2)
	for _, c := range []struct {
		drop       bool
		n, lastLen int
	}{{false, 3, 5}, {true, 2, 10}} {
		l, err := NewLoader(d, Config{BatchSize: 10, DropLast: c.drop})
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int
		for b, err := range l.Epoch(context.Background(), 0) {
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, b.X.Shape[0])
		}
		if len(sizes) != c.n || l.Len() != c.n || sizes[len(sizes)-1] != c.lastLen {
			t.Errorf("DropLast=%v: batch sizes %v, Len %d", c.drop, sizes, l.Len())
		}
	}
}

// Breaking out of the loop or cancelling the context stops the workers.
func TestLoaderStops(t *testing.T) {
	d := synthDataset(1000, 1, 4, 4)
	l, err := NewLoader(d, Config{BatchSize: 2, Workers: 3, Prefetch: 2})
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	n := 0
	for _, err := range l.Epoch(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got error
	n = 0
	for _, err := range l.Epoch(ctx, 0) {
		if err != nil {
			got = err
			break
		}
		if n++; n == 2 {
			cancel()
		}
	}
	if !errors.Is(got, context.Canceled) || n > 2+l.cfg.Prefetch+1 {
		t.Errorf("after cancel: err %v after %d batches", got, n)
	}
	// The iterator waits for its goroutines, so none should remain.
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines after stopping, %d before", g, before)
	}
}

// failing is a Source whose sample 7 cannot be read.
type failing struct{ *Dataset }

func (f failing) Read(i int, dst []uint8, rng *rand.Rand) (int, error) {
	if i == 7 {
		return 0, errors.New("bad sample 7")
	}
	return f.Dataset.Read(i, dst, rng)
}

func TestLoaderSourceError(t *testing.T) {
	l, err := NewLoader(failing{synthDataset(20, 1, 2, 2)}, Config{BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var got error
	for b, err := range l.Epoch(context.Background(), 0) {
		if err != nil {
			got = err
			if b != nil {
				t.Error("batch with an error")
			}
			continue // the iterator stops by itself
		}
		n++
	}
	if n != 1 || got == nil || got.Error() != "bad sample 7" {
		t.Errorf("%d batches then %v", n, got)
	}
}

func TestNewLoaderErrors(t *testing.T) {
	d := synthDataset(4, 3, 2, 2)
	for _, cfg := range []Config{
		{},
		{BatchSize: 2, Pad: -1},
		{BatchSize: 2, Norm: Norm{Mean: []float32{0}, Std: []float32{1}}},
		{BatchSize: 2, Norm: Norm{Mean: []float32{0, 0, 0}, Std: []float32{1, 0, 1}}},
	} {
		if _, err := NewLoader(d, cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// BenchmarkLoaderEpoch measures a CIFAR-sized augmented epoch of 2048
// images in batches of 128.
func BenchmarkLoaderEpoch(b *testing.B) {
	d := synthDataset(2048, 3, 32, 32)
	l, err := NewLoader(d, Config{BatchSize: 128, Shuffle: true, Augment: true})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(d.Pixels)))
	for i := 0; b.Loop(); i++ {
		for _, err := range l.Epoch(context.Background(), i) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
