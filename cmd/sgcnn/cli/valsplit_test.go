package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/report"
)

func TestResolveValSplit(t *testing.T) {
	cases := []struct {
		asked    int
		explicit bool
		n, want  int
		bad      bool
	}{
		{5000, false, 60000, 5000, false}, // the default on MNIST
		{5000, false, 50000, 5000, false}, // and on CIFAR
		{5000, false, 512, 51, false},     // a tenth of a --train-limit
		{0, false, 60000, 0, false},
		{0, true, 60000, 0, false},
		{100, true, 512, 100, false},
		{511, true, 512, 511, false},
		{512, true, 512, 0, true}, // nothing left to train on
		{70000, true, 60000, 0, true},
		{-1, true, 60000, 0, true},
	}
	for _, c := range cases {
		got, err := resolveValSplit(c.asked, c.explicit, c.n)
		if c.bad {
			if err == nil || !strings.Contains(err.Error(), "--val-split") {
				t.Errorf("%+v: error %v, want one naming --val-split", c, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%+v: got %d, %v; want %d", c, got, err, c.want)
		}
	}
}

// TestValSplitRejects checks that every command refuses a negative
// --val-split and one as large as its training set, naming the flag,
// before it trains or writes anything.
func TestValSplitRejects(t *testing.T) {
	src, _ := maskedModelFile(t, "lenet5")
	dir := t.TempDir()
	out := filepath.Join(dir, "out.safetensors")
	limits := []string{"--train-limit", "200", "--test-limit", "50"}
	cmds := [][]string{
		{"train", "--model", "lenet5", "--epochs", "1", "-o", out},
		{"prune", "--weights", src, "--rate", "50", "--step", "50", "--measure=false", "--out", filepath.Join(dir, "run")},
		{"transfer", src, "--dataset", "mnist", "--epochs", "1", "-o", out},
	}
	for _, bad := range []string{"-1", "200", "1000"} {
		for _, c := range cmds {
			args := append(append(append([]string(nil), c...), limits...), "--val-split", bad)
			code, _, errs := run(t, args...)
			if code != exitUsage || !strings.Contains(errs, "--val-split "+bad) {
				t.Errorf("%v: exit %d, %q; want a usage error naming --val-split %s", args, code, errs, bad)
			}
		}
	}
	for _, bad := range []string{"-1", "60000"} {
		code, _, errs := run(t, "average", "-o", out, "--val-split", bad, "--dataset", "mnist", src)
		if code != exitUsage || !strings.Contains(errs, "--val-split "+bad) {
			t.Errorf("average --val-split %s: exit %d, %q; want a usage error naming the flag", bad, code, errs)
		}
	}
	if _, err := models.LoadFile(out, ""); err == nil {
		t.Error("a refused command wrote its output")
	}
}

// TestTrainValSplit trains with a validation split: every epoch is
// evaluated on the held-out images, the test set once at the end, and
// the run records the split; without the flag the default holds out a
// tenth of a small --train-limit.
func TestTrainValSplit(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.safetensors")
	code, stdout, errs := run(t, "--threads", "1", "train", "--model", "lenet5", "--epochs", "2", "--lr", "0.05",
		"--train-limit", "300", "--test-limit", "70", "--val-split", "60", "-o", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var st trainState
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatal(err)
	}
	want := report.Validation{Images: 60, Of: 300, Seed: valSeed}
	if st.Validation == nil || *st.Validation != want || st.Config.ValSplit != 60 {
		t.Fatalf("recorded split %+v (config %d), want %+v", st.Validation, st.Config.ValSplit, want)
	}
	for _, e := range st.History {
		if e.ValTop1 <= 0 || e.TestTop1 != 0 {
			t.Errorf("epoch %d: val %.2f%%, test %.2f%%: want validation only", e.Epoch, e.ValTop1, e.TestTop1)
		}
	}
	if st.Test == nil || st.Test.N != 70 {
		t.Fatalf("test result %+v, want one evaluation of the 70 test images", st.Test)
	}
	if strings.Count(errs, "test top-1") != 1 {
		t.Errorf("stderr reports the test set %d times, want once: %s", strings.Count(errs, "test top-1"), errs)
	}
	// The model file keeps the record; its final model scores the recorded
	// test accuracy on the test images.
	f, err := models.LoadFile(out, "lenet5")
	if err != nil {
		t.Fatal(err)
	}
	var saved trainState
	if err := json.Unmarshal(f.Info.Training, &saved); err != nil || saved.Test == nil || saved.Test.Top1 != st.Test.Top1 {
		t.Fatalf("saved record %+v (%v), want the test result", saved.Test, err)
	}
	_, testSet, err := openSplits("mnist", "", [2]int{300, 70})
	if err != nil {
		t.Fatal(err)
	}
	r, err := evaluateSet(f.Model, testSet, testSet.Norm())
	if err != nil || r.Top1 != st.Test.Top1 {
		t.Errorf("the saved model scores %v (%v) on the test images, the record says %.2f", r, err, st.Test.Top1)
	}
	// Default: a tenth of the 300 images.
	code, stdout, errs = run(t, "--threads", "1", "train", "--model", "lenet5", "--epochs", "1",
		"--train-limit", "300", "--test-limit", "70", "-o", out+"2", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	st = trainState{}
	if err := json.Unmarshal([]byte(stdout), &st); err != nil || st.Validation == nil || st.Validation.Images != 30 {
		t.Errorf("default split %+v (%v), want 30 images", st.Validation, err)
	}
}

// TestPruneValSplit runs the LeNet-5 demo with a validation split: the
// pretraining and the pruning run hold out the same images, the report
// says its accuracies are on validation and gives the test accuracy of
// the final model beside them.
func TestPruneValSplit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, errs := run(t, "--threads", "1", "prune", "--out", dir, "--train-limit", "400", "--test-limit", "80",
		"--pretrain-epochs", "1", "--rates", "50,95", "--global-epochs", "1", "--val-split", "50", "--measure=false", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep report.Run
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	want := report.Validation{Images: 50, Of: 400, Seed: valSeed}
	if !rep.OnValidation() || rep.Validation == nil || *rep.Validation != want || rep.Config["val_split"] != 50.0 {
		t.Fatalf("eval %q, split %+v, config %v: want validation on %+v", rep.Eval, rep.Validation, rep.Config["val_split"], want)
	}
	if rep.FinalTest == nil || rep.Final == nil {
		t.Fatalf("final %v, final test %v: want both", rep.Final, rep.FinalTest)
	}
	// The pretraining held out the same 50 images.
	f, err := models.LoadFile(filepath.Join(dir, "pretrained.safetensors"), "lenet5")
	if err != nil {
		t.Fatal(err)
	}
	var pre trainState
	if err := json.Unmarshal(f.Info.Training, &pre); err != nil || pre.Validation == nil || *pre.Validation != want {
		t.Fatalf("pretraining split %+v (%v), want %+v", pre.Validation, err, want)
	}
	// The Markdown report puts validation and test side by side.
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"val top-1 tuned", "| final model | val top-1 | test top-1 |", "evaluated once"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
}

// TestTrainValSplitResume extends a finished one-epoch run to two: the
// test set is evaluated again, on the two-epoch model.
func TestTrainValSplitResume(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--threads", "1", "train", "--model", "lenet5", "--train-limit", "300", "--test-limit", "70",
		"--batch", "64", "--lr", "0.05", "--val-split", "60"}
	c := filepath.Join(dir, "c.safetensors")
	if code, _, errs := run(t, append(base, "--epochs", "1", "-o", c)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	patchEpochs(t, c, 2)
	code, stdout, errs := run(t, "--threads", "1", "train", "--resume", "-o", c, "--train-limit", "300", "--test-limit", "70", "--json")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errs)
	}
	var st trainState
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatal(err)
	}
	f, err := models.LoadFile(c, "lenet5")
	if err != nil {
		t.Fatal(err)
	}
	_, testSet, err := openSplits("mnist", "", [2]int{300, 70})
	if err != nil {
		t.Fatal(err)
	}
	r, err := evaluateSet(f.Model, testSet, testSet.Norm())
	if err != nil || st.Done != 2 || st.Test == nil || st.Test.Top1 != r.Top1 {
		t.Fatalf("after %d epochs the record's test result is %+v, the model scores %v (%v)", st.Done, st.Test, r, err)
	}
}
