// Tests chainplot's log parsing and epoch arithmetic.

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func writeLog(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "run.log")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A log of three runs one after another (the cycles of a cyclic rate), with
// progress lines, a resumed epoch logged twice and LG's local epochs, reads
// as one chain of epochs.
func TestReadStageRuns(t *testing.T) {
	log := writeLog(t, "resnet56 epoch 1/2 128/10000 (1%) 110/s\r"+
		"resnet56 epoch 1/2  lr 0.005  train loss 0.3 acc 99.5%  test top-1 93.10% top-5 99.7%\n"+
		"resnet56 epoch 2/2  lr 0.001  train loss 0.3 acc 99.5%  test top-1 93.20% top-5 99.7%\n"+
		"local step 1 epoch 1/1  lr 0.01  test top-1 50.00%\n"+
		"resnet56 epoch 1/2  lr 0.005  train loss 0.3 acc 99.5%  test top-1 93.00% top-5 99.7%\n"+
		"resnet56 epoch 1/2  lr 0.005  train loss 0.3 acc 99.5%  test top-1 93.05% top-5 99.7%\n"+
		"resnet56 epoch 2/2  lr 0.001  train loss 0.3 acc 99.5%  test top-1 93.30% top-5 99.7%\n"+
		"resnet56 epoch 1/2  lr 0.005  train loss 0.3 acc 99.5%  test top-1 92.90% top-5 99.7%\n")
	s, err := readStage("cyc:80:" + log)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{93.10, 93.20, 93.05, 93.30, 92.90}
	if s.name != "cyc" || s.start != 80 || !reflect.DeepEqual(s.top1, want) {
		t.Errorf("got %s:%g %v, want cyc:80 %v", s.name, s.start, s.top1, want)
	}
}

func TestReadStageErrors(t *testing.T) {
	for _, arg := range []string{
		"nostart",
		"a:x:" + writeLog(t, ""),
		"a:0:" + writeLog(t, "no epochs here\n"),
		"a:0:" + writeLog(t, "resnet56 epoch 2/3  test top-1 93.00%\n"), // epoch 1 missing
		"a:0:" + filepath.Join(t.TempDir(), "missing.log"),
	} {
		if _, err := readStage(arg); err == nil {
			t.Errorf("readStage(%q): no error", arg)
		}
	}
}

func TestScales(t *testing.T) {
	sc := scales{}
	if err := sc.Set("cyc=0.2"); err != nil || sc["cyc"] != 0.2 {
		t.Errorf("Set(cyc=0.2): %v, %v", err, sc)
	}
	for _, bad := range []string{"cyc", "cyc=", "cyc=-1", "cyc=x"} {
		if err := sc.Set(bad); err == nil {
			t.Errorf("Set(%q): no error", bad)
		}
	}
}
