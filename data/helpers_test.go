package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// encodeCIFAR writes records in CIFAR binary format: each record is the
// label bytes heads[i] followed by image i of pix.
func encodeCIFAR(heads [][]uint8, pix []uint8) []byte {
	var b bytes.Buffer
	for i, h := range heads {
		b.Write(h)
		b.Write(pix[i*cifarSize : (i+1)*cifarSize])
	}
	return b.Bytes()
}

// encodeIDX writes an unsigned-byte IDX array.
func encodeIDX(dims []int, data []uint8) []byte {
	b := []byte{0, 0, idxUbyte, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// synthCIFAR returns n random CIFAR-10 records' label bytes and pixels.
func synthCIFAR(seed uint64, n int) ([][]uint8, []uint8) {
	rng := rand.New(rand.NewPCG(seed, 0))
	heads := make([][]uint8, n)
	pix := make([]uint8, n*cifarSize)
	for i := range heads {
		heads[i] = []uint8{uint8(rng.IntN(10))}
	}
	for i := range pix {
		pix[i] = uint8(rng.Uint32())
	}
	return heads, pix
}

// synthDataset is a small in-memory data set whose pixel values encode
// their position, so tests can tell where each output value came from.
func synthDataset(n, c, h, w int) *Dataset {
	d := &Dataset{Name: "synth", N: n, C: c, H: h, W: w, Pixels: make([]uint8, n*c*h*w),
		Labels: make([]int, n), Classes: []string{"a", "b", "c"}}
	for i := range d.Pixels {
		d.Pixels[i] = uint8(1 + i%251)
	}
	for i := range d.Labels {
		d.Labels[i] = i % 3
	}
	for range c {
		d.Mean = append(d.Mean, 0.5)
		d.Std = append(d.Std, 0.25)
	}
	return d
}

// The real CIFAR-10 data, loaded at most once per test binary.
var (
	cifarOnce             sync.Once
	cifarTrain, cifarTest *Dataset
	cifarErr              error
)

// realCIFAR10 returns the CIFAR-10 train and test sets from DefaultDir, or
// skips the test when they are not on this machine.
func realCIFAR10(t *testing.T) (train, test *Dataset) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not loading the 60,000 CIFAR-10 images")
	}
	dir, err := DefaultDir("cifar10")
	if err != nil {
		t.Skipf("CIFAR-10 not present, skipping: %v", err)
	}
	cifarOnce.Do(func() {
		if cifarTrain, cifarErr = LoadCIFAR10(dir, true); cifarErr != nil {
			return
		}
		cifarTest, cifarErr = LoadCIFAR10(dir, false)
	})
	if cifarErr != nil {
		t.Fatal(cifarErr)
	}
	return cifarTrain, cifarTest
}
