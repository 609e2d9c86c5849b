package cli

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
)

// TestAverage averages the two epochs' snapshots of a short ResNet-20 run
// (train --snapshots): the file holds the mean of their weights, fresh batch-norm statistics, a record of its inputs,
// and is a model, not a run to resume.
func TestAverage(t *testing.T) {
	if testing.Short() {
		t.Skip("trains")
	}
	dataDir := filepath.Dir(sharedFile(t, "data/cifar10/SOURCES.md"))
	dir := t.TempDir()
	// One run of two epochs keeps its snapshots; their average is the model.
	snaps := filepath.Join(dir, "snaps")
	last := filepath.Join(dir, "r20.safetensors")
	code, _, errs := run(t, "train", "--model", "resnet20", "--data", dataDir, "--train-limit", "256", "--test-limit", "100",
		"--epochs", "2", "--batch", "64", "--lr", "0.05", "--snapshots", snaps, "-o", last)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, errs)
	}
	files := []string{filepath.Join(snaps, "epoch-001.safetensors"), filepath.Join(snaps, "epoch-002.safetensors")}
	if wl, w2 := weights(t, last), weights(t, files[1]); !slices.Equal(wl, w2) {
		t.Fatal("the last snapshot differs from the run's final model")
	}
	if slices.Equal(weights(t, files[0]), weights(t, files[1])) {
		t.Fatal("the two snapshots are the same model")
	}
	// A snapshot is not resumed in place (its later epochs would land in it).
	if code, _, errs := run(t, "train", "--resume", "-o", files[0]); code == 0 || !strings.Contains(errs, "copy it out of") {
		t.Errorf("resume of a snapshot in place: exit %d: %s", code, errs)
	}
	avg := filepath.Join(dir, "avg.safetensors")
	code, out, errs := run(t, append([]string{"average", "--data", dataDir, "--bn-images", "300", "--test-limit", "100", "--json", "-o", avg}, files...)...)
	if code != 0 {
		t.Fatalf("average: exit %d: %s", code, errs)
	}
	var res struct {
		Top1     float64 `json:"top1"`
		Images   int     `json:"images"`
		BNImages int     `json:"bn_images"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Images != 100 || res.BNImages != 300 || res.Top1 < 0 || res.Top1 > 100 {
		t.Fatalf("result %+v, want 100 test and 300 batch-norm images", res)
	}
	a, b, m := load(t, files[0]), load(t, files[1]), load(t, avg)
	pa, pb, pm := nn.AllParams(a.Model.Net), nn.AllParams(b.Model.Net), nn.AllParams(m.Model.Net)
	for i := range pm {
		for j, got := range pm[i].Value.Data {
			want := (float64(pa[i].Value.Data[j]) + float64(pb[i].Value.Data[j])) / 2
			if math.Abs(float64(got)-want) > 1e-6*(1+math.Abs(want)) {
				t.Fatalf("%s[%d] = %g, want the mean %g", pm[i].Name, j, got, want)
			}
		}
	}
	ba, bm := nn.AllBuffers(a.Model.Net), nn.AllBuffers(m.Model.Net)
	if ba[0].Value.Data[0] == bm[0].Value.Data[0] {
		t.Errorf("%s unchanged: the batch-norm statistics were not re-estimated", bm[0].Name)
	}
	if !strings.Contains(string(m.Info.Training), "average_of") || len(m.Info.Mean) != 3 {
		t.Errorf("info %s, mean %v: want the inputs recorded and the normalisation kept", m.Info.Training, m.Info.Mean)
	}
	if code, _, errs := run(t, "train", "--resume", "-o", avg); code == 0 || !strings.Contains(errs, "no training run") {
		t.Errorf("resume of an average: exit %d: %s", code, errs)
	}
}

func load(t *testing.T, path string) *models.File {
	t.Helper()
	f, err := models.LoadFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestAverageRejects checks that bad input fails before any output,
// naming the flag or file.
func TestAverageRejects(t *testing.T) {
	dir := t.TempDir()
	lenet := filepath.Join(dir, "lenet.safetensors")
	if code, _, errs := run(t, "--threads", "1", "train", "--model", "lenet5", "--train-limit", "128", "--test-limit", "64", "--epochs", "1", "-o", lenet); code != 0 {
		t.Fatalf("train: exit %d: %s", code, errs)
	}
	r20 := filepath.Join(dir, "r20.safetensors")
	m, err := models.New("resnet20", 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := models.SaveFile(r20, m, modelfile.Info{}, nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.safetensors")
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"average", lenet}, exitUsage, "--out"},
		{[]string{"average", "-o", out}, exitUsage, "no model files"},
		{[]string{"average", "-o", lenet, lenet}, exitUsage, "also an input"},
		{[]string{"average", "-o", out, "--bn-images", "-1", lenet}, exitUsage, "--bn-images"},
		{[]string{"average", "-o", out, "--batch", "1", lenet}, exitUsage, "--batch"},
		{[]string{"average", "-o", out, text}, exitUsage, "notes.txt"},
		{[]string{"average", "-o", out, lenet, filepath.Join(dir, "missing.safetensors")}, exitError, "missing.safetensors"},
		{[]string{"average", "-o", out, lenet, r20}, exitError, "r20.safetensors: swa: model is a resnet20"},
	}
	for _, c := range cases {
		code, _, errs := run(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want exit %d naming %q", c.args, code, errs, c.code, c.want)
		}
	}
	if _, err := models.LoadFile(out, ""); err == nil {
		t.Error("a refused average wrote its output")
	}
}
