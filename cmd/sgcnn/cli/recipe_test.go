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

// TestImagenetRecipes applies each ImageNet preset to prune's flags: every
// flag in the table exists, the values are the paper's (METHOD.md sections
// 3 and 5), and a flag given beside a preset may set its defaults
// (--trainer) but not contradict its fixed values (--rate).
func TestImagenetRecipes(t *testing.T) {
	want := map[string][3]string{ // model, scheme, rate
		"imagenet-resnet50-Gconv60":     {"resnet50", "G", "60"},
		"imagenet-resnet50-Gconv70":     {"resnet50", "G", "70"},
		"imagenet-resnet50-Gconv80":     {"resnet50", "G", "80"},
		"imagenet-densenet201-Gconv70":  {"densenet201", "G", "70"},
		"imagenet-densenet201-LGconv80": {"densenet201", "LG", "80"},
	}
	for name, w := range want {
		cmd := newPruneCmd(&globals{})
		if err := applyRecipe(cmd, name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f := cmd.Flags()
		get := func(n string) string { return f.Lookup(n).Value.String() }
		local := "0"
		if w[1] == "LG" {
			local = "20"
		}
		for flag, v := range map[string]string{"model": w[0], "scheme": w[1], "rate": w[2], "step": "10", "fc-cap": "60",
			"local-epochs": local, "global-epochs": "90", "global-lr": "0.01", "global-schedule": "multistep:30,60",
			"batch": "128", "wd": "0.0001", "momentum": "0.9", "groups": "16", "trainer": "torch", "dataset": "imagefolder"} {
			if got := get(flag); got != v {
				t.Errorf("%s: --%s %s, want %s", name, flag, got, v)
			}
		}
	}
	cmd := newPruneCmd(&globals{})
	cmd.Flags().Set("trainer", "go")
	cmd.Flags().Set("rate", "50")
	err := applyRecipe(cmd, "imagenet-resnet50-Gconv60")
	if err == nil || !strings.Contains(err.Error(), "--rate 50 contradicts it") {
		t.Errorf("a contradicting --rate: %v", err)
	}
	cmd = newPruneCmd(&globals{})
	cmd.Flags().Set("trainer", "go")
	if err := applyRecipe(cmd, "imagenet-resnet50-Gconv70"); err != nil || cmd.Flags().Lookup("trainer").Value.String() != "go" {
		t.Errorf("--trainer go beside a preset: %v", err)
	}
}
