package data

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CIFAR image geometry: 3 planes (R, G, B) of 32x32 bytes, row-major.
const (
	cifarC    = 3
	cifarSide = 32
	cifarSize = cifarC * cifarSide * cifarSide // 3072
)

// CIFAR10Classes are the CIFAR-10 class names, index = label.
var CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer",
	"dog", "frog", "horse", "ship", "truck"}

// CIFAR100Classes are the CIFAR-100 fine class names, index = fine label.
var CIFAR100Classes = []string{
	"apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
	"bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
	"chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
	"dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
	"lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
	"mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
	"plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
	"rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
	"squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
	"train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
}

// cifarFormat describes one of the two CIFAR binary layouts: a record is
// len(limits) label bytes followed by the 3072 pixel bytes.
type cifarFormat struct {
	fields []string // name of each label byte
	limits []int    // each label byte must be below its limit
	use    int      // index of the label byte that becomes the label
}

var (
	cifar10Format  = cifarFormat{fields: []string{"label"}, limits: []int{10}}
	cifar100Format = cifarFormat{fields: []string{"coarse label", "fine label"}, limits: []int{20, 100}, use: 1}
)

func (f cifarFormat) recordSize() int { return len(f.limits) + cifarSize }

// readCIFAR reads CIFAR records from r (already decompressed) until end of
// input, appending the pixels and labels. The name labels errors; first is
// the index of the first record, for error messages. A partial record at the
// end is an error, and so is a file of more than maxRecords records (the
// format's count: a corrupt or hostile file cannot grow the data set without
// bound). When stop > 0, reading ends once the data set holds stop labels.
func readCIFAR(r io.Reader, name string, f cifarFormat, first int, pix []uint8, labels []int, maxRecords, stop int) ([]uint8, []int, error) {
	nl := len(f.limits)
	head := make([]byte, nl)
	for rec := first; ; rec++ {
		if stop > 0 && len(labels) >= stop {
			return pix, labels, nil
		}
		if maxRecords > 0 && rec-first >= maxRecords {
			if n, _ := io.ReadFull(r, head[:1]); n == 0 {
				return pix, labels, nil
			}
			return pix, labels, formatErr(name, rec, "records", "file holds more than the format's %d records", maxRecords)
		}
		n, err := io.ReadFull(r, head)
		if err == io.EOF {
			return pix, labels, nil
		}
		if err != nil {
			return pix, labels, readErr(name, rec, f.fields[min(n, nl-1)], err, n, f.recordSize())
		}
		for j, b := range head {
			if int(b) >= f.limits[j] {
				return pix, labels, formatErr(name, rec, f.fields[j], "%d is not below %d", b, f.limits[j])
			}
		}
		off := len(pix)
		pix = grow(pix, cifarSize)
		if n, err := io.ReadFull(r, pix[off:]); err != nil {
			return pix[:off], labels, readErr(name, rec, "pixels", err, nl+n, f.recordSize())
		}
		labels = append(labels, int(head[f.use]))
	}
}

// grow extends b by n bytes, reallocating geometrically.
func grow(b []uint8, n int) []uint8 {
	if len(b)+n > cap(b) {
		nb := make([]uint8, len(b), max(2*cap(b), len(b)+n))
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// LoadCIFAR10 reads the CIFAR-10 binary version from dir: data_batch_1.bin
// to data_batch_5.bin when train is set, else test_batch.bin. Each file may
// be gzip-compressed, and may be named with an extra .gz; a
// cifar-10-batches-bin sub-folder (the layout of the official tar) is
// looked in too. Class names come from batches.meta.txt when present. The
// empty dir means DefaultDir("cifar10"). The normalisation is ImageNetNorm.
func LoadCIFAR10(dir string, train bool) (*Dataset, error) {
	return LoadFirst("cifar10", dir, train, 0)
}

// LoadCIFAR100 reads the CIFAR-100 binary version from dir: train.bin when
// train is set, else test.bin, each record holding a coarse and a fine label
// byte; the fine label (0-99) is used. Files may be gzip-compressed or end
// in .gz, and a cifar-100-binary sub-folder is looked in too. Class names
// come from fine_label_names.txt when present. The empty dir means
// DefaultDir("cifar100"). The normalisation is CIFAR100Norm.
func LoadCIFAR100(dir string, train bool) (*Dataset, error) {
	return LoadFirst("cifar100", dir, train, 0)
}

// cifarRecords is the number of records in each file of the CIFAR binary
// versions: 10,000 in each CIFAR-10 file and in CIFAR-100's test.bin,
// 50,000 in its train.bin. Files may hold fewer (test fixtures), never more.
func cifarRecords(files []string) int {
	if len(files) == 1 && files[0] == "train.bin" {
		return 50000
	}
	return 10000
}

// loadCIFAR reads a CIFAR split; limit > 0 stops reading once it holds
// limit images.
func loadCIFAR(name, dir, sub string, files []string, train bool, f cifarFormat,
	meta string, classes []string, norm Norm, limit int) (*Dataset, error) {
	if dir == "" {
		var err error
		if dir, err = DefaultDir(name); err != nil {
			return nil, err
		}
	}
	// The official archives unpack into a sub-folder; accept either.
	if _, err := findFile(dir, files[0]); err != nil {
		if _, err2 := findFile(filepath.Join(dir, sub), files[0]); err2 == nil {
			dir = filepath.Join(dir, sub)
		}
	}
	maxRecords := cifarRecords(files)
	want := maxRecords * len(files)
	if limit > 0 {
		want = min(want, limit)
	}
	pix := make([]uint8, 0, want*cifarSize)
	var labels []int
	for _, file := range files {
		if limit > 0 && len(labels) >= limit {
			break
		}
		path, err := findFile(dir, file)
		if err != nil {
			return nil, err
		}
		before := len(labels)
		err = openData(path, func(r io.Reader) error {
			var err error
			pix, labels, err = readCIFAR(r, path, f, 0, pix, labels, maxRecords, limit)
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(labels) == before {
			return nil, formatErr(path, -1, "records", "file holds no records")
		}
	}
	if names, err := readNames(filepath.Join(dir, meta)); err == nil && len(names) == len(classes) {
		classes = names
	}
	split := "test"
	if train {
		split = "train"
	}
	d := &Dataset{Name: name + "/" + split, N: len(labels), C: cifarC, H: cifarSide, W: cifarSide,
		Pixels: pix, Labels: labels, Classes: append([]string(nil), classes...)}
	n := norm.clone()
	d.Mean, d.Std = n.Mean, n.Std
	return d, nil
}

// readNames reads one class name per line, skipping blank lines.
func readNames(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		if s := strings.TrimSpace(line); s != "" {
			names = append(names, s)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("data: %s: no class names", path)
	}
	return names, nil
}
