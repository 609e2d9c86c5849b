package data

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Holdout splits d into the images to train on and n images held out of
// training (a validation split), drawn uniformly at random with seed: the
// same n, seed and data set always give the same split, whatever else a run
// changes. Both parts keep d's order, classes and normalisation. n must lie
// in [0, d.N); n = 0 returns d itself and no held-out set.
func (d *Dataset) Holdout(n int, seed uint64) (rest, held *Dataset, err error) {
	if n < 0 || n >= d.N {
		return nil, nil, fmt.Errorf("data: %s: cannot hold out %d of %d images (want 0 to %d)", d.Name, n, d.N, d.N-1)
	}
	if n == 0 {
		return d, nil, nil
	}
	perm := rand.New(rand.NewPCG(seed, uint64(d.N))).Perm(d.N)
	heldIdx, restIdx := perm[:n], perm[n:]
	slices.Sort(heldIdx)
	slices.Sort(restIdx)
	if held, err = d.Subset(heldIdx); err != nil {
		return nil, nil, err
	}
	if rest, err = d.Subset(restIdx); err != nil {
		return nil, nil, err
	}
	held.Name = d.Name + "/val"
	return rest, held, nil
}
