package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/sgcnn/sgcnn/export/onnx/ort"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/pytorch"
)

// prunedModelFile writes a ResNet-20 whose block convs keep every other
// input channel in two patterns, as an sgcnn model file.
func prunedModelFile(t *testing.T, dir string) string {
	t.Helper()
	m, err := models.New("resnet20", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.PrunableLayers() {
		n, c := p.MaskShape()
		mask := make([]float32, n*c)
		for f := range n {
			for j := range c {
				if (f+j)%2 == 0 {
					mask[f*c+j] = 1
				}
			}
		}
		if err := p.SetMask(mask); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "pruned.safetensors")
	if err := models.SaveFile(path, m, modelfile.Info{Dataset: "cifar10", Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}}, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// readONNX reads the ONNX file at path.
func readONNX(t *testing.T, path string) *onnxpb.ModelProto {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatal(err)
	}
	return &mp
}

func TestExportFormats(t *testing.T) {
	dir := t.TempDir()
	in := prunedModelFile(t, dir)

	out := filepath.Join(dir, "m.onnx")
	code, stdout, stderr := run(t, "export", "--weights", in, "--format", "onnx", "--conv", "grouped", "-o", out)
	if code != 0 || !strings.Contains(stdout, "19 pruned layers, convs grouped") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	mp := readONNX(t, out)
	meta := map[string]string{}
	for _, kv := range mp.MetadataProps {
		meta[kv.Key] = kv.Value
	}
	if meta["arch"] != "resnet20" || meta["mean"] != "0.5,0.5,0.5" || meta["std"] != "0.25,0.25,0.25" {
		t.Errorf("metadata %v", meta)
	}

	pth := filepath.Join(dir, "m.pth")
	if code, stdout, stderr := run(t, "export", "--weights", in, "--format", "torch", "-o", pth); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	sd, err := pytorch.Load(pth)
	if err != nil {
		t.Fatal(err)
	}
	if sd.Tensors["layer3.2.conv2.weight_mask"] == nil {
		t.Error("no mask buffer in the torch export")
	}
	if _, err := os.Stat(pth + ".groups.json"); err != nil {
		t.Error(err)
	}
}

func TestExportFastestLogsChoices(t *testing.T) {
	lib, err := ort.FindLibrary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	in := prunedModelFile(t, dir)
	out := filepath.Join(dir, "m.onnx")
	code, stdout, stderr := run(t, "export", "--weights", in, "--format", "onnx", "--conv", "fastest",
		"--time-batch", "2", "--ort-lib", lib, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if n := strings.Count(stdout, " ms at batch 2)"); n != 18 {
		t.Errorf("%d timed layers in the log, want 18:\n%s", n, stdout)
	}
}

// TestExportInt8 writes a pruned ResNet-20 with --precision int8 (calibrated
// on CIFAR-10's validation split) and reads it back: every conv in QDQ
// form, BatchNorm folded.
func TestExportInt8(t *testing.T) {
	sharedFile(t, "data/cifar10/data_batch_1.bin.gz")
	dir := t.TempDir()
	in := prunedModelFile(t, dir)
	out := filepath.Join(dir, "int8.onnx")
	code, stdout, stderr := run(t, "export", "--weights", in, "--format", "onnx", "--precision", "int8", "--calib", "64", "-o", out)
	if code != 0 || !strings.Contains(stdout, "19 int8 convs in QDQ form") || !strings.Contains(stdout, "calibrated on 64 images of the validation split") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	mp := readONNX(t, out)
	ops := map[string]int{}
	for _, n := range mp.Graph.Node {
		ops[n.OpType]++
	}
	if ops["QuantizeLinear"] != 19 || ops["Conv"] != 19 || ops["BatchNormalization"] != 0 {
		t.Errorf("ops %v: want 19 QuantizeLinear and 19 Conv, no BatchNormalization", ops)
	}
}

func TestExportBadInput(t *testing.T) {
	dir := t.TempDir()
	in := prunedModelFile(t, dir)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--format", "onnx", "-o", "x.onnx"}, exitUsage, "--weights is required"},
		{[]string{"--weights", in, "--format", "tflite", "-o", "x"}, exitUsage, `--format "tflite"`},
		{[]string{"--weights", in, "--format", "onnx"}, exitUsage, "--out is required"},
		{[]string{"--weights", in, "--format", "onnx", "--conv", "sparse", "-o", "x"}, exitUsage, "conv mode"},
		{[]string{"--weights", in, "--format", "onnx", "-o", dir}, exitUsage, "is a directory"},
		{[]string{"--weights", in, "--format", "onnx", "-o", filepath.Join(dir, "no", "x.onnx")}, exitError, "no such file"},
		{[]string{"--weights", filepath.Join(dir, "missing.pth"), "--model", "resnet20", "--format", "torch", "-o", "x"}, exitError, "missing.pth"},
		{[]string{"--weights", in, "--format", "onnx", "--precision", "bf16", "-o", "x"}, exitUsage, "--precision"},
		{[]string{"--weights", in, "--format", "torch", "--precision", "int8", "-o", "x"}, exitUsage, "--precision int8 writes ONNX"},
		{[]string{"--weights", in, "--format", "onnx", "--conv", "grouped", "--precision", "int8", "-o", "x"}, exitUsage, "--conv dense"},
	} {
		code, _, stderr := run(t, append([]string{"export"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", c.args, code, stderr, c.code, c.msg)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files left behind: %v", ents)
	}
}
