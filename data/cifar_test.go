package data

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Spot checks from /work/shared/data/cifar10/SOURCES.md, which match values
// published by other projects.
func TestCIFAR10Real(t *testing.T) {
	train, test := realCIFAR10(t)
	if train.N != 50000 || test.N != 10000 {
		t.Fatalf("N = %d, %d; want 50000, 10000", train.N, test.N)
	}
	if err := train.Check(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(train.Classes, CIFAR10Classes) {
		t.Errorf("classes %v", train.Classes)
	}
	checks := []struct {
		name  string
		d     *Dataset
		rec   int
		label int
		red   []uint8 // start of the R plane's row 0
	}{
		{"data_batch_1 record 0", train, 0, 6, []uint8{59, 43, 50, 68, 98, 119, 139, 145}},
		{"test_batch record 0", test, 0, 3, []uint8{158, 159, 165, 166, 160, 156, 162, 159}},
		{"test_batch record 1", test, 1, 8, []uint8{235, 231, 232, 232}},
	}
	for _, c := range checks {
		if got := c.d.Labels[c.rec]; got != c.label {
			t.Errorf("%s: label %d, want %d", c.name, got, c.label)
		}
		if got := c.d.Image(c.rec)[:len(c.red)]; !bytes.Equal(got, c.red) {
			t.Errorf("%s: R row 0 starts %v, want %v", c.name, got, c.red)
		}
	}
	first, err := train.Subset(seq(0, 10000))
	if err != nil {
		t.Fatal(err)
	}
	want := []int{1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981}
	if got := first.Counts(); !slices.Equal(got, want) {
		t.Errorf("data_batch_1 counts %v, want %v", got, want)
	}
	for _, d := range []*Dataset{train, test} {
		per := d.N / 10
		for c, n := range d.Counts() {
			if n != per {
				t.Errorf("%s: class %d has %d images, want %d", d.Name, c, n, per)
			}
		}
	}
	if !slices.Equal(train.Mean, ImageNetNorm.Mean) || !slices.Equal(train.Std, ImageNetNorm.Std) {
		t.Errorf("CIFAR-10 norm %v %v, want ImageNet's", train.Mean, train.Std)
	}
}

func seq(from, to int) []int {
	s := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// A synthetic CIFAR-10 folder: plain and gzipped files both read back as
// written.
func TestCIFAR10Synthetic(t *testing.T) {
	dir := t.TempDir()
	var wantLabels []int
	var wantPix []uint8
	for i, name := range []string{"data_batch_1.bin", "data_batch_2.bin.gz", "data_batch_3.bin",
		"data_batch_4.bin", "data_batch_5.bin.gz"} {
		heads, pix := synthCIFAR(uint64(i), 3)
		b := encodeCIFAR(heads, pix)
		if strings.HasSuffix(name, ".gz") {
			b = gzipBytes(t, b)
		}
		writeFile(t, filepath.Join(dir, "cifar-10-batches-bin", name), b)
		for _, h := range heads {
			wantLabels = append(wantLabels, int(h[0]))
		}
		wantPix = append(wantPix, pix...)
	}
	d, err := LoadCIFAR10(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 15 || !slices.Equal(d.Labels, wantLabels) || !bytes.Equal(d.Pixels, wantPix) {
		t.Errorf("read back N=%d labels %v, want 15 %v (pixels equal: %v)", d.N, d.Labels, wantLabels, bytes.Equal(d.Pixels, wantPix))
	}
	if err := d.Check(); err != nil {
		t.Error(err)
	}
	if _, err := LoadCIFAR10(dir, false); err == nil || !strings.Contains(err.Error(), "test_batch.bin") {
		t.Errorf("missing test file: err = %v, want one naming test_batch.bin", err)
	}
}

func TestCIFAR100Synthetic(t *testing.T) {
	dir := t.TempDir()
	_, pix := synthCIFAR(7, 4)
	heads := [][]uint8{{3, 99}, {19, 0}, {0, 42}, {5, 17}}
	writeFile(t, filepath.Join(dir, "train.bin"), gzipBytes(t, encodeCIFAR(heads, pix)))
	writeFile(t, filepath.Join(dir, "fine_label_names.txt"), []byte(strings.Join(CIFAR100Classes, "\n")+"\n"))
	d, err := LoadCIFAR100(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{99, 0, 42, 17}; !slices.Equal(d.Labels, want) {
		t.Errorf("fine labels %v, want %v", d.Labels, want)
	}
	if !bytes.Equal(d.Pixels, pix) || len(d.Classes) != 100 || d.Classes[99] != "worm" {
		t.Errorf("pixels or classes wrong: %d classes", len(d.Classes))
	}
	if !slices.Equal(d.Mean, CIFAR100Norm.Mean) {
		t.Errorf("mean %v", d.Mean)
	}
}

// Truncated and corrupt files give a *FormatError naming the file, record
// and field.
func TestCIFARCorrupt(t *testing.T) {
	heads, pix := synthCIFAR(1, 5)
	good := encodeCIFAR(heads, pix)
	bad := slices.Clone(good)
	bad[2*3073] = 10 // record 2's label
	cases := []struct {
		name string
		b    []byte
		want string // substring of the error
	}{
		{"truncated-pixels", good[:3*3073+100], "record 3: pixels: truncated: got 100 of 3073 bytes"},
		{"truncated-label", good[:4*3073], ""}, // exactly 4 records: fine
		{"bad-label", bad, "record 2: label: 10 is not below 10"},
		{"truncated-gzip", gzipBytes(t, good)[:5000], "record 1: pixels: truncated"},
		{"empty", nil, "file holds no records"},
		{"corrupt-gzip", append([]byte{0x1f, 0x8b}, make([]byte, 30)...), "gzip"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		path := filepath.Join(dir, "test_batch.bin")
		writeFile(t, path, c.b)
		_, err := LoadCIFAR10(dir, false)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var fe *FormatError
		if !errors.As(err, &fe) || fe.File != path || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want a FormatError for %s containing %q", c.name, err, path, c.want)
		}
	}
}

func TestCIFAR100BadCoarse(t *testing.T) {
	_, pix := synthCIFAR(2, 1)
	b := encodeCIFAR([][]uint8{{20, 1}}, pix)
	_, _, err := readCIFAR(bytes.NewReader(b), "x.bin", cifar100Format, 0, nil, nil, 0, 0)
	if err == nil || err.Error() != "data: x.bin: record 0: coarse label: 20 is not below 20" {
		t.Errorf("err = %v", err)
	}
}
