package data

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"sync"

	"github.com/sgcnn/sgcnn/tensor"
)

// CIFARPad is the zero padding of the standard CIFAR training crop,
// RandomCrop(32, padding=4).
const CIFARPad = 4

// Config sets up a Loader. The zero value, with BatchSize set, gives
// batches in data set order with no augmentation: the setting for
// evaluation.
type Config struct {
	BatchSize int    // samples per batch; must be positive
	Shuffle   bool   // visit samples in a random order, new each epoch
	Seed      uint64 // seeds the order and the augmentation
	DropLast  bool   // drop the last batch when it is short

	// Augment is the standard CIFAR training augmentation: it sets Pad to
	// CIFARPad (unless Pad is set) and Flip.
	Augment bool
	// Pad > 0 takes a random H x W window of the image zero-padded by Pad
	// pixels on each side (padding with pixel value 0, before
	// normalisation).
	Pad int
	// Flip mirrors each sample left-right with probability 0.5, after the
	// crop.
	Flip bool

	// Norm overrides the source's normalisation when Mean is not nil.
	Norm Norm

	// Workers is the number of goroutines building batches; 0 means
	// min(GOMAXPROCS, 4). Results do not depend on it.
	Workers int
	// Prefetch is how many batches may be ready or in progress ahead of
	// the consumer; 0 means max(4, Workers).
	Prefetch int
}

// Batch is one mini-batch.
type Batch struct {
	X     *tensor.Tensor // [B][C][H][W], normalised float32
	Y     []int          // B labels
	Index []int          // B sample indices into the source
}

// Loader turns a Source into batches, one epoch at a time. It is safe to
// run several epochs' iterators at once.
type Loader struct {
	src         Source
	cfg         Config
	scale, bias []float32
}

// NewLoader checks cfg against src and returns a Loader.
func NewLoader(src Source, cfg Config) (*Loader, error) {
	if cfg.BatchSize <= 0 {
		return nil, fmt.Errorf("data: batch size %d is not positive", cfg.BatchSize)
	}
	if cfg.Augment {
		if cfg.Pad == 0 {
			cfg.Pad = CIFARPad
		}
		cfg.Flip = true
	}
	if cfg.Pad < 0 {
		return nil, fmt.Errorf("data: negative padding %d", cfg.Pad)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = min(runtime.GOMAXPROCS(0), 4)
	}
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = max(4, cfg.Workers)
	}
	norm := cfg.Norm
	if norm.Mean == nil {
		norm = src.Norm()
	}
	c, h, w := src.Dims()
	if c <= 0 || h <= 0 || w <= 0 {
		return nil, fmt.Errorf("data: source has bad dims %dx%dx%d", c, h, w)
	}
	if len(norm.Mean) != c || len(norm.Std) != c {
		return nil, fmt.Errorf("data: normalisation has %d means and %d stds for %d channels", len(norm.Mean), len(norm.Std), c)
	}
	for i, s := range norm.Std {
		if !(s > 0) {
			return nil, fmt.Errorf("data: std[%d] = %g is not positive", i, s)
		}
	}
	cfg.Norm = norm.clone()
	l := &Loader{src: src, cfg: cfg}
	l.scale, l.bias = normCoeffs(cfg.Norm)
	return l, nil
}

// Config returns the loader's configuration with defaults filled in.
func (l *Loader) Config() Config { return l.cfg }

// Len is the number of batches in an epoch.
func (l *Loader) Len() int {
	n, b := l.src.Len(), l.cfg.BatchSize
	if l.cfg.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// Order returns the sample indices of an epoch in visiting order: a
// permutation drawn from (Seed, epoch) when shuffling, else 0..N-1.
func (l *Loader) Order(epoch int) []int {
	n := l.src.Len()
	if !l.cfg.Shuffle {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		return order
	}
	return derivedRNG(l.cfg.Seed, epoch, -1, 1).Perm(n)
}

// Batch builds batch b of an epoch whose Order is order, in the calling
// goroutine. Its augmentation draws from an RNG seeded by (Seed, epoch, b)
// alone, so a batch is the same whoever builds it.
func (l *Loader) Batch(epoch, b int, order []int) (*Batch, error) {
	bs := l.cfg.BatchSize
	if b < 0 || b*bs >= len(order) {
		return nil, fmt.Errorf("data: batch %d out of range for %d samples", b, len(order))
	}
	idx := order[b*bs : min((b+1)*bs, len(order))]
	c, h, w := l.src.Dims()
	size := c * h * w
	rng := derivedRNG(l.cfg.Seed, epoch, b, 2)
	out := &Batch{X: tensor.New(len(idx), c, h, w), Y: make([]int, len(idx)), Index: append([]int(nil), idx...)}
	ds, inMemory := l.src.(*Dataset)
	var buf []uint8
	if !inMemory {
		buf = make([]uint8, size)
	}
	for j, i := range idx {
		var img []uint8
		if inMemory { // skip the copy Read would make
			if i < 0 || i >= ds.N {
				return nil, fmt.Errorf("data: %s: index %d out of range [0,%d)", ds.Name, i, ds.N)
			}
			img, out.Y[j] = ds.Image(i), ds.Labels[i]
		} else {
			label, err := l.src.Read(i, buf, rng)
			if err != nil {
				return nil, err
			}
			img, out.Y[j] = buf, label
		}
		win := draw(rng, l.cfg.Pad, l.cfg.Flip)
		transform(out.X.Data[j*size:(j+1)*size], img, c, h, w, win, l.scale, l.bias)
	}
	return out, nil
}

// Epoch returns an iterator over the batches of an epoch, in order. Worker
// goroutines build up to Prefetch batches ahead of the consumer. Breaking
// out of the loop, or cancelling ctx, stops them; the iterator returns only
// after they have exited. On an error (a sample that cannot be read, or
// ctx's error) the iterator yields it with a nil batch and stops.
//
//	for b, err := range l.Epoch(ctx, epoch) {
//		if err != nil {
//			return err
//		}
//		// use b.X, b.Y
//	}
func (l *Loader) Epoch(ctx context.Context, epoch int) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		order := l.Order(epoch)
		nb := l.Len()
		if nb == 0 {
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer wg.Wait() // runs after cancel: deferred calls are LIFO
		defer cancel()

		type result struct {
			b   *Batch
			err error
		}
		type job struct {
			b   int
			out chan result
		}
		jobs := make(chan job)
		// pending holds each dispatched batch's result channel in batch
		// order; its capacity bounds the work ahead of the consumer.
		pending := make(chan chan result, l.cfg.Prefetch)
		wg.Go(func() {
			defer close(jobs)
			defer close(pending)
			for b := range nb {
				out := make(chan result, 1)
				select {
				case pending <- out:
				case <-ctx.Done():
					return
				}
				select {
				case jobs <- job{b, out}:
				case <-ctx.Done():
					return
				}
			}
		})
		for range l.cfg.Workers {
			wg.Go(func() {
				for j := range jobs {
					bt, err := l.Batch(epoch, j.b, order)
					j.out <- result{bt, err} // buffered: never blocks
				}
			})
		}
		for out := range pending {
			var r result
			select {
			case r = <-out:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			}
			if !yield(r.b, r.err) || r.err != nil {
				return
			}
		}
		if err := ctx.Err(); err != nil { // the dispatcher stopped early
			yield(nil, err)
		}
	}
}
