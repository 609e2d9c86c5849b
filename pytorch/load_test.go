package pytorch

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// expectedTensor is one entry of testdata/expected.json, written by
// gen_fixtures.py from torch 1.13's own view of the tensors.
type expectedTensor struct {
	Name   string    `json:"name"`
	Kind   string    `json:"kind"`
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
}

func readExpected(t *testing.T) map[string][]expectedTensor {
	t.Helper()
	b, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var exp map[string][]expectedTensor
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	return exp
}

// checkAgainst compares sd with torch's description exactly, including the
// order of names.
func checkAgainst(t *testing.T, file string, sd *StateDict, want []expectedTensor) {
	t.Helper()
	var floats, ints []string
	for _, w := range want {
		if w.Kind == "float" {
			floats = append(floats, w.Name)
			got := sd.Tensors[w.Name]
			if got == nil {
				t.Errorf("%s: missing float tensor %q", file, w.Name)
				continue
			}
			if !reflect.DeepEqual(got.Shape, w.Shape) {
				t.Errorf("%s: %s shape %v, want %v", file, w.Name, got.Shape, w.Shape)
				continue
			}
			if len(got.Data) != len(w.Values) {
				t.Errorf("%s: %s has %d values, want %d", file, w.Name, len(got.Data), len(w.Values))
				continue
			}
			for i, v := range w.Values {
				if got.Data[i] != float32(v) && !(math.IsNaN(v) && got.Data[i] != got.Data[i]) {
					t.Errorf("%s: %s[%d] = %v, want %v", file, w.Name, i, got.Data[i], float32(v))
					break
				}
			}
		} else {
			ints = append(ints, w.Name)
			got := sd.Ints[w.Name]
			if got == nil {
				t.Errorf("%s: missing int tensor %q", file, w.Name)
				continue
			}
			wv := make([]int64, len(w.Values))
			for i, v := range w.Values {
				wv[i] = int64(v)
			}
			if !reflect.DeepEqual(got.Shape, w.Shape) || !reflect.DeepEqual(got.Data, wv) {
				t.Errorf("%s: %s = %v %v, want %v %v", file, w.Name, got.Shape, got.Data, w.Shape, wv)
			}
		}
	}
	if !reflect.DeepEqual(sd.Names, floats) {
		t.Errorf("%s: Names = %q, want %q", file, sd.Names, floats)
	}
	if !reflect.DeepEqual(sd.IntNames, ints) {
		t.Errorf("%s: IntNames = %q, want %q", file, sd.IntNames, ints)
	}
	if len(sd.Tensors) != len(sd.Names) || len(sd.Ints) != len(sd.IntNames) {
		t.Errorf("%s: maps and name lists differ in length", file)
	}
}

func TestLoadFixtures(t *testing.T) {
	exp := readExpected(t)
	if len(exp) < 4 {
		t.Fatalf("expected.json describes %d files, want at least 4", len(exp))
	}
	for file, want := range exp {
		t.Run(file, func(t *testing.T) {
			sd, err := Load(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			checkAgainst(t, file, sd, want)
		})
	}
}

func TestLoadNestedSkipsNothingInside(t *testing.T) {
	sd, err := Load("testdata/zip_nested.pt")
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Skipped) != 0 {
		t.Errorf("Skipped = %q, want none", sd.Skipped)
	}
	for _, n := range sd.Names {
		if strings.HasPrefix(n, "module.") {
			t.Errorf("name %q keeps its module. prefix", n)
		}
	}
}

func TestLoadRefusesForeignClass(t *testing.T) {
	_, err := Load("testdata/evil.pt")
	if err == nil {
		t.Fatal("evil.pt loaded without error")
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.File != "testdata/evil.pt" {
		t.Errorf("error %v is not an *Error naming the file", err)
	}
	if !strings.Contains(err.Error(), "posix.system") || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("error %q does not name the refused class", err)
	}
}

func TestLoadResNet20(t *testing.T) {
	const path = "/work/shared/models/cifar10/resnet20-12fca82f.th"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("pretrained ResNet-20 not present: %v", err)
	}
	sd, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	// SOURCES.md: 97 tensors, all float32, no num_batches_tracked
	// (PyTorch <= 0.4), 269,722 parameters excluding BN running stats.
	if len(sd.Names) != 97 || len(sd.IntNames) != 0 {
		t.Fatalf("%d float and %d int tensors, want 97 and 0", len(sd.Names), len(sd.IntNames))
	}
	params := 0
	for _, n := range sd.Names {
		if strings.HasPrefix(n, "module.") {
			t.Errorf("name %q keeps its module. prefix", n)
		}
		if !strings.HasSuffix(n, "running_mean") && !strings.HasSuffix(n, "running_var") {
			params += sd.Tensors[n].Len()
		}
	}
	if params != 269722 {
		t.Errorf("%d parameters, want 269722", params)
	}
	shapes := map[string][]int{
		"conv1.weight":          {16, 3, 3, 3},
		"layer2.0.conv1.weight": {32, 16, 3, 3},
		"layer3.2.bn2.bias":     {64},
		"linear.weight":         {10, 64},
		"linear.bias":           {10},
	}
	for n, s := range shapes {
		if got := sd.Tensors[n]; got == nil || !reflect.DeepEqual(got.Shape, s) {
			t.Errorf("%s: got %v, want shape %v", n, got, s)
		}
	}
	if sd.Names[0] != "conv1.weight" || sd.Names[len(sd.Names)-1] != "linear.bias" {
		t.Errorf("order: first %q, last %q", sd.Names[0], sd.Names[len(sd.Names)-1])
	}
	for _, v := range sd.Tensors["bn1.running_var"].Data {
		if !(v > 0) {
			t.Fatalf("bn1.running_var has non-positive value %v", v)
		}
	}
}
