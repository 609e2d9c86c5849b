package models_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/pytorch"
	"github.com/sgcnn/sgcnn/tensor"
)

// sharedFile finds shared/<rel> in the working directory or a folder above.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if filepath.Dir(d) == d {
			t.Skipf("shared/%s not found above %s", rel, wd)
		}
	}
}

// TestPretrainedResNet20 loads akamaster's CIFAR-10 ResNet-20 (option A)
// and classifies the first test images. The file's full-test accuracy is
// 91.73% (shared/models/cifar10/SOURCES.md); 64 images must give at least
// 54 right.
func TestPretrainedResNet20(t *testing.T) {
	path := sharedFile(t, "models/cifar10/resnet20-12fca82f.th")
	sd, err := pytorch.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.New("resnet20", 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := models.LoadStateDict(m, sd.Tensors); err != nil {
		t.Fatal(err)
	}
	dir, err := data.DefaultDir("cifar10")
	if err != nil {
		t.Skip(err)
	}
	ds, err := data.LoadCIFAR10(dir, false)
	if err != nil {
		t.Skip(err)
	}
	// The checkpoint was trained with ImageNet's normalisation.
	const n = 64
	mean, std := data.ImageNetNorm.Mean, data.ImageNetNorm.Std
	x := tensor.New(n, 3, 32, 32)
	for i := range n {
		img := ds.Image(i)
		for j, v := range img {
			c := j / (32 * 32)
			x.Data[i*len(img)+j] = (float32(v)/255 - mean[c]) / std[c]
		}
	}
	y, err := m.Net.Forward(nn.NewCtx(false), x)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i := range n {
		row := y.Data[i*10 : (i+1)*10]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == ds.Labels[i] {
			right++
		}
	}
	t.Logf("ResNet-20: %d of the first %d test images right", right, n)
	if right < 54 {
		t.Errorf("ResNet-20: %d of %d right, want >= 54", right, n)
	}
}
