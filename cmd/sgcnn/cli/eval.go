package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn"
)

// folderDataset is the --dataset name of ImageNet-style folders, whose
// root --data names (see folderHelp).
const folderDataset = sgcnn.ImageFolderDataset

// folderHelp is the image folder part of eval's and train's --help.
const folderHelp = `
--dataset imagefolder --data PATH reads an ImageNet-style folder: PATH/train
and PATH/val (or PATH itself for both), each holding one sub-folder of
.jpg/.jpeg/.png files per class, sorted by name (label = position), as
torchvision's ImageFolder reads them. Training images get RandomResizedCrop
and a random flip, evaluation images Resize 256 then CenterCrop 224 (scaled
to the model's input: Resize = input*8/7). The folder's classes must be as
many as the model's outputs. --test-limit N evaluates every k-th image
(N in all, every class kept); --val-split does not apply (the val folder
is the evaluation set).`

type evalOptions struct {
	model     string
	weights   string
	dataset   string
	dataDir   string
	batch     int
	limit     int
	json      bool
	precision string // fp32 or int8
	calib     int    // int8: calibration images
}

func newEvalCmd(g *globals) *cobra.Command {
	o := &evalOptions{}
	cmd := &cobra.Command{
		Use:   "eval --weights FILE [--model ARCH]",
		Short: "Measure a model's top-1/top-5 accuracy on a test set",
		Long: `Evaluate a model on the test split of a data set and print its top-1 and
top-5 accuracy in percent.

The weights may be an sgcnn model file (which names its architecture and
masks) or a PyTorch checkpoint (legacy or zip format; --model names the
architecture). The data set defaults to CIFAR-10 (MNIST for lenet5), found
in ../shared/data/<name>, $SGCNN_DATA/<name> or --data.
` + folderHelp,
		Example: `  sgcnn eval --model resnet20 --weights ../shared/models/cifar10/resnet20-12fca82f.th
  sgcnn eval --weights runs/resnet56-pruned.safetensors --json
  sgcnn eval --weights runs/resnet56-pruned.safetensors --precision int8
  sgcnn eval --weights runs/resnet50.safetensors --dataset imagefolder --data /data/imagenet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runEval(g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "architecture of a PyTorch checkpoint (see sgcnn info --list)")
	f.StringVar(&o.weights, "weights", "", "model file (sgcnn .safetensors or PyTorch .th/.pth)")
	f.StringVar(&o.dataset, "dataset", "", "cifar10, cifar100, mnist, fashion-mnist or imagefolder (default: the model's)")
	f.StringVar(&o.dataDir, "data", "", "folder with the data set's files (default: found automatically; required for imagefolder)")
	f.IntVar(&o.limit, "test-limit", 0, "evaluate N images only: the first N, or every k-th of an image folder (0: all)")
	f.IntVar(&o.batch, "batch", 200, fmt.Sprintf("images per batch (at most %d)", maxBatch))
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	f.StringVar(&o.precision, "precision", "fp32", "evaluate the network in fp32 (its layers), or int8 (compiled with its convs in int8, as sgcnn quantize does, calibrated on the validation split)")
	f.IntVar(&o.calib, "calib", 512, "with --precision int8: validation images to calibrate the activation ranges on")
	return cmd
}

func runEval(g *globals, o *evalOptions) error {
	if o.weights == "" {
		return usagef("--weights is required")
	}
	if o.batch < 1 {
		return usagef("--batch %d: want at least 1", o.batch)
	}
	if o.limit < 0 {
		return usagef("--test-limit %d: want 0 (all) or more", o.limit)
	}
	if err := checkPrecision(o.precision, o.calib); err != nil {
		return err
	}
	if o.precision == "" {
		o.precision = "fp32"
	}
	m, info, err := openModel(o.model, o.weights)
	if err != nil {
		return err
	}
	sm := &sgcnn.Model{Model: m, Info: info}
	cfg := sgcnn.EvalConfig{Dataset: o.dataset, DataDir: o.dataDir, TestLimit: o.limit, Batch: o.batch}
	if o.precision == "int8" {
		if o.dataset == folderDataset {
			return usagef("--precision int8 calibrates on a named data set's validation split, not on --dataset %s", folderDataset)
		}
		q, err := calibrateInt8(g.stderr, sgcnn.DatasetOf(o.dataset, sm), o.dataDir, o.calib, sm)
		if err != nil {
			return err
		}
		cfg.Net = q.Compiled
	}
	r, err := sgcnn.Evaluate(context.Background(), sm, cfg)
	if err != nil {
		return flagError(err)
	}
	o.dataset = r.Dataset
	if o.json {
		return writeJSON(g.stdout, map[string]any{"model": m.Arch, "weights": o.weights, "dataset": o.dataset,
			"precision": o.precision, "top1": r.Top1, "top5": r.Top5, "loss": r.Loss, "images": r.N})
	}
	prec := ""
	if o.precision == "int8" {
		prec = " (int8)"
	}
	fmt.Fprintf(g.stdout, "%s%s on %s %s set: top-1 %.2f%%  top-5 %.2f%%  loss %.4f  (%d images)\n",
		runName(m.Arch, o.weights), prec, o.dataset, map[bool]string{true: "evaluation", false: "test"}[o.dataset == folderDataset], r.Top1, r.Top5, r.Loss, r.N)
	return nil
}
