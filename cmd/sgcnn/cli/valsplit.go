package cli

import (
	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn"
)

// defaultValSplit is the validation split of train, prune, transfer and
// average on CIFAR and MNIST: 5,000 training images held out of every
// epoch (a tenth of the training set when --train-limit leaves fewer than
// 50,000 images and --val-split is not given).
const defaultValSplit = 5000

// valSeed is the fixed seed that draws every validation split, so that
// runs with other seeds and schedules, and the sgcnn average of their
// snapshots, hold out the same images of the same training set.
const valSeed = sgcnn.ValSeed

// valSplitUsage is the --val-split help text.
const valSplitUsage = "training images held out of every epoch as a validation split, drawn with a fixed seed; every accuracy during the run is on it and the test set is evaluated once, at the end (0: none, every epoch evaluated on the test set; default 5000, or a tenth of a --train-limit under 50,000)"

// valSplitHelp is the validation split's paragraph of sgcnn prune --help.
const valSplitHelp = `--val-split N (default 5000 on CIFAR and MNIST; a tenth of a --train-limit
under 50,000) holds N training images out of every epoch, drawn with a fixed
seed (the same images for every run on the same training set, pretraining
included) and recorded in the run. Every accuracy during the run (after each
pruning step, after each epoch) is measured on them, so is every choice the
run makes (--average); the test set is evaluated once, on the final model, at
the end, and the report shows both side by side. --val-split 0 measures
everything on the test set, as before.`

// addValSplitFlag defines cmd's --val-split, into dst.
func addValSplitFlag(cmd *cobra.Command, dst *int) {
	cmd.Flags().IntVar(dst, "val-split", defaultValSplit, valSplitUsage)
}

// checkValSplit refuses a negative --val-split before any work starts.
func checkValSplit(asked int) error {
	_, err := resolveValSplit(asked, false, 0)
	return err
}

// resolveValSplit returns the number of images to hold out of a training
// set of n images: n asked for when given (explicit), else the default,
// at most a tenth of the set. Bad values are errors naming the flag.
func resolveValSplit(asked int, explicit bool, n int) (int, error) {
	v, err := sgcnn.ValSplitOf(asked, !explicit, n)
	return v, flagError(err)
}
