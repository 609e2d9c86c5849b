package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnvDir(t *testing.T) {
	for name, want := range map[string]string{
		"cifar10":       "SGCNN_CIFAR10_DIR",
		"fashion-mnist": "SGCNN_FASHION_MNIST_DIR",
	} {
		if got := EnvDir(name); got != want {
			t.Errorf("EnvDir(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestDefaultDir(t *testing.T) {
	root := t.TempDir()
	own := filepath.Join(root, "own")
	parent := filepath.Join(root, "parent")
	shared := filepath.Join(root, "shared", "data", "toy")
	work := filepath.Join(root, "main", "sub")
	for _, d := range []string{own, filepath.Join(parent, "toy"), shared, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(work)
	t.Setenv("SGCNN_TOY_DIR", "")
	t.Setenv(EnvData, "")

	// Found from root/main/sub by walking up to root/shared/data/toy.
	if got, err := DefaultDir("toy"); err != nil || got != shared {
		t.Errorf("shared: got %q, %v; want %s", got, err, shared)
	}
	t.Setenv(EnvData, parent)
	if got, err := DefaultDir("toy"); err != nil || got != filepath.Join(parent, "toy") {
		t.Errorf("SGCNN_DATA: got %q, %v", got, err)
	}
	t.Setenv("SGCNN_TOY_DIR", own)
	if got, err := DefaultDir("toy"); err != nil || got != own {
		t.Errorf("SGCNN_TOY_DIR: got %q, %v", got, err)
	}
	t.Setenv("SGCNN_TOY_DIR", filepath.Join(root, "missing"))
	if _, err := DefaultDir("toy"); err == nil || !strings.Contains(err.Error(), "SGCNN_TOY_DIR") {
		t.Errorf("missing SGCNN_TOY_DIR: err = %v", err)
	}

	// Nothing anywhere: the error says where to put files and what to set.
	t.Setenv("SGCNN_NONE_DIR", "")
	_, err := DefaultDir("none")
	if err == nil {
		t.Fatal("no error for a missing data set")
	}
	for _, want := range []string{filepath.Join(root, "main", "shared", "data", "none"), "SGCNN_NONE_DIR", "SGCNN_DATA"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
