package cli

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/report"
)

// stopOn cancels a run when its log shows key (after the line holding it).
type stopOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	key    string
	cancel context.CancelFunc
}

func (w *stopOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(string(p), w.key) {
		w.cancel()
	}
	return len(p), nil
}

// TestPruneResumeIsBitIdentical runs sgcnn prune (LeNet-5's defaults:
// distillation, shifts, a local epoch after each step) in one go, and
// again stopped after its first global epoch (as SIGINT stops it) and
// continued with --resume, and checks that both checkpoints hold the same
// tensors bit for bit and the same final accuracy.
func TestPruneResumeIsBitIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("prunes")
	}
	checkPruneResume(t)
}

// checkPruneResume runs TestPruneResumeIsBitIdentical's check with the
// prune flags extra added to both runs, and returns the resumed run's
// folder.
func checkPruneResume(t *testing.T, extra ...string) string {
	t.Helper()
	src, _ := maskedModelFile(t, "lenet5")
	dir := t.TempDir()
	prune := func(out string) []string {
		return append([]string{"--threads", "1", "prune", "--weights", src, "--out", out, "--rate", "60", "--step", "30",
			"--global-epochs", "2", "--train-limit", "600", "--test-limit", "200", "--val-split", "100", "--measure=false"}, extra...)
	}
	whole := filepath.Join(dir, "whole")
	if code, _, errs := run(t, prune(whole)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}

	stopped := filepath.Join(dir, "stopped")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &stopOn{key: "global step 2 epoch 1/2", cancel: cancel}
	root, g := newRootG(&bytes.Buffer{}, log)
	g.ctx = ctx
	root.SetArgs(prune(stopped))
	err := root.Execute()
	if ie := (interruptedError{}); !errors.As(err, &ie) || !strings.Contains(err.Error(), "continue with") {
		t.Fatalf("stopped run: error %v, want an interruption saying how to continue; log %s", err, log.buf.String())
	}
	if code, _, errs := run(t, "prune", "--out", stopped, "--resume"); code != 0 || !strings.Contains(errs, "resuming") {
		t.Fatalf("resume: exit %d: %s", code, errs)
	}

	a, err := models.LoadFile(filepath.Join(whole, "checkpoint.safetensors"), "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := models.LoadFile(filepath.Join(stopped, "checkpoint.safetensors"), "")
	if err != nil {
		t.Fatal(err)
	}
	names, ta := models.StateDict(a.Model)
	_, tb := models.StateDict(b.Model)
	for _, n := range names {
		if tb[n] == nil || !slices.Equal(ta[n].Data, tb[n].Data) {
			t.Fatalf("tensor %s differs between the resumed run and the run in one go", n)
		}
	}
	var ra, rb report.Run
	readJSONFile(t, filepath.Join(whole, "report.json"), &ra)
	readJSONFile(t, filepath.Join(stopped, "report.json"), &rb)
	if ra.FinalTest == nil || rb.FinalTest == nil || *ra.FinalTest != *rb.FinalTest || len(ra.Steps) != 2 || len(rb.Steps) != 2 {
		t.Errorf("final test %v against %v in one go, steps %d and %d; want the same", rb.FinalTest, ra.FinalTest, len(rb.Steps), len(ra.Steps))
	}
	return stopped
}
