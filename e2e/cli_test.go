package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/cmd/sgcnn/cli"
)

// sgcnn runs the command line and fails the test on a non-zero exit.
func sgcnn(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := cli.Main(args, &out, &errb); code != 0 {
		t.Fatalf("sgcnn %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// small limits every training and test run of the CLI tests.
var small = []string{"--train-limit", "128", "--test-limit", "128", "--batch", "32"}

// TestImportThenPrune is the acceptance check: sgcnn import, then
// sgcnn prune, on each torchvision network. The networks' files with a
// dynamic height and width are imported at CIFAR-10's 3x32x32
// (--input-shape) and pruned one step to Conv-50 with one epoch of global
// fine-tuning on a few CIFAR-10 images; info, export (ONNX and torch) and
// eval run on the result.
func TestImportThenPrune(t *testing.T) {
	if testing.Short() {
		t.Skip("prunes and fine-tunes seven networks")
	}
	nets := networks(t)
	for _, name := range torchvisionNets {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := importCIFAR(t, nets[name], dir)
			run := filepath.Join(dir, "run")
			out := sgcnn(t, append([]string{"prune", "--weights", file, "--rate", "50", "--step", "50", "--scheme", "G",
				"--global-epochs", "1", "--measure=false", "--out", run, "--json"}, small...)...)
			var rep struct {
				Model string `json:"model"`
				Steps []struct {
					Layers []struct {
						Pruned float64 `json:"pruned"`
					} `json:"layers"`
				} `json:"steps"`
				Final *struct {
					AccTuned float64 `json:"acc_tuned"`
				} `json:"final"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("prune --json: %v\n%s", err, out)
			}
			if len(rep.Steps) != 1 || len(rep.Steps[0].Layers) == 0 || rep.Final == nil {
				t.Fatalf("prune report: %d steps, final %v", len(rep.Steps), rep.Final)
			}
			for i, l := range rep.Steps[0].Layers {
				if l.Pruned < 0.2 {
					t.Errorf("layer %d pruned %.2f at Conv-50", i, l.Pruned)
				}
			}
			ckpt := filepath.Join(run, "checkpoint.safetensors")
			if info := sgcnn(t, "info", ckpt); !strings.Contains(info, "*") {
				t.Errorf("info shows no masked layer:\n%s", info)
			}
			sgcnn(t, "export", "--weights", ckpt, "--format", "onnx", "-o", filepath.Join(dir, "pruned.onnx"))
			sgcnn(t, "export", "--weights", ckpt, "--format", "torch", "-o", filepath.Join(dir, "pruned.pth"))
			for _, f := range []string{"pruned.onnx", "pruned.pth", "pruned.pth.groups.json"} {
				if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
					t.Errorf("export wrote no %s: %v", f, err)
				}
			}
		})
	}
}

// importCIFAR imports a network's dynamic-size file at 3x32x32 for
// CIFAR-10 and returns the model file.
func importCIFAR(t *testing.T, n *network, dir string) string {
	t.Helper()
	if n.DynamicHW == "" {
		t.Fatal("no file with a dynamic height and width")
	}
	file := filepath.Join(dir, "imported.safetensors")
	sgcnn(t, "import", n.DynamicHW, "--input-shape", "3,32,32", "--mean", "0.4914,0.4822,0.4465",
		"--std", "0.2470,0.2435,0.2616", "--dataset", "cifar10", "--classes", "10", "-o", file)
	return file
}

// TestImportedEveryCommand runs every command that takes a model on one
// imported network (shufflenet_v2_x1_0: BatchNorm, grouped convs, channel
// shuffle; fast): prune with each scheme and method, train,
// eval, bench and transfer.
func TestImportedEveryCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and prunes")
	}
	nets := networks(t)
	dir := t.TempDir()
	file := importCIFAR(t, nets["shufflenet_v2_x1_0"], dir)
	for _, c := range []struct{ scheme, method string }{
		{"LG", "self-grouping"}, {"L", "self-grouping"}, {"G", "taylor"}, {"G", "regular"}, {"G", "random"}, {"G", "l1filter"},
	} {
		t.Run(c.scheme+"-"+c.method, func(t *testing.T) {
			sgcnn(t, append([]string{"prune", "--weights", file, "--rate", "40", "--step", "20", "--scheme", c.scheme,
				"--method", c.method, "--local-epochs", "1", "--global-epochs", "1", "--measure=false",
				"--out", filepath.Join(dir, c.scheme+"-"+c.method)}, small...)...)
		})
	}
	trained := filepath.Join(dir, "trained.safetensors")
	out := sgcnn(t, append([]string{"train", "--weights", file, "--epochs", "1", "--lr", "0.01", "-o", trained}, small...)...)
	if !strings.Contains(out, "trained 1 epochs") {
		t.Errorf("train: %s", out)
	}
	pruned := filepath.Join(dir, "G-regular", "checkpoint.safetensors")
	sgcnn(t, "bench", "--models", file, "--rates", "50", "--batches", "2", "--thread-counts", "1", "--repeats", "1",
		"--idle", "1", "--idle-timeout", "1s")
	out = sgcnn(t, "transfer", pruned, "--dataset", "fashion-mnist", "--epochs", "1", "--train-limit", "128",
		"--test-limit", "128", "--batch", "32", "-o", filepath.Join(dir, "transfer.safetensors"))
	if !strings.Contains(out, "transferred to fashion-mnist") {
		t.Errorf("transfer: %s", out)
	}
	out = sgcnn(t, "eval", "--weights", trained, "--json")
	var r struct {
		Images int `json:"images"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Images != 10000 {
		t.Errorf("eval: %v: %s", err, out)
	}
}
