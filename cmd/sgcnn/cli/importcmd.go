package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/onnximport"
)

type importOptions struct {
	force      bool
	model      string
	out        string
	mean, std  string
	classes    int
	inputShape string
	dataset    string
}

func newImportCmd(g *globals) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import MODEL.onnx|CHECKPOINT [--model ARCH] -o OUT",
		Short: "Convert an ONNX network or a PyTorch checkpoint into an sgcnn model file",
		Long: `Read a network and write an sgcnn model file (safetensors) that every other
command takes and that loads with no other file. The file type is found
from the content, not the name.

An ONNX file (opsets 11 to 18, as torch.onnx.export writes them) brings its
own network: its graph is lowered to sgcnn's ops, the shape arithmetic
that exporters emit is folded, and its weights are loaded. Every Conv with
one group and every Gemm or MatMul with a weight becomes prunable (sgcnn
info lists them); grouped and depthwise convs stay dense. A dynamic batch
dimension is accepted; any other dynamic dimension needs --input-shape.
--mean and --std record the input normalisation the network was trained
with, per channel, on pixels scaled to [0, 1] first (x/255 - mean) / std,
as the built-in models do; --dataset records the data set eval, train and
prune use by default. --classes checks the number of outputs.

A PyTorch checkpoint (legacy pre-1.6 or zip format; a bare state_dict or
one under "state_dict"/"model"; a "module." prefix is stripped) holds only
weights: --model names the built-in architecture they are mapped onto.
Every parameter and BatchNorm running statistic of the architecture must be
in the checkpoint with the right shape; anything missing, unexpected or
mismatched is listed and nothing is written. Only the classes a state_dict
needs are unpickled: a checkpoint that asks for any other class is refused.`,
		Example: `  sgcnn import my_cnn.onnx --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 -o my_cnn.safetensors
  sgcnn import mobilenet.onnx --input-shape 3,64,64 --classes 10 --dataset cifar10 -o mobilenet.safetensors
  sgcnn import ../shared/models/cifar10/resnet56-4bfd9763.th --model resnet56 -o resnet56.safetensors`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runImport(g, o, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "architecture of a PyTorch checkpoint (see sgcnn info --list)")
	f.StringVarP(&o.out, "out", "o", "", "output model file (.safetensors)")
	addForce(f, &o.force)
	f.StringVar(&o.mean, "mean", "", "ONNX: per-channel input mean on [0,1] pixels, e.g. 0.485,0.456,0.406")
	f.StringVar(&o.std, "std", "", "ONNX: per-channel input std on [0,1] pixels, e.g. 0.229,0.224,0.225")
	f.IntVar(&o.classes, "classes", 0, "ONNX: the number of outputs the network must have (0: as the file says)")
	f.StringVar(&o.inputShape, "input-shape", "", "ONNX: one image's shape C,H,W, for files whose height or width is dynamic")
	f.StringVar(&o.dataset, "dataset", "", "ONNX: the data set to record as the model's own ("+strings.Join(sgcnn.Datasets, ", ")+")")
	return cmd
}

func runImport(g *globals, o *importOptions, in string) error {
	if o.out == "" {
		return usagef("--out is required")
	}
	if err := refuseOverwrite("--out", o.out, o.force); err != nil {
		return err
	}
	isONNX, err := sniffONNX(in)
	if err != nil {
		return err
	}
	if isONNX {
		return importONNX(g, o, in)
	}
	if o.mean != "" || o.std != "" || o.classes != 0 || o.inputShape != "" || o.dataset != "" {
		return usagef("%s is not an ONNX file: --mean, --std, --classes, --input-shape and --dataset apply to ONNX files only", in)
	}
	if o.model == "" {
		return usagef("--model is required: a PyTorch checkpoint does not name its architecture (one of %v)", models.Names())
	}
	m, _, err := openModel(o.model, in)
	if err != nil {
		return err
	}
	info := modelfile.Info{Dataset: sgcnn.DefaultDataset(m.Arch)}
	if info.Dataset == "cifar10" {
		info.Mean, info.Std = data.ImageNetNorm.Mean, data.ImageNetNorm.Std
	}
	if err := models.SaveFile(o.out, m, info, nil); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "wrote %s (%s, from %s)\n", o.out, m.Arch, in)
	return nil
}

// sniffONNX reports whether the file at path holds an ONNX model, from its
// first bytes.
func sniffONNX(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return onnximport.IsONNX(head[:n]), nil
}

// importONNX reads an ONNX network and writes it as a model file.
func importONNX(g *globals, o *importOptions, in string) error {
	if o.model != "" {
		return usagef("--model %s: an ONNX file brings its own network (--model is for PyTorch checkpoints)", o.model)
	}
	var opts onnximport.Options
	if o.inputShape != "" {
		s, err := parseInts(o.inputShape, "--input-shape")
		if err != nil {
			return err
		}
		if len(s) != 3 {
			return usagef("--input-shape %q: want C,H,W", o.inputShape)
		}
		opts.InputShape = s
	}
	if o.classes < 0 {
		return usagef("--classes %d: want 1 or more (0: as the file says)", o.classes)
	}
	if o.dataset != "" && !sgcnn.KnownDataset(o.dataset) {
		return usagef("--dataset %q: want one of %s", o.dataset, strings.Join(sgcnn.Datasets, ", "))
	}
	mean, std, err := parseNorm(o.mean, o.std)
	if err != nil {
		return err
	}
	gr, err := onnximport.ReadFile(in, opts)
	if err != nil {
		return err
	}
	m, err := models.FromGraph(gr, o.classes)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if mean != nil && len(mean) != m.InputShape[0] {
		return usagef("--mean and --std give %d channels, but %s takes %d", len(mean), in, m.InputShape[0])
	}
	info := modelfile.Info{Dataset: o.dataset, Mean: mean, Std: std}
	if err := models.SaveFile(o.out, m, info, nil); err != nil {
		return err
	}
	var dense int
	for _, n := range gr.Nodes {
		if n.Op == graph.Conv && !n.Prunable() {
			dense++
		}
	}
	fmt.Fprintf(g.stdout, "wrote %s (from %s: input %dx%dx%d, %d classes, %d nodes, %d prunable layers, %d grouped convs kept dense)\n",
		o.out, in, m.InputShape[0], m.InputShape[1], m.InputShape[2], m.Classes, len(gr.Nodes), len(m.Prunable), dense)
	return nil
}

// parseNorm reads --mean and --std: both or neither, the same number of
// values, every std positive.
func parseNorm(meanFlag, stdFlag string) (mean, std []float32, err error) {
	if (meanFlag == "") != (stdFlag == "") {
		return nil, nil, usagef("--mean and --std go together: give both or neither")
	}
	if meanFlag == "" {
		return nil, nil, nil
	}
	if mean, err = parseFloats(meanFlag, "--mean"); err != nil {
		return nil, nil, err
	}
	if std, err = parseFloats(stdFlag, "--std"); err != nil {
		return nil, nil, err
	}
	if len(mean) != len(std) {
		return nil, nil, usagef("--mean has %d values, --std %d: want one each per input channel", len(mean), len(std))
	}
	for i, s := range std {
		if !(s > 0) {
			return nil, nil, usagef("--std %q: value %d is %g, want a positive number", stdFlag, i+1, s)
		}
	}
	return mean, std, nil
}

// parseFloats reads comma-separated finite numbers.
func parseFloats(s, flag string) ([]float32, error) {
	var out []float32
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
		if err != nil || v != v || v > 1e30 || v < -1e30 {
			return nil, usagef("%s %q: %q is not a number", flag, s, f)
		}
		out = append(out, float32(v))
	}
	return out, nil
}

// parseInts reads comma-separated positive integers (at most 1<<20 each).
func parseInts(s, flag string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 || v > 1<<20 {
			return nil, usagef("%s %q: %q is not a positive integer up to %d", flag, s, f, 1<<20)
		}
		out = append(out, v)
	}
	return out, nil
}
