package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/budget"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/selfgroup"
)

// sensSettings are the sensitivity measurement's flags, shared by sgcnn
// sensitivity and sgcnn prune --budget.
type sensSettings struct {
	from, to, step float64
	// valSplit is the validation split the damage is measured on, as
	// --val-split holds it out (sensitivity's own flag; prune --budget
	// passes its run's split); explicit says it was given.
	valSplit, subset int
	explicit         bool
	batch, groups    int
	rule             string
	seed             uint64
	dataset, dataDir string
}

func (s *sensSettings) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Float64Var(&s.from, "rates-from", 30, "sensitivity: lowest rate tried, percent")
	f.Float64Var(&s.to, "rates-to", 90, "sensitivity: highest rate tried, percent")
	f.Float64Var(&s.step, "rates-step", 10, "sensitivity: rate step, percent")
	f.IntVar(&s.subset, "subset", 500, "sensitivity: evaluate on the first N validation images (0: all of them)")
	f.IntVar(&s.batch, "eval-batch", 100, "sensitivity: images per evaluation batch")
}

// rates returns the rates tried.
func (s *sensSettings) rates() ([]float64, error) {
	r, err := budget.RateGrid(s.from, s.to, s.step)
	if err != nil {
		return nil, usagef("--rates-from/--rates-to/--rates-step: %v", err)
	}
	return r, nil
}

// config returns the measurement's settings for sgcnn.Sensitivity.
func (s *sensSettings) config(rates []float64, layers []string, log io.Writer) sgcnn.SensitivityConfig {
	return sgcnn.SensitivityConfig{Rates: rates, Layers: layers, Groups: s.groups, Rule: s.rule, Seed: s.seed,
		Dataset: s.dataset, DataDir: s.dataDir, ValSplit: s.valSplit, ValSplitCapped: !s.explicit, Subset: s.subset,
		EvalBatch: s.batch, Log: log}
}

// heldOut returns the images sensitivity is measured on (see
// sgcnn.HeldOut): the validation split of n images (resolved as
// --val-split is: explicit says it was given), then the first subset.
func heldOut(trainSet *data.Dataset, n int, explicit bool, subset int) (*data.Dataset, error) {
	ds, err := sgcnn.HeldOut(trainSet, n, !explicit, subset)
	return ds, flagError(err)
}

type sensitivityOptions struct {
	sensSettings
	model, weights, out string
	layers              []string
	json                bool
}

func newSensitivityCmd(g *globals) *cobra.Command {
	o := &sensitivityOptions{}
	cmd := &cobra.Command{
		Use:   "sensitivity --model ARCH [--weights FILE]",
		Short: "Measure each layer's accuracy drop when pruned alone at rates 30..90",
		Long: `For each prunable layer alone, take one self-grouping step at each rate from
the trained weights (the schedule's own groups, keep rule and seed), measure
top-1 accuracy and loss on held-out images, and put the layer back before
the next trial. The drop from the unpruned accuracy, layers by rates, is the
table sgcnn prune --budget chooses per-layer rates from.

The damage is measured on the validation split, the --val-split training
images that train and prune hold out with the same seed (default 5,000,
at most a tenth of the set), of which the first --subset are evaluated:
a pruning run with the same --val-split never trains on them. A model
trained on all the training images (the shipped ResNets) has seen them, so
its drops are optimistic, but they still rank the layers. Every trial
evaluates the compiled network (package compile).

Writes sensitivity.json, sensitivity.md and heat maps (layers by rates) of
the top-1 drop, sensitivity.png, and of the loss rise, sensitivity_loss.png,
in --out. ResNet-56 with the defaults (55 layers, 7 rates, 500 images) costs
about 400 CPU-seconds (385 trials): about 3.5 minutes on 2 idle cores.`,
		Example: `  sgcnn sensitivity --model resnet56
  sgcnn sensitivity --model resnet20 --rates-from 20 --rates-to 90 --rates-step 5 --subset 1000
  sgcnn sensitivity --weights runs/lenet5.safetensors --val-split 1000 --subset 200 --out runs/sens-lenet5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runSensitivity(g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "architecture (see sgcnn info --list); optional with an sgcnn model file")
	f.StringVar(&o.weights, "weights", "", "trained weights (sgcnn or PyTorch file; default: ../shared/models/cifar10 for the CIFAR ResNets)")
	f.StringVar(&o.dataset, "dataset", "", "cifar10, cifar100, mnist or fashion-mnist (default: the model's)")
	f.StringVar(&o.dataDir, "data", "", "folder with the data set's files (default: found automatically)")
	f.StringVarP(&o.out, "out", "o", "", "output folder (default runs/sensitivity-<model>)")
	f.StringSliceVar(&o.layers, "layers", nil, "layers to measure (default: the model's prunable layers)")
	f.IntVar(&o.groups, "groups", selfgroup.DefaultGroups, "groups per layer (k-means clusters)")
	f.StringVar(&o.rule, "rule", "first-member", "group keep rule: first-member or own-mask")
	f.Uint64Var(&o.seed, "seed", 1, "k-means seed")
	f.BoolVar(&o.json, "json", false, "print the table as JSON")
	o.addFlags(cmd)
	addValSplitFlag(cmd, &o.valSplit)
	cmd.PreRun = func(cmd *cobra.Command, _ []string) { o.explicit = cmd.Flags().Changed("val-split") }
	return cmd
}

func runSensitivity(g *globals, o *sensitivityOptions) error {
	rates, err := o.rates()
	if err != nil {
		return err
	}
	sc := o.config(rates, o.layers, g.stderr)
	if err := sc.Check(); err != nil {
		return flagError(err)
	}
	if o.weights == "" && o.model != "" {
		if o.weights = sharedWeights(o.model); o.weights != "" {
			fmt.Fprintf(g.stderr, "using pretrained weights %s\n", o.weights)
		}
	}
	if o.weights == "" {
		return usagef("--weights is required (a trained model)")
	}
	m, info, err := openModel(o.model, o.weights)
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join("runs", "sensitivity-"+m.Arch)
	}
	t, err := sgcnn.Sensitivity(&sgcnn.Model{Model: m, Info: info}, sc)
	if err != nil {
		return flagError(err)
	}
	files, err := sgcnn.WriteSensitivity(o.out, t)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stderr, "wrote %s\n", strings.Join(files, ", "))
	if o.json {
		return writeJSON(g.stdout, t)
	}
	fmt.Fprintf(g.stdout, "%s: %d layers x %d rates in %.0f s (%s, %d threads)\n", m.Arch, len(t.Layers), len(t.Rates), t.Seconds, t.CPU, t.Threads)
	return nil
}
