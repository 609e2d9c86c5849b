package cli

import (
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/models"
)

type averageOptions struct {
	force     bool
	out       string
	dataset   string
	dataDir   string
	bnImages  int
	batch     int
	augment   bool
	shift     int
	seed      uint64
	noEval    bool
	json      bool
	testLimit int
	valSplit  int
	valSet    bool // --val-split given
}

func newAverageCmd(g *globals) *cobra.Command {
	o := &averageOptions{}
	cmd := &cobra.Command{
		Use:   "average --out FILE MODEL...",
		Short: "Average the weights of snapshots of one model (stochastic weight averaging)",
		Long: `Average the weights of several sgcnn model files of one network, e.g. the
models saved after the last epochs of a fine-tuning run, and re-estimate
the batch-norm running statistics for the averaged weights from the
training images: stochastic weight averaging (Izmailov et al. 2018), as
PyTorch's swa_utils.AveragedModel and update_bn do it. An extension beyond
the paper's method.

The statistics must be taken on images augmented as in training
(--augment, --shift, as for sgcnn train): a network trained on padded
crops has learnt the padding's effect on its first layers' statistics. On
a pruned ResNet-56 (93.00%), statistics re-estimated from unaugmented
images cost 2.2 points (90.81%); from augmented ones it scores 93.02%
(docs/RESULTS.md section 4d, 2026-11-26).

Pruned models must share their masks (snapshots of one run do); the
average then keeps the masks, groups, parameter and FLOP counts. Files of
another architecture or with other masks are refused, naming the file.
The result is evaluated on the test split (unless --no-eval) and written
atomically to --out with the first file's normalisation; it is a model,
not a training run to --resume.`,
		Example: `  sgcnn average --out runs/r56-avg.safetensors snap/ep20.safetensors snap/ep22.safetensors snap/ep24.safetensors
  sgcnn average --out avg.safetensors --bn-images 10000 --json a.safetensors b.safetensors`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("no model files given: name the snapshots to average")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.valSet = cmd.Flags().Changed("val-split")
			if err := checkValSplit(o.valSplit); err != nil {
				return err
			}
			return runAverage(g, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "out", "o", "", "file to write the averaged model to (required)")
	f.StringVar(&o.dataset, "dataset", "", "cifar10, cifar100, mnist or fashion-mnist (default: the first model's)")
	f.StringVar(&o.dataDir, "data", "", "folder with the data set's files (default: found automatically)")
	f.IntVar(&o.bnImages, "bn-images", 0, "training images to re-estimate the batch-norm statistics from (0: all)")
	f.IntVar(&o.batch, "batch", 128, fmt.Sprintf("images per batch (at most %d)", maxBatch))
	f.BoolVar(&o.augment, "augment", true, "random crop (4-pixel padding) and horizontal flip (CIFAR), as in training")
	f.IntVar(&o.shift, "shift", 0, "random shift of up to N pixels (pad and crop, no flip), as train --shift; overrides CIFAR's 4")
	f.Uint64Var(&o.seed, "seed", 1, "random seed (order and augmentation of the images)")
	f.BoolVar(&o.noEval, "no-eval", false, "skip the test-set evaluation of the result")
	f.IntVar(&o.testLimit, "test-limit", 0, "evaluate on the first N test images only (0: all)")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	addForce(f, &o.force)
	addValSplitFlag(cmd, &o.valSplit)
	return cmd
}

func runAverage(g *globals, o *averageOptions, files []string) error {
	cfg := sgcnn.AverageConfig{Files: files, Out: o.out, Dataset: o.dataset, DataDir: o.dataDir, BNImages: o.bnImages,
		Batch: o.batch, Augment: o.augment, Shift: o.shift, Seed: o.seed, ValSplit: o.valSplit, ValSplitDefault: !o.valSet,
		SkipTest: o.noEval, TestLimit: o.testLimit, Log: g.stderr,
		Loaded: func(path string, m *models.Model) error { return checkLoadedModel(g, m, path) }}
	if o.out == "" {
		return usagef("--out is required")
	}
	if err := cfg.Validate(); err != nil {
		return flagError(err)
	}
	if slices.Contains(files, o.out) {
		return usagef("--out %s is also an input: write the average to a new file", o.out)
	}
	if err := refuseOverwrite("--out", o.out, o.force); err != nil {
		return err
	}
	for _, path := range files {
		if _, err := os.Stat(path); err != nil {
			return err
		}
		if !sgcnn.IsNativeFile(path) {
			return usagef("%s: not an sgcnn model file (import PyTorch checkpoints with sgcnn import first)", path)
		}
	}
	ctx, stop := interruptible(g, "nothing written")
	defer stop()
	r, err := sgcnn.Average(ctx, cfg)
	if err != nil {
		return flagError(err)
	}
	arch := r.Model.Model.Arch
	res := map[string]any{"model": arch, "average_of": files, "bn_images": r.BNImages, "dataset": r.Dataset, "out": o.out}
	if r.Val != nil {
		res["val_top1"], res["val_top5"], res["val_images"] = r.Val.Top1, r.Val.Top5, r.Val.N
	}
	if r.Test != nil {
		res["top1"], res["top5"], res["loss"], res["images"] = r.Test.Top1, r.Test.Top5, r.Test.Loss, r.Test.N
	}
	if o.json {
		return writeJSON(g.stdout, res)
	}
	if r.Val != nil {
		fmt.Fprintf(g.stdout, "average of %d %s models on %d held-out %s training images (validation; choose snapshots on this): %s\n", r.N, arch, r.Val.N, r.Dataset, r.Val)
	}
	if r.Test != nil {
		fmt.Fprintf(g.stdout, "average of %d %s models on %s test set: %s\n", r.N, arch, r.Dataset, r.Test)
	}
	fmt.Fprintf(g.stdout, "saved to %s\n", o.out)
	return nil
}
