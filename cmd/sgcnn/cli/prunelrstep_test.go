package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPruneLRStep checks prune's --lr-step: bad values and iter under the
// torch trainer are usage errors naming the flags before any work.
func TestPruneLRStep(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	base := []string{"prune", "--out", out, "--rate", "60", "--step", "30", "--global-epochs", "1",
		"--train-limit", "128", "--test-limit", "64", "--val-split", "0", "--measure=false"}
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
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused run wrote its folder")
	}
}

// TestPruneResumeLRStepIter checks that a run with --lr-step iter (the
// global phase's cosine stepped per batch) stopped in its global phase
// and resumed ends bit-identical to the run in one go, that the run keeps
// iter, and that --resume refuses to switch it.
func TestPruneResumeLRStepIter(t *testing.T) {
	if testing.Short() {
		t.Skip("prunes")
	}
	out := checkPruneResume(t, "--lr-step", "iter", "--global-schedule", "cosine")
	st, err := readPruneState(filepath.Join(out, "checkpoint.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Config.LRStep != "iter" {
		t.Errorf("stored lr_step %q, want iter", st.Config.LRStep)
	}
	code, _, errs := run(t, "prune", "--out", out, "--resume", "--lr-step", "epoch")
	if code != exitUsage || !strings.Contains(errs, "--lr-step epoch differs from the run's stored iter") {
		t.Errorf("resume switching --lr-step: exit %d, %q; want a usage error naming both", code, errs)
	}
}
