package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
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
	f, err := models.LoadFile(filepath.Join(dir, "teacher.safetensors"), "lenet5")
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

// TestTrainEnsembleTeacher trains a LeNet-5 from two teachers, one given
// as ARCH=FILE: the log names both, the run records them, --resume reopens
// them, and a run saved before ensembles (one "teacher") resumes with it.
func TestTrainEnsembleTeacher(t *testing.T) {
	dir := t.TempDir()
	var teachers []string
	for i := range 2 {
		m, err := models.New("lenet5", 0, uint64(i+7))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("teacher%d.safetensors", i))
		if err := models.SaveFile(p, m, modelfile.Info{}, nil); err != nil {
			t.Fatal(err)
		}
		teachers = append(teachers, p)
	}
	out := filepath.Join(dir, "s.safetensors")
	args := []string{"--train-limit", "128", "--test-limit", "64", "--batch", "32"}
	code, stdout, errs := run(t, append([]string{"train", "--model", "lenet5", "--epochs", "1", "--lr", "0.01", "--out", out, "--json",
		"--teacher", teachers[0], "--teacher", "lenet5=" + teachers[1]}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "distilling from the mean logits of " + teachers[0] + ", lenet5=" + teachers[1] + " (T 4, alpha 0.9)"
	if !strings.Contains(errs, want) {
		t.Errorf("stderr %q does not contain %q", errs, want)
	}
	var st trainState
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Config.Teachers, []string{teachers[0], "lenet5=" + teachers[1]}) || st.Done != 1 {
		t.Errorf("recorded teachers %q after %d epochs", st.Config.Teachers, st.Done)
	}

	// An old run: one "teacher", one more epoch to go.
	f, err := models.LoadFile(out, "")
	if err != nil {
		t.Fatal(err)
	}
	st.Config.Teachers, st.Config.LegacyTeacher, st.Config.Epochs = nil, teachers[1], 2
	if f.Info.Training, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := models.SaveFile(out, f.Model, f.Info, f.Extra); err != nil {
		t.Fatal(err)
	}
	code, stdout, errs = run(t, append([]string{"train", "--out", out, "--resume", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errs)
	}
	if want := "distilling from " + teachers[1] + " (T 4, alpha 0.9)"; !strings.Contains(errs, want) {
		t.Errorf("resume: stderr %q does not contain %q", errs, want)
	}
	st = trainState{}
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Config.Teachers, []string{teachers[1]}) || st.Config.LegacyTeacher != "" || st.Done != 2 {
		t.Errorf("after resume: teachers %q, legacy %q, %d epochs", st.Config.Teachers, st.Config.LegacyTeacher, st.Done)
	}

	// A teacher that is not of the architecture its ARCH= names.
	code, _, errs = run(t, append([]string{"train", "--model", "lenet5", "--epochs", "1", "--out", filepath.Join(dir, "x.safetensors"),
		"--teacher", teachers[0], "--teacher", "resnet20=" + teachers[1]}, args...)...)
	if code == 0 || !strings.Contains(errs, "--teacher resnet20=") || strings.Contains(errs, "epoch 1/1") {
		t.Errorf("wrong ARCH=: exit %d, stderr %q; want an error naming the teacher before training", code, errs)
	}
}
