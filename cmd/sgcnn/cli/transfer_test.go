package cli

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
)

// maskedModelFile writes a model of arch with every other connection of
// its prunable layers masked off, and returns the path and the masks.
func maskedModelFile(t *testing.T, arch string) (string, map[string][]float32) {
	t.Helper()
	m, err := models.New(arch, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	masks := map[string][]float32{}
	for _, p := range m.PrunableLayers() {
		n, c := p.MaskShape()
		mask := make([]float32, n*c)
		for i := range mask {
			if (i/c+i%c)%2 == 0 {
				mask[i] = 1
			}
		}
		if err := p.SetMask(mask); err != nil {
			t.Fatal(err)
		}
		masks[p.Name()] = mask
	}
	path := filepath.Join(t.TempDir(), arch+".safetensors")
	if err := models.SaveFile(path, m, modelfile.Info{Dataset: "mnist"}, nil); err != nil {
		t.Fatal(err)
	}
	return path, masks
}

func TestTransferCommand(t *testing.T) {
	src, masks := maskedModelFile(t, "lenet5")
	out := filepath.Join(t.TempDir(), "t.safetensors")
	code, stdout, errs := run(t, "transfer", src, "--dataset", "fashion-mnist", "--epochs", "1", "--batch", "64",
		"--train-limit", "256", "--test-limit", "100", "-o", out, "--json")
	if code != 0 {
		if strings.Contains(errs, "fashion-mnist") && strings.Contains(errs, "no such file") {
			t.Skipf("Fashion-MNIST not installed: %s", errs)
		}
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rec sgcnn.TransferRecord
	if err := json.Unmarshal([]byte(stdout), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Head != "fc2" || rec.Classes != 10 || len(rec.History) != 1 || rec.TestN != 100 || !(rec.Pruned > 0.4) {
		t.Errorf("record %+v", rec)
	}
	f, err := models.LoadFile(out, "lenet5")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range nn.Prunables(f.Model.Net) {
		want := masks[p.Name()]
		if p.Name() == "fc2" {
			want = nil // the new head is dense
		}
		if !slices.Equal(p.Mask(), want) {
			t.Errorf("%s: mask changed by the transfer", p.Name())
		}
	}
	if f.Info.Dataset != "fashion-mnist" {
		t.Errorf("dataset %q", f.Info.Dataset)
	}
}

func TestTransferAndDetectBadInput(t *testing.T) {
	src, _ := maskedModelFile(t, "lenet5")
	for _, args := range [][]string{
		{"transfer", src, "--dataset", "cifar10"},
		{"transfer", src, "--epochs", "0"},
		{"transfer", src, "--milestones", "7,3"},
		{"detect"},
		{"detect", "--backbone", src, "--size", "30"},
	} {
		if code, _, errs := run(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d (%s), want %d", args, code, errs, exitUsage)
		}
	}
	// LeNet-5 has no global pooling to cut a backbone at.
	if code, _, errs := run(t, "detect", "--backbone", src, "--train", "4", "--test", "4", "--size", "32"); code != exitError || !strings.Contains(errs, "global average pooling") {
		t.Errorf("lenet5 backbone: exit %d: %s", code, errs)
	}
}

func TestDetectCommand(t *testing.T) {
	src, _ := maskedModelFile(t, "resnet20")
	code, stdout, errs := run(t, "detect", "--backbone", src, "--train", "24", "--test", "8", "--size", "32",
		"--epochs", "1", "--batch", "8", "--speed-batch", "2", "--speed-runs", "1", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep detectReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 1 || rep.Runs[0].Test.Images != 8 || !(rep.Runs[0].Pruned > 0.4) || !(rep.Runs[0].ImgPerSecCompiled > 0) {
		t.Errorf("report %+v", rep)
	}
}
