package data

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestCIFARRecordCountBounded is issue 19's finding 3: a small gzip file of
// zero records (label 0, black image) used to load as a test set as large as
// it decompressed to. A CIFAR-10 file holds 10,000 records: one more is an
// error, found before the rest is read.
func TestCIFARRecordCountBounded(t *testing.T) {
	dir := t.TempDir()
	const n = 10001
	zeros := make([]byte, n*(1+cifarSize)) // decompresses from about 30 KB
	writeFile(t, filepath.Join(dir, "test_batch.bin.gz"), gzipBytes(t, zeros))
	var err error
	bytes := allocated(func() { _, err = LoadCIFAR10(dir, false) })
	if err == nil || !strings.Contains(err.Error(), "more than the format's 10000 records") {
		t.Fatalf("10,001 records: err %v, want the format's count named", err)
	}
	if bytes > 100<<20 {
		t.Errorf("refusing the file allocated %d MB", bytes>>20)
	}
	// Exactly 10,000 records load.
	writeFile(t, filepath.Join(dir, "test_batch.bin.gz"), gzipBytes(t, zeros[:10000*(1+cifarSize)]))
	ds, err := LoadCIFAR10(dir, false)
	if err != nil || ds.N != 10000 {
		t.Fatalf("10,000 records: %v", err)
	}
}

// TestLoadFirstStopsReading checks that a limit stops reading: 100 images
// of a 10,000-image file cost about 100 images' memory, and are its first.
func TestLoadFirstStopsReading(t *testing.T) {
	dir := t.TempDir()
	heads, pix := synthCIFAR(3, 10000)
	writeFile(t, filepath.Join(dir, "test_batch.bin"), encodeCIFAR(heads, pix))
	var ds *Dataset
	var err error
	bytes := allocated(func() { ds, err = LoadFirst("cifar10", dir, false, 100) })
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 100 || len(ds.Labels) != 100 || len(ds.Pixels) != 100*cifarSize {
		t.Fatalf("got %d images (%d labels, %d bytes), want 100", ds.N, len(ds.Labels), len(ds.Pixels))
	}
	for i := range 100 {
		if ds.Labels[i] != int(heads[i][0]) || ds.Pixels[i*cifarSize] != pix[i*cifarSize] {
			t.Fatalf("image %d is not the file's image %d", i, i)
		}
	}
	if bytes > 4<<20 {
		t.Errorf("100 images allocated %d KB (the whole file is %d KB)", bytes>>10, len(pix)>>10)
	}

	// MNIST: the same for IDX files, and the record count is bounded.
	img := make([]uint8, 500*28*28)
	for i := range img {
		img[i] = uint8(i)
	}
	lbl := make([]uint8, 500)
	writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), encodeIDX([]int{500, 28, 28}, img))
	writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), encodeIDX([]int{500}, lbl))
	if ds, err = LoadFirst("mnist", dir, false, 7); err != nil || ds.N != 7 || len(ds.Pixels) != 7*784 || ds.Pixels[6*784+5] != img[6*784+5] {
		t.Fatalf("MNIST first 7: %v", err)
	}
	writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), encodeIDX([]int{10001, 28, 28}, nil))
	if _, err = LoadFirst("mnist", dir, false, 0); err == nil || !strings.Contains(err.Error(), "at most 10000") {
		t.Fatalf("10,001 MNIST test images announced: err %v", err)
	}
	if _, err = LoadFirst("imagenet", dir, false, 0); err == nil {
		t.Fatal("unknown data set accepted")
	}
}
