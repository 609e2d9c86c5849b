package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchArgs checks that bad arguments are usage errors reported before
// any measurement (nothing is printed).
func TestBenchArgs(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--models", "nosuch"},
		{"bench", "--models", "lenet5", "--rates", "150"},
		{"bench", "--models", "lenet5,resnet20", "--rates", "50"},
		{"bench", "--batches", "0"},
		{"bench", "--thread-counts", "0"},
		{"bench", "--repeats", "0"},
	} {
		var out, errw bytes.Buffer
		if code := Main(args, &out, &errw); code != exitUsage {
			t.Errorf("%v: exit code %d, want %d (stderr %q)", args, code, exitUsage, errw.String())
		}
		if out.Len() != 0 {
			t.Errorf("%v: printed %q before failing", args, out.String())
		}
	}
}

// TestBenchRun runs one small benchmark and checks the table has its row.
func TestBenchRun(t *testing.T) {
	var out, errw bytes.Buffer
	args := []string{"bench", "--models", "lenet5", "--rates", "90", "--batches", "2", "--thread-counts", "1",
		"--repeats", "1", "--idle-timeout", "0s", "--weights", ""}
	if code := Main(args, &out, &errw); code != exitOK {
		t.Fatalf("exit code %d: %s", code, errw.String())
	}
	if !strings.Contains(out.String(), "| lenet5 | 90 | random |") {
		t.Errorf("no lenet5 row in:\n%s", out.String())
	}
}

// TestBenchAmbiguousWeights: two pretrained files for one model in
// --weights is an error naming both, not a guess (pytorch.FindPretrained).
func TestBenchAmbiguousWeights(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"lenet5-a.th", "lenet5-b.th"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errw bytes.Buffer
	args := []string{"bench", "--models", "lenet5", "--rates", "90", "--batches", "2", "--thread-counts", "1",
		"--repeats", "1", "--idle-timeout", "0s", "--weights", dir}
	if code := Main(args, &out, &errw); code == exitOK {
		t.Fatalf("bench succeeded with two lenet5 files:\n%s", out.String())
	}
	for _, n := range []string{"lenet5-a.th", "lenet5-b.th"} {
		if !strings.Contains(errw.String(), n) {
			t.Errorf("error %q does not name %s", errw.String(), n)
		}
	}
}
