package pipeline

import (
	"testing"

	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/selfgroup"
	"github.com/sgcnn/sgcnn/train"
)

// counted wraps src and counts the passes over it in *n.
func counted(src train.Source, n *int) train.Source {
	return func(epoch int, yield func(train.Batch) bool) error {
		*n++
		return src(epoch, yield)
	}
}

// TestValidationSplitTestsOnceAtTheEnd runs a schedule with a validation
// split: every accuracy of the run must be the validation set's, and the
// test set must be read exactly once, after the run's last checkpoint.
func TestValidationSplitTestsOnceAtTheEnd(t *testing.T) {
	cfg := smallConfig(selfgroup.LG)
	cfg.ValSplit = 32
	r, st, ms := testRunner(t, cfg)
	val, test := synthetic(2, 16, 5), synthetic(2, 16, 6)
	var valPasses, testPasses, savesAtTest int
	r.Test = counted(val, &valPasses)
	r.Final = func(epoch int, yield func(train.Batch) bool) error {
		testPasses++
		savesAtTest = len(ms.states)
		return test(epoch, yield)
	}
	rep, err := r.Run(st)
	if err != nil {
		t.Fatal(err)
	}
	if testPasses != 1 {
		t.Fatalf("the test set was read %d times, want once", testPasses)
	}
	if n := len(ms.states); savesAtTest != n || ms.states[n-1].Phase != PhaseDone {
		t.Errorf("the test set was read after %d of %d checkpoints, want after the last (phase done)", savesAtTest, n)
	}
	// Baseline, 3 pruning steps, 3 local epochs, 1 global epoch.
	if valPasses != 8 {
		t.Errorf("the validation set was read %d times, want 8", valPasses)
	}
	if rep.Eval != report.EvalValidation || rep.FinalTest == nil {
		t.Fatalf("report eval %q, final test %v: want validation and a test accuracy", rep.Eval, rep.FinalTest)
	}
	// The final row is the validation accuracy of the final model, the
	// test accuracy its accuracy on the test batches.
	onVal, err := train.Evaluate(r.Model.Net, func(y func(train.Batch) bool) error { return val(0, y) })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Final.AccTuned != onVal.Top1 {
		t.Errorf("final row %.4f%%, want the validation accuracy %.4f%%", rep.Final.AccTuned, onVal.Top1)
	}
	onTest, err := train.Evaluate(r.Model.Net, func(y func(train.Batch) bool) error { return test(0, y) })
	if err != nil {
		t.Fatal(err)
	}
	// The run evaluates the compiled model: allow one image of 32.
	if d := *rep.FinalTest - onTest.Top1; d > 100.0/32+1e-9 || d < -100.0/32-1e-9 {
		t.Errorf("final test %.4f%%, want %.4f%% (the test batches)", *rep.FinalTest, onTest.Top1)
	}
}

// TestNoValidationSplitTestsEveryEpoch checks the run without a split: its
// accuracies are on the test set and no separate test figure is made.
func TestNoValidationSplitTestsEveryEpoch(t *testing.T) {
	r, st, _ := testRunner(t, smallConfig(selfgroup.G))
	rep, err := r.Run(st)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Eval != report.EvalTest || rep.FinalTest != nil || rep.OnValidation() {
		t.Fatalf("eval %q, final test %v: want test and none", rep.Eval, rep.FinalTest)
	}
}

// TestLocalImagesShortensLocalEpochs counts the training batches of an LG
// run whose local epochs are cut to one batch: the global epoch stays whole.
func TestLocalImagesShortensLocalEpochs(t *testing.T) {
	cfg := smallConfig(selfgroup.LG)
	cfg.LocalImages = 16
	r, st, _ := testRunner(t, cfg)
	batches := 0
	src := r.Train
	r.Train = func(epoch int, yield func(train.Batch) bool) error {
		return src(epoch, func(b train.Batch) bool {
			ok := yield(b) // false for the batch a short epoch turns away
			if ok {
				batches++
			}
			return ok
		})
	}
	if _, err := r.Run(st); err != nil {
		t.Fatal(err)
	}
	// 3 local epochs of 1 batch, 1 global epoch of 3.
	if batches != 6 {
		t.Fatalf("%d training batches, want 6", batches)
	}
	bad := cfg
	bad.LocalImages = -1
	if err := bad.Validate(); err == nil {
		t.Error("local images -1 passed validation")
	}
	bad = cfg
	bad.ValSplit = -1
	if err := bad.Validate(); err == nil {
		t.Error("val split -1 passed validation")
	}
}

// TestEveryEpochDrawsItsOwnData records the epoch the training source is
// asked for: every local and global epoch of an LG run must get its own.
func TestEveryEpochDrawsItsOwnData(t *testing.T) {
	cfg := smallConfig(selfgroup.LG)
	cfg.LocalEpochs, cfg.GlobalEpochs = 2, 2
	r, st, _ := testRunner(t, cfg)
	var asked []int
	src := r.Train
	r.Train = func(epoch int, yield func(train.Batch) bool) error {
		asked = append(asked, epoch)
		return src(epoch, yield)
	}
	if _, err := r.Run(st); err != nil {
		t.Fatal(err)
	}
	// 3 steps x 2 local epochs, then 2 global epochs.
	want := []int{0, 1, 2, 3, 4, 5, 6, 7}
	if len(asked) != len(want) {
		t.Fatalf("epochs asked %v, want %v", asked, want)
	}
	for i := range want {
		if asked[i] != want[i] {
			t.Fatalf("epochs asked %v, want %v", asked, want)
		}
	}
}
