package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/internal/progress"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/swa"
	"github.com/sgcnn/sgcnn/train"
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

// averageRecord is the "training" record of an averaged model file.
type averageRecord struct {
	AverageOf []string `json:"average_of"`
	BNImages  int      `json:"bn_images"`
	Dataset   string   `json:"dataset"`
	Pad       int      `json:"bn_pad,omitempty"`
	Flip      bool     `json:"bn_flip,omitempty"`
	// Validation is the split held out of the statistics' images (the one
	// the snapshots' runs held out, when they used the same --val-split).
	Validation *report.Validation `json:"validation,omitempty"`
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
	switch {
	case o.out == "":
		return usagef("--out is required")
	case o.batch < 2:
		return usagef("--batch %d: want at least 2 (batch statistics)", o.batch)
	case o.bnImages < 0:
		return usagef("--bn-images %d: want 0 (all) or more", o.bnImages)
	case o.shift < 0:
		return usagef("--shift %d: want 0 or more", o.shift)
	case o.testLimit < 0:
		return usagef("--test-limit %d: want 0 (all) or more", o.testLimit)
	}
	if slices.Contains(files, o.out) {
		return usagef("--out %s is also an input: write the average to a new file", o.out)
	}
	if err := refuseOverwrite("--out", o.out, o.force); err != nil {
		return err
	}
	var avg swa.Averager
	var first *models.File
	for _, path := range files {
		if _, err := os.Stat(path); err != nil {
			return err
		}
		if !isNative(path) {
			return usagef("%s: not an sgcnn model file (import PyTorch checkpoints with sgcnn import first)", path)
		}
		f, err := models.LoadFile(path, "")
		if err != nil {
			return err
		}
		if err := checkLoadedModel(g, f.Model, path); err != nil {
			return err
		}
		if err := avg.Add(f.Model); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if first == nil {
			first = f
		}
	}
	m := first.Model
	if err := avg.Mean(m); err != nil {
		return err
	}
	if o.dataset == "" {
		o.dataset = first.Info.Dataset
	}
	if o.dataset == "" {
		o.dataset = defaultDataset(m.Arch)
	}
	trainSet, err := openDataset(o.dataset, o.dataDir, true)
	if err != nil {
		return err
	}
	if err := checkFits(m, trainSet, o.dataset); err != nil {
		return err
	}
	norm := normFor(first.Info, trainSet)
	n, err := resolveValSplit(o.valSplit, o.valSet, trainSet.N)
	if err != nil {
		return err
	}
	warnValSplit(g, files[0], first.Info, n)
	trainSet, valSet, valRec, err := holdOut(trainSet, n)
	if err != nil {
		return err
	}
	if trainSet, err = limited(trainSet, o.bnImages); err != nil {
		return err
	}
	seen := 0
	pad, flip := augmentation(trainSet.H, o.augment, o.shift)
	if len(swa.BatchNorms(m.Net)) > 0 {
		cfg := data.Config{BatchSize: o.batch, Shuffle: true, Seed: o.seed, Norm: norm, Pad: pad, Flip: flip}
		if seen, err = updateBN(g, m, trainSet, cfg); err != nil {
			return fmt.Errorf("re-estimating batch-norm statistics: %w", err)
		}
	} else {
		fmt.Fprintf(g.stderr, "%s has no batch-norm layer: nothing to re-estimate\n", m.Arch)
	}
	res := map[string]any{"model": m.Arch, "average_of": files, "bn_images": seen, "dataset": o.dataset, "out": o.out}
	if valSet != nil {
		r, err := evaluateSet(m, valSet, norm)
		if err != nil {
			return err
		}
		res["val_top1"], res["val_top5"], res["val_images"] = r.Top1, r.Top5, r.N
		if !o.json {
			fmt.Fprintf(g.stdout, "average of %d %s models on %d held-out %s training images (validation; choose snapshots on this): %s\n", avg.N(), m.Arch, r.N, o.dataset, r)
		}
	}
	if !o.noEval {
		testSet, err := openDataset(o.dataset, o.dataDir, false)
		if err != nil {
			return err
		}
		if testSet, err = limited(testSet, o.testLimit); err != nil {
			return err
		}
		src, err := evalSource(testSet, norm, 200)
		if err != nil {
			return err
		}
		r, err := train.Evaluate(m.Net, func(yield func(train.Batch) bool) error { return src(0, yield) })
		if err != nil {
			return err
		}
		res["top1"], res["top5"], res["loss"], res["images"] = r.Top1, r.Top5, r.Loss, r.N
		if !o.json {
			fmt.Fprintf(g.stdout, "average of %d %s models on %s test set: %s\n", avg.N(), m.Arch, o.dataset, r)
		}
	}
	rec := averageRecord{AverageOf: files, BNImages: seen, Dataset: o.dataset, Validation: valRec}
	if seen > 0 {
		rec.Pad, rec.Flip = pad, flip
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	info := modelfile.Info{Dataset: o.dataset, Mean: norm.Mean, Std: norm.Std, Training: raw, Pruning: first.Info.Pruning}
	if err := models.SaveFile(o.out, m, info, nil); err != nil {
		return err
	}
	if o.json {
		return writeJSON(g.stdout, res)
	}
	fmt.Fprintf(g.stdout, "saved to %s\n", o.out)
	return nil
}

// updateBN re-estimates m's batch-norm statistics over ds loaded as cfg
// says, with a progress bar.
func updateBN(g *globals, m *models.Model, ds *data.Dataset, cfg data.Config) (int, error) {
	l, err := data.NewLoader(ds, cfg)
	if err != nil {
		return 0, err
	}
	ctx, stop := interruptible(g, "nothing written")
	defer stop()
	bar := progress.New(g.stderr, int64(ds.N), m.Arch+" batch-norm statistics", "img")
	defer bar.Finish()
	src := train.FromLoader(ctx, l)
	return swa.UpdateBN(m.Net, func(yield func(train.Batch) bool) error {
		return src(0, func(b train.Batch) bool {
			if !yield(b) {
				return false
			}
			bar.Add(len(b.Y), "")
			return true
		})
	})
}
