package data

import "fmt"

// LoadFirst reads the first n images (all of them when n <= 0) of the
// train or test split of a named data set, "cifar10", "cifar100", "mnist"
// or "fashion-mnist", from dir ("" for its default location), as
// LoadCIFAR10, LoadCIFAR100, LoadMNIST and LoadFashionMNIST do; reading
// stops once it holds n images, so a small n costs little memory and time
// whatever the files hold. Every file is checked against its format's
// record count (10,000 per CIFAR-10 file, 60,000 and 10,000 MNIST images)
// before its images are kept.
func LoadFirst(name, dir string, train bool, n int) (*Dataset, error) {
	n = max(n, 0)
	switch name {
	case "cifar10":
		files := []string{"test_batch.bin"}
		if train {
			files = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
		}
		return loadCIFAR("cifar10", dir, "cifar-10-batches-bin", files, train, cifar10Format,
			"batches.meta.txt", CIFAR10Classes, ImageNetNorm, n)
	case "cifar100":
		files := []string{"test.bin"}
		if train {
			files = []string{"train.bin"}
		}
		return loadCIFAR("cifar100", dir, "cifar-100-binary", files, train, cifar100Format,
			"fine_label_names.txt", CIFAR100Classes, CIFAR100Norm, n)
	case "mnist":
		return loadIDXPair("mnist", dir, train, MNISTClasses, MNISTNorm, n)
	case "fashion-mnist":
		return loadIDXPair("fashion-mnist", dir, train, FashionMNISTClasses, FashionMNISTNorm, n)
	}
	return nil, fmt.Errorf("data: unknown data set %q", name)
}
