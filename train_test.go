package sgcnn

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/train"
)

// smallTrain is a short LeNet-5 run on a slice of MNIST, with momentum,
// weight decay, a stepped rate, shifts and a validation split: everything
// a resume must carry over.
func smallTrain(out string) TrainConfig {
	return TrainConfig{Out: out, TrainSettings: TrainSettings{Model: "lenet5", Dataset: "mnist", Epochs: 3, Batch: 64,
		LR: 0.02, Schedule: "step:1:0.5", Momentum: 0.9, WeightDecay: 5e-4, Shift: 2, Seed: 7,
		TrainLimit: 600, TestLimit: 200, ValSplit: 100}}
}

// TestTrainResumes stops a run after its first epoch, resumes it from its
// file, and checks the weights, history and final test against the same
// run done at once, bit for bit on one thread.
func TestTrainResumes(t *testing.T) {
	SetThreads(1) // one thread: the same sums in the same order
	defer SetThreads(0)
	dir := t.TempDir()
	whole, err := New("lenet5", "mnist")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Train(context.Background(), whole, smallTrain(filepath.Join(dir, "whole.safetensors")))
	if err != nil {
		t.Fatal(err)
	}
	if want.Done != 3 || want.Test == nil || want.Validation == nil || want.Validation.Images != 100 {
		t.Fatalf("record %+v: want 3 epochs, a validation split of 100 and a final test", want)
	}

	m, err := New("lenet5", "mnist")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := smallTrain(filepath.Join(dir, "stopped.safetensors"))
	cfg.Saved = func(string) { cancel() } // after the first epoch's checkpoint
	if _, err := Train(ctx, m, cfg); !errors.Is(err, context.Canceled) || !errors.As(err, new(*StoppedError)) {
		t.Fatalf("cancelled run: error %v, want a StoppedError wrapping context.Canceled", err)
	}
	c, err := ReadTrainCheckpoint(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	if c.Record.Done != 1 || c.LegacyLimits {
		t.Fatalf("checkpoint after %d epochs (legacy limits %t), want 1", c.Record.Done, c.LegacyLimits)
	}
	got, err := Train(context.Background(), nil, TrainConfig{TrainSettings: c.Record.Config, Out: cfg.Out, From: c})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(untimed(got.History), untimed(want.History)) || *got.Test != *want.Test {
		t.Fatalf("resumed run: history %+v test %+v; want %+v and %+v as in one go", got.History, got.Test, want.History, want.Test)
	}
	f, err := models.LoadFile(cfg.Out, "lenet5")
	if err != nil {
		t.Fatal(err)
	}
	names, a := models.StateDict(whole.Model)
	_, b := models.StateDict(f.Model)
	for _, n := range names {
		if !slices.Equal(a[n].Data, b[n].Data) {
			t.Fatalf("tensor %s differs between the resumed run and the run in one go", n)
		}
	}
}

// untimed returns a history without its timings.
func untimed(h []train.EpochStats) []train.EpochStats {
	h = slices.Clone(h)
	for i := range h {
		h[i].Seconds, h[i].ImgPerSec = 0, 0
	}
	return h
}

// TestTrainRefuses checks that bad settings are *ConfigError naming the
// field, before any data is read.
func TestTrainRefuses(t *testing.T) {
	for field, edit := range map[string]func(*TrainConfig){
		"LR":          func(c *TrainConfig) { c.LR = 0 },
		"Epochs":      func(c *TrainConfig) { c.Epochs = 0 },
		"Batch":       func(c *TrainConfig) { c.Batch = MaxBatch + 1 },
		"Momentum":    func(c *TrainConfig) { c.Momentum = 1 },
		"WeightDecay": func(c *TrainConfig) { c.WeightDecay = -1 },
		"Shift":       func(c *TrainConfig) { c.Shift = MaxShift + 1 },
		"EpochSize":   func(c *TrainConfig) { c.EpochSize = -1 },
		"Dataset":     func(c *TrainConfig) { c.Dataset = "imagenet" },
		"Schedule":    func(c *TrainConfig) { c.Schedule = "sometimes" },
		"Teachers":    func(c *TrainConfig) { c.Teachers = []string{"missing.safetensors"} },
		"Temp":        func(c *TrainConfig) { c.Teachers, c.Temp, c.Alpha = []string{"train_test.go"}, 0, 0.5 },
		"Out":         func(c *TrainConfig) { c.Out = "" },
	} {
		c := smallTrain(filepath.Join(t.TempDir(), "x.safetensors"))
		edit(&c)
		var ce *ConfigError
		if _, err := Train(context.Background(), nil, c); !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: %v, want a *ConfigError of %s", field, err, field)
		}
	}
}
