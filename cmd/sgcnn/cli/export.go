package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/export/onnx/ort"
	"github.com/sgcnn/sgcnn/export/torchexport"
	"github.com/sgcnn/sgcnn/models"
)

type exportOptions struct {
	force     bool
	model     string
	weights   string
	format    string
	out       string
	conv      string
	foldBN    bool
	batch     int
	timeBatch int
	ortLib    string
	precision string // fp32 or int8 (onnx, QDQ)
	dataDir   string // int8: the data set's folder (calibration images)
	calib     int    // int8: calibration images
}

func newExportCmd(g *globals) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export --weights FILE [--model ARCH] --format onnx|torch -o OUT",
		Short: "Write a model as ONNX or as a PyTorch state_dict with masks",
		Long: `Export a model, dense or pruned, for other frameworks.

--format onnx writes an ONNX file (opset 13) that ONNX Runtime runs: input
"input" [batch, C, H, W], already normalised (the model file's mean and std
are in the file's metadata), output "logits" [batch, classes]. Pruned weights
are written as zeros. --conv says how each pruned conv is written:

  dense     one Conv with zeros in it (the default)
  grouped   per filter group, a Gather of the channels the group reads and a
            Conv, then a Concat and a Gather that restores the filter order
  fastest   both, each timed alone in ONNX Runtime; the faster is written,
            and each layer's choice and times are printed

fastest needs ONNX Runtime's library: --ort-lib, $SGCNN_ORT_LIB, or the copy
scripts/setup.sh installs in third_party/ort. --fold-bn folds each BatchNorm
that follows a conv into the conv; --batch fixes the batch dimension
(default: symbolic). --precision int8 writes the int8 network as sgcnn
quantize does (its --onnx): each conv in QDQ form (QuantizeLinear and
DequantizeLinear around it, int8 weights per output channel, int32 bias),
BatchNorm folded, pruned convs dense with zeros; it calibrates on --calib
images of the data set's validation split (found automatically, or in
--data).

--format torch writes OUT, a PyTorch zip-format state_dict (torch.load reads
it) with the pruned weights zeroed and one <layer>.weight_mask buffer per
pruned layer, and OUT.groups.json, each pruned layer's filter groups (their
filters and the input channels they read). scripts/load_torch_export.py
rebuilds the CIFAR ResNets, LeNet-5 and VGG-16 in PyTorch from it, masks
registered with torch.nn.utils.prune, and shows how to train on (also with
torchrun/DDP).

The weights may be an sgcnn model file (which names its architecture and
carries the masks) or a PyTorch checkpoint (--model names the
architecture). Output files are written whole or not at all.`,
		Example: `  sgcnn export --weights runs/resnet56-pruned.safetensors --format onnx -o resnet56.onnx
  sgcnn export --weights runs/resnet56-pruned.safetensors --format onnx --conv fastest -o resnet56.onnx
  sgcnn export --model resnet20 --weights ../shared/models/cifar10/resnet20-12fca82f.th --format onnx -o r20.onnx
  sgcnn export --weights runs/resnet56-pruned.safetensors --format onnx --precision int8 -o resnet56-int8.onnx
  sgcnn export --weights runs/resnet56-pruned.safetensors --format torch -o resnet56.pth
  /usr/bin/python3 scripts/load_torch_export.py resnet56.pth`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runExport(g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.weights, "weights", "", "model file (sgcnn .safetensors or PyTorch .th/.pth)")
	f.StringVar(&o.model, "model", "", "architecture of a PyTorch checkpoint (see sgcnn info --list)")
	f.StringVar(&o.format, "format", "", "onnx or torch")
	f.StringVarP(&o.out, "out", "o", "", "output file")
	addForce(f, &o.force)
	f.StringVar(&o.conv, "conv", "dense", "onnx: how pruned convs are written: dense, grouped or fastest")
	f.BoolVar(&o.foldBN, "fold-bn", false, "onnx: fold BatchNorms into the convs before them")
	f.IntVar(&o.batch, "batch", 0, "onnx: fixed batch size (0: symbolic)")
	f.IntVar(&o.timeBatch, "time-batch", 8, "onnx, --conv fastest: batch size the layers are timed at")
	f.StringVar(&o.ortLib, "ort-lib", "", "onnx, --conv fastest: ONNX Runtime shared library (default: found automatically)")
	f.StringVar(&o.precision, "precision", "fp32", "onnx: fp32, or int8 (QDQ form, calibrated on the data set's validation split)")
	f.StringVar(&o.dataDir, "data", "", "onnx, --precision int8: folder with the data set's files (default: found automatically)")
	f.IntVar(&o.calib, "calib", 512, "onnx, --precision int8: validation images to calibrate the activation ranges on")
	return cmd
}

func runExport(g *globals, o *exportOptions) error {
	if o.weights == "" {
		return usagef("--weights is required")
	}
	if o.out == "" {
		return usagef("--out is required")
	}
	if o.format != "onnx" && o.format != "torch" {
		return usagef("--format %q: want onnx or torch", o.format)
	}
	if err := refuseOverwrite("--out", o.out, o.force); err != nil {
		return err
	}
	if o.format == "torch" {
		if err := refuseOverwrite("--out", o.out+torchexport.GroupsSuffix, o.force); err != nil {
			return err
		}
	}
	conv, err := onnx.ParseConvMode(o.conv)
	if err != nil {
		return usageError{err}
	}
	if err := checkPrecision(o.precision, o.calib); err != nil {
		return err
	}
	if o.precision == "int8" && (o.format != "onnx" || conv != onnx.ConvDense) {
		return usagef("--precision int8 writes ONNX (--format onnx) with dense convs (--conv dense), not --format %s --conv %s", o.format, conv)
	}
	if o.batch < 0 || o.timeBatch < 1 {
		return usagef("--batch %d, --time-batch %d: want 0 or more, and 1 or more", o.batch, o.timeBatch)
	}
	if st, err := os.Stat(o.out); err == nil && st.IsDir() {
		return usagef("--out %s is a directory", o.out)
	}
	m, info, err := openModel(o.model, o.weights)
	if err != nil {
		return err
	}
	if o.format == "torch" {
		if err := torchexport.Export(o.out, m); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "wrote %s and %s (%s, %d pruned layers)\n", o.out, o.out+torchexport.GroupsSuffix, m.Arch, prunedLayers(m))
		return nil
	}
	opts := onnx.Options{Batch: o.batch, FoldBN: o.foldBN, Conv: conv, TimeBatch: o.timeBatch,
		Producer: "sgcnn export", Metadata: map[string]string{"arch": m.Arch}}
	if info.Dataset != "" {
		opts.Metadata["dataset"] = info.Dataset
	}
	if len(info.Mean) > 0 {
		opts.Metadata["mean"], opts.Metadata["std"] = joinFloats(info.Mean), joinFloats(info.Std)
	}
	if o.precision == "int8" {
		sm := &sgcnn.Model{Model: m, Info: info}
		q, err := calibrateInt8(g.stdout, sgcnn.DatasetOf("", sm), o.dataDir, o.calib, sm)
		if err != nil {
			return err
		}
		opts.FoldBN, opts.QDQ, opts.Metadata["precision"] = true, q.ONNXOptions().QDQ, "int8 (QDQ)"
	}
	if conv == onnx.ConvFastest {
		lib := o.ortLib
		if lib == "" {
			if lib, err = ort.FindLibrary(); err != nil {
				return fmt.Errorf("--conv fastest times layers in ONNX Runtime: %w (or give --ort-lib)", err)
			}
		}
		if err := ort.Open(lib); err != nil {
			return err
		}
		opts.Timer = ort.Timer{Threads: g.threads}
		opts.Log = g.stdout
	}
	if err := onnx.ExportFile(o.out, m, opts); err != nil {
		return err
	}
	if o.precision == "int8" {
		fmt.Fprintf(g.stdout, "wrote %s (%s, ONNX opset %d, %d pruned layers, %d int8 convs in QDQ form)\n", o.out, m.Arch, onnx.Opset, prunedLayers(m), len(opts.QDQ))
		return nil
	}
	fmt.Fprintf(g.stdout, "wrote %s (%s, ONNX opset %d, %d pruned layers, convs %s)\n", o.out, m.Arch, onnx.Opset, prunedLayers(m), conv)
	return nil
}

// prunedLayers counts the layers of m that carry a mask.
func prunedLayers(m *models.Model) int {
	n := 0
	for _, p := range m.PrunableLayers() {
		if p.Mask() != nil {
			n++
		}
	}
	return n
}

// joinFloats formats a list of numbers as "0.4914,0.4822,0.4465".
func joinFloats(v []float32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}
