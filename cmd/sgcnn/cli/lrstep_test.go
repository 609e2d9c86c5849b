package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/modelfile"
)

// TestTrainLRStep checks --lr-step: bad values and iter under the torch
// trainer are usage errors naming the flag before any work; a run with
// iter records it, and --resume refuses to switch it.
func TestTrainLRStep(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.safetensors")
	base := []string{"train", "--model", "lenet5", "--epochs", "1", "--train-limit", "128", "--test-limit", "64",
		"--val-split", "0", "--batch", "32", "--lr", "0.01", "-o", out}
	for _, c := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--lr-step", "batch"}, `--lr-step "batch": want epoch or iter`},
		{[]string{"--lr-step", ""}, `--lr-step "": want epoch or iter`},
		{[]string{"--lr-step", "iter", "--trainer", "torch"}, "--lr-step iter: not with --trainer torch"},
	} {
		code, _, errs := run(t, append(append([]string(nil), base...), c.extra...)...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want a usage error saying %q", c.extra, code, errs, c.want)
		}
	}
	if _, err := modelfile.Load(out, ""); err == nil {
		t.Fatal("a refused run wrote its output")
	}
	if code, _, errs := run(t, append(base, "--lr-step", "iter")...); code != 0 {
		t.Fatalf("--lr-step iter: exit %d: %s", code, errs)
	}
	f, err := modelfile.Load(out, "")
	if err != nil {
		t.Fatal(err)
	}
	var st trainState
	if err := json.Unmarshal(f.Info.Training, &st); err != nil || st.Config.LRStep != "iter" {
		t.Fatalf("stored lr_step %q (%v), want iter", st.Config.LRStep, err)
	}
	code, _, errs := run(t, "train", "-o", out, "--resume", "--epochs", "2", "--lr-step", "epoch")
	if code != exitUsage || !strings.Contains(errs, "--lr-step epoch differs from the run's stored iter") {
		t.Errorf("resume switching --lr-step: exit %d, %q; want a usage error naming both", code, errs)
	}
}
