package cli

// Helpers of the command line's tests: the data and evaluation steps the
// commands now leave to the front door (sgcnn.Train, sgcnn.Average, ...).

import (
	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/train"
)

// openSplits loads the training and test splits of a named data set from
// dir, keeping only the first limits[0] and limits[1] images (0: all).
func openSplits(name, dir string, limits [2]int) (trainSet, testSet *data.Dataset, err error) {
	trainSet, testSet, err = sgcnn.OpenDataFirst(name, dir, max(limits[0], 0), max(limits[1], 0)) // reading stops at the limits
	return trainSet, testSet, flagError(err)
}

// augmentation returns the training crop padding and flip for a data set
// of h x h images (sgcnn.Augmentation).
func augmentation(h int, augment bool, shift int) (pad int, flip bool) {
	return sgcnn.Augmentation(h, augment, shift)
}

// holdOut splits a validation set of n images off ds (none when n is 0)
// and returns the rest, the split and its record.
func holdOut(ds *data.Dataset, n int) (rest, val *data.Dataset, rec *report.Validation, err error) {
	rest, val, rec, err = sgcnn.HoldOut(ds, n)
	return rest, val, rec, flagError(err)
}

// evaluateSet returns m's accuracy on ds, unaugmented.
func evaluateSet(m *models.Model, ds *data.Dataset, norm data.Norm) (train.EvalResult, error) {
	src, err := sgcnn.EvalSource(ds, norm, 200)
	if err != nil {
		return train.EvalResult{}, err
	}
	return train.Evaluate(m.Net, func(yield func(train.Batch) bool) error { return src(0, yield) })
}
