package sgcnn

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/train"
)

// refAccuracy scores net on src one image at a time, counting top-1 and
// top-5 hits and the softmax cross-entropy from the logits by hand.
func refAccuracy(t *testing.T, net nn.Layer, src train.Source) (top1, top5, loss float64, n int) {
	t.Helper()
	var c1, c5 int
	err := src(0, func(b train.Batch) bool {
		y, err := net.Forward(nn.NewCtx(false), b.X)
		if err != nil {
			t.Fatal(err)
		}
		k := y.Shape[1]
		for i, label := range b.Y {
			row := y.Data[i*k : (i+1)*k]
			above, peak := 0, math.Inf(-1)
			for _, v := range row {
				if v > row[label] {
					above++
				}
				peak = max(peak, float64(v))
			}
			sum := 0.0
			for _, v := range row {
				sum += math.Exp(float64(v) - peak)
			}
			loss += peak + math.Log(sum) - float64(row[label])
			if above == 0 {
				c1++
			}
			if above < 5 {
				c5++
			}
			n++
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return 100 * float64(c1) / float64(n), 100 * float64(c5) / float64(n), loss / float64(n), n
}

// TestEvaluate scores a LeNet-5 on 30 MNIST test images in batches of 7
// (the last one short) and compares with accuracy and loss counted here
// image by image; the data set defaults to the architecture's.
func TestEvaluate(t *testing.T) {
	mm, err := models.New("lenet5", 10, 5)
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Model: mm}
	r, err := Evaluate(context.Background(), m, EvalConfig{TestLimit: 30, Batch: 7})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := OpenSplit("mnist", "", false, 30)
	if err != nil {
		t.Fatal(err)
	}
	src, err := EvalSource(ds, ds.Norm(), 1)
	if err != nil {
		t.Fatal(err)
	}
	top1, top5, loss, n := refAccuracy(t, mm.Net, src)
	if r.Dataset != "mnist" || r.N != n || math.Abs(r.Top1-top1) > 1e-9 || math.Abs(r.Top5-top5) > 1e-9 || math.Abs(r.Loss-loss) > 1e-4*max(1, loss) {
		t.Fatalf("Evaluate: %s %+v; counted by hand: %d images, top-1 %.2f, top-5 %.2f, loss %.5f", r.Dataset, r.EvalResult, n, top1, top5, loss)
	}
}

// TestEvaluateCompiled evaluates a LeNet-5's int8 network (EvalConfig.Net)
// and checks it against the int8 network's own logits counted here image
// by image, and that it is not the fp32 layers that were scored.
func TestEvaluateCompiled(t *testing.T) {
	m, q := quantizedLeNet(t, 5)
	r, err := Evaluate(context.Background(), m, EvalConfig{TestLimit: 40, Batch: 9, Net: q.Compiled})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := OpenSplit("mnist", "", false, 40)
	if err != nil {
		t.Fatal(err)
	}
	src, err := EvalSource(ds, ds.Norm(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var loss float64
	n := 0
	if err := src(0, func(b train.Batch) bool {
		y, err := q.Net.Forward(b.X)
		if err != nil {
			t.Fatal(err)
		}
		l, _, err := nn.SoftmaxCrossEntropy(y, b.Y, nil)
		if err != nil {
			t.Fatal(err)
		}
		loss += l
		n++
		return true
	}); err != nil {
		t.Fatal(err)
	}
	loss /= float64(n)
	if r.N != 40 || math.Abs(r.Loss-loss) > 1e-4*max(1, loss) {
		t.Fatalf("Evaluate with Net: %d images, loss %.6f; the int8 network image by image: %d, %.6f", r.N, r.Loss, n, loss)
	}
	f32, err := Evaluate(context.Background(), m, EvalConfig{TestLimit: 40, Batch: 9})
	if err != nil {
		t.Fatal(err)
	}
	if f32.Loss == r.Loss {
		t.Errorf("int8 and fp32 losses are the same (%v): Net was not evaluated", r.Loss)
	}
}

// TestEvaluateImageFolder scores a ResNet-20 on every other image of an
// image folder's val/ and compares with the images decoded here, in order,
// through the evaluation transform and counted by hand.
func TestEvaluateImageFolder(t *testing.T) {
	root := imageFolderFixture(t, [2]int{1, 4}, 40, 36)
	m := newFolderModel(t)
	r, err := Evaluate(context.Background(), m, EvalConfig{Dataset: ImageFolderDataset, DataDir: root, TestLimit: 6, Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	f, err := data.LoadImageFolder(data.ImageFolderSplit(root, false), 32)
	if err != nil {
		t.Fatal(err)
	}
	g := *f
	g.Files, g.Labels = nil, nil
	for i := 0; i < f.Len(); i += 2 {
		g.Files, g.Labels = append(g.Files, f.Files[i]), append(g.Labels, f.Labels[i])
	}
	l, err := data.NewLoader(&g, data.Config{BatchSize: 1, Norm: data.ImageNetNorm})
	if err != nil {
		t.Fatal(err)
	}
	top1, top5, loss, n := refAccuracy(t, m.Model.Net, train.FromLoader(context.Background(), l))
	if n != 6 || r.N != n || math.Abs(r.Top1-top1) > 1e-9 || math.Abs(r.Top5-top5) > 1e-9 || math.Abs(r.Loss-loss) > 1e-4*max(1, loss) {
		t.Fatalf("Evaluate: %+v; counted by hand: %d images, top-1 %.2f, top-5 %.2f, loss %.5f", r.EvalResult, n, top1, top5, loss)
	}
}

// TestEvaluateRefuses checks that bad settings are ConfigErrors naming
// their field, before any image is read, and that a cancelled context
// stops the evaluation.
func TestEvaluateRefuses(t *testing.T) {
	m := newFolderModel(t)
	root := imageFolderFixture(t, [2]int{1, 1}, 32, 32)
	for _, c := range []struct {
		cfg   EvalConfig
		field string
	}{
		{EvalConfig{Batch: -1}, "Batch"},
		{EvalConfig{TestLimit: -2}, "TestLimit"},
		{EvalConfig{Dataset: "nope"}, "Dataset"},
		{EvalConfig{Dataset: ImageFolderDataset}, "DataDir"},
		{EvalConfig{Dataset: ImageFolderDataset, DataDir: t.TempDir() + "/missing"}, ""},
	} {
		_, err := Evaluate(context.Background(), m, c.cfg)
		var ce *ConfigError
		if c.field == "" {
			if err == nil {
				t.Errorf("%+v: no error", c.cfg)
			}
			continue
		}
		if !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("%+v: %v; want a ConfigError of %s", c.cfg, err, c.field)
		}
	}
	five, err := models.New("resnet20", 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Evaluate(context.Background(), &Model{Model: five}, EvalConfig{Dataset: ImageFolderDataset, DataDir: root})
	if ce := (*ConfigError)(nil); !errors.As(err, &ce) || ce.Field != "DataDir" {
		t.Errorf("5 outputs, 3 class folders: %v; want a ConfigError of DataDir", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(ctx, m, EvalConfig{Dataset: ImageFolderDataset, DataDir: root}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v; want context.Canceled", err)
	}
}
