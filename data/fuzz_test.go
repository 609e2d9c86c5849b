package data

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// Seed corpora are committed in testdata/fuzz/FuzzCIFAR and
// testdata/fuzz/FuzzIDX (valid, truncated, gzipped and corrupt files);
// the f.Add calls add a few more made here.

// checkErr fails unless err is nil or a *FormatError naming the input
// "fuzz".
func checkErr(t *testing.T, err error) {
	t.Helper()
	var fe *FormatError
	if err != nil && (!errors.As(err, &fe) || fe.File != "fuzz") {
		t.Fatalf("error %v (%T) is not a FormatError naming the file", err, err)
	}
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == gzipMagic[0] && b[1] == gzipMagic[1] }

// FuzzCIFAR reads arbitrary bytes as CIFAR-10 and CIFAR-100 files. It
// checks that the readers never panic, report only FormatErrors, are
// deterministic, and that what they accept re-encodes to the input.
func FuzzCIFAR(f *testing.F) {
	heads, pix := synthCIFAR(1, 2)
	good := encodeCIFAR(heads, pix)
	f.Add(good)
	f.Add(good[:3073+7])
	f.Add(gzipBytes(f, good[:3073]))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, format := range []cifarFormat{cifar10Format, cifar100Format} {
			read := func() ([]uint8, []int, error) {
				r, err := maybeGunzip(bytes.NewReader(b), "fuzz")
				if err != nil {
					return nil, nil, err
				}
				return readCIFAR(r, "fuzz", format, 0, nil, nil, 0, 0)
			}
			pix, labels, err := read()
			checkErr(t, err)
			pix2, labels2, err2 := read()
			if !bytes.Equal(pix, pix2) || !slices.Equal(labels, labels2) || (err == nil) != (err2 == nil) {
				t.Fatal("two reads of the same input differ")
			}
			if len(pix) != len(labels)*cifarSize {
				t.Fatalf("%d pixel bytes for %d labels", len(pix), len(labels))
			}
			use := format.limits[format.use]
			for _, l := range labels {
				if l < 0 || l >= use {
					t.Fatalf("label %d out of range", l)
				}
			}
			if err != nil || isGzip(b) {
				continue
			}
			// Round trip: a plain input that reads cleanly is exactly its
			// records, and re-encoding them gives it back.
			rs := format.recordSize()
			if len(b) != len(labels)*rs {
				t.Fatalf("%d bytes read as %d records of %d", len(b), len(labels), rs)
			}
			enc := make([][]uint8, len(labels))
			for i := range labels {
				enc[i] = b[i*rs : i*rs+len(format.limits)] // label bytes as given
				if int(enc[i][format.use]) != labels[i] {
					t.Fatalf("record %d: label %d, byte %d", i, labels[i], enc[i][format.use])
				}
			}
			if !bytes.Equal(encodeCIFAR(enc, pix), b) {
				t.Fatal("re-encoding differs from the input")
			}
		}
	})
}

// FuzzIDX reads arbitrary bytes as an IDX file, with the same checks as
// FuzzCIFAR: no panic, FormatErrors only, deterministic, and an accepted
// plain input starts with the re-encoding of what was read.
func FuzzIDX(f *testing.F) {
	f.Add(encodeIDX([]int{5}, []uint8{5, 0, 4, 1, 9}))
	f.Add(encodeIDX([]int{2, 3, 3}, make([]uint8, 18)))
	f.Add(gzipBytes(f, encodeIDX([]int{1, 2, 2}, []uint8{1, 2, 3, 4})))
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		read := func() ([]int, []uint8, error) {
			r, err := maybeGunzip(bytes.NewReader(b), "fuzz")
			if err != nil {
				return nil, nil, err
			}
			return readIDX(r, "fuzz")
		}
		dims, data, err := read()
		checkErr(t, err)
		dims2, data2, err2 := read()
		if !slices.Equal(dims, dims2) || !bytes.Equal(data, data2) || (err == nil) != (err2 == nil) {
			t.Fatal("two reads of the same input differ")
		}
		if err != nil {
			if dims != nil || data != nil {
				t.Fatal("result with an error")
			}
			return
		}
		n := 1
		for _, d := range dims {
			n *= d
		}
		if len(dims) == 0 || n != len(data) {
			t.Fatalf("dims %v hold %d bytes, read %d", dims, n, len(data))
		}
		if enc := encodeIDX(dims, data); !isGzip(b) && !bytes.HasPrefix(b, enc) {
			t.Fatal("input does not start with the re-encoding of what was read")
		}
	})
}
