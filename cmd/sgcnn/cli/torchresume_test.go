package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
)

// TestPruneTorchResumeInsideEpoch kills rank 1 of a two-process gloo
// fine-tuning epoch of sgcnn prune --trainer torch in its sixth step: the
// run stops with an error naming the rank and its exit code and the resume
// command, keeping its checkpoints; --resume continues inside the epoch
// (at the trainer's checkpoint after step 5: 10 steps, one checkpoint
// each), finishes the run and writes the report, and every pruned
// connection of the final model is zero.
func TestPruneTorchResumeInsideEpoch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts torchrun twice")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Skip("PyTorch not installed: apt-get install python3-torch")
	}
	w := sharedAbove(t, "models/cifar10/resnet20-12fca82f.th")
	cifar := filepath.Dir(sharedAbove(t, "data/cifar10/test_batch.bin.gz"))
	out := filepath.Join(t.TempDir(), "run")
	t.Setenv("SGCNN_TRAINER_KILL_RANK", "1")
	t.Setenv("SGCNN_TRAINER_KILL_STEP", "5")
	code, _, errs := run(t, "--threads", "2", "prune", "--model", "resnet20", "--weights", w, "--data", cifar, "--rate", "50", "--step", "50",
		"--scheme", "G", "--global-epochs", "1", "--global-lr", "0.01", "--train-limit", "320", "--test-limit", "100",
		"--val-split", "0", "--batch", "32", "--measure=false", "--trainer", "torch", "--nproc", "2", "--out", out)
	if code == 0 || !strings.Contains(errs, "rank 1 exited with code -9") || !strings.Contains(errs, "--resume") {
		t.Fatalf("killed worker: exit %d, want an error naming rank 1, code -9 and --resume:\n%s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(out, "torch", "epoch.ckpt.pt")); err != nil {
		t.Fatalf("the trainer's checkpoint is gone: %v", err)
	}
	os.Unsetenv("SGCNN_TRAINER_KILL_RANK")
	code, _, errs = run(t, "prune", "--out", out, "--resume", "--data", cifar)
	if code != 0 {
		t.Fatalf("--resume: exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "torch: resuming the phase at epoch 1, step 5") {
		t.Fatalf("--resume did not continue inside the epoch:\n%s", errs)
	}
	if _, err := os.Stat(filepath.Join(out, "report.json")); err != nil {
		t.Fatal(err)
	}
	f, err := models.LoadFile(filepath.Join(out, "checkpoint.safetensors"), "")
	if err != nil {
		t.Fatal(err)
	}
	pruned := 0
	for _, p := range nn.Prunables(f.Model.Net) {
		mask := p.Mask()
		if mask == nil {
			continue
		}
		w := p.Weight().Value.Data
		kk := len(w) / len(mask)
		for i, keep := range mask {
			for _, v := range w[i*kk : (i+1)*kk] {
				if keep == 0 && v != 0 {
					t.Fatalf("%s: pruned connection %d is %g", p.Name(), i, v)
				}
			}
			if keep == 0 {
				pruned++
			}
		}
	}
	if pruned == 0 {
		t.Fatal("no pruned connections in the final model")
	}
}

// sharedAbove returns shared/rel in the working directory or the nearest
// folder above it that has it (the checkout's parent holds shared/), or
// skips the test.
func sharedAbove(t *testing.T, rel string) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if filepath.Dir(dir) == dir {
			t.Skipf("shared/%s not found above the working directory", rel)
		}
		dir = filepath.Dir(dir)
	}
}
