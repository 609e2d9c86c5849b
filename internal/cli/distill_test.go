package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/nn"
)

// TestDistillFlagsRejected: bad distillation flags and teachers are
// refused before any training, naming the flag.
func TestDistillFlagsRejected(t *testing.T) {
	dir := t.TempDir()
	notModel := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notModel, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--teacher", notModel, "--distill-temp", "0"}, "--distill-temp"},
		{[]string{"--teacher", notModel, "--distill-alpha", "-0.5"}, "--distill-alpha"},
		{[]string{"--teacher", filepath.Join(dir, "missing.safetensors")}, "--teacher"},
		{[]string{"--teacher", notModel}, "--teacher"},
	} {
		args := append([]string{"train", "--model", "lenet5", "--epochs", "1", "--train-limit", "64", "--test-limit", "64",
			"--out", filepath.Join(dir, "s.safetensors")}, c.args...)
		code, _, errs := run(t, args...)
		if code == 0 || !strings.Contains(errs, c.flag) || strings.Contains(errs, "epoch 1/1") {
			t.Errorf("%v: exit %d, stderr %q; want an error naming %s before training", c.args, code, errs, c.flag)
		}
	}
}

// TestPruneDistill runs a tiny LeNet-5 pruning run with --distill: the
// dense teacher is kept in the run folder, the report records the
// setting, and the run resumes with the same teacher.
func TestPruneDistill(t *testing.T) {
	if testing.Short() {
		t.Skip("trains")
	}
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errs := run(t, "prune", "--out", dir, "--train-limit", "512", "--test-limit", "256", "--pretrain-epochs", "1",
		"--rate", "50", "--step", "25", "--scheme", "G", "--global-epochs", "1", "--measure=false", "--distill",
		"--distill-temp", "3", "--distill-alpha", "0.5", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "distilling from "+filepath.Join(dir, "teacher.safetensors")+" (T 3, alpha 0.5)") {
		t.Errorf("stderr does not name the teacher: %q", errs)
	}
	var rep struct {
		Config map[string]any `json:"config"`
		Final  *struct {
			AccTuned float64 `json:"acc_tuned"`
		} `json:"final"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Config["distill"] != true || rep.Config["distill_temp"] != 3.0 || rep.Config["distill_alpha"] != 0.5 {
		t.Errorf("report config %v does not record the distillation", rep.Config)
	}
	if rep.Final == nil || rep.Final.AccTuned < 50 {
		t.Errorf("final %+v: want a fine-tuned accuracy above 50%%", rep.Final)
	}
	// The teacher is the dense model: no layer carries a mask.
	f, err := modelfile.Load(filepath.Join(dir, "teacher.safetensors"), "lenet5")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range f.Model.PrunableLayers() {
		if l.Mask() != nil {
			t.Errorf("teacher layer %s has a mask", l.(nn.Layer).Name())
		}
	}
	// Resuming a finished run reads the teacher back from the folder.
	code, _, errs = run(t, "prune", "--out", dir, "--resume", "--train-limit", "512", "--test-limit", "256", "--measure=false")
	if code != 0 || !strings.Contains(errs, "distilling from") {
		t.Errorf("resume: exit %d, stderr %q", code, errs)
	}
}
