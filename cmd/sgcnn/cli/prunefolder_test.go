package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
)

// TestImageNetRecipesStartOnFolder checks that every ImageNet preset
// starts on an image folder: with --dry-run, sgcnn prune validates the
// preset's flags, loads the weights, opens the folder for the model (its
// classes and input size checked) and probes the torch trainer, then
// stops before the first evaluation, leaving no checkpoint. It also checks
// that a --val-split the folder cannot give is refused, naming the flag,
// and that --help says what --val-split does on a folder.
func TestImageNetRecipesStartOnFolder(t *testing.T) {
	root := t.TempDir()
	writeFolder(t, filepath.Join(root, "train"), 3, 2, 40, 36)
	writeFolder(t, filepath.Join(root, "val"), 3, 1, 40, 36)
	torch := exec.Command("/usr/bin/python3", "-c", "import torch, torchvision").Run() == nil
	files := map[string]string{}
	for _, r := range recipes {
		if !strings.HasPrefix(r.name, "imagenet-") {
			continue
		}
		arch := strings.Split(r.name, "-")[1]
		if files[arch] == "" {
			m, err := models.New(arch, 3, 1)
			if err != nil {
				t.Fatal(err)
			}
			files[arch] = filepath.Join(t.TempDir(), arch+".safetensors")
			if err := models.SaveFile(files[arch], m, modelfile.Info{}, nil); err != nil {
				t.Fatal(err)
			}
		}
		out := filepath.Join(t.TempDir(), "run")
		args := []string{"prune", "--recipe", r.name, "--weights", files[arch], "--data", root, "--out", out, "--dry-run"}
		if !torch {
			args = append(args, "--trainer", "go") // the preset's torch trainer needs torchvision
		}
		code, stdout, stderr := run(t, args...)
		if code != 0 || !strings.Contains(stdout, "dry run: "+arch+" on imagefolder") {
			t.Errorf("%s: exit %d\nstdout %s\nstderr %s", r.name, code, stdout, stderr)
			continue
		}
		if torch && !strings.Contains(stderr, "PyTorch DDP") {
			t.Errorf("%s: the torch trainer was not set up:\n%s", r.name, stderr)
		}
		if fileExists(filepath.Join(out, "checkpoint.safetensors")) {
			t.Errorf("%s: a dry run left a checkpoint", r.name)
		}
	}
	if len(files) != 2 {
		t.Fatalf("presets for %d architectures, want resnet50 and densenet201", len(files))
	}
	code, _, stderr := run(t, "prune", "--recipe", "imagenet-resnet50-Gconv60", "--weights", files["resnet50"], "--data", root,
		"--out", filepath.Join(t.TempDir(), "run"), "--val-split", "100", "--dry-run")
	if code != exitUsage || !strings.Contains(stderr, "--val-split 100: the training folder") {
		t.Errorf("--val-split 100 on 6 training images: exit %d, stderr %s", code, stderr)
	}
	_, help, _ := run(t, "prune", "--help")
	if !strings.Contains(help, "--val-split N, given, holds N images of PATH/train") || strings.Contains(help, "--val-split does not apply") {
		t.Errorf("prune --help does not explain --val-split on folders:\n%s", help)
	}
	code, _, stderr = run(t, "prune", "--recipe", "imagenet-resnet50-Gconv60", "--weights", files["resnet50"], "--out", filepath.Join(t.TempDir(), "run"), "--dry-run")
	if code != exitUsage || !strings.Contains(stderr, "--data PATH") {
		t.Errorf("a folder without --data: exit %d, stderr %s", code, stderr)
	}
}
