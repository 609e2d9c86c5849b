package pytorch

import (
	"archive/zip"
	"bytes"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fuzzRead loads data and, when that succeeds, checks that writing the
// result and reading it back gives the same state dict, and that loading is
// deterministic.
func fuzzRead(t *testing.T, data []byte) {
	sd, err := Read(bytes.NewReader(data), int64(len(data)), "fuzz")
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("error %v is a %T, want *Error", err, err)
		}
		return
	}
	again, err := Read(bytes.NewReader(data), int64(len(data)), "fuzz")
	if err != nil {
		t.Fatalf("second read failed: %v", err)
	}
	sameStateDictNaN(t, again, sd)
	var buf bytes.Buffer
	if err := WriteZip(&buf, sd); err != nil {
		t.Fatalf("WriteZip of a loaded state dict: %v", err)
	}
	back, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "roundtrip")
	if err != nil {
		t.Fatalf("reading back WriteZip output: %v", err)
	}
	sameStateDictNaN(t, back, sd)
}

// sameStateDictNaN compares bit patterns, so NaNs compare equal.
func sameStateDictNaN(t *testing.T, got, want *StateDict) {
	t.Helper()
	if len(got.Names) != len(want.Names) || len(got.IntNames) != len(want.IntNames) {
		t.Fatalf("got %d+%d tensors, want %d+%d", len(got.Names), len(got.IntNames), len(want.Names), len(want.IntNames))
	}
	for i, n := range want.Names {
		g, w := got.Tensors[got.Names[i]], want.Tensors[n]
		if got.Names[i] != n || len(g.Data) != len(w.Data) {
			t.Fatalf("tensor %d: got %q, want %q", i, got.Names[i], n)
		}
		if !bytes.Equal(floatBytes(g), floatBytes(w)) {
			t.Fatalf("tensor %q differs", n)
		}
	}
}

func addFixtures(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzLoadLegacy(f *testing.F) {
	addFixtures(f, "legacy.pt", "legacy_views.pt")
	f.Fuzz(fuzzRead)
}

func FuzzLoadZip(f *testing.F) {
	addFixtures(f, "zip_plain.pt", "evil.pt")
	var buf bytes.Buffer
	if err := WriteZip(&buf, sampleStateDict()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(fuzzRead)
}

// FuzzZipPickle fuzzes data.pkl inside an otherwise valid zip file (the
// zip's CRCs keep FuzzLoadZip's mutations from reaching the pickle often).
// The storages of zip_plain.pt are kept, so valid pickles can refer to them.
func FuzzZipPickle(f *testing.F) {
	zr, err := zip.OpenReader("testdata/zip_plain.pt")
	if err != nil {
		f.Fatal(err)
	}
	defer zr.Close()
	entries := map[string][]byte{}
	for _, e := range zr.File {
		rc, err := e.Open()
		if err != nil {
			f.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			f.Fatal(err)
		}
		entries[strings.TrimPrefix(e.Name, "zip_plain/")] = b
	}
	f.Add(entries["data.pkl"])
	f.Fuzz(func(t *testing.T, pkl []byte) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, name := range append([]string{"data.pkl"}, slices.Sorted(maps.Keys(entries))...) {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: "x/" + name, Method: zip.Store})
			if err != nil {
				t.Fatal(err)
			}
			data := entries[name]
			if name == "data.pkl" {
				data = pkl
			}
			w.Write(data)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		fuzzRead(t, buf.Bytes())
	})
}
