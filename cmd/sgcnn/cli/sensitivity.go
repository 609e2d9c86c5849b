package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn/budget"
	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/selfgroup"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
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

func (s *sensSettings) check() error {
	switch {
	case s.valSplit < 1:
		return usagef("--val-split %d: sensitivity is measured on the validation split, which needs at least 1 image", s.valSplit)
	case s.subset < 0:
		return usagef("--subset %d: want 0 (all validation images) or more", s.subset)
	case s.batch < 1:
		return usagef("--eval-batch %d: want at least 1", s.batch)
	case s.groups < 1:
		return usagef("--groups %d: want at least 1", s.groups)
	}
	_, err := keepRule(s.rule)
	return err
}

// keepRule is selfgroup.ParseKeepRule with a usage error naming --rule.
func keepRule(s string) (selfgroup.KeepRule, error) {
	r, err := selfgroup.ParseKeepRule(s)
	if err != nil {
		return 0, usagef("--rule: %v", err)
	}
	return r, nil
}

// heldOut returns the images sensitivity is measured on: the validation
// split of n images (resolved as --val-split is: explicit says it was
// given), then the first subset of those (0: all).
func heldOut(trainSet *data.Dataset, n int, explicit bool, subset int) (*data.Dataset, error) {
	n, err := resolveValSplit(n, explicit, trainSet.N)
	if err != nil {
		return nil, err
	}
	_, val, _, err := holdOut(trainSet, n)
	if err != nil {
		return nil, err
	}
	if val == nil {
		return nil, usagef("--val-split: a training set of %d images leaves no validation split", trainSet.N)
	}
	if subset > 0 && subset < val.N {
		return val.Subset(rangeIdx(0, subset))
	}
	return val, nil
}

func rangeIdx(lo, hi int) []int {
	idx := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		idx = append(idx, i)
	}
	return idx
}

// evalFunc returns a budget.Eval that compiles m as it is and evaluates
// it on ds's images, read once into memory.
func evalFunc(m *models.Model, ds *data.Dataset, norm data.Norm, batch int) (budget.Eval, error) {
	src, err := evalSource(ds, norm, batch)
	if err != nil {
		return nil, err
	}
	var batches []train.Batch
	if err := src(0, func(b train.Batch) bool {
		batches = append(batches, train.Batch{X: &tensor.Tensor{Shape: slices.Clone(b.X.Shape), Data: slices.Clone(b.X.Data)}, Y: slices.Clone(b.Y)})
		return true
	}); err != nil {
		return nil, err
	}
	all := func(yield func(train.Batch) bool) error {
		for _, b := range batches {
			if !yield(b) {
				break
			}
		}
		return nil
	}
	return func() (float64, float64, error) {
		c, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{Route: compile.Grouped})
		var res train.EvalResult
		if err == nil {
			res, err = train.EvaluateFunc(c.Forward, all)
		} else {
			res, err = train.Evaluate(m.Net, all) // a graph the compiler does not take
		}
		return res.Top1, res.Loss, err
	}, nil
}

// measureSensitivity measures m's sensitivity table on held-out training
// images of the named data set.
func measureSensitivity(g *globals, m *models.Model, info modelfile.Info, layers []nn.Prunable, s *sensSettings) (*budget.SensitivityTable, error) {
	rates, err := s.rates()
	if err != nil {
		return nil, err
	}
	rule, err := keepRule(s.rule)
	if err != nil {
		return nil, err
	}
	name := s.dataset
	if name == "" {
		name = info.Dataset
	}
	if name == "" {
		name = defaultDataset(m.Arch)
	}
	trainSet, err := openDataset(name, s.dataDir, true)
	if err != nil {
		return nil, err
	}
	if err := checkFits(m, trainSet, name); err != nil {
		return nil, err
	}
	ds, err := heldOut(trainSet, s.valSplit, s.explicit, s.subset)
	if err != nil {
		return nil, err
	}
	eval, err := evalFunc(m, ds, normFor(info, trainSet), s.batch)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(g.stderr, "sensitivity of %d layers of %s at rates %v on %d %s validation images\n", len(layers), m.Arch, rates, ds.N, name)
	t, err := budget.Sensitivity(layers, rates, eval, budget.Pruning{Groups: s.groups, Rule: rule, Seed: s.seed}, g.stderr)
	if err != nil {
		return nil, err
	}
	t.Model, t.Images, t.CPU, t.Threads = m.Arch, ds.N, budget.CPUModel(), parallel.Threads()
	t.Data = fmt.Sprintf("%s: %d images of the validation split (--val-split, seed %d)", name, ds.N, valSeed)
	t.Date = time.Now().UTC().Format(time.RFC3339)
	return t, nil
}

// writeSensitivity writes the table as sensitivity.json, .md and a heat
// map sensitivity.png in dir.
func writeSensitivity(g *globals, dir string, t *budget.SensitivityTable) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, md := filepath.Join(dir, "sensitivity.json"), filepath.Join(dir, "sensitivity.md")
	png, lpng := filepath.Join(dir, "sensitivity.png"), filepath.Join(dir, "sensitivity_loss.png")
	if err := atomicfile.Write(js, func(w io.Writer) error { return writeJSON(w, t) }); err != nil {
		return err
	}
	if err := atomicfile.Write(md, t.WriteMarkdown); err != nil {
		return err
	}
	rows := make([]string, len(t.Layers))
	vals, loss := make([][]float64, len(t.Layers)), make([][]float64, len(t.Layers))
	for i, r := range t.Layers {
		rows[i], vals[i], loss[i] = r.Name, t.Drops(i), t.Scores(i, budget.LossRise)
	}
	cols := make([]string, len(t.Rates))
	for j, r := range t.Rates {
		cols[j] = fmt.Sprintf("%g%%", r)
	}
	title := fmt.Sprintf("%s: top-1 drop in points, one layer pruned alone", t.Model)
	if err := report.PlotHeatMap(png, vals, rows, cols, title, "rate", "layer"); err != nil {
		return err
	}
	title = fmt.Sprintf("%s: cross-entropy rise in nats, one layer pruned alone", t.Model)
	if err := report.PlotHeatMap(lpng, loss, rows, cols, title, "rate", "layer"); err != nil {
		return err
	}
	fmt.Fprintf(g.stderr, "wrote %s, %s, %s, %s\n", js, md, png, lpng)
	return nil
}

// readSensitivity reads a sensitivity.json.
func readSensitivity(path string) (*budget.SensitivityTable, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := new(budget.SensitivityTable)
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, fmt.Errorf("%s: not a sensitivity table: %w", path, err)
	}
	for _, r := range t.Layers {
		if len(r.Top1) != len(t.Rates) {
			return nil, fmt.Errorf("%s: layer %s has %d accuracies for %d rates", path, r.Name, len(r.Top1), len(t.Rates))
		}
	}
	return t, nil
}

// budgetLayers returns the layers named (all the model's prunable layers
// when names is empty).
func budgetLayers(m *models.Model, names []string) ([]nn.Prunable, error) {
	if len(names) == 0 {
		return m.PrunableLayers(), nil
	}
	var ls []nn.Prunable
	for _, n := range names {
		l, ok := m.Layer(n).(nn.Prunable)
		if !ok || l == nil {
			return nil, usagef("--layers: %q is not a prunable layer of %s (see sgcnn info %s)", n, m.Arch, m.Arch)
		}
		ls = append(ls, l)
	}
	return ls, nil
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
	if err := o.check(); err != nil {
		return err
	}
	if _, err := o.rates(); err != nil {
		return err
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
	layers, err := budgetLayers(m, o.layers)
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join("runs", "sensitivity-"+m.Arch)
	}
	t, err := measureSensitivity(g, m, info, layers, &o.sensSettings)
	if err != nil {
		return err
	}
	if err := writeSensitivity(g, o.out, t); err != nil {
		return err
	}
	if o.json {
		return writeJSON(g.stdout, t)
	}
	fmt.Fprintf(g.stdout, "%s: %d layers x %d rates in %.0f s (%s, %d threads)\n", m.Arch, len(t.Layers), len(t.Rates), t.Seconds, t.CPU, t.Threads)
	return nil
}
