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

// TestRecipeRejects checks the bad uses of --recipe: an unknown name lists
// the recipes, a contradicting flag is named beside the recipe's value,
// and neither starts a run.
func TestRecipeRejects(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--recipe", "fast"}, []string{`--recipe "fast": no such recipe`, "paper:", "best:"}},
		{[]string{"--recipe", "paper", "--global-epochs", "10"}, []string{"--recipe paper sets --global-epochs 90; --global-epochs 10 contradicts it"}},
		{[]string{"--recipe", "paper", "--distill"}, []string{"--recipe paper sets --distill false; --distill true contradicts it"}},
		{[]string{"--recipe", "best", "--average=false"}, []string{"--recipe best sets --average true; --average false contradicts it"}},
		{[]string{"--recipe", "paper", "--wd", "5e-4"}, []string{"--recipe paper sets --wd 0.0001; --wd 0.0005 contradicts it"}},
	}
	for _, c := range cases {
		code, _, errs := run(t, append([]string{"prune", "--out", dir}, c.args...)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", c.args, code, exitUsage, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, errs, w)
			}
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("a refused recipe created the run folder")
	}
}

// TestRecipeSetsFlags checks that a recipe's values reach the run's
// config, that a flag repeating a recipe's value (however written) is no
// contradiction, and that a recipe's defaults yield to flags.
func TestRecipeSetsFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want map[string]any
	}{
		{[]string{"--recipe", "paper", "--wd", "1e-4", "--scheme", "G"}, map[string]any{"local_epochs": 20.0, "global_epochs": 90.0,
			"global_schedule": "multistep:30,60", "weight_decay": 0.0001, "scheme": "G", "groups": 16.0}},
		{[]string{"--recipe", "best", "--global-epochs", "8"}, map[string]any{"distill": true, "cycles": 4.0, "average": true,
			"global_epochs": 8.0, "scheme": "LG", "local_epochs": 1.0}},
	} {
		dir := filepath.Join(t.TempDir(), "run")
		// A tiny real run: epochs of one batch.
		args := append([]string{"--threads", "1", "prune", "--out", dir, "--train-limit", "300", "--test-limit", "50",
			"--pretrain-epochs", "1", "--rates", "50,95", "--measure=false", "--epoch-size", "64", "--local-images", "0"}, c.args...)
		if c.args[1] == "best" {
			args = append(args, "--local-epochs", "1")
		}
		code, _, errs := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errs)
		}
		raw, err := os.ReadFile(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		var rep report.Run
		if err := json.Unmarshal(raw, &rep); err != nil {
			t.Fatal(err)
		}
		for k, v := range c.want {
			if rep.Config[k] != v {
				t.Errorf("%v: config %s = %v, want %v", c.args, k, rep.Config[k], v)
			}
		}
		if c.args[1] == "best" {
			if len(rep.Choices) != 1 || rep.Choices[0].On != report.EvalValidation || len(rep.Choices[0].Options) != 2 {
				t.Errorf("best: choices %+v, want the averaging choice on validation", rep.Choices)
			}
			// The kept model is the one the report scores on validation.
			f, err := models.LoadFile(filepath.Join(dir, "checkpoint.safetensors"), "lenet5")
			if err != nil {
				t.Fatal(err)
			}
			trainSet, _, err := openSplits("mnist", "", [2]int{300, 50})
			if err != nil {
				t.Fatal(err)
			}
			_, val, _, err := holdOut(trainSet, 30)
			if err != nil {
				t.Fatal(err)
			}
			r, err := evaluateSet(f.Model, val, val.Norm())
			if err != nil || r.Top1 != rep.Final.AccTuned {
				t.Errorf("the kept model scores %v (%v) on validation, the report %.2f", r.Top1, err, rep.Final.AccTuned)
			}
			if _, err := os.Stat(cyclePath(dir, 3)); err != nil {
				t.Errorf("cycle 3's model was not kept: %v", err)
			}
		}
	}
}
