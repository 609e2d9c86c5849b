package cli

import (
	"encoding/json"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// writeFolder writes perClass w x h PNGs for each of classes sub-folders
// of dir, whose brightest channel is the class (mod 3).
func writeFolder(t *testing.T, dir string, classes, perClass, w, h int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(classes), uint64(perClass)))
	for c := range classes {
		sub := filepath.Join(dir, string(rune('a'+c)))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range perClass {
			img := image.NewNRGBA(image.Rect(0, 0, w, h))
			for j := 0; j < len(img.Pix); j += 4 {
				copy(img.Pix[j:], []uint8{uint8(rng.IntN(100)), uint8(rng.IntN(100)), uint8(rng.IntN(100)), 255})
				img.Pix[j+c%3] += 120
			}
			f, err := os.Create(filepath.Join(sub, string(rune('a'+i))+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
}

// TestImageFolderTrainEval trains a ResNet-20 for one epoch on an image
// folder's train/ (Go engine) and evaluates it with sgcnn eval on its
// val/: eval reads the model file's data set, scores what the run's last
// epoch scored on the same folder, and refuses a folder whose classes do
// not match, a corrupt image (by name) and an empty folder.
func TestImageFolderTrainEval(t *testing.T) {
	root := t.TempDir()
	writeFolder(t, filepath.Join(root, "train"), 3, 4, 40, 36)
	writeFolder(t, filepath.Join(root, "val"), 3, 2, 36, 44)
	out := filepath.Join(t.TempDir(), "r20.safetensors")
	code, stdout, errs := run(t, "train", "--model", "resnet20", "--classes", "3", "--dataset", "imagefolder", "--data", root,
		"--epochs", "1", "--batch", "4", "--lr", "0.01", "--threads", "1", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, errs)
	}
	var st trainState
	if err := json.Unmarshal([]byte(stdout), &st); err != nil || len(st.History) != 1 {
		t.Fatalf("train --json: %v: %s", err, stdout)
	}
	code, stdout, errs = run(t, "eval", "--weights", out, "--data", root, "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errs)
	}
	var r struct {
		Dataset string  `json:"dataset"`
		Top1    float64 `json:"top1"`
		Images  int     `json:"images"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if r.Dataset != "imagefolder" || r.Images != 6 || r.Top1 != st.History[0].TestTop1 {
		t.Fatalf("eval: %+v; the run's last epoch scored %.2f%% on the same folder", r, st.History[0].TestTop1)
	}

	bad := []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"classes", func(dir string) { writeFolder(t, dir, 2, 1, 32, 32) }, "has 2 class folders"},
		{"corrupt", func(dir string) {
			writeFolder(t, dir, 3, 1, 32, 32)
			os.WriteFile(filepath.Join(dir, "b", "zz.png"), []byte("\x89PNG\r\n\x1a\nbroken"), 0o644)
		}, filepath.Join("b", "zz.png")},
		{"empty", func(string) {}, "no .jpg"},
	}
	for _, c := range bad {
		dir := t.TempDir()
		c.setup(dir)
		code, _, errs := run(t, "eval", "--weights", out, "--data", dir)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, %q; want an error with %q", c.name, code, errs, c.want)
		}
	}
	code, _, errs = run(t, "train", "--model", "resnet20", "--classes", "3", "--dataset", "imagefolder", "--data", root,
		"--val-split", "10", "--out", filepath.Join(t.TempDir(), "x.safetensors"))
	if code == 0 || !strings.Contains(errs, "val folder") {
		t.Errorf("--val-split with a folder: exit %d, %q", code, errs)
	}
}

// TestImageFolderTrainTorch trains on an image folder with --trainer torch
// on two gloo processes (torchvision reads the folder): the epoch sees
// every training image, and sgcnn eval (Go) scores the result as the
// run's evaluation after the epoch did.
func TestImageFolderTrainTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts torchrun")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch, torchvision").Run(); err != nil {
		t.Skip("PyTorch or torchvision not installed: apt-get install python3-torch python3-torchvision")
	}
	root := t.TempDir()
	writeFolder(t, filepath.Join(root, "train"), 3, 4, 40, 36)
	writeFolder(t, filepath.Join(root, "val"), 3, 2, 36, 44)
	out := filepath.Join(t.TempDir(), "r20.safetensors")
	code, stdout, errs := run(t, "train", "--model", "resnet20", "--classes", "3", "--dataset", "imagefolder", "--data", root,
		"--epochs", "1", "--batch", "4", "--lr", "0.01", "--trainer", "torch", "--nproc", "2", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, errs)
	}
	var st trainState
	if err := json.Unmarshal([]byte(stdout), &st); err != nil || len(st.History) != 1 {
		t.Fatalf("train --json: %v: %s", err, stdout)
	}
	if !strings.Contains(errs, "images 12 ") {
		t.Errorf("the torch epoch did not see the 12 training images:\n%s", errs)
	}
	code, stdout, errs = run(t, "eval", "--weights", out, "--data", root, "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errs)
	}
	var r struct {
		Top1 float64 `json:"top1"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || r.Top1 != st.History[0].TestTop1 {
		t.Fatalf("eval top-1 %v (%v); the run scored %.2f%% on the same folder", r.Top1, err, st.History[0].TestTop1)
	}
}
