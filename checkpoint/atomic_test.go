package checkpoint

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSaveFailureKeepsOldFile: a Save that fails (here, validation of the
// File, after the temporary file exists) leaves the old file as it was and
// no temporary file beside it; a good Save then replaces it. The atomic
// writer itself is tested in package internal/atomicfile.
func TestSaveFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.safetensors")
	if err := Save(path, sampleFile()); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path)

	bad := &File{Names: []string{"w"}}
	if err := Save(path, bad); err == nil {
		t.Fatal("Save of an invalid File succeeded")
	}
	if now, _ := os.ReadFile(path); string(now) != string(old) {
		t.Error("existing file changed after a failed Save")
	}
	onlyFile(t, dir, "ck.safetensors")

	f := sampleFile()
	f.Meta["step"] = "2"
	if err := Save(path, f); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta["step"] != "2" {
		t.Errorf("after a good Save, metadata %v, want step 2", got.Meta)
	}
	onlyFile(t, dir, "ck.safetensors")
}

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
