package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sgcnn/sgcnn/checkpoint"
	"github.com/sgcnn/sgcnn/export/onnx/ort"
	"github.com/sgcnn/sgcnn/export/onnx/ort/orttest"
	"github.com/sgcnn/sgcnn/tensor"
)

// genVersion is the VERSION of scripts/gen_torchvision_onnx.py whose files
// these tests read; a cache of another version is written again.
const genVersion = 3

// python is Debian's interpreter, which has python3-torch and
// python3-torchvision.
const python = "/usr/bin/python3"

// torchvisionNets are the networks of torchvision the tests run, and
// cifarNets the small CIFAR CNN with BatchNorm kept and folded.
var (
	torchvisionNets = []string{"resnet18", "vgg11_bn", "mobilenet_v2", "densenet121", "squeezenet1_1",
		"shufflenet_v2_x1_0", "efficientnet_b0"}
	cifarNets = []string{"cifarnet", "cifarnet_fused"}
)

// network is one manifest entry of the generator, with its files' paths.
type network struct {
	ONNX       string `json:"onnx"`
	DynamicHW  string `json:"onnx_dynamic_hw"` // same network, height and width dynamic
	Ref        string `json:"ref"`
	InputShape []int  `json:"input_shape"`
	Classes    int    `json:"classes"`
	Opset      int    `json:"opset"`
	BNKept     bool   `json:"bn_kept"`
	Grads      bool   `json:"grads"`
}

type manifest struct {
	Version  int                 `json:"version"`
	Networks map[string]*network `json:"networks"`
}

var (
	netsOnce sync.Once
	nets     map[string]*network
	netsErr  error
)

// repoRoot is the folder holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = up
	}
}

// cacheDir is where the generated files live.
func cacheDir(root string) string {
	if c := os.Getenv("SGCNN_CACHE"); c != "" {
		return filepath.Join(c, "onnx")
	}
	return filepath.Join(root, "runs", ".cache", "onnx")
}

// sharedDir is ../shared beside the repository.
func sharedDir(root string) string { return filepath.Join(root, "..", "shared") }

// withCIFARResNets reports whether the pretrained CIFAR ResNets exist.
func withCIFARResNets(root string) bool {
	_, err := os.Stat(filepath.Join(sharedDir(root), "models", "cifar10", "resnet56-4bfd9763.th"))
	return err == nil
}

// readManifest reads the cache's manifest and checks that it is current
// and complete (every network and file present).
func readManifest(dir string, cifar bool) (map[string]*network, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	if m.Version != genVersion {
		return nil, fmt.Errorf("manifest.json: version %d, want %d", m.Version, genVersion)
	}
	want := append(append([]string{}, torchvisionNets...), cifarNets...)
	if cifar {
		want = append(want, "resnet20_cifar", "resnet56_cifar")
	}
	for _, name := range want {
		n, ok := m.Networks[name]
		if !ok {
			return nil, fmt.Errorf("manifest.json: no network %s", name)
		}
		for _, f := range []*string{&n.ONNX, &n.Ref, &n.DynamicHW} {
			if *f == "" {
				continue
			}
			*f = filepath.Join(dir, *f)
			if _, err := os.Stat(*f); err != nil {
				return nil, err
			}
		}
	}
	return m.Networks, nil
}

// generate runs the generator into dir.
func generate(root, dir string, cifar bool) error {
	if _, err := exec.LookPath(python); err != nil {
		return fmt.Errorf("%s not found: %w", python, err)
	}
	check := exec.Command(python, "-c", "import torch, torchvision")
	if out, err := check.CombinedOutput(); err != nil {
		return fmt.Errorf("%s cannot import torch and torchvision (install python3-torch python3-torchvision): %v: %s", python, err, out)
	}
	args := []string{filepath.Join(root, "scripts", "gen_torchvision_onnx.py"), "--out", dir}
	if cifar {
		args = append(args, "--cifar-resnets")
	}
	cmd := exec.Command(python, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("scripts/gen_torchvision_onnx.py: %v\n%s", err, out)
	}
	return nil
}

// networks returns the generated networks, writing them first when the
// cache lacks them. Without PyTorch it skips the test, except under
// CI=true.
func networks(t *testing.T) map[string]*network {
	t.Helper()
	netsOnce.Do(func() {
		root, err := repoRoot()
		if err != nil {
			netsErr = err
			return
		}
		dir, cifar := cacheDir(root), withCIFARResNets(root)
		if nets, netsErr = readManifest(dir, cifar); netsErr == nil {
			return
		}
		t.Logf("generating the ONNX test networks in %s (%v)", dir, netsErr)
		if netsErr = generate(root, dir, cifar); netsErr == nil {
			nets, netsErr = readManifest(dir, cifar)
		}
	})
	if netsErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the ONNX test networks are required under CI=true: %v", netsErr)
		}
		t.Skipf("skipping: no ONNX test networks: %v", netsErr)
	}
	return nets
}

// openORT loads ONNX Runtime or skips (fails under CI=true).
func openORT(t testing.TB) { orttest.Open(t) }

// runORT runs an ONNX model (input "input", output "logits") on x.
func runORT(t *testing.T, model []byte, x *tensor.Tensor) []float32 {
	t.Helper()
	s, err := ort.NewSession(model, "input", "logits", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	shape := make([]int64, len(x.Shape))
	for i, d := range x.Shape {
		shape[i] = int64(d)
	}
	y, ys, err := s.Run(x.Data, shape)
	if err != nil {
		t.Fatal(err)
	}
	if len(ys) != 2 || ys[0] != shape[0] {
		t.Fatalf("ONNX Runtime output shape %v, want [%d classes]", ys, shape[0])
	}
	return y
}

// reference is a network's PyTorch reference data.
type reference struct {
	*checkpoint.File
}

func loadRef(t *testing.T, n *network) reference {
	t.Helper()
	f, err := checkpoint.Load(n.Ref)
	if err != nil {
		t.Fatal(err)
	}
	return reference{f}
}

// tensor returns a float tensor of the reference, or fails.
func (r reference) tensor(t *testing.T, name string) *tensor.Tensor {
	t.Helper()
	x, ok := r.Tensors[name]
	if !ok {
		t.Fatalf("reference file has no tensor %s", name)
	}
	return x
}

// clone copies a tensor (layers may reuse or overwrite their inputs).
func clone(x *tensor.Tensor) *tensor.Tensor {
	c := tensor.New(x.Shape...)
	copy(c.Data, x.Data)
	return c
}

// relDiff is max |got - want| / max |want| (want's scale at least 1e-6),
// and the index where the difference is largest.
func relDiff(got, want []float32) (float64, int) { return relDiffFloor(got, want, 1e-6) }

// relDiffFloor is relDiff with want's scale at least floor.
func relDiffFloor(got, want []float32, floor float64) (float64, int) {
	scale := floor
	for _, w := range want {
		scale = max(scale, math.Abs(float64(w)))
	}
	worst, at := 0.0, 0
	for i := range want {
		d := math.Abs(float64(got[i])-float64(want[i])) / scale
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	return worst, at
}

// within fails when got and want differ by more than tol relative to
// want's largest magnitude.
func within(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	d, at := relDiff(got, want)
	t.Logf("%s: relative difference %.2g", what, d)
	if !(d <= tol) {
		t.Errorf("%s: value %d is %g, want %g (relative difference %.3g > %g)", what, at, got[at], want[at], d, tol)
	}
}
