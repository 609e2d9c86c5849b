package models

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/checkpoint"
	"github.com/sgcnn/sgcnn/modelfile"
)

// TestClassesBoundedByFile is issue 19's finding 3: a small file whose
// metadata declares a huge class count used to build the model (and run
// out of memory) before its tensors were compared. The count must now be
// backed by a classifier weight in the file, and at most modelfile.MaxClasses.
func TestClassesBoundedByFile(t *testing.T) {
	m, err := New("lenet5", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	if err := SaveFile(good, m, modelfile.Info{}, nil); err != nil {
		t.Fatal(err)
	}
	for _, classes := range []string{"1000000000000", "5000000", "100001", "5000", "11", "0", "x"} {
		f, err := checkpoint.Load(good)
		if err != nil {
			t.Fatal(err)
		}
		f.Meta["classes"] = classes
		p := filepath.Join(dir, classes+".safetensors")
		if err := checkpoint.Save(p, f); err != nil {
			t.Fatal(err)
		}
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		_, err = LoadFile(p, "")
		runtime.ReadMemStats(&b)
		if err == nil || !strings.Contains(err.Error(), `"classes"`) {
			t.Errorf("classes %s: err %v, want one naming the metadata", classes, err)
		}
		if n := b.TotalAlloc - a.TotalAlloc; n > 32<<20 {
			t.Errorf("classes %s: refusing a 1.7 MB file allocated %d MB", classes, n>>20)
		}
	}
	if _, err := LoadFile(good, ""); err != nil {
		t.Errorf("the good file: %v", err)
	}
}
