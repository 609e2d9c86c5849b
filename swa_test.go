package sgcnn

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
)

// TestAverageMeans averages two LeNet-5s (no batch norm: nothing to
// re-estimate) on a slice of MNIST: the file holds the mean of their
// weights and the record of its inputs, and the test accuracy is the
// saved model's.
func TestAverageMeans(t *testing.T) {
	dir := t.TempDir()
	var files []string
	var nets []*models.Model
	for i, seed := range []uint64{1, 2} {
		m, err := models.New("lenet5", 0, seed)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, []string{"a", "b"}[i]+".safetensors")
		if err := models.SaveFile(p, m, modelfile.Info{Dataset: "mnist"}, nil); err != nil {
			t.Fatal(err)
		}
		files, nets = append(files, p), append(nets, m)
	}
	out := filepath.Join(dir, "avg.safetensors")
	r, err := Average(context.Background(), AverageConfig{Files: files, Out: out, Batch: 64, ValSplit: 100, TestLimit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 2 || r.BNImages != 0 || r.Dataset != "mnist" || r.Val == nil || r.Val.N != 100 || r.Test == nil || r.Test.N != 200 {
		t.Fatalf("result %+v", r)
	}
	f, err := models.LoadFile(out, "lenet5")
	if err != nil {
		t.Fatal(err)
	}
	pa, pb, pm := nn.AllParams(nets[0].Net), nn.AllParams(nets[1].Net), nn.AllParams(f.Model.Net)
	for i := range pm {
		for j, got := range pm[i].Value.Data {
			want := (float64(pa[i].Value.Data[j]) + float64(pb[i].Value.Data[j])) / 2
			if math.Abs(float64(got)-want) > 1e-6*(1+math.Abs(want)) {
				t.Fatalf("%s[%d] = %g, want the mean %g", pm[i].Name, j, got, want)
			}
		}
	}
	test, err := OpenSplit("mnist", "", false, 200)
	if err != nil {
		t.Fatal(err)
	}
	again, err := evaluate(f.Model, test, RecordedNorm(f.Info, test), 200)
	if err != nil {
		t.Fatal(err)
	}
	if again.Top1 != r.Test.Top1 {
		t.Errorf("saved model scores %.2f%%, Average reported %.2f%%", again.Top1, r.Test.Top1)
	}
}

// TestAverageRefuses checks that bad settings are *ConfigError naming
// the field, before any file is read.
func TestAverageRefuses(t *testing.T) {
	ok := AverageConfig{Files: []string{"missing.safetensors"}, Out: "o.safetensors", Batch: 64}
	for field, edit := range map[string]func(*AverageConfig){
		"Files":     func(c *AverageConfig) { c.Files = nil },
		"Out":       func(c *AverageConfig) { c.Out = c.Files[0] },
		"Batch":     func(c *AverageConfig) { c.Batch = 1 },
		"BNImages":  func(c *AverageConfig) { c.BNImages = -1 },
		"Shift":     func(c *AverageConfig) { c.Shift = -1 },
		"TestLimit": func(c *AverageConfig) { c.TestLimit = -1 },
		"ValSplit":  func(c *AverageConfig) { c.ValSplit = -1 },
	} {
		c := ok
		edit(&c)
		var ce *ConfigError
		if _, err := Average(context.Background(), c); !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: %v, want a *ConfigError of %s", field, err, field)
		}
	}
}
