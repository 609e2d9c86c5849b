package train

import (
	"context"

	"github.com/sgcnn/sgcnn/data"
)

// FromLoader adapts a data.Loader to a Source.
func FromLoader(ctx context.Context, l *data.Loader) Source {
	return func(epoch int, yield func(Batch) bool) error {
		for b, err := range l.Epoch(ctx, epoch) {
			if err != nil {
				return err
			}
			if !yield(Batch{X: b.X, Y: b.Y}) {
				return nil
			}
		}
		return nil
	}
}

// Limit passes on the batches of src until n images have been yielded in
// an epoch (n <= 0: all). Over a shuffled loader each epoch is then a
// fresh random subset of n images, a shorter epoch that still sees the
// whole training set over a run.
func Limit(src Source, n int) Source {
	if n <= 0 {
		return src
	}
	return func(epoch int, yield func(Batch) bool) error {
		seen := 0
		return src(epoch, func(b Batch) bool {
			if seen >= n {
				return false
			}
			seen += len(b.Y)
			return yield(b)
		})
	}
}
