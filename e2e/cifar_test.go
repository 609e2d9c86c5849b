package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sgcnn/sgcnn/cmd/sgcnn/cli"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/pytorch"
	"github.com/sgcnn/sgcnn/train"
)

// cifarResNets are the pretrained CIFAR ResNets and their top-1 accuracy
// on CIFAR-10's test set through the built-in path (cmd/sgcnn/cli's
// TestEvalPretrainedResNet20 and docs/RESULTS.md).
var cifarResNets = []struct {
	depth    int
	file     string
	top1x100 int // top-1 in hundredths of a percent
}{
	{20, "resnet20-12fca82f.th", 9173},
	{56, "resnet56-4bfd9763.th", 9339},
}

// TestCIFARResNetONNX imports the pretrained CIFAR ResNet-20, exported to
// ONNX by PyTorch, with sgcnn import, and checks its test accuracy; then
// it prunes it and the built-in ResNet-20 (loaded from the same .th) one
// shot at Conv-50 with the same seed and checks that both have the same
// masks and the same accuracy. ResNet-56 (93.39%) runs too with
// SGCNN_E2E_RESNET56=1 (about three times as long).
func TestCIFARResNetONNX(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates CIFAR-10's test set three times")
	}
	nets := networks(t)
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(sharedDir(root), "data", "cifar10")
	if _, err := os.Stat(filepath.Join(dataDir, "test_batch.bin.gz")); err != nil {
		t.Skipf("CIFAR-10 not present: %v", err)
	}
	test, err := data.LoadCIFAR10(dataDir, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cifarResNets {
		t.Run(fmt.Sprintf("resnet%d", r.depth), func(t *testing.T) {
			if r.depth != 20 && os.Getenv("SGCNN_E2E_RESNET56") != "1" {
				t.Skip("set SGCNN_E2E_RESNET56=1 to run")
			}
			n, ok := nets[fmt.Sprintf("resnet%d_cifar", r.depth)]
			if !ok {
				t.Skip("the pretrained CIFAR ResNets are not in ../shared/models/cifar10")
			}
			checkCIFARResNet(t, n, filepath.Join(sharedDir(root), "models", "cifar10", r.file), r.depth, r.top1x100, test)
		})
	}
}

func checkCIFARResNet(t *testing.T, n *network, th string, depth, want int, test *data.Dataset) {
	// Imported through the command line, as a user would.
	file := filepath.Join(t.TempDir(), "imported.safetensors")
	var out, errb bytes.Buffer
	if code := cli.Main([]string{"import", n.ONNX, "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225",
		"--dataset", "cifar10", "-o", file}, &out, &errb); code != 0 {
		t.Fatalf("sgcnn import: exit %d: %s", code, errb.String())
	}
	f, err := models.LoadFile(file, models.GraphArch)
	if err != nil {
		t.Fatal(err)
	}
	imported := f.Model
	norm := data.Norm{Mean: f.Info.Mean, Std: f.Info.Std}
	if !slices.Equal(norm.Mean, data.ImageNetNorm.Mean) || !slices.Equal(norm.Std, data.ImageNetNorm.Std) {
		t.Fatalf("recorded normalisation %+v, want ImageNet's", norm)
	}
	if got := top1x100(t, imported.Net, test, norm); got != want {
		t.Fatalf("imported ResNet-%d: top-1 %.2f%%, want %.2f%%", depth, float64(got)/100, float64(want)/100)
	}

	builtin, err := models.New(fmt.Sprintf("resnet%d", depth), 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := pytorch.Load(th)
	if err != nil {
		t.Fatal(err)
	}
	if err := models.LoadStateDict(builtin, sd.Tensors); err != nil {
		t.Fatal(err)
	}
	// The built-in model's prunable layers (every conv but the stem, and
	// the classifier) are pruned in both.
	const seed = 1
	selfGroup(t, builtin, builtin.Prunable, 50, seed)
	selfGroup(t, imported, builtin.Prunable, 50, seed)
	masks := map[string][]float32{}
	for _, p := range nn.Prunables(builtin.Net) {
		masks[p.Name()] = p.Mask()
	}
	for _, p := range nn.Prunables(imported.Net) {
		want, ok := masks[p.Name()]
		if !ok {
			t.Errorf("imported layer %s is not a prunable layer of the built-in ResNet-%d", p.Name(), depth)
		} else if !slices.Equal(p.Mask(), want) {
			t.Errorf("layer %s: masks differ", p.Name())
		}
		delete(masks, p.Name())
	}
	for name := range masks {
		t.Errorf("built-in layer %s has no imported counterpart", name)
	}
	a, b := top1x100(t, builtin.Net, test, norm), top1x100(t, imported.Net, test, norm)
	t.Logf("ResNet-%d one-shot Conv-50 (seed %d): built-in %.2f%%, imported %.2f%%", depth, seed, float64(a)/100, float64(b)/100)
	if a != b {
		t.Errorf("pruned ResNet-%d: built-in %.2f%%, imported %.2f%%", depth, float64(a)/100, float64(b)/100)
	}
}

// top1x100 is net's top-1 accuracy on ds in hundredths of a percent.
func top1x100(t *testing.T, net nn.Layer, ds *data.Dataset, norm data.Norm) int {
	t.Helper()
	l, err := data.NewLoader(ds, data.Config{BatchSize: 250, Norm: norm})
	if err != nil {
		t.Fatal(err)
	}
	src := train.FromLoader(context.Background(), l)
	r, err := train.Evaluate(net, func(yield func(train.Batch) bool) error { return src(0, yield) })
	if err != nil {
		t.Fatal(err)
	}
	if r.N != ds.N {
		t.Fatalf("evaluated %d images of %d", r.N, ds.N)
	}
	return int(math.Round(r.Top1 * 100))
}
