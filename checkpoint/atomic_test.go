package checkpoint

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// onlyFile fails unless dir holds exactly the named file.
func onlyFile(t *testing.T, dir, name string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != name {
		t.Errorf("directory holds %q, want only %q", names, name)
	}
}

func TestWriteFileAtomicFailureLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.bin")
	boom := errors.New("boom")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		w.Write(make([]byte, 3<<20)) // past the buffer, so bytes reach the temp file
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("directory holds %d entries after a failed write", len(ents))
	}
}

func TestWriteFileAtomicFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.safetensors")
	if err := Save(path, sampleFile()); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path)

	// A Save that fails validation, and a write that panics midway.
	bad := &File{Names: []string{"w"}}
	if err := Save(path, bad); err == nil {
		t.Fatal("Save of an invalid File succeeded")
	}
	func() {
		defer func() { recover() }()
		WriteFileAtomic(path, func(w io.Writer) error {
			w.Write([]byte("partial"))
			panic("writer died")
		})
	}()
	if now, _ := os.ReadFile(path); string(now) != string(old) {
		t.Error("existing file changed after failed writes")
	}
	onlyFile(t, dir, "ck.safetensors")

	// And a good write replaces it.
	if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(path); string(now) != "new" {
		t.Errorf("file holds %q, want new", now)
	}
	onlyFile(t, dir, "ck.safetensors")
}

func TestWriteFileAtomicMissingDir(t *testing.T) {
	err := WriteFileAtomic(filepath.Join(t.TempDir(), "no", "such", "f"), func(io.Writer) error { return nil })
	if err == nil {
		t.Error("write into a missing directory succeeded")
	}
}
