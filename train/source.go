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
