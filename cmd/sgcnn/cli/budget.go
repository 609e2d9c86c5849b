package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn/baseline"
	"github.com/sgcnn/sgcnn/budget"
	"github.com/sgcnn/sgcnn/checkpoint"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/pipeline"
)

// budgetOptions are sgcnn prune's --budget flags. The run folder keeps sensitivity.json, costs.json (the cost table,
// reused on the same CPU model, threads and batch) and budget-plan.json
// (read back by --resume).
type budgetOptions struct {
	spec     string
	sensFile string
	batch    int
	repeats  int
	metric   string
	sens     sensSettings
}

const budgetHelp = `per-layer rates meeting a cost budget KIND=F, F a fraction of the dense
network's: latency=F (the compiled network's measured time of a batch of
--budget-batch images on --threads threads), flops=F or params=F (the paper's
counts), e.g. latency=0.4. The rates come from a sensitivity table (each layer
pruned alone at its rates: --sensitivity FILE, else measured into the run
folder at --rates-from..--rates-to) and a cost table (each layer's measured kernel time, FLOPs
and params at those rates, cached in the run folder per CPU model, threads and
batch), by an exact multiple-choice knapsack (dynamic programming) minimising
the layers' summed damage (--budget-metric); rate 0 leaves a layer dense, FC
layers stay at most --fc-cap. The schedule then scales: every layer reaches its
own target at the last step (max target / --step steps, rounded up).
See docs/BUDGET.md`

func (b *budgetOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&b.spec, "budget", "", budgetHelp)
	f.StringVar(&b.sensFile, "sensitivity", "", "with --budget: a sensitivity.json from sgcnn sensitivity (default: measured into the run folder)")
	f.IntVar(&b.batch, "budget-batch", 64, "with --budget: the batch size latency is measured at")
	f.IntVar(&b.repeats, "budget-repeats", 10, "with --budget: timed forwards per measurement (the best counts)")
	f.StringVar(&b.metric, "budget-metric", "loss", "with --budget: what the rates minimise, from the sensitivity table: loss (the rise of the held-out cross-entropy; top-1 on training images saturates near 100%) or top1 (the top-1 drop)")
	b.sens.addFlags(cmd)
}

// check reads --budget and --budget-metric before any work, names the
// run folder after the budget, and sets --rate to --step until the plan
// sets the schedule (so that a --step that does not divide --rate, which
// --budget ignores, passes the schedule's checks).
func (b *budgetOptions) check(o *pruneOptions) error {
	if b.spec == "" || o.resume {
		return nil
	}
	bd, err := budget.ParseBudget(b.spec)
	if err != nil {
		return usagef("--budget: %v", err)
	}
	if _, err := budget.ParseMetric(b.metric); err != nil {
		return usagef("--budget-metric: %v", err)
	}
	if o.out == "" {
		o.out = filepath.Join("runs", fmt.Sprintf("prune-%s-%s-%s%g", o.model, o.cfg.Scheme, bd.Kind, bd.Fraction))
	}
	if len(o.cfg.Rates) > 0 {
		return usagef("--budget chooses the rates: drop --rates")
	}
	if o.cfg.Step > 0 && o.cfg.Step < 100 {
		o.cfg.Rate = o.cfg.Step
	}
	return nil
}

// makePlan chooses the per-layer rates of a fresh --budget run (the run
// then sets its schedule to the plan's: see sgcnn.BudgetRun). It returns
// nil without --budget.
func (b *budgetOptions) makePlan(g *globals, o *pruneOptions, m *models.Model, info modelfile.Info) (*budget.Plan, error) {
	if b.spec == "" {
		return nil, nil
	}
	bd, err := budget.ParseBudget(b.spec)
	if err != nil {
		return nil, usagef("--budget: %v", err)
	}
	metric, err := budget.ParseMetric(b.metric)
	if err != nil {
		return nil, usagef("--budget-metric: %v", err)
	}
	switch {
	case o.cfg.Method != baseline.MethodSelfGrouping:
		return nil, usagef("--budget works with --method self-grouping, not %s", o.cfg.Method)
	case len(o.cfg.Rates) > 0:
		return nil, usagef("--budget chooses the rates: drop --rates")
	case b.batch < 1 || b.repeats < 1:
		return nil, usagef("--budget-batch %d, --budget-repeats %d: want at least 1", b.batch, b.repeats)
	}
	b.sens.groups, b.sens.rule, b.sens.seed = o.cfg.Groups, o.cfg.Rule, o.cfg.Seed
	b.sens.dataset, b.sens.dataDir = o.dataset, o.dataDir
	// The damage is measured on the run's own validation split.
	b.sens.valSplit, b.sens.explicit = o.cfg.ValSplit, o.valSet
	if err := b.sens.check(); err != nil {
		return nil, err
	}
	if _, err := b.sens.rates(); err != nil {
		return nil, err
	}
	layers, err := budgetLayers(m, o.cfg.Layers)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, err
	}
	sens, err := b.sensitivity(g, o.out, m, info, layers)
	if err != nil {
		return nil, err
	}
	if err := checkSensRates(sens.Rates); err != nil {
		return nil, err
	}
	// The cost table is measured at the sensitivity table's rates (a
	// --sensitivity table's own).
	costs, err := b.costs(g, o.out, m, layers, sens.Rates, o.cfg)
	if err != nil {
		return nil, err
	}
	caps := map[string]float64{}
	for _, l := range layers {
		if _, fc := l.(*nn.Linear); fc {
			caps[l.Name()] = o.cfg.FCCap
		}
	}
	prob, err := costs.Problem(bd, sens, metric, caps)
	if err != nil {
		return nil, err
	}
	sol, err := budget.Solve(prob)
	var inf *budget.InfeasibleError
	if errors.As(err, &inf) {
		return nil, usagef("--budget: %v", err)
	}
	if err != nil {
		return nil, err
	}
	plan := budget.NewPlan(bd, metric, prob, sol)
	if plan.MaxRate() == 0 {
		return nil, fmt.Errorf("--budget %s: the cost table predicts the dense network within the budget (its latency fit is off by up to %.0f%%: measure on a quieter machine, or delete %s)",
			bd, 100*costs.FitError, filepath.Join(o.out, "costs.json"))
	}
	return plan, nil
}

// checkSensRates reports a sensitivity table whose rates are not
// increasing percentages in (0, 100).
func checkSensRates(rates []float64) error {
	if len(rates) == 0 || len(rates) > 100 {
		return fmt.Errorf("--sensitivity: %d rates", len(rates))
	}
	for i, r := range rates {
		if !(r > 0 && r < 100) || (i > 0 && r <= rates[i-1]) {
			return fmt.Errorf("--sensitivity: rates %v: want increasing rates in (0, 100)", rates)
		}
	}
	return nil
}

// sensitivity returns the table of --sensitivity, or the run folder's, or
// measures it there.
func (b *budgetOptions) sensitivity(g *globals, out string, m *models.Model, info modelfile.Info, layers []nn.Prunable) (*budget.SensitivityTable, error) {
	path := b.sensFile
	if path == "" {
		path = filepath.Join(out, "sensitivity.json")
		if _, err := os.Stat(path); err != nil {
			t, err := measureSensitivity(g, m, info, layers, &b.sens)
			if err != nil {
				return nil, err
			}
			return t, writeSensitivity(g, out, t)
		}
	}
	t, err := readSensitivity(path)
	if err != nil {
		return nil, fmt.Errorf("--sensitivity: %w", err)
	}
	fmt.Fprintf(g.stderr, "using the sensitivity table %s\n", path)
	return t, nil
}

// costs returns the cost table cached in the run folder when it was
// measured on this CPU model at these threads, batch, layers and rates,
// and otherwise measures (and caches) it, saying why.
func (b *budgetOptions) costs(g *globals, out string, m *models.Model, layers []nn.Prunable, rates []float64, cfg pipeline.Config) (*budget.CostTable, error) {
	path := filepath.Join(out, "costs.json")
	names := make([]string, len(layers))
	for i, l := range layers {
		names[i] = l.Name()
	}
	key := budget.Key{CPU: budget.CPUModel(), Threads: parallel.Threads(), Batch: b.batch, Model: m.Arch, Layers: names,
		Rates: append([]float64{0}, rates...)}
	t, why, err := budget.LoadCosts(path, key)
	if err != nil {
		return nil, err
	}
	if t != nil {
		fmt.Fprintf(g.stderr, "using the cost table %s (%s, %d threads, batch %d)\n", path, t.CPU, t.Threads, t.Batch)
		return t, nil
	}
	if why != "" {
		fmt.Fprintf(g.stderr, "ignoring the cost table %s: %s; measuring it afresh\n", path, why)
	}
	rule, err := keepRule(cfg.Rule)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(g.stderr, "measuring the cost table: %d layers at rates 0 and %v, batch %d, %d threads\n", len(layers), rates, b.batch, key.Threads)
	t, err = budget.MeasureCosts(m.Net, m.InputShape, layers, budget.CostOptions{Model: m.Arch, Rates: rates, Batch: b.batch,
		Repeats: b.repeats, Pruning: budget.Pruning{Groups: cfg.Groups, Rule: rule, Seed: cfg.Seed}, Log: g.stderr})
	if err != nil {
		return nil, err
	}
	if err := budget.SaveCosts(path, t); err != nil {
		return nil, err
	}
	md := filepath.Join(out, "costs.md")
	return t, checkpoint.WriteFileAtomic(md, t.WriteMarkdown)
}
