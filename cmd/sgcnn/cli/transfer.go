package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/transfer"
)

type transferOptions struct {
	force                        bool
	model, dataset, dataDir, out string
	cfg                          transfer.Config
	limits                       [2]int
	json                         bool
	valSplit                     int
	valSet                       bool // --val-split given
}

func newTransferCmd(g *globals) *cobra.Command {
	o := &transferOptions{cfg: transfer.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "transfer MODEL_FILE [flags]",
		Short: "Fine-tune a (pruned) model on another data set with a new classifier",
		Long: `Transfer a trained model, pruned or dense, to a new data set: its classifier
(the last linear layer: "linear" in the CIFAR ResNets, "fc2" in LeNet-5,
"classifier" or "fc" in the others) is replaced by a new dense layer with one
output per class of the target data set, and the whole network is fine-tuned.
The connection masks of all other layers stay as they are: pruned weights
stay zero throughout.

The defaults are the paper's transfer recipe: 21 epochs of SGD, learning
rate 0.001 divided by 10 after epochs 7 and 14 (--milestones, 0-based epoch
indices from which the rate drops), momentum 0.9, weight decay 5e-4.

Target data sets are fashion-mnist and mnist. Models that take 3x32x32
images (the CIFAR ResNets, VGG-16, DenseNet-40) get the 28x28 grey images
zero-padded to 32x32 with the grey plane copied to three channels; LeNet-5
takes them as they are. Images are normalised with the target data set's
mean and std.

The result is written as an sgcnn model file (default
runs/transfer-<model file name>-<dataset>.safetensors) after every epoch,
with the run's record; the final test top-1 accuracy is printed, or the
record with --json. MODEL_FILE may also be a PyTorch checkpoint with
--model.`,
		Example: `  sgcnn transfer runs/lenet/conv95/checkpoint.safetensors --dataset fashion-mnist
  sgcnn transfer runs/prune-resnet56-L-conv70/checkpoint.safetensors --dataset fashion-mnist -o runs/r56-L-fmnist.safetensors
  sgcnn transfer ../shared/models/cifar10/resnet20-12fca82f.th --model resnet20 --epochs 3 --train-limit 5000 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.valSet = cmd.Flags().Changed("val-split")
			if err := checkValSplit(o.valSplit); err != nil {
				return err
			}
			return runTransfer(g, o, args[0])
		},
	}
	f := cmd.Flags()
	c := &o.cfg
	f.StringVar(&o.model, "model", "", "architecture, required for a PyTorch checkpoint (see sgcnn info --list)")
	f.StringVar(&o.dataset, "dataset", "fashion-mnist", "target data set: fashion-mnist or mnist")
	f.StringVar(&o.dataDir, "data", "", "folder with the data set's files (default: found automatically)")
	f.StringVarP(&o.out, "out", "o", "", "output model file (default runs/transfer-<name>-<dataset>.safetensors)")
	addForce(f, &o.force)
	f.IntVar(&c.Epochs, "epochs", c.Epochs, "fine-tuning epochs")
	f.IntVar(&c.Batch, "batch", c.Batch, fmt.Sprintf("images per batch (at most %d)", maxBatch))
	f.Float64Var(&c.LR, "lr", c.LR, "initial learning rate")
	f.IntSliceVar(&c.Milestones, "milestones", c.Milestones, "0-based epochs from which the rate is multiplied by --gamma once more")
	f.Float64Var(&c.Gamma, "gamma", c.Gamma, "learning-rate factor at each milestone")
	f.Float64Var(&c.Momentum, "momentum", c.Momentum, "SGD momentum")
	f.Float64Var(&c.WeightDecay, "wd", c.WeightDecay, "weight decay")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the new classifier's weights and of shuffling")
	f.IntVar(&o.limits[0], "train-limit", 0, "use only the first N training images (0: all)")
	f.IntVar(&o.limits[1], "test-limit", 0, "use only the first N test images (0: all)")
	f.BoolVar(&o.json, "json", false, "print the run's record as JSON")
	addValSplitFlag(cmd, &o.valSplit)
	return cmd
}

func runTransfer(g *globals, o *transferOptions, src string) error {
	cfg := sgcnn.TransferConfig{Config: o.cfg, Source: src, Dataset: o.dataset, DataDir: o.dataDir,
		TrainLimit: o.limits[0], TestLimit: o.limits[1], ValSplit: o.valSplit, ValSplitDefault: !o.valSet, Log: g.stderr}
	if err := cfg.Validate(); err != nil {
		return flagError(err)
	}
	m, info, err := openModel(o.model, src)
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join("runs", fmt.Sprintf("transfer-%s-%s.safetensors", fileName(src), o.dataset))
	}
	if err := refuseOverwrite("--out", o.out, o.force); err != nil {
		return err
	}
	cfg.Out = o.out
	ctx, cancel := interruptible(g, "the last epoch's model file is kept")
	defer cancel()
	rec, err := sgcnn.Transfer(ctx, &sgcnn.Model{Model: m, Info: info}, cfg)
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("interrupted after epoch %d (%s holds it)", len(rec.History), o.out)
	case errors.As(err, new(*sgcnn.StoppedError)):
		return fmt.Errorf("transfer stopped: %w", err)
	default:
		return flagError(err)
	}
	if o.json {
		return writeJSON(g.stdout, rec)
	}
	if rec.FinalVal != nil {
		fmt.Fprintf(g.stdout, "%s transferred to %s in %d epochs: val top-1 %.2f%% (last epoch; %d held-out training images), test top-1 %.2f%% (evaluated once, at the end), saved to %s\n",
			rec.Arch, o.dataset, len(rec.History), *rec.FinalVal, rec.Validation.Images, rec.FinalTop1, o.out)
		return nil
	}
	fmt.Fprintf(g.stdout, "%s transferred to %s in %d epochs: test top-1 %.2f%% (last epoch), saved to %s\n",
		rec.Arch, o.dataset, len(rec.History), rec.FinalTop1, o.out)
	return nil
}
